"""The roll call of remote members with identity confirmation: called in seat order, the called
member answers, the chair confirms (or not) with the presence at that moment on the record; only
the chair calls and confirms, only the called member answers; replayed from the record."""

from __future__ import annotations

import pytest

from gikai.orchestrator.domain.errors import InvalidArgument, NotAllowed, NotChair, WrongMeetingState
from gikai.orchestrator.domain.events import Entry
from gikai.orchestrator.domain.sitting_rollcall import roll_call_of
from tests.unit.test_sitting import at, make, opened


def test_the_chair_calls_each_remote_member_in_seat_order_and_confirms_them():
    s = opened()  # chair, vice, m3..m7, the clerk and a presenter connected remotely
    s.check_in("clerk", "m5", at(2))  # m5 sits in the chamber: not called
    [started] = s.start_roll_call("chair", at(3))
    order = started.data["order"]
    assert order == ["vice", "m3", "m4", "m6", "m7"]
    assert s.start_roll_call("chair", at(3)) == []
    with pytest.raises(NotAllowed):
        s.answer_roll_call("m3", at(4))  # not called yet
    [answered] = s.answer_roll_call("vice", at(4))
    assert answered.name == Entry.ROLL_CALL_ANSWERED
    [confirmed] = s.confirm_identity("chair", "vice", True, at(5))
    assert confirmed.data == {"participant_id": "vice", "confirmed": True, "answered": True,
                              "presence": "connected", "counted": True}
    assert s.roll_call is not None and s.roll_call.current == "m3"
    [unconfirmed] = s.confirm_identity("chair", "m3", False, at(6))  # never answered: not confirmed
    assert unconfirmed.data["answered"] is False and unconfirmed.data["confirmed"] is False
    for pid in ("m4", "m6"):
        s.answer_roll_call(pid, at(7))
        s.confirm_identity("chair", pid, True, at(8))
    s.answer_roll_call("m7", at(9))
    events = s.confirm_identity("chair", "m7", True, at(10))
    assert [e.name for e in events] == [Entry.IDENTITY_CONFIRMED, Entry.ROLL_CALL_ENDED]
    assert s.roll_call.ended and s.roll_call.current is None
    assert s.roll_call.confirmed == {"vice": True, "m3": False, "m4": True, "m6": True, "m7": True}


def test_only_the_chair_calls_and_confirms_and_only_the_member_called():
    s = opened()
    with pytest.raises(NotChair):
        s.start_roll_call("m3", at(3))
    s.start_roll_call("chair", at(3))
    with pytest.raises(NotChair):
        s.confirm_identity("m3", "vice", True, at(4))
    with pytest.raises(InvalidArgument):
        s.confirm_identity("chair", "m4", True, at(4))  # m4 is not the one called
    [ended] = s.end_roll_call("chair", at(5))
    assert ended.data == {"unconfirmed": ["vice", "m3", "m4", "m5", "m6", "m7"]}
    with pytest.raises(NotAllowed):
        s.answer_roll_call("vice", at(6))


def test_no_roll_call_before_the_opening_or_without_remote_members():
    with pytest.raises(WrongMeetingState):
        make().start_roll_call("chair", at(1))
    s = opened()
    for pid in ("vice", "m3", "m4", "m5", "m6", "m7"):
        s.check_in("clerk", pid, at(2))
    with pytest.raises(InvalidArgument):
        s.start_roll_call("chair", at(3))


def test_the_roll_call_is_replayed_from_the_record():
    s = opened()
    events = s.start_roll_call("chair", at(3)) + s.answer_roll_call("vice", at(4))
    events += s.confirm_identity("chair", "vice", True, at(5))
    call = roll_call_of((e.name, e.at, e.data) for e in events)
    assert call is not None and call.current == "m3" and call.answered == {"vice"} and call.confirmed == {"vice": True}
