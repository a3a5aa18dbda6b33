"""BallotService with an in-memory unit of work: the chair's and the members' steps, what is
committed, what a vote reads, and what a failed commit leaves behind. No database, no event loop
other than the test's."""

from __future__ import annotations

import asyncio
import copy
import hashlib
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import pytest

from gikai.orchestrator.domain.agenda import Agenda, AgendaItem
from gikai.orchestrator.domain.errors import NotChair, QuorumNotMet
from gikai.orchestrator.domain.model import Body, BodyKind, Meeting, Participant, Role
from gikai.orchestrator.domain.rules import StandingRules
from gikai.orchestrator.domain.sitting import Sitting
from gikai.orchestrator.domain.voting import AlreadyVoted, BallotAlreadyOpen, BallotKind, Choice, NotEntitled
from gikai.orchestrator.service.ballots import REFUSALS_RECORDED, BallotService, Evidence
from gikai.orchestrator.service.signing import Signer

T0 = datetime(2026, 3, 10, 10, 0, 0)


class Store:
    """What is committed: ballots, votes (who, what, receipt) and each sitting's record."""

    def __init__(self) -> None:
        self.ballots: dict[str, object] = {}
        self.votes: dict[tuple[str, str], tuple[Choice | None, str | None]] = {}
        self.entries: dict[str, list[tuple[int, str, object]]] = {}
        self.sign_counts: dict[str, int] = {}
        self.reads = 0  # ballots read from the store
        self.commits = 0
        self.fail_next_commit = False
        self.scrubbed = 0


class FakeBallots:
    def __init__(self, unit: FakeUnit) -> None:
        self.unit = unit

    async def get(self, ballot_id):
        self.unit.store.reads += 1
        return copy.deepcopy(self.unit.ballot_rows.get(ballot_id))

    async def latest_for(self, meeting_id):
        self.unit.store.reads += 1
        mine = [b for b in self.unit.ballot_rows.values() if b.meeting_id == meeting_id]
        return copy.deepcopy(max(mine, key=lambda b: b.opened_at)) if mine else None

    async def open_ballot_for(self, meeting_id):
        return next((b.id for b in self.unit.ballot_rows.values()
                     if b.meeting_id == meeting_id and b.state.value == "open"), None)

    async def receipt_of(self, ballot_id, member_id):
        return self.unit.vote_rows.get((ballot_id, member_id), (None, None))[1]

    def add(self, ballot):
        self.unit.ballot_rows[ballot.id] = copy.deepcopy(ballot)

    async def save(self, ballot):
        self.unit.ballot_rows[ballot.id] = copy.deepcopy(ballot)

    async def save_totals(self, ballot):
        self.unit.ballot_rows[ballot.id].counts = dict(ballot.counts)

    def add_vote(self, ballot, member_id, choice, cast_at, still_jpeg, still_sha256, assertion):
        self.unit.added.append((ballot.id, member_id, choice if ballot.kind is BallotKind.NAMED else None))

    async def write_votes(self):
        for ballot_id, member_id, choice in self.unit.added:
            if (ballot_id, member_id) in self.unit.vote_rows:  # the database's primary key
                raise AlreadyVoted("a vote from this member was already recorded")
            self.unit.vote_rows[(ballot_id, member_id)] = (choice, None)
        self.unit.added.clear()

    def set_receipt(self, ballot_id, member_id, digest):
        choice, _ = self.unit.vote_rows[(ballot_id, member_id)]
        if choice is not None:
            self.unit.vote_rows[(ballot_id, member_id)] = (choice, digest)


class FakeRecord:
    def __init__(self, unit: FakeUnit) -> None:
        self.unit = unit

    async def append(self, meeting_id, events, sign):
        chain = self.unit.entries.setdefault(meeting_id, [])
        appended = []
        for e in events:
            seq = len(chain) + 1
            digest = hashlib.sha256(f"{meeting_id}:{seq}:{e.name}:{e.actor_id}".encode()).hexdigest()
            sign(digest)
            chain.append((seq, digest, e))
            appended.append((seq, digest))
        return appended

    async def seq_of(self, meeting_id, digest):
        return next((seq for seq, h, _ in self.unit.entries.get(meeting_id, []) if h == digest), None)


class FakeAccounts:
    def __init__(self, unit: FakeUnit) -> None:
        self.unit = unit

    async def set_sign_count(self, credential_id, sign_count, for_update=False):
        self.unit.sign_counts[credential_id] = sign_count
        return True


