"""What a remote member may do, per kind of sitting and speech; what a speaking limit counts;
the new standing rules and their JSON."""

from datetime import datetime, timedelta
from fractions import Fraction

import pytest

from gikai.orchestrator.domain.errors import RemoteSpeechNotAllowed, catalogue
from gikai.orchestrator.domain.remote_permission import RemoteApplications
from gikai.orchestrator.domain.remote_rules import (
    check_remote_floor,
    remote_may_take_floor,
    remote_rights,
    seconds_counted,
    seconds_left,
)
from gikai.orchestrator.domain.rules import DEFAULT_SPEECH_LIMITS, LimitBasis, SpeechKind, StandingRules
from gikai.orchestrator.persistence.mapping import rules_from_json, rules_to_json

S = SpeechKind
START = datetime(2026, 6, 10, 10, 0)
# (plenary, kind) -> may a remote member hold the floor, under the default rules.
DEFAULT_TABLE = {
    **{(True, k): k is S.GENERAL_QUESTION for k in S},
    **{(False, k): True for k in S},
}


def test_general_question_is_a_speech_kind_with_its_default_limit():
    assert S("general_question") is S.GENERAL_QUESTION
    assert StandingRules().speech_limit(S.GENERAL_QUESTION) == DEFAULT_SPEECH_LIMITS[S.GENERAL_QUESTION] == 3600
    assert set(DEFAULT_SPEECH_LIMITS) == set(S)  # every kind has a default limit
    # A body whose limits predate the kind still gets the default for it.
    assert StandingRules(speech_limits={S.QUESTION: 300}).speech_limit(S.GENERAL_QUESTION) == 3600


@pytest.mark.parametrize(("plenary", "kind"), sorted(DEFAULT_TABLE, key=lambda pk: (pk[0], pk[1].value)))
def test_remote_floor_by_default_per_kind_of_sitting_and_speech(plenary, kind):
    allowed = DEFAULT_TABLE[(plenary, kind)]
    assert remote_may_take_floor(StandingRules(), plenary, kind) is allowed
    if allowed:
        check_remote_floor(StandingRules(), plenary, kind)
    else:
        with pytest.raises(RemoteSpeechNotAllowed) as refused:
            check_remote_floor(StandingRules(), plenary, kind)
        assert refused.value.code == "remote_speech_not_allowed"


@pytest.mark.parametrize("kind", list(S))
def test_a_body_sets_its_own_remote_speech_kinds(kind):
    rules = StandingRules(remote_may_speak_in_plenary=frozenset({S.GENERAL_QUESTION, S.QUESTION}),
                          remote_may_speak_in_committee=frozenset({S.POINT_OF_ORDER}))
    assert remote_may_take_floor(rules, True, kind) is (kind in (S.GENERAL_QUESTION, S.QUESTION))
    assert remote_may_take_floor(rules, False, kind) is (kind is S.POINT_OF_ORDER)


def test_remote_counting_and_voting_defaults_are_unchanged():
    rules = StandingRules()
    assert (rules.remote_counts(True), rules.remote_votes(True)) == (False, False)
    assert (rules.remote_counts(False), rules.remote_votes(False)) == (True, True)


def permitted(member: str) -> RemoteApplications:
    apps, events = RemoteApplications(START).apply(member, "illness", "", START - timedelta(hours=1), StandingRules())
    apps, _ = apps.permit("chair", events[0].application_id, START, "chair", {"clerk"})
    return apps


def test_a_permitted_remote_member_has_the_kind_of_sittings_rights():
    plenary = remote_rights(permitted("m1"), "m1", StandingRules(), plenary=True)
    assert (plenary.attends, plenary.counted, plenary.votes) == (True, False, False)
    assert plenary.may_speak == {S.GENERAL_QUESTION} and not plenary.watch_only
    committee = remote_rights(permitted("m1"), "m1", StandingRules(), plenary=False)
    assert (committee.attends, committee.counted, committee.votes, committee.may_speak) == (True, True, True, set(S))


@pytest.mark.parametrize("plenary", [True, False])
def test_without_permission_a_remote_member_only_watches(plenary):
    by_permission = StandingRules(remote_requires_permission_in_plenary=True,
                                  remote_requires_permission_in_committee=True)
    rights = remote_rights(permitted("m1"), "m2", by_permission, plenary)
    assert rights.watch_only and not rights.counted and not rights.votes and rights.may_speak == frozenset()


def test_without_a_permission_rule_a_remote_member_attends_unasked():
    rules = StandingRules(remote_requires_permission_in_committee=False)
    assert not remote_rights(RemoteApplications(START), "m2", rules, plenary=False).watch_only


def test_the_limit_basis_defaults_general_question_with_answers_others_question_only():
    rules = StandingRules()
    assert rules.limit_basis_of(S.GENERAL_QUESTION) is LimitBasis.WITH_ANSWERS
    for kind in set(S) - {S.GENERAL_QUESTION}:
        assert rules.limit_basis_of(kind) is LimitBasis.QUESTION_ONLY


