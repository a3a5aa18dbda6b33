"""Ballots persisted on SQLite and PostgreSQL: entitlement, one vote each, secrecy, the record."""

import asyncio

import pytest
from sqlalchemy import select

from gikai.orchestrator.domain.audit import audit
from gikai.orchestrator.domain.errors import VoteOrderNotAllowed
from gikai.orchestrator.domain.voting import (
    AlreadyVoted,
    BallotKind,
    Choice,
    NotEntitled,
    NotPresent,
    Outcome,
)
from gikai.orchestrator.persistence.rows import Base, NamedVoteRow, SecretVoterRow
from gikai.orchestrator.service.ballots import BallotService
from gikai.orchestrator.service.sittings import SittingService
from tests.persistence.test_sittings import Clock, Recorder, setup


def ballot_service(units, sittings):
    return BallotService(units, sittings, signer=sittings.signer, notifier=sittings.notifier,
                         clock=sittings.clock)


async def opened_sitting(database):
    meeting_id, roles = await setup(database)
    service = SittingService(database.unit_of_work, Recorder(), Recorder(), Clock())
    chair, members = roles["chair"][0], roles["member"]
    for pid in [chair, *roles["vice_chair"], *members[:6]]:
        await service.execute(meeting_id, lambda s, now, pid=pid: s.connected(pid, now))
    await service.execute(meeting_id, lambda s, now: s.open(chair, now))
    return service, meeting_id, chair, roles["vice_chair"][0], members


async def test_a_named_ballot_counts_each_present_member_once(database):
    service, meeting_id, chair, vice, members = await opened_sitting(database)
    ballots = ballot_service(database.unit_of_work, service)
    ballot = await ballots.open(meeting_id, chair, "議案第1号を原案のとおり可決する")
    assert chair not in ballot.entitled and vice in ballot.entitled and len(ballot.entitled) == 7
    with pytest.raises(NotEntitled):
        await ballots.cast(meeting_id, ballot.id, members[9], Choice.YES)  # absent at opening
    await service.execute(meeting_id, lambda s, now: s.disconnected(members[5], now))
    with pytest.raises(NotPresent):
        await ballots.cast(meeting_id, ballot.id, members[5], Choice.YES)  # left before casting
    # Two concurrent casts by the same member: exactly one is counted.
    results = await asyncio.gather(*(ballots.cast(meeting_id, ballot.id, members[0], Choice.YES)
                                     for _ in range(2)), return_exceptions=True)
    assert [r.new for r in results] in ([True, False], [False, True]), results
    assert results[0].hash == results[1].hash, "a retry gets the same receipt"
    for m, c in [(vice, Choice.YES), (members[1], Choice.YES), (members[2], Choice.NO), (members[3], Choice.NO)]:
        await ballots.cast(meeting_id, ballot.id, m, c)
    assert (await ballots.cast(meeting_id, ballot.id, members[3], Choice.NO)).new is False  # a retry
    with pytest.raises(AlreadyVoted):
        await ballots.cast(meeting_id, ballot.id, members[3], Choice.YES)
    tally = await ballots.close(meeting_id, ballot.id, chair)
    assert (tally.yes, tally.no, tally.outcome) == (3, 2, Outcome.ADOPTED)
    await ballots.publish(meeting_id, ballot.id, chair)
    names = [e.name for e in await service.events(meeting_id)]
    assert names.count("vote_cast") == 5 and names[-2:] == ["ballot_closed", "result_published"]


async def test_votes_cast_at_once_are_recorded_together_each_with_its_own_entry_and_receipt(database):
    service, meeting_id, chair, vice, members = await opened_sitting(database)
    ballots = ballot_service(database.unit_of_work, service)
    ballot = await ballots.open(meeting_id, chair, "議案第2号を原案のとおり可決する")
    told = len(service.notifier.told)
    voters = [vice, *members[:5]]
    choices = [Choice.YES, Choice.NO, Choice.YES, Choice.YES, Choice.NO, Choice.YES]
    # All at once, with one member who is not entitled and one retry among them.
    results = await asyncio.gather(
        *(ballots.cast(meeting_id, ballot.id, m, c) for m, c in zip(voters, choices, strict=True)),
        ballots.cast(meeting_id, ballot.id, members[9], Choice.YES),
        ballots.cast(meeting_id, ballot.id, members[0], Choice.NO),
        return_exceptions=True)
    receipts, refused, retry = results[:6], results[6], results[7]
    assert all(r.new for r in receipts), results
    assert isinstance(refused, NotEntitled)
    assert retry.new is False and retry.hash == receipts[1].hash, "the retry gets the first receipt"
    assert len({r.hash for r in receipts}) == 6 and sorted(r.seq for r in receipts) == list(
        range(min(r.seq for r in receipts), min(r.seq for r in receipts) + 6)), "six entries in a row"
    events = {e.actor_id: e for e in await service.events(meeting_id) if e.name == "vote_cast"}
    assert {m: events[m].data["choice"] for m in voters} == {m: c.value for m, c in zip(voters, choices, strict=True)}
    tally = await ballots.close(meeting_id, ballot.id, chair)
    assert (tally.yes, tally.no) == (4, 2)
    pushes = service.notifier.told[told:]
    assert pushes[-1] == ["ballot:closed"] and len(pushes) - 1 < 6, f"fewer pushes than votes: {pushes}"


