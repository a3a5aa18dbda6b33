"""SittingService with an in-memory unit of work: a command is committed before anyone is told,
and a refused command or a failed commit changes neither the live sitting nor the record."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

import pytest

from gikai.orchestrator.domain.errors import NotChair, NotFound
from gikai.orchestrator.domain.model import Body, BodyKind, Meeting, MeetingState, Participant, Role
from gikai.orchestrator.domain.rules import StandingRules
from gikai.orchestrator.domain.sitting import Sitting
from gikai.orchestrator.service.sittings import SittingService

T0 = datetime(2026, 3, 10, 10, 0, 0)


class Store:
    def __init__(self, sitting: Sitting) -> None:
        self.sittings = {sitting.meeting.id: copy.deepcopy(sitting)}
        self.entries: dict[str, list[str]] = {}
        self.loads = 0
        self.fail_next_commit = False


class FakeSittings:
    def __init__(self, unit: FakeUnit) -> None:
        self.unit = unit

    async def load(self, meeting_id):
        self.unit.store.loads += 1
        return copy.deepcopy(self.unit.store.sittings.get(meeting_id))

    async def save(self, sitting, events, sign):
        self.unit.saved[sitting.meeting.id] = (copy.deepcopy(sitting), [e.name for e in events])


class FakeUnit:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.saved: dict[str, tuple[Sitting, list[str]]] = {}
        self.sittings = FakeSittings(self)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return None

    async def commit(self):
        if self.store.fail_next_commit:
            self.store.fail_next_commit = False
            raise ConnectionError("the database went away")
        for meeting_id, (sitting, names) in self.saved.items():
            self.store.sittings[meeting_id] = sitting
            self.store.entries.setdefault(meeting_id, []).extend(names)


class Outside:
    """The media and the clients: what they were told, in order."""

    def __init__(self) -> None:
        self.told: list[list[str]] = []
        self.audible: dict[str, set[str]] = {}

    def set_audible(self, meeting_id, participant_ids):
        self.audible[meeting_id] = set(participant_ids)

    def set_recording(self, meeting_id, on, started_at):
        return None

    async def remove(self, meeting_id, participant_id):
        return None

    async def sitting_changed(self, sitting, events):
        self.told.append([e.name for e in events])

    async def ballot_changed(self, sitting, ballot):
        return None


def committee() -> Sitting:
    body = Body("総務委員会", BodyKind.COMMITTEE, 4)
    meeting = Meeting(body.id, "定例会", T0)
    people = [Participant(meeting.id, "委員長", "いいんちょう", Role.CHAIR, 1, id="chair")]
    people += [Participant(meeting.id, f"委員{i}", "いいん", Role.MEMBER, i, id=f"m{i}") for i in range(2, 5)]
    return Sitting(meeting, body, StandingRules(), {p.id: p for p in people})


def world() -> tuple[SittingService, Store, Outside, str]:
    sitting = committee()
    store, outside = Store(sitting), Outside()
    clock = iter(T0 + timedelta(seconds=n) for n in range(1, 10_000))
    service = SittingService(lambda: FakeUnit(store), outside, outside, lambda: next(clock))
    return service, store, outside, sitting.meeting.id


async def test_a_command_is_committed_before_the_clients_are_told():
    service, store, outside, meeting_id = world()
    for pid in ("chair", "m2", "m3"):
        await service.execute(meeting_id, lambda s, now, pid=pid: s.connected(pid, now))
    await service.execute(meeting_id, lambda s, now: s.open("chair", now))
    assert store.entries[meeting_id][-1] == "meeting_opened"
    assert outside.told[-1] == ["meeting_opened"]
    assert store.sittings[meeting_id].meeting.state is MeetingState.OPEN
    assert (await service.get(meeting_id)).meeting.state is MeetingState.OPEN
    assert store.loads == 1, "the live sitting is loaded once and kept"


async def test_losing_quorum_is_an_entry_of_its_own_in_the_same_commit():
    service, store, outside, meeting_id = world()
    for pid in ("chair", "m2", "m3"):
        await service.execute(meeting_id, lambda s, now, pid=pid: s.connected(pid, now))
    await service.execute(meeting_id, lambda s, now: s.open("chair", now))
    await service.execute(meeting_id, lambda s, now: s.disconnected("m3", now))
    assert store.entries[meeting_id][-1] == "attendance_ended", "two of four: still quorate"
    await service.execute(meeting_id, lambda s, now: s.disconnected("m2", now))
    assert store.entries[meeting_id][-2:] == ["attendance_ended", "quorum_lost"]
    assert outside.told[-1] == ["attendance_ended", "quorum_lost"]


async def test_a_refused_command_changes_nothing_and_tells_no_one():
    service, store, outside, meeting_id = world()
    await service.execute(meeting_id, lambda s, now: s.connected("chair", now))
    told, entries = len(outside.told), list(store.entries[meeting_id])
    with pytest.raises(NotChair):
        await service.execute(meeting_id, lambda s, now: s.open("m2", now))
    assert len(outside.told) == told and store.entries[meeting_id] == entries
    assert (await service.get(meeting_id)).meeting.state is MeetingState.SCHEDULED


async def test_a_failed_commit_leaves_the_live_sitting_as_it_was():
    service, store, outside, meeting_id = world()
    store.fail_next_commit = True
    with pytest.raises(ConnectionError):
        await service.execute(meeting_id, lambda s, now: s.connected("m2", now))
    assert outside.told == [] and meeting_id not in store.entries
    assert "m2" not in (await service.get(meeting_id)).attendance.present()
    await service.execute(meeting_id, lambda s, now: s.connected("m2", now))
    assert "m2" in (await service.get(meeting_id)).attendance.present()


async def test_an_unknown_sitting_is_not_found():
    service, _, _, _ = world()
    with pytest.raises(NotFound):
        await service.get("no-such-sitting")
