"""Ballots over a live sitting: opened by the chair, cast by present members, on the record.

Each step commits the ballot, its votes and its signed record entries in one unit of work,
under the sitting's lock (one writer per record chain), and only then tells the clients.
A member's second vote is refused by the database itself as well (a primary key per member
and ballot). Identity is confirmed at the edge (a passkey assertion over this ballot and
choice, see signaling/ws/voting.py); this service keeps the evidence it is given.

The sitting's latest ballot is kept in memory, replaced (never changed in place) after each
commit under the lock: a vote reads no ballot from the database.

Secret ballots: the voter's row holds who voted and the presence evidence, never the choice;
the choice only increments the ballot's totals. See docs/secret-ballots.md.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime

from gikai.orchestrator.domain.amendments import parse_target, target_text
from gikai.orchestrator.domain.attendance import Mode
from gikai.orchestrator.domain.errors import BallotInProgress, DomainError, NotChair, NotFound, WrongMeetingState
from gikai.orchestrator.domain.events import Entry
from gikai.orchestrator.domain.model import MeetingState
from gikai.orchestrator.domain.sitting import Event, Sitting
from gikai.orchestrator.domain.sitting_amendments import MOTION_PREFIX, is_motion
from gikai.orchestrator.domain.voting import (
    Ballot,
    BallotAlreadyOpen,
    BallotKind,
    BallotState,
    Choice,
    Majority,
    Tally,
    entitled_members,
)
from gikai.orchestrator.service.ports import LiveSittings, Notifier
from gikai.orchestrator.service.signing import Signer
from gikai.orchestrator.service.sittings import utcnow
from gikai.orchestrator.service.unit_of_work import UnitOfWork, UnitOfWorkFactory
from gikai.orchestrator.service.votes import (
    Evidence,
    PendingVote,
    Receipt,
    present_on_camera,
    tally_data,
    vote_entry,
)

__all__ = ["BallotService", "Evidence", "Receipt"]

logger = logging.getLogger(__name__)
NO_EVIDENCE = Evidence()
# Refused votes each get an entry of their own up to this many per member between two ballot
# closes, however many connections the member opens; the rest are counted, and the count goes on
# the record in one entry per member when the next ballot closes.
REFUSALS_RECORDED = 5


class BallotService:
    def __init__(self, units: UnitOfWorkFactory, sittings: LiveSittings, *, signer: Signer, notifier: Notifier,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._units = units
        self._sittings = sittings
        self._signer = signer
        self._notifier = notifier
        self._clock = clock
        self._latest: dict[str, Ballot | None] = {}  # per sitting, as committed
        self._queued: dict[str, list[PendingVote]] = {}  # votes waiting to be recorded, per sitting
        self._recording: dict[str, asyncio.Task[None]] = {}
        self._refusals: dict[tuple[str, str], Counter[str]] = {}  # (sitting, member) -> reasons since a close

    # -- reading -------------------------------------------------------------------
    async def load(self, ballot_id: str) -> Ballot:
        for ballot in self._latest.values():
            if ballot is not None and ballot.id == ballot_id:
                return ballot
        async with self._units() as uow:
            found = await uow.ballots.get(ballot_id)
        if found is None:
            raise NotFound(f"ballot {ballot_id}")
        return found

    async def latest(self, meeting_id: str) -> Ballot | None:
        """The sitting's most recent ballot (what a joining client is shown), or None."""
        if meeting_id not in self._latest:
            async with self._units() as uow:
                found = await uow.ballots.latest_for(meeting_id)
            # A writer holding the sitting may have put a newer one there meanwhile: it stays.
            self._latest.setdefault(meeting_id, found)
        return self._latest[meeting_id]

    async def require_none_open(self, meeting_id: str) -> None:
        """A recess or an adjournment waits for the open ballot to be closed: no vote is cast
        while the sitting stands still, and none is left open behind a closed sitting."""
        latest = await self.latest(meeting_id)
        if latest is not None and latest.state is BallotState.OPEN:
            raise BallotInProgress(f"ballot {latest.id} is open")

    async def _in_meeting(self, meeting_id: str, ballot_id: str) -> Ballot:
        """The ballot as committed: the sitting's latest from memory, an earlier one from the database."""
        latest = await self.latest(meeting_id)
        if latest is not None and latest.id == ballot_id:
            return latest
        async with self._units() as uow:
            ballot = await uow.ballots.get(ballot_id)
        if ballot is None or ballot.meeting_id != meeting_id:
            raise NotFound(f"ballot {ballot_id}")
        return ballot

    async def _draft(self, meeting_id: str, ballot_id: str) -> Ballot:
        """A copy to change: the kept ballot is replaced only once the change is committed."""
        return copy.deepcopy(await self._in_meeting(meeting_id, ballot_id))

    async def _tell(self, sitting: Sitting, ballot: Ballot) -> None:
        await self._notifier.ballot_changed(sitting, ballot)

    # -- the chair -----------------------------------------------------------------
    async def open(self, meeting_id: str, actor: str, motion: str, kind: BallotKind = BallotKind.NAMED,
                   majority: Majority = Majority.SIMPLE, abstain_allowed: bool = False, target: str = "") -> Ballot:
        """``target``: what of the current item this ballot decides (amendments.py ``parse_target``),
        in the order the rules put them; "" for a motion that decides nothing by itself."""
        async with self._sittings.hold(meeting_id) as sitting:
            if sitting.meeting.state is not MeetingState.OPEN:
                raise WrongMeetingState("ballots are taken while the sitting is open")
            if actor != sitting.acting_chair_id():
                raise NotChair()
            present = sitting.attendance.present()
            quorum = sitting.quorum()
            chair = sitting.acting_chair_id()
            entitled = entitled_members(
                set(quorum.counted), {p for p, m in present.items() if m is Mode.REMOTE}, chair,
                remote_may_vote=sitting.rules.remote_votes(sitting.plenary),
                chair_votes_only_on_tie=sitting.rules.chair_votes_only_on_tie, majority=majority,
            )
            current = sitting.agenda.current
            targeted = {}
            if is_motion(target):
                targeted = {"target": MOTION_PREFIX + sitting.motion_target(target[len(MOTION_PREFIX):]).id}
            elif target:
                if current is None:
                    raise WrongMeetingState("take up the item first")
                targeted = {"target": target_text(sitting.vote_target(current.id, target))}
            ballot = Ballot(meeting_id, current.id if current else None, motion.strip()[:500], kind, majority,
                            abstain_allowed)
            now = self._clock()
            ballot.open(entitled, sitting.body.fixed_membership, actor, quorum.met, now)
            async with self._units() as uow:
                if await uow.ballots.open_ballot_for(meeting_id) is not None:
                    raise BallotAlreadyOpen()
                uow.ballots.add(ballot)
                event = Event(Entry.BALLOT_OPENED, now, actor, {
                    "ballot_id": ballot.id, "motion": ballot.motion, "kind": kind.value,
                    "majority": majority.value, "abstain_allowed": abstain_allowed,
                    "fixed_membership": ballot.fixed_membership, "entitled": sorted(entitled),
                    "quorum": sitting.quorum_record(), **targeted}, ballot.agenda_item_id)
                await uow.record.append(meeting_id, [event], self._signer.sign)
                await uow.commit()
            self._latest[meeting_id] = ballot
        await self._tell(sitting, ballot)
        return ballot

    async def close(self, meeting_id: str, ballot_id: str, actor: str) -> Tally:
        async with self._sittings.hold(meeting_id) as sitting:
            if actor != sitting.acting_chair_id():
                raise NotChair()
            ballot = await self._draft(meeting_id, ballot_id)
            now = self._clock()
            tally = ballot.close(sitting.quorum().met, now)
            async with self._units() as uow:
                await self._save(uow, ballot, Event(
                    Entry.BALLOT_CLOSED, now, actor,
                    {"ballot_id": ballot_id, **tally_data(tally), "quorum": sitting.quorum_record()}),
                    before=self._uncounted_refusals(meeting_id, ballot_id, now))
        if ballot.kind is BallotKind.SECRET:
            await uow.scrub()
        await self._tell(sitting, ballot)
        return tally

    async def decide_tie(self, meeting_id: str, ballot_id: str, actor: str, choice: Choice) -> Tally:
        async with self._sittings.hold(meeting_id) as sitting:
            ballot = await self._draft(meeting_id, ballot_id)
            tally = ballot.decide_tie(actor, choice)
            async with self._units() as uow:
                await self._save(uow, ballot, Event(
                    Entry.TIE_DECIDED_BY_CHAIR, self._clock(), actor, {"ballot_id": ballot_id, **tally_data(tally)}))
        await self._tell(sitting, ballot)
        return tally

    async def publish(self, meeting_id: str, ballot_id: str, actor: str | None) -> Tally:
        """Announce the result; a ballot on what the rules put to the vote on an item (its
        ``target``) may decide the item: the item's result is recorded in the same commit."""
        async with self._sittings.hold(meeting_id) as sitting:
            if actor is not None and actor != sitting.acting_chair_id():
                raise NotChair()
            ballot = await self._draft(meeting_id, ballot_id)
            tally = ballot.publish()
            data: dict[str, object] = {"ballot_id": ballot_id, **tally_data(tally)}
            if ballot.kind is BallotKind.NAMED:
                data["votes"] = {m: c.value for m, c in sorted(ballot.named.items())}
            now = self._clock()
            async with self._units() as uow:
                target = await self._target_of(uow, meeting_id, ballot)
                draft, decided = sitting, []
                if is_motion(target):
                    draft = copy.deepcopy(sitting)
                    draft.motion_result(target[len(MOTION_PREFIX):], tally.outcome)
                elif target and ballot.agenda_item_id is not None:
                    draft = copy.deepcopy(sitting)
                    decided = draft.ballot_result(ballot.agenda_item_id, parse_target(target), tally.outcome, now,
                                                  actor)
                await uow.ballots.save(ballot)
                await uow.record.append(meeting_id, [Event(Entry.RESULT_PUBLISHED, now, actor, data)],
                                        self._signer.sign)
                if draft is not sitting:
                    await uow.sittings.save(draft, decided, self._signer.sign)
                await uow.commit()
                self._latest[meeting_id] = ballot
            if draft is not sitting:
                self._sittings.adopt(meeting_id, draft)
        await self._tell(draft, ballot)
        if draft is not sitting:  # the item's votes moved on (and it may be decided)
            await self._notifier.sitting_changed(draft, decided)
        return tally

    @staticmethod
    async def _target_of(uow: UnitOfWork, meeting_id: str, ballot: Ballot) -> str:
        """What the ballot decides, as its opening entry says: a part of its item (amendments.py
        ``parse_target``), ``motion:<id>``, or "" (a motion that decides nothing by itself)."""
        for name, _, data in await uow.record.named_entries(meeting_id, [Entry.BALLOT_OPENED]):
            if name == Entry.BALLOT_OPENED and data.get("ballot_id") == ballot.id and data.get("target"):
                return str(data["target"])
        return ""

    async def _save(self, uow: UnitOfWork, ballot: Ballot, event: Event, before: Sequence[Event] = ()) -> None:
        """Commit the ballot as changed with its entry (after ``before``); it becomes the one kept.
        Under the sitting's lock."""
        await uow.ballots.save(ballot)
        await uow.record.append(ballot.meeting_id, [*before, event], self._signer.sign)
        await uow.commit()
        self._latest[ballot.meeting_id] = ballot

    # -- a member ------------------------------------------------------------------
    async def check(self, meeting_id: str, ballot_id: str, voter_id: str, choice: Choice) -> Ballot:
        """Would this vote be accepted now? Raises the refusal; asked before the passkey prompt."""
        sitting = await self._sittings.get(meeting_id)
        ballot = await self._in_meeting(meeting_id, ballot_id)
        sitting.require_remote_permission(voter_id)
        copy.deepcopy(ballot).cast(voter_id, choice, present_on_camera(sitting, voter_id, self._clock()))
        return ballot

    async def cast(self, meeting_id: str, ballot_id: str, voter_id: str, choice: Choice,
                   evidence: Evidence = NO_EVIDENCE) -> Receipt:
        """Record a confirmed vote and its evidence; raises on any refusal.

        Votes that arrive while others are being recorded wait and are recorded together: one
        transaction and one push for the lot (16 members pressing at once), each vote with its
        own entry on the record and its own receipt. A vote confirmed here is recorded even if
        its caller goes away meanwhile (a retry gets the same receipt)."""
        done: asyncio.Future[Receipt] = asyncio.get_running_loop().create_future()
        self._queued.setdefault(meeting_id, []).append(PendingVote(ballot_id, voter_id, choice, evidence, done))
        if meeting_id not in self._recording:
            self._recording[meeting_id] = asyncio.ensure_future(self._record_queued(meeting_id))
        return await asyncio.shield(done)

    async def _record_queued(self, meeting_id: str) -> None:
        try:
            while self._queued.get(meeting_id):
                batch = self._queued.pop(meeting_id)
                try:
                    sitting, changed = await self._record(meeting_id, batch)
                except Exception as exc:  # the transaction failed: none of these votes is recorded
                    for vote in batch:
                        vote.settle(exc)
                    continue
                for ballot in changed:
                    try:
                        await self._tell(sitting, ballot)
                    except Exception:
                        logger.exception("could not tell of the votes in %s", meeting_id)
                for vote in batch:
                    vote.settle()
        finally:
            self._recording.pop(meeting_id, None)

    async def _record(self, meeting_id: str, batch: list[PendingVote]) -> tuple[Sitting, list[Ballot]]:
        """One transaction for the votes of ``batch``; each vote's receipt or refusal on it."""
        async with self._sittings.hold(meeting_id) as sitting, self._units() as uow:
            now = self._clock()
            drafts: dict[str, Ballot] = {}
            recorded: list[tuple[PendingVote, Event]] = []
            repeats: list[tuple[PendingVote, PendingVote]] = []  # a retry of a vote in this same batch
            for vote in batch:
                try:
                    ballot = drafts.get(vote.ballot_id) or await self._draft(meeting_id, vote.ballot_id)
                    drafts[vote.ballot_id] = ballot
                    sitting.require_remote_permission(vote.voter_id)
                    if not ballot.cast(vote.voter_id, vote.choice, present_on_camera(sitting, vote.voter_id, now)):
                        first = next((r for r, _ in recorded
                                      if (r.ballot_id, r.voter_id) == (vote.ballot_id, vote.voter_id)), None)
                        if first is not None:
                            repeats.append((vote, first))
                        else:
                            vote.result = await self._earlier_receipt(uow, meeting_id, vote)
                        continue
                except DomainError as refused:
                    vote.error = refused
                    continue
                evidence = vote.evidence
                uow.ballots.add_vote(ballot, vote.voter_id, vote.choice, now, evidence.still_jpeg,
                                     evidence.still_sha256, evidence.assertion)
                recorded.append((vote, vote_entry(ballot, vote, now)))
            if not recorded:
                return sitting, []
            await uow.ballots.write_votes()  # first: a vote the database refuses is AlreadyVoted
            changed = [drafts[i] for i in dict.fromkeys(vote.ballot_id for vote, _ in recorded)]
            for ballot in changed:
                await uow.ballots.save_totals(ballot)
            appended = await uow.record.append(meeting_id, [entry for _, entry in recorded], self._signer.sign)
            for (vote, _), (seq, digest) in zip(recorded, appended, strict=True):
                uow.ballots.set_receipt(vote.ballot_id, vote.voter_id, digest)
                if vote.evidence.credential_id is not None and vote.evidence.sign_count is not None:
                    # In the vote's own commit: one write per vote, not two (bench/vote_fanout.py).
                    await uow.accounts.set_sign_count(vote.evidence.credential_id, vote.evidence.sign_count)
                vote.result = Receipt(vote.ballot_id, seq, digest)
            for vote, first in repeats:
                assert first.result is not None
                vote.result = Receipt(vote.ballot_id, first.result.seq, first.result.hash, new=False)
            await uow.commit()
            for ballot in changed:
                self._latest[meeting_id] = ballot
        return sitting, changed

    @staticmethod
    async def _earlier_receipt(uow: UnitOfWork, meeting_id: str, vote: PendingVote) -> Receipt:
        """The receipt of the same vote recorded before (a retry): its entry's hash and place."""
        digest = await uow.ballots.receipt_of(vote.ballot_id, vote.voter_id)
        seq = await uow.record.seq_of(meeting_id, digest) if digest else None
        return Receipt(vote.ballot_id, int(seq or 0), digest or "", new=False)

    async def refused(self, meeting_id: str, voter_id: str, ballot_id: str, code: str) -> None:
        """A refused vote, on the record with its reason (never its choice); beyond the first
        few of a member, counted for one entry at the next close."""
        reasons = self._refusals.setdefault((meeting_id, voter_id), Counter())
        reasons[code] += 1
        if reasons.total() > REFUSALS_RECORDED:
            return
        async with self._sittings.hold(meeting_id), self._units() as uow:
            event = Event(Entry.VOTE_REFUSED, self._clock(), voter_id,
                          {"ballot_id": str(ballot_id)[:64], "reason": code})
            await uow.record.append(meeting_id, [event], self._signer.sign)
            await uow.commit()

    def _uncounted_refusals(self, meeting_id: str, ballot_id: str, now: datetime) -> list[Event]:
        """One entry per member whose refusals since the last close went beyond the ones recorded."""
        out = []
        for key in [k for k in self._refusals if k[0] == meeting_id]:
            reasons = self._refusals.pop(key)
            more = reasons.total() - REFUSALS_RECORDED
            if more > 0:
                out.append(Event(Entry.VOTE_REFUSED, now, key[1], {
                    "ballot_id": ballot_id, "reason": "repeated", "count": more,
                    "reasons": dict(sorted(reasons.items()))}))
        return out
