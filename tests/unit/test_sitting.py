"""Rules of procedure for a sitting: pure domain, no event loop, no database."""

from datetime import datetime, timedelta
from fractions import Fraction

import pytest

from gikai.orchestrator.domain.agenda import Agenda, AgendaItem, ItemState
from gikai.orchestrator.domain.errors import (
    AlreadyRequested,
    FloorTaken,
    MeetingAdjourned,
    NotAMember,
    NotChair,
    QuorumNotMet,
    StaleState,
    WrongMeetingState,
)
from gikai.orchestrator.domain.model import (
    Body,
    BodyKind,
    Meeting,
    MeetingState,
    Participant,
    Role,
)
from gikai.orchestrator.domain.rules import SpeechKind, StandingRules, quorum_met, quorum_needed
from gikai.orchestrator.domain.sitting import AudioMode, Sitting

T0 = datetime(2026, 3, 10, 10, 0, 0)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def make(members: int = 12, kind: BodyKind = BodyKind.COMMITTEE, rules: StandingRules | None = None) -> Sitting:
    body = Body("総務委員会", kind, members)
    meeting = Meeting(body.id, "定例会", T0)
    people = [Participant(meeting.id, "委員長", "いいんちょう", Role.CHAIR, 1, id="chair"),
              Participant(meeting.id, "副委員長", "ふく", Role.VICE_CHAIR, 2, id="vice")]
    people += [Participant(meeting.id, f"委員{i}", "いいん", Role.MEMBER, i, id=f"m{i}") for i in range(3, members + 1)]
    people += [Participant(meeting.id, "事務局", "じむきょく", Role.CLERK, id="clerk"),
               Participant(meeting.id, "説明員", "せつめいいん", Role.PRESENTER, id="cdo")]
    sitting = Sitting(meeting, body, rules or StandingRules(), {p.id: p for p in people})
    sitting.agenda = Agenda([AgendaItem(meeting.id, 1, "議案第1号"), AgendaItem(meeting.id, 2, "議案第2号")])
    return sitting


def arrive(s: Sitting, *ids: str) -> None:
    for pid in ids:
        s.connected(pid, T0)


def opened(members: int = 12) -> Sitting:
    s = make(members)
    arrive(s, "chair", "vice", *[f"m{i}" for i in range(3, 8)], "clerk", "cdo")
    s.open("chair", at(1))
    return s


def test_quorum_is_half_or_more_of_the_fixed_membership():
    rules = StandingRules()
    assert quorum_met(6, 12, rules) and not quorum_met(5, 12, rules)
    assert not quorum_met(5, 11, rules) and quorum_met(6, 11, rules)
    assert quorum_needed(12, StandingRules(quorum_fraction=Fraction(2, 3))) == 8


def test_the_chair_cannot_open_without_quorum_and_others_cannot_open_at_all():
    s = make(12)
    arrive(s, "chair", "vice", "m3", "m4", "m5", "clerk", "cdo")  # 5 members
    with pytest.raises(QuorumNotMet):
        s.open("chair", at(1))
    arrive(s, "m6")
    with pytest.raises(NotChair):
        s.open("m3", at(2))
    with pytest.raises(NotChair):
        s.open("clerk", at(2))
    events = s.open("chair", at(3))
    assert [e.name for e in events] == ["meeting_opened"] and s.meeting.state is MeetingState.OPEN
    assert s.open("chair", at(4)) == [], "a second click changes nothing"


def test_remote_members_do_not_count_in_a_plenary_unless_the_rules_say_so():
    s = make(12, BodyKind.PLENARY)
    arrive(s, "chair", "vice", "m3", "m4", "m5", "m6")
    status = s.quorum()
    assert not status.met and dict(status.not_counted)["m3"] == "remote_not_counted"
    for pid in ("chair", "vice", "m3", "m4", "m5", "m6"):
        s.check_in("clerk", pid, at(1))
    assert s.quorum().met
    lenient = make(12, BodyKind.PLENARY, StandingRules(remote_counts_in_plenary=True))
    arrive(lenient, "chair", "vice", "m3", "m4", "m5", "m6")
    assert lenient.quorum().met


