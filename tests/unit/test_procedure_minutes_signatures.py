"""Signatures of the minutes: who signs, over which hash, once; complete and missing."""

from datetime import datetime, timedelta

import pytest

from gikai.orchestrator.domain.errors import (
    AlreadySigned,
    MinutesSignersInvalid,
    NotASigner,
    SignatureHashMismatch,
)
from gikai.orchestrator.domain.minutes_signatures import (
    MinutesSignatures,
    Signature,
    Signers,
    complete,
    missing,
    name_signers,
)
from gikai.orchestrator.domain.rules import StandingRules

T = datetime(2026, 6, 20, 9, 0)
MEMBERS = {"chair", "m1", "m2", "m3", "m4"}
HASH = "a" * 64


def sig(signer: str, minutes_hash: str = HASH, minutes: int = 0) -> Signature:
    return Signature(signer, minutes_hash, T + timedelta(minutes=minutes), f"cred-{signer}", "opaque")


def minutes() -> MinutesSignatures:
    return MinutesSignatures(name_signers(["chair"], ["m1", "m2"], MEMBERS, StandingRules()), HASH)


def test_the_chair_names_the_rules_number_of_members():
    signers = name_signers(["chair"], ["m1", "m2"], MEMBERS, StandingRules())
    assert signers == Signers(("chair",), ("m1", "m2")) and signers.required == ("chair", "m1", "m2")
    three = name_signers(["chair"], ["m1", "m2", "m3"], MEMBERS, StandingRules(minutes_signers=3))
    assert three.required == ("chair", "m1", "m2", "m3")


@pytest.mark.parametrize(("presiding", "named"), [
    (["chair"], ["m1"]),  # too few
    (["chair"], ["m1", "m2", "m3"]),  # too many
    (["chair"], ["m1", "m1"]),  # twice
    (["chair"], ["m1", "chair"]),  # the chair signs anyway
    (["chair"], ["m1", "clerk"]),  # not a member of the sitting
    ([], ["m1", "m2"]),  # nobody presided
])
def test_signers_are_named_as_the_rules_say(presiding, named):
    with pytest.raises(MinutesSignersInvalid) as refused:
        name_signers(presiding, named, MEMBERS, StandingRules())
    assert refused.value.code == "minutes_signers_invalid"


def test_a_vice_chair_who_presided_signs_too():
    signers = name_signers(["chair", "m4"], ["m1", "m2"], MEMBERS, StandingRules())
    assert signers.required == ("chair", "m4", "m1", "m2")


def test_everyone_required_signs_and_the_minutes_are_complete():
    m = minutes()
    assert not m.complete and m.missing == ("chair", "m1", "m2")
    m = m.sign(sig("m2"))
    assert m.missing == ("chair", "m1")
    m = m.sign(sig("chair", minutes=1)).sign(sig("m1", minutes=2))
    assert m.complete and m.missing == ()
    assert [s.signer_id for s in m.signatures] == ["m2", "chair", "m1"]


def test_only_named_signers_and_the_presiding_chair_sign():
    with pytest.raises(NotASigner) as refused:
        minutes().sign(sig("m3"))
    assert refused.value.code == "not_a_signer"


def test_a_signature_over_another_hash_is_refused():
    with pytest.raises(SignatureHashMismatch) as refused:
        minutes().sign(sig("m1", "b" * 64))
    assert refused.value.code == "signature_hash_mismatch"


def test_nobody_signs_twice():
    m = minutes().sign(sig("m1"))
    with pytest.raises(AlreadySigned) as refused:
        m.sign(sig("m1", minutes=5))
    assert refused.value.code == "already_signed"


def test_corrected_minutes_need_every_signature_again():
    m = minutes().sign(sig("m1")).sign(sig("chair"))
    assert m.corrected(HASH) is m
    new = m.corrected("c" * 64)
    assert new.signatures == () and new.missing == ("chair", "m1", "m2")
    with pytest.raises(SignatureHashMismatch):
        new.sign(sig("m1"))
    assert new.sign(sig("m1", "c" * 64)).missing == ("chair", "m2")


def test_complete_and_missing_as_functions():
    required = ("chair", "m1", "m2")
    signatures = [sig("chair"), sig("m1"), sig("m2", "old")]
    assert missing(signatures, required) == ()
    assert complete(signatures, required)
    assert missing(signatures, required, HASH) == ("m2",)  # a signature over an old hash does not count
    assert not complete(signatures, required, HASH)
    assert missing([], required) == required
