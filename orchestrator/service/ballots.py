"""Ballots over a live sitting: opened by the chair, cast by present members, on the record.

Each step commits the ballot, its votes and its signed record entries in one transaction.
A member's second vote is refused by the database itself (a primary key per member and
ballot), so two concurrent casts count once. Identity confirmation (passkeys) and evidence
are added at the edge (voting issue, next part).
"""

from __future__ import annotations

from typing import Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.attendance import Mode
from ..domain.errors import NotChair, NotFound, WrongMeetingState
from ..domain.model import MeetingState
from ..domain.sitting import Event, Sitting
from ..domain.voting import (
    AlreadyVoted, Ballot, BallotKind, BallotState, Choice, Majority, Tally, entitled_members,
)
from ..persistence.repository import Repository
from ..persistence.rows import BallotRow, NamedVoteRow, SecretVoterRow
from .sittings import SittingService


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


class BallotService:
    def __init__(self, sittings: SittingService) -> None:
        self.sittings = sittings

    async def open(self, meeting_id: str, actor: str, motion: str, kind: BallotKind = BallotKind.NAMED,
                   majority: Majority = Majority.SIMPLE, abstain_allowed: bool = False) -> Ballot:
        sitting = await self.sittings.get(meeting_id)
        if sitting.meeting.state is not MeetingState.OPEN:
            raise WrongMeetingState("ballots are taken while the sitting is open")
        if actor != sitting.acting_chair_id():
            raise NotChair()
        present = sitting.attendance.present()
        quorum = sitting.quorum()
        entitled = entitled_members(
            set(quorum.counted), {p for p, m in present.items() if m is Mode.REMOTE}, sitting.acting_chair_id(),
            remote_may_vote=sitting.rules.remote_votes(sitting.plenary),
            chair_votes_only_on_tie=sitting.rules.chair_votes_only_on_tie, majority=majority,
        )
        current = sitting.agenda.current
        ballot = Ballot(meeting_id, current.id if current else None, motion.strip()[:500], kind, majority,
                        abstain_allowed)
        now = self.sittings.clock()
        ballot.open(entitled, sitting.body.fixed_membership, actor, quorum.met, now)
        row = BallotRow(id=ballot.id, meeting_id=meeting_id, agenda_item_id=ballot.agenda_item_id,
                        motion=ballot.motion, kind=kind.value, majority=majority.value,
                        abstain_allowed=abstain_allowed, state=ballot.state.value, entitled=sorted(entitled),
                        fixed_membership=ballot.fixed_membership, chair_id=actor, opened_at=now, counts={})
        event = Event("ballot_opened", now, actor, {
            "ballot_id": ballot.id, "motion": ballot.motion, "kind": kind.value, "majority": majority.value,
            "entitled": sorted(entitled)}, ballot.agenda_item_id)
        async with self.sittings.db.session() as session:
            session.add(row)
            await Repository(session).append_events(meeting_id, [event], self.sittings.signer.sign)
            await session.commit()
        return ballot

    async def load(self, ballot_id: str) -> Ballot:
        async with self.sittings.db.session() as session:
            row = await session.get(BallotRow, ballot_id)
            if row is None:
                raise NotFound(f"ballot {ballot_id}")
            named = await self._named(session, ballot_id)
            voters = await self._voters(session, ballot_id, BallotKind(row.kind), named)
            return _ballot(row, named, voters)

    @staticmethod
    async def _named(session: AsyncSession, ballot_id: str) -> dict[str, Choice]:
        rows = await session.scalars(select(NamedVoteRow).where(NamedVoteRow.ballot_id == ballot_id))
        return {r.member_id: Choice(r.choice) for r in rows}

    @staticmethod
    async def _voters(session: AsyncSession, ballot_id: str, kind: BallotKind, named: dict[str, Choice]) -> set[str]:
        if kind is BallotKind.NAMED:
            return set(named)
        rows = await session.scalars(select(SecretVoterRow.member_id).where(SecretVoterRow.ballot_id == ballot_id))
        return set(rows)

    async def cast(self, meeting_id: str, ballot_id: str, member_id: str, choice: Choice) -> bool:
        """Record a vote; False for a repeated identical named vote. Raises on any refusal."""
        sitting = await self.sittings.get(meeting_id)
        ballot = await self.load(ballot_id)
        if ballot.meeting_id != meeting_id:
            raise NotFound(f"ballot {ballot_id}")
        present_now = member_id in sitting.attendance.present()
        if not ballot.cast(member_id, choice, present_now):
            return False
        now = self.sittings.clock()
        if ballot.kind is BallotKind.NAMED:
            vote_row: object = NamedVoteRow(ballot_id=ballot_id, member_id=member_id, choice=choice.value, cast_at=now)
            event = Event("vote_cast", now, member_id, {"ballot_id": ballot_id, "choice": choice.value})
        else:
            vote_row = SecretVoterRow(ballot_id=ballot_id, member_id=member_id)
            event = Event("vote_received", now, member_id, {"ballot_id": ballot_id})
        try:
            async with self.sittings.db.session() as session:
                row = await session.get(BallotRow, ballot_id, with_for_update=True)
                assert row is not None
                counts = dict(row.counts)
                counts[choice.value] = int(counts.get(choice.value, 0)) + 1
                row.counts = counts
                session.add(vote_row)
                await Repository(session).append_events(meeting_id, [event], self.sittings.signer.sign)
                await session.commit()
        except IntegrityError:
            raise AlreadyVoted("a vote from this member was already recorded") from None
        return True

    async def close(self, meeting_id: str, ballot_id: str, actor: str) -> Tally:
        sitting: Sitting = await self.sittings.get(meeting_id)
        if actor != sitting.acting_chair_id():
            raise NotChair()
        ballot = await self.load(ballot_id)
        now = self.sittings.clock()
        tally = ballot.close(sitting.quorum().met, now)
        await self._save(meeting_id, ballot, Event("ballot_closed", now, actor,
                                                   {"ballot_id": ballot_id, **_tally_data(tally)}))
        return tally

    async def decide_tie(self, meeting_id: str, ballot_id: str, actor: str, choice: Choice) -> Tally:
        ballot = await self.load(ballot_id)
        tally = ballot.decide_tie(actor, choice)
        now = self.sittings.clock()
        await self._save(meeting_id, ballot, Event("tie_decided_by_chair", now, actor,
                                                   {"ballot_id": ballot_id, **_tally_data(tally)}))
        return tally

    async def publish(self, meeting_id: str, ballot_id: str, actor: Optional[str]) -> Tally:
        ballot = await self.load(ballot_id)
        tally = ballot.publish()
        now = self.sittings.clock()
        data: dict[str, object] = {"ballot_id": ballot_id, **_tally_data(tally)}
        if ballot.kind is BallotKind.NAMED:
            data["votes"] = {m: c.value for m, c in sorted(ballot.named.items())}
        await self._save(meeting_id, ballot, Event("result_published", now, actor, data))
        return tally

    async def _save(self, meeting_id: str, ballot: Ballot, event: Event) -> None:
        async with self.sittings.db.session() as session:
            row = await session.get(BallotRow, ballot.id, with_for_update=True)
            assert row is not None
            _store(row, ballot)
            await Repository(session).append_events(meeting_id, [event], self.sittings.signer.sign)
            await session.commit()
