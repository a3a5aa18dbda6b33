"""A sitting's whole state and its event log survive a restart (a new service, same database)."""

from datetime import datetime, timedelta

import pytest

from gikai.orchestrator.domain.errors import AlreadySigned, NotChair, QuorumNotMet
from gikai.orchestrator.domain.events import Entry, Event
from gikai.orchestrator.domain.minutes_signatures import Signers
from gikai.orchestrator.domain.rules import SpeechKind
from gikai.orchestrator.domain.sitting import AudioMode
from gikai.orchestrator.service.directory import Directory
from gikai.orchestrator.service.minutes_signing import MinutesSigning, SignatureEvidence
from gikai.orchestrator.service.sittings import SittingService


class Recorder:
    def __init__(self):
        self.audible = {}
        self.removed = []
        self.told = []

    def set_audible(self, meeting_id, participant_ids):
        self.audible[meeting_id] = set(participant_ids)

    def set_recording(self, meeting_id, on, started_at):
        self.recording = on

    async def remove(self, meeting_id, participant_id):
        self.removed.append(participant_id)

    async def sitting_changed(self, sitting, events):
        self.told.append([e.name for e in events])

    async def ballot_changed(self, sitting, ballot):
        self.told.append(["ballot:" + ballot.state.value])


class Clock:
    def __init__(self):
        self.now = datetime(2026, 3, 10, 10, 0)

    def __call__(self):
        self.now += timedelta(seconds=1)
        return self.now


async def setup(database):
    meeting, participants, _ = await Directory(database.unit_of_work).ensure_rehearsal()
    by_role = {}
    for p in participants:
        by_role.setdefault(p.role.value, []).append(p.id)
    return meeting.id, by_role


async def test_a_sitting_survives_a_restart_with_floor_queue_and_attendance(database):
    meeting_id, roles = await setup(database)
    chair, members = roles["chair"][0], roles["member"]
    recorder, clock = Recorder(), Clock()
    service = SittingService(database.unit_of_work, recorder, recorder, clock)
    for pid in [chair, *roles["vice_chair"], *members[:4]]:
        await service.execute(meeting_id, lambda s, now, pid=pid: s.connected(pid, now))
    await service.execute(meeting_id, lambda s, now: s.open(chair, now))
    sitting = await service.get(meeting_id)
    item = sitting.agenda.items[0]
    await service.execute(meeting_id, lambda s, now: s.take_up(chair, item.id, now))
    await service.execute(meeting_id, lambda s, now: s.request_floor(members[0], SpeechKind.QUESTION, now))
    await service.execute(meeting_id, lambda s, now: s.request_floor(members[1], SpeechKind.POINT_OF_ORDER, now))
    first = (await service.get(meeting_id)).queue.requests[1]
    await service.execute(meeting_id, lambda s, now: s.grant(chair, first.id, now))
    await service.execute(meeting_id, lambda s, now: s.disconnected(members[3], now))
    assert recorder.audible[meeting_id] == {chair, members[0]}

    with pytest.raises(NotChair):
        await service.execute(meeting_id, lambda s, now: s.open(members[2], now))

    restarted = SittingService(database.unit_of_work, Recorder(), Recorder(), clock)
    again = await restarted.get(meeting_id)
    assert again.meeting.state.value == "open"
    assert again.agenda.current.id == item.id
    assert again.floor.holder_id == members[0] and again.floor.kind is SpeechKind.QUESTION
    assert [r.participant_id for r in again.queue.requests] == [members[1]]
    assert again.queue.version == (await service.get(meeting_id)).queue.version
    assert members[3] not in again.attendance.present() and chair in again.attendance.present()
    assert again.audio_mode is AudioMode.FLOOR and again.audible() == {chair, members[0]}
    names = [e.name for e in await restarted.events(meeting_id)]
    assert names.count("attendance_started") == 6 and "meeting_opened" in names
    assert names[-3:] == ["floor_granted", "attendance_ended", "quorum_lost"]
    assert all(e.at for e in await restarted.events(meeting_id))


async def test_a_refused_command_changes_nothing_and_logs_nothing(database):
    meeting_id, roles = await setup(database)
    service = SittingService(database.unit_of_work, Recorder(), Recorder(), Clock())
    before = len(await service.events(meeting_id))
    with pytest.raises(QuorumNotMet):
        await service.execute(meeting_id, lambda s, now: s.open(roles["chair"][0], now))
    assert len(await service.events(meeting_id)) == before
    assert (await service.get(meeting_id)).meeting.state.value == "scheduled"


async def test_attendance_left_open_by_a_killed_server_is_closed_at_the_next_start(database):
    meeting_id, roles = await setup(database)
    clock = Clock()
    crashed = SittingService(database.unit_of_work, Recorder(), Recorder(), clock)
    for pid in roles["member"][:3]:
        await crashed.execute(meeting_id, lambda s, now, pid=pid: s.connected(pid, now))
    # the process dies here: nobody records the departures
    restarted = SittingService(database.unit_of_work, Recorder(), Recorder(), clock)
    assert await restarted.recover_after_restart() == 3
    sitting = await restarted.get(meeting_id)
    assert sitting.attendance.present() == {} and all(i.end for i in sitting.attendance.intervals)
    assert await restarted.recover_after_restart() == 0


async def test_the_signers_named_and_the_signatures_survive_a_restart(database):
    """The naming is on the record and read back with the sitting; a signature goes on the
    record beside the finalised minutes, and the signing service reads both back."""
    meeting_id, roles = await setup(database)
    chair, members = roles["chair"][0], roles["member"]
    recorder, clock = Recorder(), Clock()
    service = SittingService(database.unit_of_work, recorder, recorder, clock)
    for pid in [chair, *roles["vice_chair"], *members[:5]]:
        await service.execute(meeting_id, lambda s, now, pid=pid: s.connected(pid, now))
    await service.execute(meeting_id, lambda s, now: s.open(chair, now))
    await service.execute(meeting_id, lambda s, now: s.name_minutes_signers(chair, members[:2], now))
    await service.execute(meeting_id, lambda s, now: s.adjourn(chair, now))

    again = SittingService(database.unit_of_work, recorder, recorder, clock, signer=service.signer)
    assert (await again.get(meeting_id)).minutes_signers == Signers((chair,), tuple(members[:2]))

    async with database.unit_of_work() as uow:
        await uow.record.append(meeting_id, [Event(Entry.MINUTES_FINALISED, clock(), None, {"sha256": "f" * 64})],
                                service.signer.sign)
        await uow.commit()
    signing = MinutesSigning(database.unit_of_work, again, service.signer, clock)
    evidence = SignatureEvidence("cred", "key", "00" * 16, "localhost", "http://localhost", {"id": "cred"})
    receipt = await signing.sign(meeting_id, members[0], "f" * 64, evidence)
    assert len(receipt) == 64
    later = MinutesSigning(database.unit_of_work, SittingService(database.unit_of_work, recorder, recorder, clock),
                           service.signer, clock)
    state = await later.state(meeting_id)
    assert state.minutes_hash == "f" * 64 and state.missing == (chair, members[1])
    with pytest.raises(AlreadySigned):
        await later.sign(meeting_id, members[0], "f" * 64, evidence)
    record = await service.export_record(meeting_id)
    [signed] = [e for e in record["entries"] if e["name"] == "minutes_signed"]
    assert signed["actor_id"] == members[0] and signed["data"]["signer_id"] == members[0]
