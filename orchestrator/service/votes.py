"""What a vote carries on its way to the record: its evidence, its receipt, and the vote waiting
in a batch; and who may vote at this moment."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gikai.orchestrator.domain.attendance import Mode
from gikai.orchestrator.domain.events import Entry
from gikai.orchestrator.domain.sitting import Event, Sitting
from gikai.orchestrator.domain.voting import Ballot, BallotKind, Choice, Tally


@dataclass(frozen=True)
class Evidence:
    """What is kept with a vote: the camera at casting, and (named ballots) the passkey's assertion."""

    still_jpeg: bytes | None = None
    assertion: dict[str, Any] | None = None
    credential_id: str | None = None
    sign_count: int | None = None  # the passkey's counter in that assertion: stored with the vote

    @property
    def still_sha256(self) -> str | None:
        return hashlib.sha256(self.still_jpeg).hexdigest() if self.still_jpeg else None


@dataclass(frozen=True)
class Receipt:
    """The voter's receipt: the hash of their entry in the sitting's record."""

    ballot_id: str
    seq: int
    hash: str
    new: bool = True  # False: an identical retry of a vote already recorded


def present_on_camera(sitting: Sitting, participant_id: str, now: datetime) -> bool:
    """Present at this moment: counted present and, when attendance comes from cameras, seen now
    (a member in a grace period after looking away is still counted, but does not vote)."""
    mode = sitting.attendance.present().get(participant_id)
    if mode is None:
        return False
    if mode is Mode.IN_ROOM or not sitting.presence_by_camera:
        return True
    tracker = sitting.presence.get(participant_id)
    return tracker is not None and tracker.on_camera(now, others_allowed=not sitting.rules.third_person_stops_counting)


@dataclass
class PendingVote:
    """A confirmed vote waiting to be recorded, and what became of it."""

    ballot_id: str
    voter_id: str
    choice: Choice
    evidence: Evidence
    done: asyncio.Future[Receipt]
    result: Receipt | None = None
    error: BaseException | None = None

    def settle(self, failed: BaseException | None = None) -> None:
        if self.done.done():
            return
        error = failed or self.error
        if error is not None or self.result is None:
            self.done.set_exception(error or RuntimeError("the vote was not recorded"))
            self.done.exception()  # a caller that went away must not leave it "never retrieved"
        else:
            self.done.set_result(self.result)


def vote_entry(ballot: Ballot, vote: PendingVote, now: datetime) -> Event:
    """A vote's entry on the record: a secret ballot's keeps no choice."""
    evidence = vote.evidence
    if ballot.kind is BallotKind.NAMED:
        return Event(Entry.VOTE_CAST, now, vote.voter_id,
                     {"ballot_id": vote.ballot_id, "choice": vote.choice.value,
                      "evidence": evidence.still_sha256, "passkey": evidence.credential_id}, ballot.agenda_item_id)
    return Event(Entry.VOTE_RECEIVED, now, vote.voter_id,
                 {"ballot_id": vote.ballot_id, "evidence": evidence.still_sha256}, ballot.agenda_item_id)


def tally_data(t: Tally) -> dict[str, object]:
    """A tally as the record keeps it."""
    return {"yes": t.yes, "no": t.no, "abstain": t.abstain, "entitled": t.entitled,
            "outcome": t.outcome.value, "decided_by_chair": t.decided_by_chair}