async def test_a_tie_goes_to_the_chair_and_a_secret_ballot_stores_no_choice_per_member(database):
    service, meeting_id, chair, vice, members = await opened_sitting(database)
    ballots = ballot_service(database.unit_of_work, service)
    ballot = await ballots.open(meeting_id, chair, "無記名投票", kind=BallotKind.SECRET)
    for m, c in [(vice, Choice.YES), (members[0], Choice.NO)]:
        await ballots.cast(meeting_id, ballot.id, m, c)
    assert (await ballots.close(meeting_id, ballot.id, chair)).outcome is Outcome.TIED
    decided = await ballots.decide_tie(meeting_id, ballot.id, chair, Choice.YES)
    assert decided.outcome is Outcome.ADOPTED and decided.decided_by_chair
    async with database.session() as session:
        assert (await session.scalars(select(NamedVoteRow))).all() == []
        voters = (await session.scalars(select(SecretVoterRow))).all()
        assert sorted(v.member_id for v in voters) == sorted([vice, members[0]])
    columns = {c.name for c in Base.metadata.tables["secret_voters"].columns}
    assert columns == {"ballot_id", "member_id", "evidence_jpeg", "evidence_sha256"}, \
        "no choice, no time, no sequence next to a voter"
    record = [e for e in await service.events(meeting_id) if e.name == "vote_received"]
    assert all("choice" not in e.data for e in record)


async def _secret_ballot_database(path, choices, monkeypatch, template=None):
    """A whole sitting with one secret ballot, made deterministically: same ids, same clock, same key."""
    import itertools
    import uuid as uuid_module

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from gikai.orchestrator.persistence.database import Database
    from gikai.orchestrator.service.signing import Signer

    counter = itertools.count(1)
    monkeypatch.setattr(uuid_module, "uuid4", lambda: uuid_module.UUID(int=next(counter)))
    if template is not None:  # the same empty schema, byte for byte (migrations may order indexes freely)
        import shutil

        shutil.copyfile(template, path)
    db = Database(f"sqlite:///{path}")
    await db.migrate()
    from datetime import datetime

    from gikai.orchestrator.service.directory import Directory

    meeting, participants, _ = await Directory(db.unit_of_work).ensure_rehearsal(now=datetime(2026, 3, 10, 9, 0))
    meeting_id, roles = meeting.id, {}
    for p in participants:
        roles.setdefault(p.role.value, []).append(p.id)
    service = SittingService(db.unit_of_work, Recorder(), Recorder(), Clock(),
                             signer=Signer(Ed25519PrivateKey.from_private_bytes(bytes(32))))
    chair, vice, members = roles["chair"][0], roles["vice_chair"][0], roles["member"]
    for pid in [chair, vice, *members[:6]]:
        await service.execute(meeting_id, lambda s, now, pid=pid: s.connected(pid, now))
    await service.execute(meeting_id, lambda s, now: s.open(chair, now))
    ballots = ballot_service(db.unit_of_work, service)
    ballot = await ballots.open(meeting_id, chair, "人事案件", kind=BallotKind.SECRET)
    for voter, choice in zip([vice, *members[:3]], choices, strict=True):
        await ballots.cast(meeting_id, ballot.id, voter, choice)
    await ballots.close(meeting_id, ballot.id, chair)
    await ballots.publish(meeting_id, ballot.id, chair)
    # What someone copying the files of the running server would get (database and its log).
    wal = path.with_name(path.name + "-wal")
    files = path.read_bytes(), _wal_pages(wal.read_bytes() if wal.exists() else b"")
    await db.close()
    return files


def _wal_pages(wal: bytes) -> list[tuple[bytes, bytes]]:
    """The write-ahead log's frames (page number, page content), without its random salts and checksums."""
    import struct

    if len(wal) < 32:
        return []
    page_size = struct.unpack(">I", wal[8:12])[0]
    return [(wal[at:at + 4], wal[at + 24:at + 24 + page_size])
            for at in range(32, len(wal) - 24 - page_size + 1, 24 + page_size)]


