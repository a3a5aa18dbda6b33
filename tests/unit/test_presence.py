"""Presence from observations: every transition, every grace period; quorum follows."""

from datetime import datetime, timedelta

from gikai.orchestrator.domain.model import Body, BodyKind, Meeting, Participant, Role
from gikai.orchestrator.domain.presence import Presence, PresenceTracker, Seen
from gikai.orchestrator.domain.rules import StandingRules
from gikai.orchestrator.domain.sitting import Sitting

T0 = datetime(2026, 3, 10, 10, 0)
RULES = StandingRules()  # away 10 s, camera off 5 s, link lost 10 s, return 3 s
FACE = Seen(connected=True, video_live=True, faces=1)
NO_FACE = Seen(connected=True, video_live=True, faces=0)
CAMERA_OFF = Seen(connected=True, video_live=False)
NO_LINK = Seen(connected=True, video_live=True, faces=1, link_ok=False)
GONE = Seen(connected=False)


def run(tracker: PresenceTracker, seen: Seen, start: float, end: float, step: float = 0.5) -> list[tuple[float, Presence]]:
    changes = []
    t = start
    while t <= end + 1e-9:
        change = tracker.observe(seen, T0 + timedelta(seconds=t), RULES)
        if change is not None:
            changes.append((t, change))
        t += step
    return changes


def present_tracker() -> PresenceTracker:
    tracker = PresenceTracker()
    assert run(tracker, FACE, 0, 3) == [(3.0, Presence.PRESENT)]
    return tracker


def test_a_face_must_be_seen_for_three_seconds_before_counting():
    tracker = PresenceTracker()
    assert run(tracker, FACE, 0, 2.5) == []
    assert run(tracker, FACE, 3, 3) == [(3, Presence.PRESENT)]


def test_glancing_down_for_less_than_ten_seconds_does_not_strike_a_member_off():
    tracker = present_tracker()
    assert run(tracker, NO_FACE, 4, 13.5) == []
    assert run(tracker, FACE, 14, 20) == [] and tracker.state is Presence.PRESENT


def test_no_face_for_ten_seconds_is_away_and_three_seconds_of_face_brings_them_back():
    tracker = present_tracker()
    assert run(tracker, NO_FACE, 4, 14) == [(14, Presence.AWAY)]
    assert run(tracker, FACE, 15, 17.5) == []
    assert run(tracker, FACE, 18, 18) == [(18, Presence.PRESENT)]


def test_camera_off_after_five_seconds_and_link_lost_after_ten():
    tracker = present_tracker()
    assert run(tracker, CAMERA_OFF, 4, 9) == [(9, Presence.CAMERA_OFF)]
    tracker = present_tracker()
    assert run(tracker, NO_LINK, 4, 14) == [(14, Presence.LINK_LOST)]


def test_a_lapse_that_ends_in_time_resets_its_clock():
    tracker = present_tracker()
    run(tracker, CAMERA_OFF, 4, 8)  # 4 s off
    run(tracker, FACE, 8.5, 9)  # back briefly
    assert run(tracker, CAMERA_OFF, 9.5, 14) == [] and tracker.state is Presence.PRESENT
    assert run(tracker, CAMERA_OFF, 14.5, 14.5) == [(14.5, Presence.CAMERA_OFF)]


def test_disconnecting_counts_at_once_and_problem_states_show_what_is_wrong_now():
    tracker = present_tracker()
    assert run(tracker, GONE, 4, 4) == [(4, Presence.DISCONNECTED)]
    assert run(tracker, CAMERA_OFF, 5, 5) == [(5, Presence.CAMERA_OFF)]
    assert run(tracker, NO_FACE, 6, 6) == [(6, Presence.AWAY)]
    assert run(tracker, NO_LINK, 7, 7) == [(7, Presence.LINK_LOST)]


def sitting(members: int = 12) -> Sitting:
    body = Body("委員会", BodyKind.COMMITTEE, members)
    meeting = Meeting(body.id, "会議", T0)
    people = {f"m{i}": Participant(meeting.id, f"委員{i}", "い", Role.CHAIR if i == 1 else Role.MEMBER, i, id=f"m{i}")
              for i in range(1, members + 1)}
    return Sitting(meeting, body, RULES, people, presence_by_camera=True)


