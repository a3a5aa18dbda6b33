"""``gikai verify``'s check of the minutes' signatures (会議録の署名): each ``minutes_signed`` entry's
passkey assertion is verified again, offline, against the public key and the challenge recomputed
from the entry (the final minutes' sha256, the signer, the nonce); then who was named and has not
signed is named. The audit (orchestrator/domain/audit.py) has already checked who may sign what."""

from __future__ import annotations

from typing import Any

from webauthn.helpers import base64url_to_bytes

from gikai.orchestrator.domain.audit import Auditor
from gikai.orchestrator.domain.events import Entry
from gikai.orchestrator.domain.minutes_signatures import signing_challenge
from gikai.signaling.auth import passkeys
from gikai.signaling.auth.passkeys import PasskeyError


def bad_signature(meeting_id: str, entries: list[dict[str, Any]]) -> str | None:
    """The first signature whose assertion does not verify, described; None when all do."""
    for e in entries:
        if e["name"] != Entry.MINUTES_SIGNED:
            continue
        d = e.get("data") or {}
        try:
            challenge = signing_challenge(meeting_id, str(d["sha256"]), str(d["signer_id"]),
                                          bytes.fromhex(str(d["nonce"])))
            passkeys.verify_authentication(d["assertion"], challenge, str(d["rp_id"]), str(d["origin"]),
                                           base64url_to_bytes(str(d["public_key"])), 0)
            if passkeys.credential_id_of(d["assertion"]) != d["credential_id"]:
                raise PasskeyError("the assertion is of another passkey than the one recorded")
        except (PasskeyError, KeyError, TypeError, ValueError) as exc:
            return f"entry {e['seq']} (minutes_signed by {d.get('signer_id')}): {exc}"
    return None


def names(auditor: Auditor, ids: tuple[str, ...] | list[str]) -> str:
    people = (auditor.context or {}).get("participants", {})
    return "、".join(str(people.get(i, {}).get("name") or i) for i in ids)


def signing_summary(auditor: Auditor) -> str | None:
    """One line on the signatures, or None when nobody was named to sign."""
    if auditor.signers is None:
        return None
    if auditor.minutes_hash is None:
        return f"minutes: not final yet; to be signed by {names(auditor, auditor.signers)}"
    signed = [s for s in auditor.signers if s in auditor.signed]
    line = f"minutes signed by {len(signed)} of {len(auditor.signers)}"
    if signed:
        line += f" ({names(auditor, signed)}; every passkey assertion verified)"
    if auditor.unsigned:
        line += f"; NOT signed by {names(auditor, auditor.unsigned)}"
    return line
