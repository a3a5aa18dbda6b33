"""Ballots over a live sitting: opened by the chair, cast by present members, on the record.

Each step commits the ballot, its votes and its signed record entries in one transaction,
under the meeting's lock (one writer per record chain), and only then tells the clients.
A member's second vote is refused by the database itself as well (a primary key per member
and ballot). Identity is confirmed at the edge (a passkey assertion over this ballot and
choice, see signaling/voting.py); this service keeps the evidence it is given.

Secret ballots: the voter's row holds who voted and the presence evidence, never the choice;
the choice only increments the ballot's totals. See docs/secret-ballots.md.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gikai.orchestrator.domain.attendance import Mode
from gikai.orchestrator.domain.errors import DomainError, NotChair, NotFound, WrongMeetingState
from gikai.orchestrator.domain.model import MeetingState
from gikai.orchestrator.domain.sitting import Event, Sitting
from gikai.orchestrator.domain.voting import (
    AlreadyVoted,
    Ballot,
    BallotAlreadyOpen,
    BallotKind,
    BallotState,
    Choice,
    Majority,
    Tally,
    entitled_members,
)
from gikai.orchestrator.persistence.repository import Repository
from gikai.orchestrator.persistence.rows import (
    BallotRow,
    CredentialRow,
    NamedVoteRow,
    SecretVoterRow,
)
from gikai.orchestrator.service.sittings import SittingService

logger = logging.getLogger(__name__)


def _ballot(row: BallotRow, named: dict[str, Choice], voters: set[str]) -> Ballot:
    return Ballot(
        row.meeting_id, row.agenda_item_id, row.motion, BallotKind(row.kind), Majority(row.majority),
        row.abstain_allowed, BallotState(row.state), frozenset(row.entitled), row.fixed_membership,
        row.chair_id, row.opened_at, row.closed_at, voters, named,
        {c: int(row.counts.get(c.value, 0)) for c in Choice},
        Choice(row.chair_decision) if row.chair_decision else None, row.id,
    )


def _store(row: BallotRow, b: Ballot) -> None:
    row.state, row.closed_at = b.state.value, b.closed_at
    row.counts = {c.value: n for c, n in b.counts.items()}
    row.chair_decision = b.chair_decision.value if b.chair_decision else None


def _tally_data(t: Tally) -> dict[str, object]:
    return {"yes": t.yes, "no": t.no, "abstain": t.abstain, "entitled": t.entitled,
            "outcome": t.outcome.value, "decided_by_chair": t.decided_by_chair}


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
    return tracker is not None and tracker.on_camera(now)


@dataclass
class _Cast:
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


def _vote_rows(ballot: Ballot, c: _Cast, now: datetime) -> tuple[Any, Event]:
    """The row a vote adds, and its entry on the record (a secret ballot's keep no choice)."""
    evidence = c.evidence
    if ballot.kind is BallotKind.NAMED:
        row: Any = NamedVoteRow(
            ballot_id=c.ballot_id, member_id=c.voter_id, choice=c.choice.value, cast_at=now,
            evidence_jpeg=evidence.still_jpeg, evidence_sha256=evidence.still_sha256, assertion=evidence.assertion)
        data: dict[str, Any] = {"ballot_id": c.ballot_id, "choice": c.choice.value,
                                "evidence": evidence.still_sha256, "passkey": evidence.credential_id}
        return row, Event("vote_cast", now, c.voter_id, data, ballot.agenda_item_id)
    row = SecretVoterRow(ballot_id=c.ballot_id, member_id=c.voter_id,
                         evidence_jpeg=evidence.still_jpeg, evidence_sha256=evidence.still_sha256)
    return row, Event("vote_received", now, c.voter_id,
                      {"ballot_id": c.ballot_id, "evidence": evidence.still_sha256}, ballot.agenda_item_id)


class BallotService:
    def __init__(self, sittings: SittingService) -> None:
        self.sittings = sittings
        self._latest: dict[str, Ballot | None] = {}
        self._queued: dict[str, list[_Cast]] = {}  # votes waiting to be recorded, per meeting
        self._recording: dict[str, asyncio.Task[None]] = {}

    # -- reading -------------------------------------------------------------------
    async def load(self, ballot_id: str, session: AsyncSession | None = None) -> Ballot:
        if session is None:
            async with self.sittings.db.session() as own:
                return await self.load(ballot_id, own)
        row = await session.get(BallotRow, ballot_id, populate_existing=True)
        if row is None:
            raise NotFound(f"ballot {ballot_id}")
        named = await self._named(session, ballot_id)
        voters = await self._voters(session, ballot_id, BallotKind(row.kind), named)
        return _ballot(row, named, voters)

    async def latest(self, meeting_id: str) -> Ballot | None:
        """The sitting's most recent ballot (what a joining client is shown), or None."""
        if meeting_id not in self._latest:
            async with self.sittings.db.session() as session:
                ballot_id = await session.scalar(
                    select(BallotRow.id).where(BallotRow.meeting_id == meeting_id)
                    .order_by(BallotRow.opened_at.desc()).limit(1))
                self._latest[meeting_id] = await self.load(ballot_id, session) if ballot_id else None
        return self._latest[meeting_id]

    @staticmethod
    async def _named(session: AsyncSession, ballot_id: str) -> dict[str, Choice]:
        rows = await session.execute(select(NamedVoteRow.member_id, NamedVoteRow.choice)
                                     .where(NamedVoteRow.ballot_id == ballot_id))
        return {m: Choice(c) for m, c in rows}

    @staticmethod
    async def _voters(session: AsyncSession, ballot_id: str, kind: BallotKind, named: dict[str, Choice]) -> set[str]:
        if kind is BallotKind.NAMED:
            return set(named)
        rows = await session.scalars(select(SecretVoterRow.member_id).where(SecretVoterRow.ballot_id == ballot_id))
        return set(rows)

    async def _in_meeting(self, meeting_id: str, ballot_id: str, session: AsyncSession) -> Ballot:
        ballot = await self.load(ballot_id, session)
        if ballot.meeting_id != meeting_id:
            raise NotFound(f"ballot {ballot_id}")
        return ballot

    async def _changed(self, sitting: Sitting, ballot: Ballot) -> None:
        self._latest[ballot.meeting_id] = ballot
        await self.sittings.notifier.ballot_changed(sitting, ballot)

    # -- the chair -----------------------------------------------------------------
    async def open(self, meeting_id: str, actor: str, motion: str, kind: BallotKind = BallotKind.NAMED,
                   majority: Majority = Majority.SIMPLE, abstain_allowed: bool = False) -> Ballot:
        async with self.sittings.hold(meeting_id) as sitting:
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
            ballot = Ballot(meeting_id, current.id if current else None, motion.strip()[:500], kind, majority,
                            abstain_allowed)
            now = self.sittings.clock()
            ballot.open(entitled, sitting.body.fixed_membership, actor, quorum.met, now)
            async with self.sittings.db.session() as session:
                still_open = await session.scalar(select(BallotRow.id).where(
                    BallotRow.meeting_id == meeting_id, BallotRow.state == BallotState.OPEN.value).limit(1))
                if still_open is not None:
                    raise BallotAlreadyOpen()
                session.add(BallotRow(
                    id=ballot.id, meeting_id=meeting_id, agenda_item_id=ballot.agenda_item_id,
                    motion=ballot.motion, kind=kind.value, majority=majority.value, abstain_allowed=abstain_allowed,
                    state=ballot.state.value, entitled=sorted(entitled), fixed_membership=ballot.fixed_membership,
                    chair_id=actor, opened_at=now, counts={}))
                event = Event("ballot_opened", now, actor, {
                    "ballot_id": ballot.id, "motion": ballot.motion, "kind": kind.value,
                    "majority": majority.value, "abstain_allowed": abstain_allowed,
                    "fixed_membership": ballot.fixed_membership, "entitled": sorted(entitled),
                    "quorum": sitting.quorum_record()}, ballot.agenda_item_id)
                await Repository(session).append_events(meeting_id, [event], self.sittings.signer.sign)
                await session.commit()
        await self._changed(sitting, ballot)
        return ballot

    async def close(self, meeting_id: str, ballot_id: str, actor: str) -> Tally:
        async with self.sittings.hold(meeting_id) as sitting:
            if actor != sitting.acting_chair_id():
                raise NotChair()
            async with self.sittings.db.session() as session:
                ballot = await self._in_meeting(meeting_id, ballot_id, session)
                now = self.sittings.clock()
                tally = ballot.close(sitting.quorum().met, now)
                await self._save(session, meeting_id, ballot, Event(
                    "ballot_closed", now, actor,
                    {"ballot_id": ballot_id, **_tally_data(tally), "quorum": sitting.quorum_record()}))
        if ballot.kind is BallotKind.SECRET:
            await self._scrub()
        await self._changed(sitting, ballot)
        return tally

    async def decide_tie(self, meeting_id: str, ballot_id: str, actor: str, choice: Choice) -> Tally:
        async with self.sittings.hold(meeting_id) as sitting, self.sittings.db.session() as session:
            ballot = await self._in_meeting(meeting_id, ballot_id, session)
            tally = ballot.decide_tie(actor, choice)
            await self._save(session, meeting_id, ballot, Event(
                "tie_decided_by_chair", self.sittings.clock(), actor, {"ballot_id": ballot_id, **_tally_data(tally)}))
        await self._changed(sitting, ballot)
        return tally

    async def publish(self, meeting_id: str, ballot_id: str, actor: str | None) -> Tally:
        async with self.sittings.hold(meeting_id) as sitting:
            if actor is not None and actor != sitting.acting_chair_id():
                raise NotChair()
            async with self.sittings.db.session() as session:
                ballot = await self._in_meeting(meeting_id, ballot_id, session)
                tally = ballot.publish()
                data: dict[str, object] = {"ballot_id": ballot_id, **_tally_data(tally)}
                if ballot.kind is BallotKind.NAMED:
                    data["votes"] = {m: c.value for m, c in sorted(ballot.named.items())}
                await self._save(session, meeting_id, ballot, Event("result_published", self.sittings.clock(), actor, data))
        await self._changed(sitting, ballot)
        return tally

    async def _save(self, session: AsyncSession, meeting_id: str, ballot: Ballot, event: Event) -> None:
        row = await session.get(BallotRow, ballot.id)
        assert row is not None
        _store(row, ballot)
        await Repository(session).append_events(meeting_id, [event], self.sittings.signer.sign)
        await session.commit()

    async def _scrub(self) -> None:
        """After a secret ballot closes, drop the database's old copies of its running totals
        (PostgreSQL's dead row versions, SQLite's write-ahead log): see docs/secret-ballots.md."""
        engine = self.sittings.db.engine
        if engine.dialect.name == "postgresql":
            async with engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("VACUUM ballots"))
        elif engine.dialect.name == "sqlite":
            async with engine.connect() as conn:
                await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))

    # -- a member ------------------------------------------------------------------
    async def check(self, meeting_id: str, ballot_id: str, voter_id: str, choice: Choice) -> Ballot:
        """Would this vote be accepted now? Raises the refusal; asked before the passkey prompt."""
        sitting = await self.sittings.get(meeting_id)
        async with self.sittings.db.session() as session:
            ballot = await self._in_meeting(meeting_id, ballot_id, session)
        copy.deepcopy(ballot).cast(voter_id, choice, present_on_camera(sitting, voter_id, self.sittings.clock()))
        return ballot

    async def cast(self, meeting_id: str, ballot_id: str, voter_id: str, choice: Choice,
                   evidence: Evidence = Evidence()) -> Receipt:
        """Record a confirmed vote and its evidence; raises on any refusal.

        Votes that arrive while others are being recorded wait and are recorded together: one
        transaction and one push for the lot (16 members pressing at once), each vote with its
        own entry on the record and its own receipt. A vote confirmed here is recorded even if
        its caller goes away meanwhile (a retry gets the same receipt)."""
        done: asyncio.Future[Receipt] = asyncio.get_running_loop().create_future()
        self._queued.setdefault(meeting_id, []).append(_Cast(ballot_id, voter_id, choice, evidence, done))
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
                    for c in batch:
                        c.settle(exc)
                    continue
                for ballot in changed:
                    try:
                        await self._changed(sitting, ballot)
                    except Exception:
                        logger.exception("could not tell of the votes in %s", meeting_id)
                for c in batch:
                    c.settle()
        finally:
            self._recording.pop(meeting_id, None)

    async def _record(self, meeting_id: str, batch: list[_Cast]) -> tuple[Sitting, list[Ballot]]:
        """One transaction for the votes of ``batch``; each vote's receipt or refusal on it."""
        async with self.sittings.hold(meeting_id) as sitting, self.sittings.db.session() as session:
            now = self.sittings.clock()
            ballots: dict[str, Ballot] = {}
            recorded: list[tuple[_Cast, Any, Event]] = []
            repeats: list[tuple[_Cast, _Cast]] = []  # a retry of a vote in this same batch
            for c in batch:
                try:
                    ballot = ballots.get(c.ballot_id) or await self._in_meeting(meeting_id, c.ballot_id, session)
                    ballots[c.ballot_id] = ballot
                    if not ballot.cast(c.voter_id, c.choice, present_on_camera(sitting, c.voter_id, now)):
                        first = next((r for r, _, _ in recorded
                                      if (r.ballot_id, r.voter_id) == (c.ballot_id, c.voter_id)), None)
                        if first is not None:
                            repeats.append((c, first))
                            continue
                        row = await session.get(NamedVoteRow, (c.ballot_id, c.voter_id))
                        seq, digest = await self._entry_of(session, meeting_id, row.receipt if row else None)
                        c.result = Receipt(c.ballot_id, seq, digest, new=False)
                        continue
                except DomainError as refused:
                    c.error = refused
                    continue
                vote_row, event = _vote_rows(ballot, c, now)
                session.add(vote_row)
                recorded.append((c, vote_row, event))
            if not recorded:
                return sitting, []
            changed = [ballots[i] for i in dict.fromkeys(c.ballot_id for c, _, _ in recorded)]
            for ballot in changed:
                row = await session.get(BallotRow, ballot.id)
                assert row is not None
                row.counts = {choice.value: n for choice, n in ballot.counts.items()}
            try:
                await session.flush()
            except IntegrityError:
                raise AlreadyVoted("a vote from this member was already recorded") from None
            appended = await Repository(session).append_events(
                meeting_id, [event for _, _, event in recorded], self.sittings.signer.sign)
            for (c, vote_row, _), (seq, digest) in zip(recorded, appended):
                if isinstance(vote_row, NamedVoteRow):
                    vote_row.receipt = digest
                if c.evidence.credential_id is not None and c.evidence.sign_count is not None:
                    # In the vote's own commit: one write per vote, not two (bench/vote_fanout.py).
                    credential = await session.get(CredentialRow, c.evidence.credential_id)
                    if credential is not None:
                        credential.sign_count = c.evidence.sign_count
                c.result = Receipt(c.ballot_id, seq, digest)
            for c, first in repeats:
                assert first.result is not None
                c.result = Receipt(c.ballot_id, first.result.seq, first.result.hash, new=False)
            await session.commit()
        return sitting, changed

    @staticmethod
    async def _entry_of(session: AsyncSession, meeting_id: str, digest: str | None) -> tuple[int, str]:
        from gikai.orchestrator.persistence.rows import EventRow

        seq = await session.scalar(select(EventRow.seq).where(EventRow.meeting_id == meeting_id,
                                                              EventRow.hash == digest)) if digest else None
        return int(seq or 0), digest or ""

    async def refused(self, meeting_id: str, voter_id: str, ballot_id: str, code: str) -> None:
        """A refused vote, on the record with its reason (never its choice)."""
        async with self.sittings.hold(meeting_id), self.sittings.db.session() as session:
            event = Event("vote_refused", self.sittings.clock(), voter_id,
                          {"ballot_id": str(ballot_id)[:64], "reason": code})
            await Repository(session).append_events(meeting_id, [event], self.sittings.signer.sign)
            await session.commit()
