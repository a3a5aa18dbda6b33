"""Database rows. Repositories map them to and from domain objects.

The schema is owned by the Alembic migrations in ``migrations/``; these classes must match.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class BodyRow(Base):
    __tablename__ = "bodies"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    fixed_membership: Mapped[int]
    rehearsal: Mapped[bool] = mapped_column(default=False)
    rules: Mapped[dict[str, Any]] = mapped_column(default=dict)
    vocabulary: Mapped[list[Any]] = mapped_column(default=list)  # the recogniser's terms


class MemberRow(Base):
    __tablename__ = "members"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    body_id: Mapped[str] = mapped_column(ForeignKey("bodies.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    reading: Mapped[str] = mapped_column(String(200))
    seat: Mapped[int]
    role: Mapped[str] = mapped_column(String(20))


class MeetingRow(Base):
    __tablename__ = "meetings"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    body_id: Mapped[str] = mapped_column(ForeignKey("bodies.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    scheduled_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(20))
    audio_mode: Mapped[str] = mapped_column(String(10), default="floor")
    muted: Mapped[list[Any]] = mapped_column(default=list)
    removed: Mapped[list[Any]] = mapped_column(default=list)
    floor: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    queue_version: Mapped[int] = mapped_column(default=0)


class ParticipantRow(Base):
    __tablename__ = "participants"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), index=True)
    member_id: Mapped[str | None] = mapped_column(ForeignKey("members.id"))
    name: Mapped[str] = mapped_column(String(200))
    reading: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    seat: Mapped[int | None]


class AgendaItemRow(Base):
    __tablename__ = "agenda_items"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), index=True)
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(30))
    result: Mapped[str] = mapped_column(String(500), default="")


class DocumentRow(Base):
    """A PDF attached to an agenda item. The file itself is stored once per content hash."""

    __tablename__ = "documents"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    agenda_item_id: Mapped[str] = mapped_column(ForeignKey("agenda_items.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))  # the title people see
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(300), default="")  # as uploaded
    pages: Mapped[int] = mapped_column(default=0)
    uploaded_at: Mapped[datetime]
    uploaded_by: Mapped[str | None] = mapped_column(String(32))  # the clerk's participant id


class DocumentPageRow(Base):
    """One page of a document: its size and its text, as extracted and as searched."""

    __tablename__ = "document_pages"
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    page: Mapped[int] = mapped_column(primary_key=True)  # from 1
    width: Mapped[float] = mapped_column(Float)  # points, as displayed
    height: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text, default="")
    # NFKC, case-folded, without white space: what a search matches against (see service/documents.py)
    folded: Mapped[str] = mapped_column(Text, default="")


class FloorRequestRow(Base):
    __tablename__ = "floor_requests"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), index=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"))
    kind: Mapped[str] = mapped_column(String(30))
    requested_at: Mapped[datetime]
    position: Mapped[int]


class AttendanceRow(Base):
    __tablename__ = "attendance_intervals"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), index=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"))
    mode: Mapped[str] = mapped_column(String(10))
    start: Mapped[datetime]
    end: Mapped[datetime | None]


class EventRow(Base):
    """The append-only event log: who did what, when, in which meeting and agenda item."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("meeting_id", "seq", name="uq_events_meeting_seq"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), index=True)
    at: Mapped[datetime]
    actor_id: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(50))
    agenda_item_id: Mapped[str | None] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The hash chain of the sitting's record (see orchestrator/domain/ledger.py).
    seq: Mapped[int]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(100))


class AccountRow(Base):
    __tablename__ = "accounts"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    display_name: Mapped[str] = mapped_column(String(200))
    username: Mapped[str | None] = mapped_column(String(100), unique=True)
    member_id: Mapped[str | None] = mapped_column(ForeignKey("members.id"), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(default=False)


class CredentialRow(Base):
    __tablename__ = "credentials"
    credential_id: Mapped[str] = mapped_column(String(400), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class EnrolmentRow(Base):
    __tablename__ = "enrolments"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class SessionRow(Base):
    __tablename__ = "login_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]


class BallotRow(Base):
    __tablename__ = "ballots"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), index=True)
    agenda_item_id: Mapped[str | None] = mapped_column(String(32))
    motion: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(10))
    majority: Mapped[str] = mapped_column(String(30))
    abstain_allowed: Mapped[bool]
    state: Mapped[str] = mapped_column(String(12))
    entitled: Mapped[list[Any]] = mapped_column(default=list)
    fixed_membership: Mapped[int]
    chair_id: Mapped[str | None] = mapped_column(String(32))
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    chair_decision: Mapped[str | None] = mapped_column(String(10))
    # Totals per choice. For a secret ballot these are the only record of the choices.
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)


class NamedVoteRow(Base):
    """A named ballot's vote: who chose what. One row per member and ballot, enforced here."""

    __tablename__ = "named_votes"
    ballot_id: Mapped[str] = mapped_column(ForeignKey("ballots.id"), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    choice: Mapped[str] = mapped_column(String(10))
    cast_at: Mapped[datetime]
    # Evidence: the member's camera at the moment of casting (JPEG) and the passkey's
    # assertion over this ballot and choice; the record entry carries their digests.
    evidence_jpeg: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    evidence_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    assertion: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    receipt: Mapped[str | None] = mapped_column(String(64), default=None)


class SecretVoterRow(Base):
    """A secret ballot's voter: who voted, with no choice and no time."""

    __tablename__ = "secret_voters"
    ballot_id: Mapped[str] = mapped_column(ForeignKey("ballots.id"), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Evidence of presence only: the camera at casting. Nothing here names or implies the choice
    # (the passkey assertion, whose challenge is bound to the choice, is verified and dropped).
    evidence_jpeg: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    evidence_sha256: Mapped[str | None] = mapped_column(String(64), default=None)


class SpeechTextRow(Base):
    """A speech's automatic draft: which speech (its index in the sitting's record), who spoke, the model."""

    __tablename__ = "speech_texts"
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    speech_index: Mapped[int] = mapped_column(primary_key=True)
    speaker_id: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(100), default="")
    drafted_at: Mapped[datetime | None]


class SentenceRow(Base):
    """One sentence of a speech: its times (seconds from the sitting's start), the draft, and the
    text as it reads now (the latest correction), also as searched (``folded``)."""

    __tablename__ = "speech_sentences"
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    speech_index: Mapped[int] = mapped_column(primary_key=True)
    sentence_index: Mapped[int] = mapped_column(primary_key=True)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    draft: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    folded: Mapped[str] = mapped_column(Text)
    corrected: Mapped[bool] = mapped_column(default=False)


class CorrectionRow(Base):
    """Every correction of a sentence, kept: who, when, the text before and after."""

    __tablename__ = "sentence_corrections"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), index=True)
    speech_index: Mapped[int]
    sentence_index: Mapped[int]
    old: Mapped[str] = mapped_column(Text)
    new: Mapped[str] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]


# Search structures one database has and the models cannot describe: SQLite's FTS5 table (and its
# shadow tables), PostgreSQL's trigram index. The migrations make them; comparisons leave them out.
SEARCH_ONLY = ("sentence_search", "ix_speech_sentences_folded_trgm")


def described_by_models(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's ``include_name``: False for the search structures above."""
    return not (name or "").startswith(SEARCH_ONLY)