def test_the_clock_counts_the_answers_only_where_the_limit_includes_them():
    rules = StandingRules()
    assert seconds_counted(rules, S.GENERAL_QUESTION, 1200, 1500) == 2700
    assert seconds_left(rules, S.GENERAL_QUESTION, 1200, 1500) == 900
    assert seconds_counted(rules, S.QUESTION, 300, 1000) == 300
    assert seconds_left(rules, S.QUESTION, 300, 1000) == 300
    assert seconds_left(rules, S.QUESTION, 700, 0, extended=60) == -40  # over, even with the extension
    question_only = StandingRules(limit_basis={S.GENERAL_QUESTION: LimitBasis.QUESTION_ONLY},
                                  speech_limits={S.GENERAL_QUESTION: 1800})
    assert seconds_left(question_only, S.GENERAL_QUESTION, 1200, 1500) == 600
    with pytest.raises(ValueError):
        seconds_counted(rules, S.QUESTION, -1, 0)


def test_new_rules_have_their_defaults_and_refuse_negative_numbers():
    rules = StandingRules()
    # a body's choice: off unless its rules say so, so that remote members count as they always did
    assert not rules.remote_requires_permission(True) and not rules.remote_requires_permission(False)
    assert rules.remote_application_deadline_hours == 0
    assert rules.motion_supporters(True) == rules.motion_supporters(False) == 1
    assert rules.amendment_movers_fraction_in_plenary == Fraction(1, 12)
    assert rules.minutes_signers == 2
    for bad in ({"minutes_signers": -1}, {"motion_supporters_in_plenary": -1},
                {"remote_application_deadline_hours": -2}, {"amendment_movers_fraction_in_plenary": Fraction(3, 2)}):
        with pytest.raises(ValueError):
            StandingRules(**bad)  # type: ignore[arg-type]


def test_every_new_rule_round_trips_through_json():
    rules = StandingRules(
        speech_limits={S.GENERAL_QUESTION: 1800, S.QUESTION: 600},
        limit_basis={S.GENERAL_QUESTION: LimitBasis.QUESTION_ONLY, S.QUESTION: LimitBasis.WITH_ANSWERS},
        remote_may_speak_in_plenary=frozenset({S.GENERAL_QUESTION, S.POINT_OF_ORDER}),
        remote_may_speak_in_committee=frozenset(),
        remote_requires_permission_in_plenary=True, remote_requires_permission_in_committee=True,
        remote_application_deadline_hours=48, motion_supporters_in_plenary=2, motion_supporters_in_committee=0,
        amendment_movers_fraction_in_plenary=Fraction(1, 8), minutes_signers=3,
    )
    data = rules_to_json(rules)
    assert data["remote_may_speak_in_plenary"] == ["general_question", "point_of_order"]
    assert data["remote_may_speak_in_committee"] == []
    assert rules_from_json(data) == rules
    assert rules_from_json(rules_to_json(StandingRules())) == StandingRules()
    none_with_answers = StandingRules(limit_basis={})  # an explicit empty table stays empty
    assert rules_from_json(rules_to_json(none_with_answers)).limit_basis == {}


def test_the_catalogue_holds_the_procedure_errors():
    table = catalogue()
    for code in ("not_chair_or_clerk", "remote_deadline_passed", "remote_already_applied", "remote_not_pending",
                 "remote_reason_unknown", "remote_reason_text_required", "remote_refusal_reason_required",
                 "remote_speech_not_allowed", "not_on_agenda", "supporter_not_allowed", "not_enough_supporters",
                 "vote_order_not_allowed", "minutes_signers_invalid", "not_a_signer", "already_signed",
                 "signature_hash_mismatch"):
        assert code in table and table[code].ja.endswith("。") and table[code].en.endswith("."), code


def test_older_json_without_the_new_rules_loads_with_their_defaults():
    old = {"quorum_fraction": "1/2", "remote_counts_in_plenary": False, "remote_counts_in_committee": True,
           "remote_votes_in_plenary": False, "remote_votes_in_committee": True, "chair_votes_only_on_tie": True,
           "speech_limits": {"question": 300}, "warning_seconds": 30, "record_sittings": True,
           "record_recess": False, "retention_years": 0}
    rules = rules_from_json(old)
    defaults = StandingRules()
    assert rules.speech_limit(S.QUESTION) == 300 and rules.warning_seconds == 30
    assert rules.speech_limit(S.GENERAL_QUESTION) == 3600
    for name in ("limit_basis", "remote_may_speak_in_plenary", "remote_may_speak_in_committee",
                 "remote_requires_permission_in_plenary", "remote_requires_permission_in_committee",
                 "remote_application_deadline_hours", "motion_supporters_in_plenary",
                 "motion_supporters_in_committee", "amendment_movers_fraction_in_plenary", "minutes_signers"):
        assert getattr(rules, name) == getattr(defaults, name), name
