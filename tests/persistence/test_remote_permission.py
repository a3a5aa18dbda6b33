"""Remote attendance by permission survives a restart: the applications, the decisions and the
refusals are on the sitting's record, and a new service rebuilds them from it (SQLite and
PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from gikai.orchestrator.domain.errors import RemoteAlreadyApplied, RemoteNotPermitted
from gikai.orchestrator.domain.ledger import verify_chain
from gikai.orchestrator.domain.model import BodyKind, Role
from gikai.orchestrator.domain.remote_permission import ApplicationState
from gikai.orchestrator.domain.rules import SpeechKind, StandingRules
from gikai.orchestrator.service import remote
from gikai.orchestrator.service.admin import AdminService
from gikai.orchestrator.service.signing import Signer, signature_checker
from gikai.orchestrator.service.sittings import SittingService
from tests.persistence.test_sittings import Clock, Recorder

ROSTER = "seat,name,reading,role\n" + "\n".join(
    f"{i},委員{i},いいん,{'chair' if i == 1 else 'member'}" for i in range(1, 7)) + "\n"


async def committee_by_permission(database) -> tuple[str, dict[str, list[str]]]:
    admin = AdminService(database.unit_of_work)
    body = await admin.create_body("総務委員会", BodyKind.COMMITTEE, 6,
                                   StandingRules(remote_requires_permission_in_committee=True))
    await admin.import_roster(body.id, ROSTER)
    meeting = await admin.create_meeting(body.id, "定例会", datetime(2026, 3, 10, 12, 0))
    service = SittingService(database.unit_of_work, Recorder(), Recorder(), Clock())
    sitting = await service.get(meeting.id)
    roles: dict[str, list[str]] = {}
    for p in sorted(sitting.participants.values(), key=lambda p: p.seat or 99):
        roles.setdefault(p.role.value, []).append(p.id)
    return meeting.id, roles


async def test_applications_and_decisions_survive_a_restart(database):
    meeting_id, roles = await committee_by_permission(database)
    chair, (m2, m3, m4, *_), clerk = roles[Role.CHAIR.value][0], roles["member"], roles["clerk"][0]
    signer = Signer.ephemeral()  # one server's key across the restart
    service = SittingService(database.unit_of_work, Recorder(), Recorder(), Clock(), signer=signer)
    await remote.apply_remote(service, meeting_id, m2, "childcare", "")
    await remote.apply_remote(service, meeting_id, m3, "other", "災害復旧の立会い")
    await remote.apply_remote(service, meeting_id, m4, "illness", "")
    with pytest.raises(RemoteAlreadyApplied):
        await remote.apply_remote(service, meeting_id, m2, "illness", "")
    applications = (await service.get(meeting_id)).remote()
    await remote.permit_remote(service, meeting_id, chair, applications.of(m2).id)
    await remote.permit_remote(service, meeting_id, clerk, applications.of(m3).id)
    await remote.refuse_remote(service, meeting_id, chair, applications.of(m4).id, "議場で出席できるため")

    restarted = SittingService(database.unit_of_work, Recorder(), Recorder(), Clock(), signer=signer)
    sitting = await restarted.get(meeting_id)
    after = sitting.remote()
    assert after == (await service.get(meeting_id)).remote()
    assert after.of(m2).state is ApplicationState.PERMITTED and not after.of(m2).on_behalf_of_chair
    assert after.of(m3).state is ApplicationState.PERMITTED and after.of(m3).on_behalf_of_chair
    assert after.of(m3).reason_text == "災害復旧の立会い"
    refused = after.of(m4)
    assert refused.state is ApplicationState.REFUSED and refused.refusal_reason == "議場で出席できるため"
    assert refused.decided_by == chair
    assert sitting.remote_rejected == {(m2, "remote_already_applied")}
    # a second refused try after the restart is not recorded again
    with pytest.raises(RemoteAlreadyApplied):
        await remote.apply_remote(restarted, meeting_id, m2, "illness", "")
    names = [e.name for e in await restarted.events(meeting_id)]
    assert names == ["remote_attendance_applied"] * 3 + ["remote_application_rejected"] + [
        "remote_attendance_permitted", "remote_attendance_permitted", "remote_attendance_refused"]
    record = await restarted.export_record(meeting_id)
    assert verify_chain(meeting_id, record["entries"], signature_checker(record["public_key"])) is None

    # the effect after the restart: the permitted are counted, the refused only watches
    await restarted.execute(meeting_id, lambda s, now: s.check_in(clerk, chair, now))  # presides in the chamber
    for pid in (m2, m3, m4):
        await restarted.execute(meeting_id, lambda s, now, pid=pid: s.connected(pid, now))
    sitting = await restarted.get(meeting_id)
    quorum = sitting.quorum()
    assert set(quorum.counted) == {chair, m2, m3} and quorum.met
    assert dict(quorum.not_counted)[m4] == "remote_not_permitted"
    await restarted.execute(meeting_id, lambda s, now: s.open(chair, now))
    with pytest.raises(RemoteNotPermitted):
        await restarted.execute(meeting_id, lambda s, now: s.request_floor(m4, SpeechKind.QUESTION, now))


async def test_a_deadline_past_is_refused_and_recorded(database):
    admin = AdminService(database.unit_of_work)
    body = await admin.create_body("議会運営委員会", BodyKind.COMMITTEE, 6, StandingRules(
        remote_requires_permission_in_committee=True, remote_application_deadline_hours=24))
    await admin.import_roster(body.id, ROSTER)
    clock = Clock()  # 2026-03-10 10:00: the sitting at 2026-03-11 09:00 closed applications at 09:00 today
    meeting = await admin.create_meeting(body.id, "定例会", clock.now + timedelta(hours=23))
    service = SittingService(database.unit_of_work, Recorder(), Recorder(), clock)
    member = next(p.id for p in (await service.get(meeting.id)).participants.values() if p.role is Role.MEMBER)
    with pytest.raises(Exception) as refused:
        await remote.apply_remote(service, meeting.id, member, "childcare", "")
    assert refused.value.code == "remote_deadline_passed"
    entries = [(e.name, e.actor_id, e.data) for e in await service.events(meeting.id)]
    assert entries == [("remote_application_rejected", member,
                        {"member_id": member, "code": "remote_deadline_passed"})]