def test_lifecycle_recess_resume_adjourn_and_nothing_after_adjournment():
    s = opened()
    s.recess("chair", at(10))
    with pytest.raises(WrongMeetingState) as refused:
        s.request_floor("m3", SpeechKind.QUESTION, at(11))
    assert not isinstance(refused.value, MeetingAdjourned), "in recess, not adjourned"
    s.resume("chair", at(20))
    s.adjourn("chair", at(30))
    assert s.meeting.state is MeetingState.ADJOURNED
    for command in (lambda: s.open("chair", at(31)), lambda: s.request_floor("m3", SpeechKind.SPEECH, at(31)),
                    lambda: s.mute("chair", "m3", True, at(31))):
        with pytest.raises(MeetingAdjourned):
            command()


def test_a_point_of_order_jumps_the_queue_behind_earlier_points_of_order():
    s = opened()
    s.request_floor("m3", SpeechKind.QUESTION, at(2))
    s.request_floor("m4", SpeechKind.DEBATE_PRO, at(3))
    s.request_floor("m5", SpeechKind.POINT_OF_ORDER, at(4))
    s.request_floor("m6", SpeechKind.POINT_OF_ORDER, at(5))
    assert [r.participant_id for r in s.queue.requests] == ["m5", "m6", "m3", "m4"]
    with pytest.raises(AlreadyRequested):
        s.request_floor("m3", SpeechKind.SPEECH, at(6))
    with pytest.raises(NotAMember):
        s.request_floor("clerk", SpeechKind.SPEECH, at(6))


def test_granting_is_the_chairs_and_a_double_click_grants_once():
    s = opened()
    s.request_floor("m3", SpeechKind.QUESTION, at(2))
    s.request_floor("m4", SpeechKind.QUESTION, at(2))
    first, second = s.queue.requests
    with pytest.raises(NotChair):
        s.grant("m4", first.id, at(3))
    assert [e.name for e in s.grant("chair", first.id, at(3))] == ["floor_granted"]
    assert s.grant("chair", first.id, at(3.2)) == []
    with pytest.raises(FloorTaken):
        s.grant("chair", second.id, at(4))
    assert s.floor.holder_id == "m3" and [r.id for r in s.queue.requests] == [second.id]


def test_the_speech_timer_warns_before_the_end_and_the_chair_can_extend():
    rules = StandingRules(speech_limits={SpeechKind.QUESTION: 300}, warning_seconds=60)
    s = make(12, rules=rules)
    arrive(s, "chair", "vice", *[f"m{i}" for i in range(3, 8)])
    s.open("chair", at(0))
    s.request_floor("m3", SpeechKind.QUESTION, at(0))
    s.grant("chair", s.queue.requests[0].id, at(0))
    assert not s.floor.in_warning(at(200), rules) and s.floor.in_warning(at(250), rules)
    assert s.floor.overrun(at(300))
    s.extend("chair", 120, at(290))
    assert s.floor.remaining(at(300)) == 120
    ended = s.end_speech("m3", at(330))
    assert ended[0].data["seconds"] == 330 and ended[0].data["reason"] == "finished"


def test_a_stale_reorder_is_refused_and_leaves_the_queue_as_it_was():
    s = opened()
    for pid in ("m3", "m4", "m5"):
        s.request_floor(pid, SpeechKind.SPEECH, at(2))
    ids = [r.id for r in s.queue.requests]
    version = s.queue.version
    s.reorder("chair", list(reversed(ids)), version, at(3))
    with pytest.raises(StaleState):
        s.reorder("chair", ids, version, at(4))
    assert [r.id for r in s.queue.requests] == list(reversed(ids))


def test_in_floor_mode_only_the_chair_and_the_floor_holder_are_heard():
    s = make(12)
    arrive(s, "chair", "vice", *[f"m{i}" for i in range(3, 8)], "clerk", "cdo")
    assert "m5" in s.audible(), "before the sitting opens everyone may talk"
    s.open("chair", at(1))
    assert s.audible() == {"chair"}
    s.request_floor("m3", SpeechKind.QUESTION, at(2))
    s.grant("chair", s.queue.requests[0].id, at(3))
    assert s.audible() == {"chair", "m3"}
    s.end_speech("chair", at(10))
    s.call_presenter("chair", "cdo", at(11))
    assert s.audible() == {"chair", "cdo"} and s.floor.kind is SpeechKind.EXPLANATION
    s.set_audio_mode("chair", AudioMode.OPEN, at(12))
    s.mute("chair", "m4", True, at(13))
    assert "m4" not in s.audible() and {"m3", "m5", "vice", "clerk"} <= s.audible()


