"""Amendments at the sitting: moved by a member (or entered for them by the clerk or the chair),
voted in the rules' order, the item decided by its ballots; replayed from the record; the
audit names a ballot out of order and a result that does not follow."""

from __future__ import annotations

import copy

import pytest

from gikai.orchestrator.domain.amendments import TargetKind, VoteTarget
from gikai.orchestrator.domain.audit import audit
from gikai.orchestrator.domain.errors import (
    InvalidArgument,
    NotAllowed,
    NotChair,
    NotEnoughSupporters,
    SupporterNotAllowed,
    VoteOrderNotAllowed,
    WrongMeetingState,
)
from gikai.orchestrator.domain.events import Entry, Event
from gikai.orchestrator.domain.sitting_amendments import item_votes_of, motions_of
from gikai.orchestrator.domain.voting import Outcome
from tests.unit.test_audit import _e, record  # noqa: F401  (the fixture)
from tests.unit.test_sitting import at, make, opened

ORIGINAL = "第3条中「100分の5」を「100分の3」に改める。"


def taken_up():
    s = opened()
    s.take_up("chair", s.agenda.items[0].id, at(2))
    return s, s.agenda.items[0].id


def test_a_member_moves_an_amendment_with_a_supporter_and_it_is_voted_first():
    s, item = taken_up()
    [moved] = s.move_amendment("m3", item, "m3", "100分の5", "100分の3", ["m4"], at(3))
    assert moved.name == Entry.AMENDMENT_MOVED and moved.agenda_item_id == item
    assert moved.data | {"amendment_id": "x"} == {"amendment_id": "x", "mover_id": "m3", "supporters": ["m4"],
                                                  "original": "100分の5", "text": "100分の3"}
    first = moved.data["amendment_id"]
    with pytest.raises(VoteOrderNotAllowed):
        s.vote_target(item, "original")
    assert s.vote_target(item, f"amendment:{first}") == VoteTarget(TargetKind.AMENDMENT, first)
    assert s.ballot_result(item, VoteTarget(TargetKind.AMENDMENT, first), Outcome.ADOPTED, at(4), "chair") == []
    target = s.vote_target(item, "original_less_amended")
    [decided] = s.ballot_result(item, target, Outcome.ADOPTED, at(5), "chair")
    assert decided.name == Entry.ITEM_DECIDED and decided.data == {"result": "修正可決", "by_ballots": "adopted_as_amended"}
    assert s.agenda.items[0].state.value == "decided" and s.agenda.items[0].result == "修正可決"
    with pytest.raises(VoteOrderNotAllowed):
        s.vote_target(item, "original")


@pytest.mark.parametrize(("amendment", "final", "result"), [
    (Outcome.REJECTED, Outcome.ADOPTED, "原案可決"),  # 修正案否決 → 原案
    (Outcome.REJECTED, Outcome.REJECTED, "否決"),
    (Outcome.ADOPTED, Outcome.REJECTED, "否決"),
])
def test_the_item_result_follows_from_the_ballots(amendment, final, result):
    s, item = taken_up()
    [moved] = s.move_amendment("clerk", item, "m3", "", "附則を加える。", ["m4"], at(3))
    s.ballot_result(item, VoteTarget(TargetKind.AMENDMENT, moved.data["amendment_id"]), amendment, at(4), "chair")
    last = "original_less_amended" if amendment is Outcome.ADOPTED else "original"
    [decided] = s.ballot_result(item, s.vote_target(item, last), final, at(5), "chair")
    assert decided.data["result"] == result


def test_without_amendments_the_original_decides_the_item():
    s, item = taken_up()
    [decided] = s.ballot_result(item, s.vote_target(item, "original"), Outcome.ADOPTED, at(4), "chair")
    assert decided.data["result"] == "原案可決"


@pytest.mark.parametrize(("actor", "mover", "supporters", "error"), [
    ("m5", "m3", ["m4"], NotAllowed),  # another member cannot move it for someone
    ("m3", "m3", [], NotEnoughSupporters),
    ("cdo", "cdo", ["m4"], NotAllowed),  # a presenter is not a member
    ("clerk", "m3", ["m3"], SupporterNotAllowed),  # the mover does not support their own
])
def test_who_moves_and_with_whom(actor, mover, supporters, error):
    s, item = taken_up()
    with pytest.raises(error):
        s.move_amendment(actor, item, mover, "a", "b", supporters, at(3))
    assert s.votes_on(item).amendments == ()


def test_an_amendment_needs_words_and_an_open_sitting():
    s, item = taken_up()
    with pytest.raises(InvalidArgument):
        s.move_amendment("m3", item, "m3", "a", "  ", ["m4"], at(3))
    scheduled = make()
    with pytest.raises(WrongMeetingState):
        scheduled.move_amendment("m3", scheduled.agenda.items[0].id, "m3", "a", "b", ["m4"], at(3))


