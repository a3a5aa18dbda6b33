"""Motions and amendments: supporters, the vote order of the 会議規則 and the item's result."""

from datetime import datetime
from fractions import Fraction

import pytest

from gikai.orchestrator.domain.amendments import (
    Amendment,
    ItemResult,
    ItemVotes,
    MotionKind,
    TargetKind,
    VoteTarget,
    amendment_supporters_needed,
    check_supporters,
    item_result,
    move_amendment,
    move_motion,
    next_vote,
)
from gikai.orchestrator.domain.errors import (
    InvalidArgument,
    NotAMember,
    NotEnoughSupporters,
    NotOnAgenda,
    SupporterNotAllowed,
    VoteOrderNotAllowed,
)
from gikai.orchestrator.domain.rules import StandingRules
from gikai.orchestrator.domain.voting import Outcome

NOW = datetime(2026, 6, 10, 11, 0)
MEMBERS = {f"m{i}" for i in range(1, 13)}
RULES = StandingRules()
ADOPTED, REJECTED = Outcome.ADOPTED, Outcome.REJECTED
ORIGINAL = VoteTarget(TargetKind.ORIGINAL)
REMAINDER = VoteTarget(TargetKind.ORIGINAL_LESS_AMENDED)


def amendment(mover: str = "m1", item: str = "item1", supporters: tuple[str, ...] = ("m2",)) -> Amendment:
    return move_amendment(item, {"item1", "item2"}, mover, "第3条中「10万円」を「5万円」に改める。", supporters,
                          MEMBERS, RULES, False, 12, NOW)


def on(a: Amendment) -> VoteTarget:
    return VoteTarget(TargetKind.AMENDMENT, a.id)


# -- supporters ---------------------------------------------------------------------------
def test_supporters_are_members_not_the_mover_each_once_and_enough():
    assert check_supporters("m1", ["m2", "m3"], MEMBERS, 2) == ("m2", "m3")
    assert check_supporters("m1", [], MEMBERS, 0) == ()
    with pytest.raises(SupporterNotAllowed):
        check_supporters("m1", ["m1"], MEMBERS, 1)
    with pytest.raises(SupporterNotAllowed):
        check_supporters("m1", ["m2", "m2"], MEMBERS, 2)
    with pytest.raises(SupporterNotAllowed):
        check_supporters("m1", ["clerk"], MEMBERS, 1)
    with pytest.raises(NotEnoughSupporters) as refused:
        check_supporters("m1", ["m2"], MEMBERS, 2)
    assert refused.value.code == "not_enough_supporters"
    with pytest.raises(NotAMember):
        check_supporters("observer", ["m2"], MEMBERS, 1)


@pytest.mark.parametrize(("plenary", "fixed", "supporters", "fraction", "needed"), [
    (False, 12, 1, Fraction(1, 12), 1),  # committee: the motion rule only
    (False, 40, 0, Fraction(1, 12), 0),
    (True, 12, 1, Fraction(1, 12), 1),  # 12 x 1/12 = 1 mover: the motion rule decides
    (True, 18, 1, Fraction(1, 12), 1),  # ceil(1.5) = 2 movers: mover + 1
    (True, 30, 1, Fraction(1, 12), 2),  # ceil(2.5) = 3 movers: mover + 2
    (True, 30, 3, Fraction(1, 12), 3),  # the body's own number is higher
    (True, 30, 1, Fraction(0), 1),  # no fraction: the motion rule only
])
def test_amendment_supporters_needed(plenary, fixed, supporters, fraction, needed):
    rules = StandingRules(motion_supporters_in_plenary=supporters, motion_supporters_in_committee=supporters,
                          amendment_movers_fraction_in_plenary=fraction)
    assert amendment_supporters_needed(rules, plenary, fixed) == needed


def test_a_plenary_amendment_of_a_large_council_needs_more_supporters():
    with pytest.raises(NotEnoughSupporters):
        move_amendment("item1", {"item1"}, "m1", "修正文", ["m2"], MEMBERS, RULES, True, 30, NOW)
    made = move_amendment("item1", {"item1"}, "m1", "修正文", ["m2", "m3"], MEMBERS, RULES, True, 30, NOW)
    assert made.supporters == ("m2", "m3") and made.mover_id == "m1" and made.moved_at == NOW


def test_an_amendment_to_an_item_not_on_the_agenda_is_refused():
    with pytest.raises(NotOnAgenda) as refused:
        amendment(item="item9")
    assert refused.value.code == "not_on_agenda"
    with pytest.raises(NotOnAgenda):
        ItemVotes("item2").add(amendment(item="item1"))


def test_an_amendment_needs_its_text():
    with pytest.raises(InvalidArgument):
        move_amendment("item1", {"item1"}, "m1", "  ", ["m2"], MEMBERS, RULES, False, 12, NOW)


# -- procedural motions ----------------------------------------------------------------
@pytest.mark.parametrize("kind", ["recess", "close", "adjourn"])
def test_a_procedural_motion_with_its_supporters(kind):
    motion = move_motion(kind, "m1", ["m2"], MEMBERS, RULES, True, NOW)
    assert motion.kind is MotionKind(kind) and motion.supporters == ("m2",) and motion.moved_at == NOW