def test_the_vice_chair_presides_when_the_chair_is_absent():
    s = make(12)
    arrive(s, "vice", *[f"m{i}" for i in range(3, 8)])
    with pytest.raises(NotChair):
        s.open("chair", at(1))  # absent, so not presiding
    s.open("vice", at(1))
    assert s.acting_chair_id() == "vice"


def test_removing_a_participant_takes_their_floor_request_and_attendance():
    s = opened()
    s.request_floor("m3", SpeechKind.SPEECH, at(2))
    events = s.remove("chair", "m3", at(3))
    assert [e.name for e in events] == ["participant_removed", "attendance_ended"]
    assert not s.queue.requests and "m3" not in s.audible()
    assert s.connected("m3", at(4)) == [], "a removed participant is not counted again"


def test_taking_up_and_deciding_items():
    s = opened()
    first, second = s.agenda.items
    s.take_up("chair", first.id, at(2))
    assert s.agenda.current is first
    s.take_up("chair", second.id, at(3))
    assert first.state is ItemState.PENDING and second.state is ItemState.UNDER_DELIBERATION
    s.decide("chair", second.id, "原案可決", at(4))
    assert second.state is ItemState.DECIDED and s.agenda.current is None


def test_the_chair_can_mute_the_floor_holder_in_floor_mode():
    s = opened()
    s.request_floor("m3", SpeechKind.QUESTION, at(2))
    s.grant("chair", s.queue.requests[0].id, at(3))
    s.mute("chair", "m3", True, at(4))
    assert s.audible() == {"chair"}
    s.mute("chair", "m3", False, at(5))
    assert s.audible() == {"chair", "m3"}


def hybrid_plenary(rules: StandingRules | None = None) -> Sitting:
    """A plenary opened with members checked in in the chamber; m9 and m10 attend remotely."""
    s = make(12, BodyKind.PLENARY, rules)
    for pid in ("chair", "vice", *[f"m{i}" for i in range(3, 8)]):
        s.check_in("clerk", pid, at(1))
    arrive(s, "m9", "m10", "clerk")
    s.open("chair", at(2))
    return s


def test_in_a_hybrid_plenary_remote_members_ask_only_for_a_general_question():
    from gikai.orchestrator.domain.errors import NotAllowed, RemoteSpeechNotAllowed

    s = hybrid_plenary()
    with pytest.raises(RemoteSpeechNotAllowed):
        s.request_floor("m9", SpeechKind.QUESTION, at(3))
    events = s.request_floor("m9", SpeechKind.GENERAL_QUESTION, at(4))
    assert events[0].data["kind"] == "general_question"
    # in the chamber, every kind; a general question too
    s.request_floor("m3", SpeechKind.DEBATE_PRO, at(5))
    s.request_floor("m4", SpeechKind.GENERAL_QUESTION, at(6))
    assert [r.participant_id for r in s.queue.requests] == ["m9", "m3", "m4"]
    # the rule is the body's: a council whose 条例 lets remote members debate
    lenient = hybrid_plenary(StandingRules(remote_may_speak_in_plenary=frozenset(SpeechKind)))
    lenient.request_floor("m10", SpeechKind.DEBATE_CONTRA, at(3))
    # a committee has no general questions; remote members there speak as the rules allow (all)
    committee = opened()
    with pytest.raises(NotAllowed):
        committee.request_floor("m3", SpeechKind.GENERAL_QUESTION, at(3))
    committee.request_floor("m3", SpeechKind.QUESTION, at(4))
    strict = make(12, rules=StandingRules(remote_may_speak_in_committee=frozenset({SpeechKind.QUESTION})))
    arrive(strict, "chair", "vice", *[f"m{i}" for i in range(3, 8)])
    strict.open("chair", at(1))
    with pytest.raises(RemoteSpeechNotAllowed):
        strict.request_floor("m3", SpeechKind.SPEECH, at(2))