async def test_a_secret_ballot_leaves_no_trace_of_who_chose_what(tmp_path, monkeypatch):
    """Two sittings in which the same members vote in the same order, with the choices swapped
    between them, leave byte-identical database files: nothing stored, not even freed space or
    the write-ahead log, can link a member to a choice."""
    from gikai.orchestrator.persistence.database import Database

    template = tmp_path / "empty.db"
    empty = Database(f"sqlite:///{template}")
    await empty.migrate()
    await empty.close()
    yes, no = Choice.YES, Choice.NO
    first = await _secret_ballot_database(tmp_path / "a.db", [yes, no, yes, yes], monkeypatch, template)
    second = await _secret_ballot_database(tmp_path / "b.db", [no, yes, yes, yes], monkeypatch, template)
    assert first == second
    # The same file with a different total differs: the comparison can fail.
    third = await _secret_ballot_database(tmp_path / "c.db", [no, no, no, yes], monkeypatch, template)
    assert third != first


async def test_an_amended_item_is_decided_by_its_ballots_and_survives_a_restart(database):
    """A 修正案 moved with a supporter, voted first and adopted, then the original less the
    amended parts: the item is 修正可決 in the same commit as the last result, the order and the
    result are on the record (the audit agrees), and a new service reads it all back."""
    service, meeting_id, chair, vice, members = await opened_sitting(database)
    ballots = ballot_service(database.unit_of_work, service)
    item = (await service.get(meeting_id)).agenda.items[0].id
    await service.execute(meeting_id, lambda s, now: s.take_up(chair, item, now))
    [moved] = await service.execute(meeting_id, lambda s, now: s.move_amendment(
        members[0], item, members[0], "100分の5", "100分の3", [members[1]], now))
    amendment = moved.data["amendment_id"]
    with pytest.raises(VoteOrderNotAllowed):
        await ballots.open(meeting_id, chair, "原案", target="original")

    async def vote(motion, target, yes):
        ballot = await ballots.open(meeting_id, chair, motion, target=target)
        for i, m in enumerate(members[:6]):
            await ballots.cast(meeting_id, ballot.id, m, Choice.YES if i < yes else Choice.NO)
        await ballots.cast(meeting_id, ballot.id, vice, Choice.YES)
        await ballots.close(meeting_id, ballot.id, chair)
        return await ballots.publish(meeting_id, ballot.id, chair)

    assert (await vote("修正案", f"amendment:{amendment}", 4)).outcome is Outcome.ADOPTED
    assert (await service.get(meeting_id)).agenda.items[0].state.value == "under_deliberation"
    assert (await vote("修正部分を除く原案", "original_less_amended", 5)).outcome is Outcome.ADOPTED
    live = await service.get(meeting_id)
    assert (live.agenda.items[0].state.value, live.agenda.items[0].result) == ("decided", "修正可決")

    record = await service.export_record(meeting_id)
    names = [e["name"] for e in record["entries"]]
    assert names[-2:] == ["result_published", "item_decided"]
    assert record["entries"][-1]["data"] == {"result": "修正可決", "by_ballots": "adopted_as_amended"}
    problem, _ = audit(record["entries"])
    assert problem is None, problem

    again = SittingService(database.unit_of_work, Recorder(), Recorder(), Clock())
    restored = await again.get(meeting_id)
    assert restored.agenda.items[0].result == "修正可決"
    assert [a.id for a in restored.votes_on(item).amendments] == [amendment]
    assert len(restored.votes_on(item).outcomes) == 2


async def test_a_procedural_motion_is_put_to_a_ballot_of_its_own_and_survives_a_restart(database):
    service, meeting_id, chair, _vice, members = await opened_sitting(database)
    ballots = ballot_service(database.unit_of_work, service)
    [moved] = await service.execute(meeting_id, lambda s, now: s.move_procedural_motion(
        chair, "recess", members[0], [members[1]], now))
    motion = moved.data["motion_id"]
    ballot = await ballots.open(meeting_id, chair, "休憩の動議", target=f"motion:{motion}")
    for m in members[:4]:
        await ballots.cast(meeting_id, ballot.id, m, Choice.YES)
    await ballots.close(meeting_id, ballot.id, chair)
    assert (await ballots.publish(meeting_id, ballot.id, chair)).outcome is Outcome.ADOPTED
    assert (await service.get(meeting_id)).motion_outcomes == {motion: Outcome.ADOPTED}
    assert audit((await service.export_record(meeting_id))["entries"])[0] is None
    with pytest.raises(VoteOrderNotAllowed):
        await ballots.open(meeting_id, chair, "休憩の動議", target=f"motion:{motion}")
    again = SittingService(database.unit_of_work, Recorder(), Recorder(), Clock())
    restored = await again.get(meeting_id)
    assert list(restored.motions) == [motion] and restored.motion_outcomes == {motion: Outcome.ADOPTED}
