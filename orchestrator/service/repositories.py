"""The repositories a service works with, as protocols: what it may find and store, never how.

gikai's are SQLAlchemy's (``gikai.orchestrator.persistence``, same names), given by the unit of work
(``unit_of_work.py``); unit tests may give in-memory fakes. Each method says what it finds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Protocol

from gikai.orchestrator.domain.accounts import Account, Credential, Enrolment, LoginSession
from gikai.orchestrator.domain.agenda import AgendaItem
from gikai.orchestrator.domain.model import Body, Meeting, Member, Participant
from gikai.orchestrator.domain.rules import StandingRules
from gikai.orchestrator.domain.sitting import Event, Sitting
from gikai.orchestrator.domain.transcript import Correction, SpeechText
from gikai.orchestrator.domain.voting import Ballot, Choice
from gikai.orchestrator.persistence.archive import ListedSitting
from gikai.orchestrator.persistence.documents import PageFound, StoredDocument, StoredPage
from gikai.orchestrator.persistence.transcripts import SentenceFound


class DirectoryRepository(Protocol):
    """Bodies, their members, sittings and who takes part in them, and agenda items: the clerk's set-up."""

    def add_body(self, body: Body) -> None: ...

    def add_member(self, member: Member) -> None: ...

    def add_participant(self, p: Participant) -> None: ...

    def add_agenda_item(self, item: AgendaItem) -> None: ...

    async def add_meeting(self, meeting: Meeting, participants: list[Participant]) -> None:
        """A sitting and who takes part (the sitting's row goes first: they refer to it)."""
        ...

    async def add_committee(self, body: Body, members: list[Member], meeting: Meeting,
                            participants: list[Participant], agenda: list[AgendaItem]) -> None:
        """A whole body with its roster and one sitting with its agenda (the rehearsal)."""
        ...

    async def set_vocabulary(self, body_id: str, terms: list[str]) -> bool:
        """Replace the body's vocabulary; False when there is no such body."""
        ...

    async def set_rules(self, body_id: str, rules: StandingRules) -> bool:
        """Replace the body's standing rules; False when there is no such body."""
        ...

    async def count_meetings(self) -> int: ...

    async def body(self, body_id: str) -> Body | None: ...

    async def body_exists(self, body_id: str) -> bool: ...

    async def bodies(self) -> list[Body]:
        """Every body, by name."""
        ...

    async def body_of_meeting(self, meeting_id: str) -> Body | None: ...

    async def member(self, member_id: str) -> Member | None: ...

    async def members(self, body_id: str | None = None) -> list[Member]:
        """A body's members (every body's when None), by seat."""
        ...

    async def seats_taken(self, body_id: str) -> set[int]: ...

    async def meeting(self, meeting_id: str) -> Meeting | None: ...

    async def meeting_exists(self, meeting_id: str) -> bool: ...

    async def meetings(self, body_id: str | None = None) -> list[Meeting]:
        """A body's sittings (every body's when None), newest first."""
        ...

    async def rehearsal_meetings(self) -> list[Meeting]: ...

    async def participant(self, participant_id: str) -> Participant | None: ...

    async def participants(self, meeting_id: str) -> list[Participant]: ...

    async def participants_without_seat(self) -> list[Participant]:
        """Every sitting's participants who are not members of the body (clerk, presenters…), by name."""
        ...

    async def agenda(self, meeting_id: str | None = None) -> list[AgendaItem]:
        """A sitting's agenda items (every sitting's when None) in order, without their documents."""
        ...

    async def last_agenda_position(self, meeting_id: str) -> int:
        """The highest position on the sitting's agenda, 0 when it has none."""
        ...

    async def meeting_of_agenda_item(self, item_id: str) -> str | None: ...

    async def retention_years(self) -> dict[str, int]:
        """Each body's years of keeping recordings, by body id."""
        ...


