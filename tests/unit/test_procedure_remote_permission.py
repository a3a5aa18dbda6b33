"""Remote attendance by the chair's permission: applications, deadlines, decisions."""

from datetime import datetime, timedelta

import pytest

from gikai.orchestrator.domain.errors import (
    NotChairOrClerk,
    NotFound,
    RemoteAlreadyApplied,
    RemoteDeadlinePassed,
    RemoteNotPending,
    RemoteReasonTextRequired,
    RemoteReasonUnknown,
    RemoteRefusalReasonRequired,
)
from gikai.orchestrator.domain.remote_permission import (
    ApplicationState,
    RemoteApplications,
    RemoteAttendanceApplied,
    RemoteAttendancePermitted,
    RemoteAttendanceRefused,
    RemoteReason,
    application_deadline,
    may_attend_remotely,
)
from gikai.orchestrator.domain.rules import StandingRules

START = datetime(2026, 6, 10, 10, 0)  # the sitting's scheduled start
# Permission is a body's choice (off by default): these rules require it in both kinds of sitting.
RULES = StandingRules(remote_requires_permission_in_plenary=True, remote_requires_permission_in_committee=True)
CLERKS = {"clerk"}


def applied(member: str = "m1", at: datetime = START - timedelta(days=1),
            rules: StandingRules = RULES) -> tuple[RemoteApplications, str]:
    apps, events = RemoteApplications(START).apply(member, "childcare", "", at, rules)
    (event,) = events
    assert isinstance(event, RemoteAttendanceApplied)
    return apps, event.application_id


@pytest.mark.parametrize("reason", [r.value for r in RemoteReason if r is not RemoteReason.OTHER])
def test_each_listed_reason_is_accepted_without_text(reason):
    apps, events = RemoteApplications(START).apply("m1", reason, "", START - timedelta(hours=1), RULES)
    (event,) = events
    assert event.reason is RemoteReason(reason) and event.reason_text == ""
    assert event.entry == "remote_attendance_applied"
    assert event.data() == {"application_id": event.application_id, "member_id": "m1", "reason": reason,
                            "reason_text": ""}
    application = apps.of("m1")
    assert application is not None and application.state is ApplicationState.PENDING
    assert application.applied_at == START - timedelta(hours=1)


def test_other_needs_its_text_and_keeps_it():
    with pytest.raises(RemoteReasonTextRequired):
        RemoteApplications(START).apply("m1", RemoteReason.OTHER, "   ", START, RULES)
    apps, _ = RemoteApplications(START).apply("m1", RemoteReason.OTHER, " 公務出張 ", START, RULES)
    application = apps.of("m1")
    assert application is not None and application.reason_text == "公務出張"


def test_an_unknown_reason_is_refused():
    with pytest.raises(RemoteReasonUnknown) as refused:
        RemoteApplications(START).apply("m1", "holiday", "", START, RULES)
    assert refused.value.code == "remote_reason_unknown"


def test_applying_is_immutable_the_old_value_is_unchanged():
    empty = RemoteApplications(START)
    apps, _ = empty.apply("m1", "illness", "", START, RULES)
    assert empty.applications == () and len(apps.applications) == 1


def test_the_deadline_in_hours_before_the_scheduled_start():
    rules = StandingRules(remote_application_deadline_hours=24)
    deadline = START - timedelta(hours=24)
    assert application_deadline(START, rules) == deadline
    RemoteApplications(START).apply("m1", "illness", "", deadline, rules)  # at the deadline: in time
    with pytest.raises(RemoteDeadlinePassed) as refused:
        RemoteApplications(START).apply("m1", "illness", "", deadline + timedelta(seconds=1), rules)
    assert refused.value.code == "remote_deadline_passed"


def test_with_no_deadline_hours_an_application_is_taken_until_the_opening():
    assert application_deadline(START, RULES) is None
    late = START + timedelta(minutes=20)  # the sitting starts late
    RemoteApplications(START).apply("m1", "disaster", "", late, RULES, opened_at=None)
    RemoteApplications(START).apply("m1", "disaster", "", late, RULES, opened_at=late + timedelta(seconds=1))
    with pytest.raises(RemoteDeadlinePassed):
        RemoteApplications(START).apply("m1", "disaster", "", late, RULES, opened_at=late)
    with pytest.raises(RemoteDeadlinePassed):
        RemoteApplications(START).apply("m1", "disaster", "", late, RULES, opened_at=START)


