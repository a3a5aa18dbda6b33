"""The pieces a Chronicle is made of: people, spans of time, speeches, items, ballots,
recording segments and notes, each as the record tells it (chronicle.py assembles them).

Times are aware UTC datetimes; ``parse_time`` reads the record's (UTC without a zone).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

MEMBER_ROLES = ("chair", "vice_chair", "member")


def parse_time(value: Any) -> datetime:
    """A record time (ISO text or datetime, naive meaning UTC) as an aware UTC datetime."""
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    reading: str = ""
    role: str = "member"
    seat: int | None = None

    @property
    def is_member(self) -> bool:
        return self.role in MEMBER_ROLES


class _Timed:
    start: datetime
    end: datetime

    @property
    def seconds(self) -> int:
        return max(0, int((self.end - self.start).total_seconds()))


@dataclass(frozen=True)
class Span(_Timed):
    start: datetime
    end: datetime
    open_ended: bool = False  # still open when the record ends


@dataclass(frozen=True)
class AttendanceSpan(_Timed):
    participant_id: str
    mode: str  # "remote" | "in_room"
    start: datetime
    end: datetime
    open_ended: bool = False
    reason: str | None = None  # why it ended, when the record says (away, camera_off…)


@dataclass(frozen=True)
class AwaySpan(_Timed):
    """Connected from afar but not counted present (camera off, no face, link lost)."""

    participant_id: str
    state: str
    start: datetime
    end: datetime
    open_ended: bool = False


@dataclass(frozen=True)
class Speech(_Timed):
    holder_id: str
    kind: str
    start: datetime
    end: datetime
    agenda_item_id: str | None = None
    limit_seconds: int | None = None  # including extensions
    reason: str | None = None  # finished, ended_by_chair, interrupted, removed; None if open
    open_ended: bool = False
    spoken_seconds: int | None = None  # as the record says, when it says

    @property
    def seconds(self) -> int:
        return self.spoken_seconds if self.spoken_seconds is not None else super().seconds


@dataclass
class ItemRecord:
    id: str
    title: str
    position: int | None = None
    kind: str | None = None
    taken_up_at: datetime | None = None  # the first time
    decided_at: datetime | None = None
    result: str = ""
    spans: list[Span] = field(default_factory=list)  # while under deliberation


@dataclass
class BallotRecord:
    id: str
    motion: str = ""
    kind: str = "named"  # "named" | "secret"
    majority: str = "simple"
    agenda_item_id: str | None = None
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    published_at: datetime | None = None
    entitled: tuple[str, ...] = ()
    yes: int | None = None  # None until the record gives the counts
    no: int | None = None
    abstain: int | None = None
    cast: int = 0  # votes received
    outcome: str | None = None  # adopted, rejected, tied
    decided_by_chair: bool = False
    chair_decision: str | None = None  # "yes" | "no"
    chair_id: str | None = None
    votes: dict[str, str] = field(default_factory=dict)  # named ballots only: member id -> choice
    voters: set[str] = field(default_factory=set)  # who voted, both kinds (a secret ballot: not how)


@dataclass(frozen=True)
class RecordingSegment:
    key: str
    start: datetime
    end: datetime | None
    sha256: str = ""
    path: str = ""
    kind: str = ""  # audio or video, when the record says


@dataclass(frozen=True)
class Note:
    """Something worth a line in the minutes: quorum lost or restored, someone removed."""

    at: datetime
    name: str
    participant_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
