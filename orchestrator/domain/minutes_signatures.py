"""Signatures of the minutes (会議録の署名).

The presiding chair (議長) and the members the chair names at the opening (会議録署名議員,
as many as the rules say) sign the hash of the final minutes (Local Autonomy Act art. 123).
Only they may sign, each once, and only over the current final hash: minutes corrected after
a signature need everyone's signature again. Checking the passkey assertion itself is the
edge's job; here a signature is opaque evidence tied to a signer, a hash and a credential.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from gikai.orchestrator.domain.errors import (
    AlreadySigned,
    MinutesNotFinal,
    MinutesSignersInvalid,
    MinutesSignersNotNamed,
    NotASigner,
    SignatureHashMismatch,
)
from gikai.orchestrator.domain.events import Entry
from gikai.orchestrator.domain.rules import StandingRules

CHALLENGE_FORM = "gikai-minutes-signature/1"


@dataclass(frozen=True)
class Signature:
    signer_id: str
    minutes_hash: str
    signed_at: datetime
    credential_id: str
    signature: str  # the passkey assertion, opaque here


@dataclass(frozen=True)
class Signers:
    """Who signs: the chair(s) who presided, then the named members, in that order."""

    presiding: tuple[str, ...]
    named: tuple[str, ...]

    @property
    def required(self) -> tuple[str, ...]:
        return self.presiding + tuple(n for n in self.named if n not in self.presiding)


def name_signers(presiding: Sequence[str], named: Sequence[str], members: Collection[str],
                 rules: StandingRules) -> Signers:
    """The chair names the rules' number of members of the sitting, other than who presides."""
    if not presiding:
        raise MinutesSignersInvalid("someone presided")
    if len(named) != rules.minutes_signers or len(set(named)) != len(named):
        raise MinutesSignersInvalid(f"{rules.minutes_signers} distinct members are named")
    for n in named:
        if n not in members or n in presiding:
            raise MinutesSignersInvalid(f"{n} is not a member of the sitting other than the chair")
    return Signers(tuple(dict.fromkeys(presiding)), tuple(named))


def complete(signatures: Iterable[Signature], required: Iterable[str], minutes_hash: str | None = None) -> bool:
    return not missing(signatures, required, minutes_hash)


def missing(signatures: Iterable[Signature], required: Iterable[str], minutes_hash: str | None = None,
            ) -> tuple[str, ...]:
    """Who has still to sign, in order (only signatures over ``minutes_hash`` count, if given)."""
    signed = {s.signer_id for s in signatures if minutes_hash is None or s.minutes_hash == minutes_hash}
    return tuple(r for r in required if r not in signed)


@dataclass(frozen=True)
class MinutesSignatures:
    """The signatures over one version (hash) of the final minutes."""

    signers: Signers
    minutes_hash: str
    signatures: tuple[Signature, ...] = ()

    def sign(self, signature: Signature) -> MinutesSignatures:
        if signature.signer_id not in self.signers.required:
            raise NotASigner()
        if signature.minutes_hash != self.minutes_hash:
            raise SignatureHashMismatch(f"signed {signature.minutes_hash}, the minutes are {self.minutes_hash}")
        if any(s.signer_id == signature.signer_id for s in self.signatures):
            raise AlreadySigned()
        return replace(self, signatures=(*self.signatures, signature))

    def corrected(self, new_hash: str) -> MinutesSignatures:
        """The minutes were corrected: signatures over the old hash no longer count."""
        if new_hash == self.minutes_hash:
            return self
        return replace(self, minutes_hash=new_hash, signatures=())

    @property
    def complete(self) -> bool:
        return complete(self.signatures, self.signers.required, self.minutes_hash)

    @property
    def missing(self) -> tuple[str, ...]:
        return missing(self.signatures, self.signers.required, self.minutes_hash)


def signing_challenge(meeting_id: str, minutes_hash: str, signer_id: str, nonce: bytes) -> bytes:
    """What the signer's passkey signs: this sitting's final minutes (their sha256), this signer,
    and a fresh nonce (kept on the record, so anyone can recompute the challenge)."""
    text = "\n".join((CHALLENGE_FORM, meeting_id, minutes_hash, signer_id, nonce.hex()))
    return hashlib.sha256(text.encode()).digest()


@dataclass(frozen=True)
class SigningState:
    """The signing of one sitting's minutes as its record tells it."""

    signers: Signers | None  # None: nobody was named at the sitting
    minutes_hash: str | None  # None: the minutes are not final
    signatures: tuple[Signature, ...]

    @property
    def missing(self) -> tuple[str, ...]:
        if self.signers is None or self.minutes_hash is None:
            return ()
        return missing(self.signatures, self.signers.required, self.minutes_hash)

    @property
    def complete(self) -> bool:
        return self.signers is not None and self.minutes_hash is not None and not self.missing

    def current(self) -> MinutesSignatures:
        """The signatures as a value that takes one more (raises when signing is not open)."""
        if self.minutes_hash is None:
            raise MinutesNotFinal()
        if self.signers is None:
            raise MinutesSignersNotNamed()
        return MinutesSignatures(self.signers, self.minutes_hash,
                                 tuple(s for s in self.signatures if s.minutes_hash == self.minutes_hash))


def signing_state(entries: Iterable[tuple[str, datetime, Mapping[str, Any]]]) -> SigningState:
    """Replay ``(name, at, data)`` record entries: the latest naming of signers, the final hash,
    and the signatures recorded."""
    signers: Signers | None = None
    final: str | None = None
    signed: list[Signature] = []
    for name, at, data in entries:
        if name == Entry.MINUTES_SIGNERS_NAMED:
            signers = Signers(tuple(data.get("presiding", ())), tuple(data.get("named", ())))
        elif name == Entry.MINUTES_FINALISED:
            final = str(data.get("sha256"))
        elif name == Entry.MINUTES_SIGNED:
            signed.append(Signature(str(data.get("signer_id")), str(data.get("sha256")), at,
                                    str(data.get("credential_id")), str(data.get("nonce"))))
    return SigningState(signers, final, tuple(signed))