def test_the_chair_arranges_the_amendments_and_nobody_else():
    s, item = taken_up()
    a = s.move_amendment("m3", item, "m3", "", "一", ["m4"], at(3))[0].data["amendment_id"]
    b = s.move_amendment("m5", item, "m5", "", "二", ["m6"], at(4))[0].data["amendment_id"]
    with pytest.raises(NotChair):
        s.arrange_amendments("m3", item, [b, a], at(5))
    [arranged] = s.arrange_amendments("chair", item, [b, a], at(5))
    assert arranged.data == {"order": [b, a]}
    assert s.vote_target(item, f"amendment:{b}").amendment_id == b
    assert s.arrange_amendments("chair", item, [b, a], at(6)) == []


def _as_entries(events):
    return [(e.name, e.at, e.data, e.agenda_item_id) for e in events]


def test_the_record_replays_into_the_same_item_votes():
    s, item = taken_up()
    events = s.move_amendment("m3", item, "m3", "x", "y", ["m4"], at(3))
    first = events[0].data["amendment_id"]
    events.append(_opened("b1", f"amendment:{first}", item))
    events.append(_published("b1", "rejected", item))
    replayed = item_votes_of(_as_entries(events))
    assert replayed[item].amendments[0].id == first and replayed[item].amendments[0].original == "x"
    assert replayed[item].outcomes == ((VoteTarget(TargetKind.AMENDMENT, first), Outcome.REJECTED),)


def _opened(ballot_id, target, item):
    return Event(Entry.BALLOT_OPENED, at(10), "chair", {"ballot_id": ballot_id, "target": target}, item)


def _published(ballot_id, outcome, item):
    return Event(Entry.RESULT_PUBLISHED, at(11), "chair", {"ballot_id": ballot_id, "outcome": outcome}, item)


def _targeted(entries, roles, target, outcomes, decided=None):
    """The fixture's record with an amendment moved, and its two ballots put on targets."""
    chair, members = roles["chair"][0], roles["member"]
    out = copy.deepcopy(entries)
    moved = _e("amendment_moved", members[0], amendment_id="a1", mover_id=members[0], supporters=[members[1]],
               original="", text="修正")
    moved["agenda_item_id"] = "i1"
    out.insert(out.index(next(e for e in out if e["name"] == "ballot_opened")), moved)
    opened = [e for e in out if e["name"] == "ballot_opened"]
    published = [e for e in out if e["name"] == "result_published"]
    for e, t in zip(opened, target, strict=True):
        e["data"]["target"], e["agenda_item_id"] = t, "i1"
    for e, o in zip(published, outcomes, strict=True):
        assert e["data"]["outcome"] == o
    if decided:
        d = _e("item_decided", chair, result=decided[0], by_ballots=decided[1])
        d["agenda_item_id"] = "i1"
        out.append(d)
    for i, e in enumerate(out, start=1):
        e["seq"] = i
    return out


def test_the_audit_follows_an_amended_item_to_its_result(record):  # noqa: F811
    entries, roles = record
    good = _targeted(entries, roles, ["amendment:a1", "original_less_amended"], ["adopted", "adopted"],
                     ("修正可決", "adopted_as_amended"))
    assert audit(good)[0] is None


def test_the_audit_names_a_ballot_out_of_order_and_a_result_that_does_not_follow(record):  # noqa: F811
    entries, roles = record
    jumped = _targeted(entries, roles, ["original", "amendment:a1"], ["adopted", "adopted"])
    problem, _ = audit(jumped)
    assert problem is not None and "the rules put amendment:a1 to the vote" in problem.reason
    typed = _targeted(entries, roles, ["amendment:a1", "original_less_amended"], ["adopted", "adopted"],
                      ("原案可決", "adopted_as_proposed"))
    problem, _ = audit(typed)
    assert problem is not None and "does not follow from its ballots" in problem.reason


def test_a_procedural_motion_is_moved_with_its_supporter_and_voted_once():
    s, _ = taken_up()
    [moved] = s.move_procedural_motion("m3", "recess", "m3", ["m4"], at(3))
    assert moved.name == Entry.MOTION_MOVED and moved.data["kind"] == "recess"
    motion = moved.data["motion_id"]
    assert s.motion_target(motion).mover_id == "m3"
    s.motion_result(motion, Outcome.ADOPTED)
    with pytest.raises(VoteOrderNotAllowed):
        s.motion_target(motion)
    with pytest.raises(InvalidArgument):
        s.move_procedural_motion("m3", "dissolve", "m3", ["m4"], at(4))
    with pytest.raises(NotEnoughSupporters):
        s.move_procedural_motion("m3", "close", "m3", [], at(4))
    with pytest.raises(NotAllowed):
        s.move_procedural_motion("m5", "close", "m3", ["m4"], at(4))
    opened = Event(Entry.BALLOT_OPENED, at(5), "chair", {"ballot_id": "b9", "target": f"motion:{motion}"}, None)
    published = Event(Entry.RESULT_PUBLISHED, at(6), "chair", {"ballot_id": "b9", "outcome": "adopted"}, None)
    motions, outcomes = motions_of((e.name, e.at, e.data) for e in [moved, opened, published])
    assert list(motions) == [motion] and outcomes == {motion: Outcome.ADOPTED}
    assert item_votes_of(_as_entries([moved, opened, published])) == {}, "a motion is no part of an item's votes"