def test_a_second_application_is_refused_while_pending_and_once_decided():
    apps, app_id = applied()
    with pytest.raises(RemoteAlreadyApplied):
        apps.apply("m1", "illness", "", START - timedelta(hours=2), RULES)
    permitted, _ = apps.permit("chair", app_id, START, "chair", CLERKS)
    with pytest.raises(RemoteAlreadyApplied):
        permitted.apply("m1", "illness", "", START - timedelta(hours=2), RULES)
    refused, _ = apps.refuse("chair", app_id, "理由不十分", START, "chair", CLERKS)
    with pytest.raises(RemoteAlreadyApplied):
        refused.apply("m1", "illness", "", START - timedelta(hours=2), RULES)
    other, _ = apps.apply("m2", "illness", "", START - timedelta(hours=2), RULES)  # another member may
    assert {a.member_id for a in other.applications} == {"m1", "m2"}


def test_the_chair_permits():
    apps, app_id = applied()
    decided_at = START - timedelta(hours=3)
    after, events = apps.permit("chair", app_id, decided_at, "chair", CLERKS)
    assert events == [RemoteAttendancePermitted(app_id, "m1", "chair", False, decided_at)]
    assert events[0].entry == "remote_attendance_permitted"
    application = after.find(app_id)
    assert (application.state, application.decided_by, application.decided_at) == (
        ApplicationState.PERMITTED, "chair", decided_at)
    assert not application.on_behalf_of_chair


def test_the_clerk_decides_on_the_chairs_behalf():
    apps, app_id = applied()
    after, events = apps.refuse("clerk", app_id, " 代替手段あり ", START, "chair", CLERKS)
    assert events == [RemoteAttendanceRefused(app_id, "m1", "clerk", True, "代替手段あり", START)]
    assert events[0].entry == "remote_attendance_refused"
    assert events[0].data()["on_behalf_of_chair"] is True
    application = after.find(app_id)
    assert application.state is ApplicationState.REFUSED and application.refusal_reason == "代替手段あり"
    assert application.on_behalf_of_chair


@pytest.mark.parametrize("actor", ["m2", "m1", "vice"])
def test_nobody_but_the_chair_or_clerk_decides(actor):
    apps, app_id = applied()
    with pytest.raises(NotChairOrClerk) as refused:
        apps.permit(actor, app_id, START, "chair", CLERKS)
    assert refused.value.code == "not_chair_or_clerk"
    with pytest.raises(NotChairOrClerk):
        apps.refuse(actor, app_id, "理由", START, "chair", CLERKS)


def test_without_a_chair_only_the_clerk_decides():
    apps, app_id = applied()
    with pytest.raises(NotChairOrClerk):
        apps.permit("m2", app_id, START, None, CLERKS)
    apps.permit("clerk", app_id, START, None, CLERKS)


def test_a_refusal_needs_a_reason():
    apps, app_id = applied()
    with pytest.raises(RemoteRefusalReasonRequired):
        apps.refuse("chair", app_id, "  ", START, "chair", CLERKS)


def test_only_a_pending_application_is_decided():
    apps, app_id = applied()
    permitted, _ = apps.permit("chair", app_id, START, "chair", CLERKS)
    with pytest.raises(RemoteNotPending):
        permitted.permit("chair", app_id, START, "chair", CLERKS)
    with pytest.raises(RemoteNotPending):
        permitted.refuse("chair", app_id, "やはり不可", START, "chair", CLERKS)
    with pytest.raises(NotFound):
        apps.permit("chair", "nope", START, "chair", CLERKS)


@pytest.mark.parametrize("plenary", [True, False])
def test_where_permission_is_required_only_a_permitted_member_attends(plenary):
    apps, app_id = applied()
    assert not may_attend_remotely(RemoteApplications(START), "m1", RULES, plenary)  # never applied
    assert not may_attend_remotely(apps, "m1", RULES, plenary)  # pending
    permitted, _ = apps.permit("chair", app_id, START, "chair", CLERKS)
    assert may_attend_remotely(permitted, "m1", RULES, plenary)
    assert not may_attend_remotely(permitted, "m2", RULES, plenary)
    refused, _ = apps.refuse("chair", app_id, "理由", START, "chair", CLERKS)
    assert not may_attend_remotely(refused, "m1", RULES, plenary)


def test_where_no_permission_is_required_every_remote_member_attends():
    rules = StandingRules(remote_requires_permission_in_plenary=True, remote_requires_permission_in_committee=False)
    assert may_attend_remotely(RemoteApplications(START), "m1", rules, plenary=False)
    assert not may_attend_remotely(RemoteApplications(START), "m1", rules, plenary=True)
