"""Voting rules: majorities, the chair's tie-break, entitlement, presence at casting, no changes."""

from datetime import datetime

import pytest

from gikai.orchestrator.domain.errors import NotChair, QuorumNotMet
from gikai.orchestrator.domain.voting import (
    AlreadyVoted,
    Ballot,
    BallotKind,
    BallotNotOpen,
    Choice,
    ChoiceNotAllowed,
    Majority,
    NotEntitled,
    NotPresent,
    Outcome,
    entitled_members,
)

T0 = datetime(2026, 3, 10, 11, 0)
MEMBERS = {f"m{i}" for i in range(1, 13)}  # m1 is the chair


def opened(majority=Majority.SIMPLE, kind=BallotKind.NAMED, present=MEMBERS, **kw) -> Ballot:
    ballot = Ballot("meeting", "item", "議案第1号を原案のとおり可決すべきものと決する", kind, majority, **kw)
    entitled = entitled_members(set(present), set(), "m1", remote_may_vote=True,
                                chair_votes_only_on_tie=True, majority=majority)
    ballot.open(entitled, 12, "m1", quorum_met=True, now=T0)
    return ballot


def vote(ballot: Ballot, yes: int, no: int, abstain: int = 0) -> None:
    voters = sorted(ballot.entitled, key=lambda m: int(m[1:]))
    choices = [Choice.YES] * yes + [Choice.NO] * no + [Choice.ABSTAIN] * abstain
    for member, choice in zip(voters, choices, strict=False):
        ballot.cast(member, choice, present_now=True)


def test_a_simple_majority_of_votes_cast_decides():
    b = opened()
    vote(b, 6, 5)
    assert b.close(True, T0).outcome is Outcome.ADOPTED
    b = opened()
    vote(b, 4, 7)
    assert b.close(True, T0).outcome is Outcome.REJECTED


def test_a_tie_is_decided_by_the_chair_who_does_not_otherwise_vote():
    present = MEMBERS | {"m13"}  # a 13-member body: 12 vote besides the chair
    b = opened(present=present)
    assert "m1" not in b.entitled and len(b.entitled) == 12
    vote(b, 6, 6)
    assert b.close(True, T0).outcome is Outcome.TIED
    with pytest.raises(BallotNotOpen):
        b.publish()
    with pytest.raises(NotChair):
        b.decide_tie("m2", Choice.YES)
    tally = b.decide_tie("m1", Choice.NO)
    assert tally.outcome is Outcome.REJECTED and tally.decided_by_chair
    assert b.publish().outcome is Outcome.REJECTED


def test_two_thirds_of_those_present_and_an_absolute_majority_of_the_fixed_membership():
    b = opened(Majority.TWO_THIRDS_PRESENT)
    assert "m1" in b.entitled, "for a special majority the chair votes"
    vote(b, 8, 4)
    assert b.close(True, T0).outcome is Outcome.ADOPTED  # 8 of 12 = two thirds
    b = opened(Majority.TWO_THIRDS_PRESENT)
    vote(b, 7, 5)
    assert b.close(True, T0).outcome is Outcome.REJECTED
    b = opened(Majority.ABSOLUTE, present={f"m{i}" for i in range(1, 9)})
    vote(b, 6, 2)
    assert b.close(True, T0).outcome is Outcome.REJECTED  # 6 of a fixed 12 is half, not more
    b = opened(Majority.ABSOLUTE, present={f"m{i}" for i in range(1, 9)})
    vote(b, 7, 1)
    assert b.close(True, T0).outcome is Outcome.ADOPTED


def test_who_may_vote_is_fixed_when_the_ballot_opens():
    b = opened(present={f"m{i}" for i in range(1, 8)})
    with pytest.raises(NotEntitled):
        b.cast("m9", Choice.YES, present_now=True)  # arrived after opening
    with pytest.raises(NotPresent):
        b.cast("m3", Choice.YES, present_now=False)  # entitled, but not on camera now
    assert b.cast("m3", Choice.YES, present_now=True)
    remote_barred = entitled_members({"m2", "m3"}, {"m3"}, "m1", remote_may_vote=False,
                                     chair_votes_only_on_tie=True, majority=Majority.SIMPLE)
    assert remote_barred == {"m2"}


def test_a_cast_vote_cannot_change_and_a_retry_changes_nothing():
    b = opened()
    assert b.cast("m2", Choice.YES, present_now=True)
    assert not b.cast("m2", Choice.YES, present_now=True), "a retried request"
    with pytest.raises(AlreadyVoted):
        b.cast("m2", Choice.NO, present_now=True)
    with pytest.raises(ChoiceNotAllowed):
        b.cast("m3", Choice.ABSTAIN, present_now=True)
    assert b.tally().yes == 1 and b.tally().cast == 1


def test_a_secret_ballot_keeps_no_link_between_a_member_and_a_choice():
    b = opened(kind=BallotKind.SECRET)
    b.cast("m2", Choice.YES, present_now=True)
    b.cast("m3", Choice.NO, present_now=True)
    assert b.named == {} and b.voters == {"m2", "m3"}
    with pytest.raises(AlreadyVoted):
        b.cast("m2", Choice.YES, present_now=True)  # no retry by choice: it is not known


def test_quorum_is_needed_to_open_and_to_close():
    b = Ballot("meeting", None, "動議")
    with pytest.raises(QuorumNotMet):
        b.open({"m2"}, 12, "m1", quorum_met=False, now=T0)
    b = opened()
    with pytest.raises(QuorumNotMet):
        b.close(False, T0)
    assert b.state.value == "open"
    b.close(True, T0)
    with pytest.raises(BallotNotOpen):
        b.cast("m2", Choice.YES, present_now=True)
