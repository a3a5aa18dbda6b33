"""The signed minutes at the sitting and on the record: the chair names the signers (会議録署名議員),
the record replays into who must sign what, and the audit names every signature out of place."""

from __future__ import annotations

from datetime import datetime

import pytest

from gikai.orchestrator.domain.audit import audit
from gikai.orchestrator.domain.errors import (
    MeetingAdjourned,
    MinutesNotFinal,
    MinutesSignersInvalid,
    MinutesSignersNotNamed,
    NotChair,
)
from gikai.orchestrator.domain.events import Entry
from gikai.orchestrator.domain.minutes_signatures import Signers, signing_challenge, signing_state
from tests.unit.test_audit import _e, record  # noqa: F401  (the fixture)
from tests.unit.test_sitting import at, opened

HASH = "b" * 64


def test_the_chair_names_two_members_to_sign_and_a_repeated_tap_changes_nothing():
    s = opened()
    [event] = s.name_minutes_signers("chair", ["m3", "m4"], at(5))
    assert event.name == Entry.MINUTES_SIGNERS_NAMED and event.actor_id == "chair"
    assert event.data == {"presiding": ["chair"], "named": ["m3", "m4"]}
    assert s.minutes_signers == Signers(("chair",), ("m3", "m4"))
    assert s.name_minutes_signers("chair", ["m3", "m4"], at(6)) == []
    [again] = s.name_minutes_signers("chair", ["m5", "m4"], at(7))  # a later naming replaces it
    assert again.data["named"] == ["m5", "m4"] and s.minutes_signers.required == ("chair", "m5", "m4")


@pytest.mark.parametrize(("actor", "named", "error"), [
    ("m3", ["m4", "m5"], NotChair),
    ("chair", ["m4"], MinutesSignersInvalid),  # the rules say two
    ("chair", ["m4", "chair"], MinutesSignersInvalid),
    ("chair", ["m4", "clerk"], MinutesSignersInvalid),  # not a member
    ("chair", ["m4", "cdo"], MinutesSignersInvalid),
    ("chair", ["m4", "nobody"], MinutesSignersInvalid),
])
def test_only_the_chair_names_and_only_distinct_members_other_than_the_chair(actor, named, error):
    s = opened()
    with pytest.raises(error):
        s.name_minutes_signers(actor, named, at(5))
    assert s.minutes_signers is None


def test_no_naming_after_the_adjournment():
    s = opened()
    s.adjourn("chair", at(9))
    with pytest.raises(MeetingAdjourned):
        s.name_minutes_signers("chair", ["m3", "m4"], at(10))


def _named(chair="c", named=("a", "b")):
    return (Entry.MINUTES_SIGNERS_NAMED, datetime(2026, 1, 1), {"presiding": [chair], "named": list(named)})


def _signed(signer, h=HASH):
    return (Entry.MINUTES_SIGNED, datetime(2026, 1, 2), {"signer_id": signer, "sha256": h, "credential_id": "x",
                                                         "nonce": "00"})


def test_the_record_tells_who_must_sign_and_who_has():
    final = (Entry.MINUTES_FINALISED, datetime(2026, 1, 2), {"sha256": HASH})
    state = signing_state([_named(), final, _signed("a")])
    assert state.minutes_hash == HASH and state.missing == ("c", "b") and not state.complete
    assert signing_state([_named(), final, _signed("a"), _signed("c"), _signed("b")]).complete
    with pytest.raises(MinutesNotFinal):
        signing_state([_named()]).current()
    with pytest.raises(MinutesSignersNotNamed):
        signing_state([final]).current()


def test_the_challenge_binds_the_sitting_the_hash_the_signer_and_the_nonce():
    base = signing_challenge("m", HASH, "a", b"\x01" * 16)
    assert len(base) == 32 and base == signing_challenge("m", HASH, "a", b"\x01" * 16)
    others = [signing_challenge("n", HASH, "a", b"\x01" * 16), signing_challenge("m", "c" * 64, "a", b"\x01" * 16),
              signing_challenge("m", HASH, "b", b"\x01" * 16), signing_challenge("m", HASH, "a", b"\x02" * 16)]
    assert base not in others


def _with_minutes(entries, roles, *extra):
    chair, members = roles["chair"][0], roles["member"]
    out = [*entries, _e("minutes_signers_named", chair, presiding=[chair], named=members[:2]),
           _e("minutes_finalised", None, sha256=HASH), *extra]
    for i, e in enumerate(out, start=1):
        e["seq"] = i
    return out


def test_the_audit_follows_the_signatures_and_names_who_has_not_signed(record):  # noqa: F811
    entries, roles = record
    chair, members = roles["chair"][0], roles["member"]
    signed = [_e("minutes_signed", pid, signer_id=pid, sha256=HASH) for pid in (chair, members[0])]
    problem, auditor = audit(_with_minutes(entries, roles, *signed))
    assert problem is None and auditor.signed == {chair, members[0]} and auditor.unsigned == (members[1],)


@pytest.mark.parametrize(("who", "over", "expected"), [
    ("member2", HASH, "was not named to sign"),  # a member not named
    ("chair", "c" * 64, "other minutes"),
    ("twice", HASH, "second signature"),
])
def test_the_audit_names_a_signature_out_of_place(record, who, over, expected):  # noqa: F811
    entries, roles = record
    chair, members = roles["chair"][0], roles["member"]
    signer = {"member2": members[2], "chair": chair, "twice": members[0]}[who]
    extra = [_e("minutes_signed", signer, signer_id=signer, sha256=over)]
    if who == "twice":
        extra *= 2
    problem, _ = audit(_with_minutes(entries, roles, *extra))
    assert problem is not None and expected in problem.reason


def test_the_audit_refuses_a_signature_before_the_minutes_are_final(record):  # noqa: F811
    entries, roles = record
    chair = roles["chair"][0]
    early = [*entries, _e("minutes_signed", chair, signer_id=chair, sha256=HASH)]
    for i, e in enumerate(early, start=1):
        e["seq"] = i
    problem, _ = audit(early)
    assert problem is not None and "before the minutes were finalised" in problem.reason