class SittingRepository(Protocol):
    """A whole sitting (its agenda, speakers' queue, floor, attendance) loaded and saved as one."""

    async def load(self, meeting_id: str) -> Sitting | None: ...

    async def save(self, sitting: Sitting, events: list[Event], sign: Callable[[str], str]) -> None:
        """Write the sitting's state and append its events, in this unit's transaction."""
        ...

    async def open_remote_attendance(self) -> list[tuple[str, str]]:
        """Remote attendance intervals that never ended, in every sitting: (meeting id, participant id)."""
        ...


class RecordRepository(Protocol):
    """The sitting's record: a hash chain of signed entries, appended to and never changed."""

    async def append(self, meeting_id: str, events: list[Event],
                     sign: Callable[[str], str]) -> list[tuple[int, str]]:
        """Append events to the sitting's hash chain, each signed, in this unit's transaction.

        Returns each entry's (seq, hash). Callers hold the meeting's lock (one writer per chain)."""
        ...

    async def events(self, meeting_id: str) -> list[Event]: ...

    async def entries(self, meeting_id: str) -> list[dict[str, Any]]:
        """The sitting's chained, signed record, as exported for anyone to check."""
        ...

    async def seq_of(self, meeting_id: str, digest: str) -> int | None:
        """The position of the sitting's entry with this hash (a receipt), None when there is none."""
        ...

    async def named_entries(self, meeting_id: str,
                            names: Iterable[str]) -> list[tuple[str, datetime, dict[str, Any]]]:
        """The sitting's entries with these names, in order: (name, at, data)."""
        ...

    async def entries_named_everywhere(self, names: Iterable[str]) -> list[tuple[str, str, dict[str, Any]]]:
        """Every sitting's entries with these names, by sitting and in order: (meeting id, name, data)."""
        ...


class BallotRepository(Protocol):
    """Ballots, their named votes and their secret ballots' voters.

    A named vote's row holds who chose what and the evidence; a secret ballot's voter row holds who
    voted and the presence evidence, never the choice (the choice only increments the ballot's totals)."""

    async def get(self, ballot_id: str) -> Ballot | None: ...

    async def latest_for(self, meeting_id: str) -> Ballot | None:
        """The sitting's most recently opened ballot."""
        ...

    async def open_ballot_for(self, meeting_id: str) -> str | None:
        """The id of the sitting's ballot that is open now, if one is."""
        ...

    async def receipt_of(self, ballot_id: str, member_id: str) -> str | None:
        """The hash of the record entry of a member's named vote (secret ballots keep none)."""
        ...

    def add(self, ballot: Ballot) -> None:
        """A ballot just opened (its totals start at nothing)."""
        ...

    async def save(self, ballot: Ballot) -> None:
        """A ballot's state, totals and the chair's decision as they are now."""
        ...

    async def save_totals(self, ballot: Ballot) -> None:
        """Only the running totals (votes being cast change nothing else)."""
        ...

    def add_vote(self, ballot: Ballot, member_id: str, choice: Choice, cast_at: datetime,
                 still_jpeg: bytes | None, still_sha256: str | None, assertion: dict[str, Any] | None) -> None:
        """A member's vote: with its choice and assertion (named), or only that they voted (secret)."""
        ...

    async def write_votes(self) -> None:
        """Write the votes added so far; a second vote of the same member is refused by the database."""
        ...

    def set_receipt(self, ballot_id: str, member_id: str, digest: str) -> None:
        """Keep the hash of a named vote's record entry with the vote (added in this unit)."""
        ...