def test_a_procedural_motion_follows_the_rule_of_its_kind_of_sitting():
    rules = StandingRules(motion_supporters_in_plenary=2, motion_supporters_in_committee=0)
    with pytest.raises(NotEnoughSupporters):
        move_motion(MotionKind.ADJOURN, "m1", ["m2"], MEMBERS, rules, True, NOW)
    move_motion(MotionKind.ADJOURN, "m1", ["m2", "m3"], MEMBERS, rules, True, NOW)
    move_motion(MotionKind.ADJOURN, "m1", [], MEMBERS, rules, False, NOW)
    with pytest.raises(NotEnoughSupporters):
        move_motion(MotionKind.RECESS, "m1", [], MEMBERS, RULES, False, NOW)  # default: 1 in committee too
    with pytest.raises(InvalidArgument):
        move_motion("dissolve", "m1", ["m2"], MEMBERS, RULES, True, NOW)
    with pytest.raises(SupporterNotAllowed):
        move_motion(MotionKind.RECESS, "m1", ["m1"], MEMBERS, RULES, True, NOW)


# -- vote order and results ---------------------------------------------------------------
def test_without_amendments_the_original_is_put_and_decides():
    item = ItemVotes("item1")
    assert next_vote(item) == ORIGINAL and item_result(item) is None
    assert item_result(item.record(ORIGINAL, ADOPTED)) is ItemResult.ADOPTED_AS_PROPOSED
    rejected = item.record(ORIGINAL, REJECTED)
    assert item_result(rejected) is ItemResult.REJECTED and next_vote(rejected) is None


def test_the_amendment_goes_first_and_the_original_cannot_jump_it():
    a = amendment()
    item = ItemVotes("item1").add(a)
    assert next_vote(item) == on(a)
    with pytest.raises(VoteOrderNotAllowed) as refused:
        item.record(ORIGINAL, ADOPTED)
    assert refused.value.code == "vote_order_not_allowed"
    with pytest.raises(VoteOrderNotAllowed):
        item.record(REMAINDER, ADOPTED)


@pytest.mark.parametrize(("amendment_outcome", "final_target", "final_outcome", "result"), [
    (ADOPTED, REMAINDER, ADOPTED, ItemResult.ADOPTED_AS_AMENDED),  # 修正可決
    (ADOPTED, REMAINDER, REJECTED, ItemResult.REJECTED),  # 修正部分を除く原案 否決
    (REJECTED, ORIGINAL, ADOPTED, ItemResult.ADOPTED_AS_PROPOSED),  # 修正案否決 → 原案可決
    (REJECTED, ORIGINAL, REJECTED, ItemResult.REJECTED),  # 修正案否決 → 原案否決
])
def test_after_the_amendment_the_remainder_or_the_original_decides(amendment_outcome, final_target,
                                                                   final_outcome, result):
    a = amendment()
    item = ItemVotes("item1").add(a).record(on(a), amendment_outcome)
    assert next_vote(item) == final_target and item_result(item) is None
    wrong = ORIGINAL if final_target == REMAINDER else REMAINDER
    with pytest.raises(VoteOrderNotAllowed):
        item.record(wrong, final_outcome)
    done = item.record(final_target, final_outcome)
    assert next_vote(done) is None and item_result(done) is result
    with pytest.raises(VoteOrderNotAllowed):
        done.record(final_target, final_outcome)  # nothing is put twice


def test_several_amendments_in_the_chairs_order_all_before_the_original():
    a, b, c = amendment("m1"), amendment("m3", supporters=("m4",)), amendment("m5", supporters=("m6",))
    item = ItemVotes("item1").add(a).add(b).add(c)
    assert next_vote(item) == on(a)  # as moved, until the chair arranges them
    item = item.arrange([c.id, a.id, b.id])  # furthest from the original first
    assert next_vote(item) == on(c)
    with pytest.raises(VoteOrderNotAllowed):
        item.record(on(a), ADOPTED)
    item = item.record(on(c), REJECTED)
    with pytest.raises(VoteOrderNotAllowed):
        item.arrange([a.id, b.id, c.id])  # c has been voted on
    item = item.arrange([b.id, a.id])
    item = item.record(on(b), ADOPTED).record(on(a), REJECTED)
    assert next_vote(item) == REMAINDER  # one was adopted
    assert item_result(item.record(REMAINDER, ADOPTED)) is ItemResult.ADOPTED_AS_AMENDED


def test_every_amendment_rejected_puts_the_original():
    a, b = amendment("m1"), amendment("m3", supporters=("m4",))
    item = ItemVotes("item1").add(a).add(b).record(on(a), REJECTED).record(on(b), REJECTED)
    assert next_vote(item) == ORIGINAL
    assert item_result(item.record(ORIGINAL, ADOPTED)) is ItemResult.ADOPTED_AS_PROPOSED


def test_no_amendment_after_the_original_was_put_but_between_amendments_yes():
    a, b = amendment("m1"), amendment("m3", supporters=("m4",))
    item = ItemVotes("item1").add(a).record(on(a), REJECTED).add(b)
    assert next_vote(item) == on(b)
    put = ItemVotes("item1").record(ORIGINAL, ADOPTED)
    with pytest.raises(VoteOrderNotAllowed):
        put.add(a)


def test_a_tie_counts_only_once_the_chair_decided_it():
    with pytest.raises(InvalidArgument):
        ItemVotes("item1").record(ORIGINAL, Outcome.TIED)


def test_the_order_must_list_exactly_the_pending_amendments():
    a, b = amendment("m1"), amendment("m3", supporters=("m4",))
    item = ItemVotes("item1").add(a).add(b)
    for bad in ([a.id], [a.id, b.id, "x"], [a.id, a.id]):
        with pytest.raises(VoteOrderNotAllowed):
            item.arrange(bad)


def test_results_targets_and_motions_say_their_japanese_names():
    assert [r.ja for r in ItemResult] == ["原案可決", "修正可決", "否決"]
    assert [k.ja for k in TargetKind] == ["修正案", "原案", "修正部分を除く原案"]
    assert [k.ja for k in MotionKind] == ["休憩の動議", "閉議の動議", "延会の動議"]
