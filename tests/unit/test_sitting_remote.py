"""Remote attendance by permission, wired into a sitting: the record's entries, who is counted,
who may ask for the floor, and ``gikai verify``'s audit replaying the permissions."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from gikai.orchestrator.domain.audit import audit
from gikai.orchestrator.domain.errors import (
    NotAMember,
    NotChairOrClerk,
    RemoteAlreadyApplied,
    RemoteDeadlinePassed,
    RemoteNotPermitted,
    RemotePermissionNotRequired,
)
from gikai.orchestrator.domain.events import Entry
from gikai.orchestrator.domain.model import BodyKind
from gikai.orchestrator.domain.rules import SpeechKind, StandingRules
from gikai.orchestrator.domain.sitting import Sitting
from gikai.orchestrator.domain.sitting_remote import rebuild_remote
from tests.unit.test_sitting import T0, arrive, at, make

BY_PERMISSION = StandingRules(remote_requires_permission_in_committee=True)


def by_permission(**rules: int) -> Sitting:
    return make(12, BodyKind.COMMITTEE, StandingRules(remote_requires_permission_in_committee=True, **rules))


def application_of(s: Sitting, member: str) -> str:
    a = s.remote().of(member)
    assert a is not None
    return a.id


def test_an_application_and_the_chairs_permission_are_entries_on_the_record():
    s = by_permission()
    (applied,) = s.apply_remote("m3", "childcare", "", at(-3600))
    assert applied.name == Entry.REMOTE_ATTENDANCE_APPLIED == "remote_attendance_applied"
    assert applied.actor_id == "m3" and applied.data["reason"] == "childcare"
    (permitted,) = s.permit_remote("chair", application_of(s, "m3"), at(-1800))
    assert permitted.name == "remote_attendance_permitted" and permitted.actor_id == "chair"
    assert permitted.data["on_behalf_of_chair"] is False
    assert s.remote_permitted() == frozenset({"m3"})


def test_the_clerk_decides_on_the_chairs_behalf_and_a_member_cannot_decide():
    s = by_permission()
    s.apply_remote("m3", "illness", "", at(-60))
    s.apply_remote("m4", "other", "公務出張", at(-60))
    with pytest.raises(NotChairOrClerk):
        s.permit_remote("m5", application_of(s, "m3"), at(-30))
    (refused,) = s.refuse_remote("clerk", application_of(s, "m4"), "理由が足りません", at(-30))
    assert refused.name == "remote_attendance_refused" and refused.data["on_behalf_of_chair"] is True
    assert refused.data["reason"] == "理由が足りません"
    with pytest.raises(NotAMember):
        s.apply_remote("cdo", "illness", "", at(-30))


def test_applications_are_refused_twice_after_the_opening_and_where_no_permission_is_required():
    s = by_permission()
    s.apply_remote("m3", "childcare", "", at(-60))
    with pytest.raises(RemoteAlreadyApplied):
        s.apply_remote("m3", "illness", "", at(-50))
    for pid in ("chair", "vice", "m4", "m5", "m6", "m7"):
        s.check_in("clerk", pid, at(0))
    s.open("chair", at(1))
    with pytest.raises(RemoteDeadlinePassed):
        s.apply_remote("m9", "childcare", "", at(2))
    with pytest.raises(RemotePermissionNotRequired):
        make().apply_remote("m3", "childcare", "", at(-60))


def test_the_deadline_before_the_scheduled_start_is_the_bodys_rule():
    s = by_permission(remote_application_deadline_hours=24)
    s.apply_remote("m3", "childcare", "", T0 - timedelta(hours=24))
    with pytest.raises(RemoteDeadlinePassed):
        s.apply_remote("m4", "childcare", "", T0 - timedelta(hours=23))


def test_a_rejection_of_a_members_application_is_recorded_once_per_code():
    s = by_permission()
    (entry,) = s.remote_rejected_entry("m3", "remote_deadline_passed", at(2))
    assert entry.name == "remote_application_rejected" and entry.data == {"member_id": "m3",
                                                                          "code": "remote_deadline_passed"}
    assert s.remote_rejected_entry("m3", "remote_deadline_passed", at(3)) == []
    assert len(s.remote_rejected_entry("m3", "remote_already_applied", at(3))) == 1


def test_a_remote_member_without_permission_only_watches_where_the_rules_require_it():
    s = by_permission()
    s.apply_remote("m3", "childcare", "", at(-60))
    s.apply_remote("m4", "childcare", "", at(-60))
    s.permit_remote("chair", application_of(s, "m3"), at(-30))
    arrive(s, "chair", "vice", "m3", "m4", "m5", "m6", "m7")
    status = dict(s.quorum().not_counted)
    assert "m3" in s.quorum().counted, "permitted: counted"
    assert status["m4"] == "remote_not_permitted", "pending: not counted"
    assert status["m5"] == "remote_not_permitted", "never applied: not counted"
    assert s.watch_only("m4") and not s.watch_only("m3") and not s.watch_only("clerk")
    s.check_in("clerk", "m5", at(0))
    assert not s.watch_only("m5") and "m5" in s.quorum().counted, "in the chamber no permission is needed"
    s.permit_remote("chair", application_of(s, "m4"), at(0))
    for pid in ("m6", "m7", "m8"):
        s.check_in("clerk", pid, at(0))
    s.open("chair", at(1))
    s.request_floor("m3", SpeechKind.QUESTION, at(2))
    arrive(s, "m9")
    with pytest.raises(RemoteNotPermitted) as refused:
        s.request_floor("m9", SpeechKind.QUESTION, at(3))
    assert refused.value.code == "remote_not_permitted"
    with pytest.raises(RemoteNotPermitted):
        s.call_presenter("chair", "m9", at(3))


def test_without_a_permission_rule_remote_members_count_as_before():
    s = make()
    arrive(s, "chair", "vice", "m3", "m4", "m5", "m6")
    assert s.quorum().met and s.remote_permitted() is None and not s.watch_only("m3")


def test_a_restart_rebuilds_the_applications_from_the_record():
    s = by_permission()
    events = s.apply_remote("m3", "other", "公務出張", at(-60))
    events += s.apply_remote("m4", "illness", "", at(-60))
    events += s.permit_remote("clerk", application_of(s, "m3"), at(-30))
    events += s.refuse_remote("chair", application_of(s, "m4"), "代わりの方法があるため", at(-20))
    events += s.remote_rejected_entry("m4", "remote_already_applied", at(-10))
    fresh = by_permission()
    rebuild_remote(fresh, [(e.name, e.at, e.actor_id, e.data) for e in events])
    assert fresh.remote() == s.remote()
    assert fresh.remote_rejected == {("m4", "remote_already_applied")}


def _entries(events) -> list[dict]:
    return [{"seq": i, "at": e.at.isoformat(), "name": str(e.name), "actor_id": e.actor_id,
             "agenda_item_id": e.agenda_item_id, "data": copy.deepcopy(e.data)}
            for i, e in enumerate(events, start=1)]


def _permitted_opening() -> list:
    """Five members in the chamber, m8 remote with permission: six of twelve, just the quorum."""
    s = by_permission()
    events = s.apply_remote("m8", "nursing_care", "", at(-60))
    events += s.permit_remote("chair", application_of(s, "m8"), at(-30))
    for pid in ("chair", "vice", "m3", "m4", "m5"):
        events += s.check_in("clerk", pid, at(0))
    events += s.connected("m8", at(0))
    events += s.connected("m9", at(0))  # remote without permission: watches
    events += s.open("chair", at(1))
    return events


def test_the_audit_replays_the_permissions_to_recompute_the_quorum():
    events = _permitted_opening()
    opening = events[-1]
    assert opening.data["context"]["remote_requires_permission"] is True
    assert "m8" in opening.data["quorum"]["counted"] and "m9" not in opening.data["quorum"]["counted"]
    problem, auditor = audit(_entries(events))
    assert problem is None and auditor.checked_quorum == 1
    without_permission = _entries([e for e in events if e.name != Entry.REMOTE_ATTENDANCE_PERMITTED])
    problem, _ = audit(without_permission)
    assert problem is not None and "meeting_opened" in problem.reason