class AccountRepository(Protocol):
    """Accounts, their passkeys, enrolment links and login sessions (secrets only as hashes)."""

    def add(self, account: Account) -> None: ...

    async def get(self, account_id: str) -> Account | None: ...

    async def clerk_exists(self) -> bool: ...

    async def by_username(self, username: str) -> Account | None: ...

    async def of_member(self, member_id: str) -> Account | None: ...

    async def enabled_id_of_member(self, member_id: str) -> str | None:
        """The id of the member's account unless it is disabled."""
        ...

    async def set_password_hash(self, account_id: str, password_hash: str) -> None: ...

    async def member_ids_with_passkeys(self) -> set[str]:
        """Members whose account has a passkey that is not revoked."""
        ...

    def add_login(self, login: LoginSession) -> None: ...

    async def login(self, token_hash: str) -> LoginSession | None: ...

    async def remove_login(self, token_hash: str) -> bool: ...

    async def remove_logins_of(self, account_id: str) -> None: ...

    def add_enrolment(self, enrolment: Enrolment) -> None: ...

    async def enrolment(self, token_hash: str) -> Enrolment | None: ...

    async def use_enrolment(self, token_hash: str, now: datetime) -> str | None:
        """Use up the link if it is usable, atomically: the account's id, or None."""

    async def revoke_unused_enrolments(self, account_id: str, now: datetime) -> None: ...

    def add_credential(self, credential: Credential) -> None: ...

    async def credential(self, credential_id: str, for_update: bool = False) -> Credential | None:
        """A passkey, revoked or not; ``for_update`` locks it until the unit ends."""
        ...

    async def credentials(self, account_id: str) -> list[Credential]:
        """An account's passkeys that are not revoked."""
        ...

    async def set_sign_count(self, credential_id: str, sign_count: int, for_update: bool = False) -> bool:
        """Remember an authenticator's counter; False when there is no such passkey."""
        ...

    async def revoke_credentials(self, account_id: str, now: datetime) -> int:
        """Revoke an account's passkeys; how many were in use."""
        ...


class DocumentRepository(Protocol):
    """Documents attached to agenda items, and their pages' text (as extracted and as searched)."""

    async def add(self, doc: StoredDocument, pages: list[StoredPage]) -> None:
        """A document and its pages (the document's row first: the pages refer to it)."""
        ...

    async def remove(self, document_id: str) -> bool:
        """A document and its pages; False when it was not there."""
        ...

    async def count_with_content(self, sha256: str) -> int:
        """How many documents have this content (they share one stored file)."""
        ...

    async def get(self, document_id: str) -> StoredDocument | None: ...

    async def in_meeting(self, meeting_id: str, item_id: str | None = None) -> list[StoredDocument]:
        """A sitting's documents in agenda order, oldest first within an item."""
        ...

    async def page_sizes(self, document_id: str) -> list[tuple[float, float]]: ...

    async def pages_containing(self, meeting_id: str, folded: str, limit: int) -> list[PageFound]:
        """Pages of the sitting's documents whose searched text contains ``folded``, in agenda order."""
        ...


class ArchiveRepository(Protocol):
    """What the archive lists: sittings that have begun, with their body's name and agenda titles."""

    async def held_sittings(self) -> list[ListedSitting]:
        """Every sitting that is no longer only scheduled, newest first, with its agenda's titles."""
        ...

    async def adjourned_sittings(self) -> list[tuple[str, str, datetime]]:
        """(meeting id, body id, scheduled at) of every sitting that has ended."""
        ...


class TranscriptRepository(Protocol):
    """Speeches' texts: sentences as drafted and as they read now, every correction kept, searched."""

    async def texts(self, meeting_id: str) -> dict[int, SpeechText]:
        """The sitting's speech texts by speech index, with every correction, oldest first."""
        ...

    async def text(self, meeting_id: str, speech_index: int) -> SpeechText | None: ...

    async def set_draft(self, meeting_id: str, speech: SpeechText) -> None:
        """Replace the speech's draft and its sentences (and their search entries)."""
        ...

    async def add_correction(self, meeting_id: str, speech_index: int, correction: Correction) -> None:
        """Keep the correction and make it the sentence's text."""
        ...

    async def search(self, query: str, speaker: str = "", limit: int = 100) -> list[SentenceFound]:
        """Sentences containing ``query`` (speakers' names containing ``speaker``), newest sitting first."""
        ...