class FakeUnit:
    """A unit of work over a copy of the store: the copy replaces the store on commit only."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.ballot_rows = copy.deepcopy(store.ballots)
        self.vote_rows = dict(store.votes)
        self.entries = {m: list(chain) for m, chain in store.entries.items()}
        self.sign_counts = dict(store.sign_counts)
        self.added: list[tuple[str, str, Choice | None]] = []
        self.ballots, self.record, self.accounts = FakeBallots(self), FakeRecord(self), FakeAccounts(self)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return None

    async def commit(self):
        if self.store.fail_next_commit:
            self.store.fail_next_commit = False
            raise ConnectionError("the database went away")
        self.store.ballots, self.store.votes = self.ballot_rows, self.vote_rows
        self.store.entries, self.store.sign_counts = self.entries, self.sign_counts
        self.store.commits += 1

    async def rollback(self):
        return None

    async def scrub(self):
        self.store.scrubbed += 1


class LiveSitting:
    """The sitting service as a ballot sees it: one live sitting, held under a lock."""

    def __init__(self, sitting: Sitting) -> None:
        self.sitting = sitting
        self.lock = asyncio.Lock()

    @asynccontextmanager
    async def hold(self, meeting_id):
        async with self.lock:
            yield self.sitting

    async def get(self, meeting_id):
        return self.sitting


class Told:
    def __init__(self) -> None:
        self.ballots: list[tuple[str, dict[Choice, int]]] = []

    async def sitting_changed(self, sitting, events):
        return None

    async def ballot_changed(self, sitting, ballot):
        self.ballots.append((ballot.state.value, dict(ballot.counts)))


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def committee() -> Sitting:
    body = Body("総務委員会", BodyKind.COMMITTEE, 8)
    meeting = Meeting(body.id, "定例会", T0)
    people = [Participant(meeting.id, "委員長", "いいんちょう", Role.CHAIR, 1, id="chair"),
              Participant(meeting.id, "副委員長", "ふく", Role.VICE_CHAIR, 2, id="vice")]
    people += [Participant(meeting.id, f"委員{i}", "いいん", Role.MEMBER, i, id=f"m{i}") for i in range(3, 9)]
    sitting = Sitting(meeting, body, StandingRules(), {p.id: p for p in people})
    sitting.agenda = Agenda([AgendaItem(meeting.id, 1, "議案第1号")])
    for pid in ("chair", "vice", "m3", "m4", "m5", "m6"):
        sitting.connected(pid, T0)
    sitting.open("chair", T0)
    return sitting


def world() -> tuple[BallotService, Store, Sitting, Told]:
    store, sitting, told = Store(), committee(), Told()
    service = BallotService(lambda: FakeUnit(store), LiveSitting(sitting), signer=Signer.ephemeral(), notifier=told,
                            clock=Clock())
    return service, store, sitting, told


def names(store: Store, sitting: Sitting) -> list[str]:
    return [e.name for _, _, e in store.entries.get(sitting.meeting.id, [])]


async def test_opening_a_ballot_needs_quorum_and_the_chair():
    service, store, sitting, told = world()
    meeting_id = sitting.meeting.id
    with pytest.raises(NotChair):
        await service.open(meeting_id, "m3", "議案第1号を可決する")
    for pid in ("m4", "m5", "m6"):
        sitting.disconnected(pid, T0)  # 3 of 8 present: no quorum
    with pytest.raises(QuorumNotMet):
        await service.open(meeting_id, "chair", "議案第1号を可決する")
    assert store.ballots == {} and names(store, sitting) == [] and told.ballots == []
    assert await service.latest(meeting_id) is None


async def test_a_second_ballot_cannot_open_while_one_is_open():
    service, store, sitting, _ = world()
    first = await service.open(sitting.meeting.id, "chair", "議案第1号を可決する")
    with pytest.raises(BallotAlreadyOpen):
        await service.open(sitting.meeting.id, "chair", "もう一つ")
    assert list(store.ballots) == [first.id] and names(store, sitting) == ["ballot_opened"]


async def test_a_vote_retry_gets_the_same_receipt_and_is_recorded_once():
    service, store, sitting, told = world()
    meeting_id = sitting.meeting.id
    ballot = await service.open(meeting_id, "chair", "議案第1号を可決する")
    first = await service.cast(meeting_id, ballot.id, "m3", Choice.YES, Evidence(credential_id="c3", sign_count=7))
    again = await service.cast(meeting_id, ballot.id, "m3", Choice.YES)
    assert first.new and not again.new
    assert (again.seq, again.hash) == (first.seq, first.hash)
    assert names(store, sitting) == ["ballot_opened", "vote_cast"]
    assert store.votes == {(ballot.id, "m3"): (Choice.YES, first.hash)}, "the receipt is kept with the vote"
    assert store.sign_counts == {"c3": 7}, "the passkey's counter in the vote's own commit"
    with pytest.raises(AlreadyVoted):
        await service.cast(meeting_id, ballot.id, "m3", Choice.NO)
    assert (await service.latest(meeting_id)).counts[Choice.YES] == 1
    assert told.ballots[-1] == ("open", {Choice.YES: 1, Choice.NO: 0, Choice.ABSTAIN: 0})


async def test_a_refused_vote_is_recorded_as_refused_with_its_reason_and_no_choice():
    service, store, sitting, _ = world()
    meeting_id = sitting.meeting.id
    ballot = await service.open(meeting_id, "chair", "議案第1号を可決する")
    with pytest.raises(NotEntitled) as refused:
        await service.cast(meeting_id, ballot.id, "m8", Choice.NO)  # absent when the ballot opened
    assert names(store, sitting) == ["ballot_opened"], "a refused vote adds no vote"
    await service.refused(meeting_id, "m8", ballot.id, refused.value.code)
    _, _, entry = store.entries[meeting_id][-1]
    assert (entry.name, entry.actor_id) == ("vote_refused", "m8")
    assert entry.data == {"ballot_id": ballot.id, "reason": "not_entitled"}
    assert store.votes == {} and sum((await service.latest(meeting_id)).counts.values()) == 0


async def test_a_member_cannot_fill_the_record_with_refusals_the_rest_are_counted_at_the_close():
    service, store, sitting, _ = world()
    meeting_id = sitting.meeting.id
    ballot = await service.open(meeting_id, "chair", "議案第1号を可決する")
    before = len(store.entries[meeting_id])
    # 30 refusals of one member, as if from many connections at once; and one of another member
    await asyncio.gather(*(service.refused(meeting_id, "m8", f"bogus-{i}", "not_entitled" if i % 3 else "no_passkey")
                           for i in range(30)))
    await service.refused(meeting_id, "m7", ballot.id, "not_entitled")
    written = [e for _, _, e in store.entries[meeting_id][before:]]
    assert [e.actor_id for e in written].count("m8") == REFUSALS_RECORDED and len(written) == REFUSALS_RECORDED + 1
    await service.close(meeting_id, ballot.id, "chair")
    closing = [e for _, _, e in store.entries[meeting_id][before + len(written):]]
    assert [e.name for e in closing] == ["vote_refused", "ballot_closed"]
    summary = closing[0]
    assert summary.actor_id == "m8" and summary.data["count"] == 30 - REFUSALS_RECORDED
    assert summary.data["reason"] == "repeated" and sum(summary.data["reasons"].values()) == 30
    # after the close the member starts afresh
    second = await service.open(meeting_id, "chair", "議案第2号を可決する")
    await service.refused(meeting_id, "m8", second.id, "not_entitled")
    assert store.entries[meeting_id][-1][2].data == {"ballot_id": second.id, "reason": "not_entitled"}


async def test_votes_at_once_share_one_commit_and_a_vote_reads_no_ballot():
    service, store, sitting, _ = world()
    meeting_id = sitting.meeting.id
    ballot = await service.open(meeting_id, "chair", "議案第1号を可決する")
    reads, commits = store.reads, store.commits
    receipts = await asyncio.gather(*(service.cast(meeting_id, ballot.id, m, Choice.YES)
                                      for m in ("vice", "m3", "m4", "m5")))
    assert store.reads == reads, "the open ballot is kept in memory: no read per vote"
    assert store.commits - commits < 4 and len({r.hash for r in receipts}) == 4
    await service.check(meeting_id, ballot.id, "m6", Choice.NO)
    assert store.reads == reads
    tally = await service.close(meeting_id, ballot.id, "chair")
    assert (tally.yes, tally.no) == (4, 0) and store.ballots[ballot.id].state.value == "closed"


async def test_a_failed_commit_records_no_vote_and_leaves_the_ballot_as_it_was():
    service, store, sitting, _ = world()
    meeting_id = sitting.meeting.id
    ballot = await service.open(meeting_id, "chair", "議案第1号を可決する")
    store.fail_next_commit = True
    with pytest.raises(ConnectionError):
        await service.cast(meeting_id, ballot.id, "m3", Choice.YES)
    assert store.votes == {} and names(store, sitting) == ["ballot_opened"]
    assert "m3" not in (await service.latest(meeting_id)).voters, "the kept ballot was not changed"
    receipt = await service.cast(meeting_id, ballot.id, "m3", Choice.YES)
    assert receipt.new and store.votes[(ballot.id, "m3")][0] is Choice.YES


async def test_closing_a_secret_ballot_scrubs_the_old_totals():
    service, store, sitting, _ = world()
    meeting_id = sitting.meeting.id
    ballot = await service.open(meeting_id, "chair", "人事案件", kind=BallotKind.SECRET)
    await service.cast(meeting_id, ballot.id, "m3", Choice.NO)
    assert store.votes == {(ballot.id, "m3"): (None, None)}, "a secret ballot keeps who voted, not what"
    await service.close(meeting_id, ballot.id, "chair")
    assert store.scrubbed == 1