def see(s: Sitting, pid: str, seen: Seen, at: float) -> None:
    now = T0 + timedelta(seconds=at)
    change = s.observe(pid, seen, now)
    if change is not None:
        s.presence_changed(pid, change, now)


def test_quorum_follows_the_cameras_twelve_members_six_seen_is_quorate_five_is_not():
    s = sitting()
    for i in range(1, 7):
        s.connected(f"m{i}", T0)
    assert not s.quorum().met, "connected is not enough: they must be seen"
    for t in (0.5, 1.5, 2.5, 3.5):
        for i in range(1, 7):
            see(s, f"m{i}", FACE, t)
    assert s.quorum().met and len(s.quorum().counted) == 6
    for t in (4, 9, 14, 14.5):
        see(s, "m6", NO_FACE, t)
        for i in range(1, 6):
            see(s, f"m{i}", FACE, t)
    assert not s.quorum().met and len(s.quorum().counted) == 5
    intervals = [i for i in s.attendance.intervals if i.participant_id == "m6"]
    assert len(intervals) == 1 and intervals[0].end == T0 + timedelta(seconds=14)


def test_on_camera_for_a_vote_means_seen_now_not_merely_still_counted():
    tracker = present_tracker()
    at = lambda t: T0 + timedelta(seconds=t)  # noqa: E731
    assert tracker.on_camera(at(3))
    run(tracker, NO_FACE, 4, 5)  # looked down for a moment: still on camera
    assert tracker.on_camera(at(5.5))
    run(tracker, NO_FACE, 5.5, 7)  # three seconds without a face: counted, but not on camera
    assert tracker.state is Presence.PRESENT and not tracker.on_camera(at(7))
    run(tracker, FACE, 7.5, 8)
    assert tracker.on_camera(at(8))
    assert not PresenceTracker().on_camera(at(8)), "never seen: not on camera"


TWO_FACES = Seen(connected=True, video_live=True, faces=2)


def test_a_face_passing_behind_a_member_changes_nothing_a_third_person_staying_is_flagged():
    tracker = present_tracker()
    assert run(tracker, TWO_FACES, 4, 12) == []  # eight seconds: somebody walked past
    assert run(tracker, FACE, 12.5, 13) == []
    assert run(tracker, TWO_FACES, 14, 24) == [(24.0, Presence.NOT_ALONE)]  # ten seconds: flagged
    assert run(tracker, FACE, 24.5, 27.5) == [(27.5, Presence.PRESENT)]  # three seconds alone again


def test_a_third_person_is_warned_about_and_the_member_still_counted_and_voting_by_default():
    s = sitting()
    s.connected("m2", T0)
    for t in (0.5, 3.5):
        see(s, "m2", FACE, t)
    events = []
    for t in range(4, 16):
        now = T0 + timedelta(seconds=t)
        change = s.observe("m2", TWO_FACES, now)
        if change is not None:
            events += s.presence_changed("m2", change, now)
    assert [(e.name, e.data) for e in events] == [("presence_changed", {"participant_id": "m2", "state": "not_alone"})]
    assert "m2" in s.quorum().counted
    assert s.presence["m2"].on_camera(T0 + timedelta(seconds=15), others_allowed=True)
    assert not s.presence["m2"].on_camera(T0 + timedelta(seconds=15))


def test_where_the_rule_says_so_a_third_person_stops_the_member_being_counted_until_alone_again():
    s = sitting()
    s.rules = StandingRules(third_person_stops_counting=True, third_person_after_seconds=5)
    s.connected("m2", T0)
    for t in (0.5, 3.5):
        see(s, "m2", FACE, t)
    for t in range(4, 10):
        see(s, "m2", TWO_FACES, t)
    assert "m2" not in s.quorum().counted
    [interval] = [i for i in s.attendance.intervals if i.participant_id == "m2"]
    assert interval.end == T0 + timedelta(seconds=9)
    for t in (10, 11, 12, 13):
        see(s, "m2", FACE, t)
    assert "m2" in s.quorum().counted
