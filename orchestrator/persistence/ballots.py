"""Ballots, their named votes and their secret ballots' voters.

A named vote's row holds who chose what and the evidence; a secret ballot's voter row holds who
voted and the presence evidence, never the choice (the choice only increments the ballot's totals).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gikai.orchestrator.domain.voting import (
    AlreadyVoted,
    Ballot,
    BallotKind,
    BallotState,
    Choice,
    Majority,
)
from gikai.orchestrator.persistence.rows import BallotRow, NamedVoteRow, SecretVoterRow


def _ballot(row: BallotRow, named: dict[str, Choice], voters: set[str]) -> Ballot:
    return Ballot(
        row.meeting_id, row.agenda_item_id, row.motion, BallotKind(row.kind), Majority(row.majority),
        row.abstain_allowed, BallotState(row.state), frozenset(row.entitled), row.fixed_membership,
        row.chair_id, row.opened_at, row.closed_at, voters, named,
        {c: int(row.counts.get(c.value, 0)) for c in Choice},
        Choice(row.chair_decision) if row.chair_decision else None, row.id,
    )


class BallotRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._named_added: dict[tuple[str, str], NamedVoteRow] = {}  # for their receipts

    # -- finding ---------------------------------------------------------------------
    async def get(self, ballot_id: str) -> Ballot | None:
        row = await self.session.get(BallotRow, ballot_id, populate_existing=True)
        if row is None:
            return None
        named = await self._named(ballot_id)
        voters = set(named) if row.kind == BallotKind.NAMED.value else await self._secret_voters(ballot_id)
        return _ballot(row, named, voters)

    async def latest_for(self, meeting_id: str) -> Ballot | None:
        """The sitting's most recently opened ballot."""
        ballot_id = await self.session.scalar(
            select(BallotRow.id).where(BallotRow.meeting_id == meeting_id)
            .order_by(BallotRow.opened_at.desc()).limit(1))
        return await self.get(ballot_id) if ballot_id else None

    async def open_ballot_for(self, meeting_id: str) -> str | None:
        """The id of the sitting's ballot that is open now, if one is."""
        return await self.session.scalar(select(BallotRow.id).where(
            BallotRow.meeting_id == meeting_id, BallotRow.state == BallotState.OPEN.value).limit(1))

    async def receipt_of(self, ballot_id: str, member_id: str) -> str | None:
        """The hash of the record entry of a member's named vote (secret ballots keep none)."""
        row = await self.session.get(NamedVoteRow, (ballot_id, member_id))
        return row.receipt if row else None

    async def _named(self, ballot_id: str) -> dict[str, Choice]:
        rows = await self.session.execute(select(NamedVoteRow.member_id, NamedVoteRow.choice)
                                          .where(NamedVoteRow.ballot_id == ballot_id))
        return {m: Choice(c) for m, c in rows}

    async def _secret_voters(self, ballot_id: str) -> set[str]:
        rows = await self.session.scalars(select(SecretVoterRow.member_id)
                                          .where(SecretVoterRow.ballot_id == ballot_id))
        return set(rows)

    # -- writing ---------------------------------------------------------------------
    def add(self, ballot: Ballot) -> None:
        """A ballot just opened (its totals start at nothing)."""
        self.session.add(BallotRow(
            id=ballot.id, meeting_id=ballot.meeting_id, agenda_item_id=ballot.agenda_item_id,
            motion=ballot.motion, kind=ballot.kind.value, majority=ballot.majority.value,
            abstain_allowed=ballot.abstain_allowed, state=ballot.state.value, entitled=sorted(ballot.entitled),
            fixed_membership=ballot.fixed_membership, chair_id=ballot.chair_id, opened_at=ballot.opened_at,
            counts={}))

    async def save(self, ballot: Ballot) -> None:
        """A ballot's state, totals and the chair's decision as they are now."""
        await self._update(ballot.id, state=ballot.state.value, closed_at=ballot.closed_at,
                           counts={c.value: n for c, n in ballot.counts.items()},
                           chair_decision=ballot.chair_decision.value if ballot.chair_decision else None)

    async def save_totals(self, ballot: Ballot) -> None:
        """Only the running totals (votes being cast change nothing else)."""
        await self._update(ballot.id, counts={choice.value: n for choice, n in ballot.counts.items()})

    def add_vote(self, ballot: Ballot, member_id: str, choice: Choice, cast_at: datetime,
                 still_jpeg: bytes | None, still_sha256: str | None, assertion: dict[str, Any] | None) -> None:
        """A member's vote: with its choice and assertion (named), or only that they voted (secret)."""
        if ballot.kind is BallotKind.NAMED:
            row = NamedVoteRow(ballot_id=ballot.id, member_id=member_id, choice=choice.value, cast_at=cast_at,
                               evidence_jpeg=still_jpeg, evidence_sha256=still_sha256, assertion=assertion)
            self._named_added[(ballot.id, member_id)] = row
            self.session.add(row)
        else:
            self.session.add(SecretVoterRow(ballot_id=ballot.id, member_id=member_id,
                                            evidence_jpeg=still_jpeg, evidence_sha256=still_sha256))

    async def write_votes(self) -> None:
        """Write the votes added so far; a second vote of the same member is refused by the database."""
        try:
            await self.session.flush()
        except IntegrityError:
            raise AlreadyVoted("a vote from this member was already recorded") from None

    def set_receipt(self, ballot_id: str, member_id: str, digest: str) -> None:
        """Keep the hash of a named vote's record entry with the vote (added in this unit)."""
        row = self._named_added.get((ballot_id, member_id))
        if row is not None:
            row.receipt = digest

    async def _update(self, ballot_id: str, **values: Any) -> None:
        """Write without reading the row first (the service keeps the ballot it changes)."""
        result = await self.session.execute(update(BallotRow).where(BallotRow.id == ballot_id).values(**values))
        assert cast(CursorResult[Any], result).rowcount == 1, f"no ballot {ballot_id}"
