"""Signing the final minutes (会議録の署名, Local Autonomy Act art. 123).

After the clerk finalises the minutes (service/transcripts.py), the chair who presided and the
members the chair named at the sitting each sign the minutes' sha256 with their passkey. The
edge checks the passkey assertion against a challenge derived from that hash
(domain/minutes_signatures.py ``signing_challenge``); this service checks who may sign what and
puts the signature on the sitting's signed record, with everything ``gikai verify`` needs to check
the assertion again offline (the credential's public key, the nonce, the relying party).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gikai.orchestrator.domain.errors import AlreadySigned, NotASigner
from gikai.orchestrator.domain.events import Entry, Event
from gikai.orchestrator.domain.minutes_signatures import Signature, SigningState, signing_state
from gikai.orchestrator.service.ports import LiveSittings
from gikai.orchestrator.service.signing import Signer
from gikai.orchestrator.service.sittings import utcnow
from gikai.orchestrator.service.unit_of_work import UnitOfWorkFactory

_NAMES = (Entry.MINUTES_SIGNERS_NAMED, Entry.MINUTES_FINALISED, Entry.MINUTES_SIGNED)


@dataclass(frozen=True)
class SignatureEvidence:
    """A verified passkey assertion over the signing challenge, as it goes on the record."""

    credential_id: str
    public_key: str  # the credential's COSE public key, base64url
    nonce: str  # hex; the challenge is recomputed from it
    rp_id: str
    origin: str
    assertion: dict[str, Any]  # the browser's response, as sent


class MinutesSigning:
    def __init__(self, units: UnitOfWorkFactory, sittings: LiveSittings, signer: Signer,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._units = units
        self._sittings = sittings
        self._signer = signer
        self._clock = clock

    async def state(self, meeting_id: str) -> SigningState:
        async with self._units() as uow:
            return signing_state(await uow.record.named_entries(meeting_id, list(_NAMES)))

    async def status(self, meeting_id: str) -> dict[str, Any]:
        """Who signs, who has signed (and when, with its time zone: the record's clock is UTC),
        over which hash; for the archive page."""
        state = await self.state(meeting_id)
        async with self._units() as uow:
            people = {p.id: p for p in await uow.directory.participants(meeting_id)}
        current = {s.signer_id: s for s in state.signatures if s.minutes_hash == state.minutes_hash}
        signers = []
        if state.signers is not None:
            for pid in state.signers.required:
                p = people.get(pid)
                signed = current.get(pid)
                signers.append({"id": pid, "name": p.name if p else pid, "member_id": p.member_id if p else None,
                                "presiding": pid in state.signers.presiding,
                                "signed_at": signed.signed_at.replace(tzinfo=UTC).isoformat() if signed else None})
        return {"sha256": state.minutes_hash, "named": state.signers is not None, "signers": signers,
                "complete": state.complete}

    async def signer_of(self, meeting_id: str, member_id: str) -> tuple[str, str]:
        """The participant who may sign now for this member, and the hash to sign; raises
        MinutesNotFinal, MinutesSignersNotNamed, NotASigner or AlreadySigned."""
        state = await self.state(meeting_id)
        signatures = state.current()
        async with self._units() as uow:
            people = await uow.directory.participants(meeting_id)
        mine = [p.id for p in people if p.member_id is not None and p.member_id == member_id]
        pid = next((p for p in mine if p in signatures.signers.required), None)
        if pid is None:
            raise NotASigner()
        if any(s.signer_id == pid for s in signatures.signatures):
            raise AlreadySigned()
        return pid, signatures.minutes_hash

    async def sign(self, meeting_id: str, signer_id: str, minutes_hash: str, evidence: SignatureEvidence) -> str:
        """Record one signature over ``minutes_hash``; returns the entry's hash (a receipt).
        Under the sitting's lock: two signatures at once are both checked against the other."""
        async with self._sittings.hold(meeting_id), self._units() as uow:
            state = signing_state(await uow.record.named_entries(meeting_id, list(_NAMES)))
            now = self._clock()
            state.current().sign(Signature(signer_id, minutes_hash, now, evidence.credential_id, evidence.nonce))
            event = Event(Entry.MINUTES_SIGNED, now, signer_id, {
                "signer_id": signer_id, "sha256": minutes_hash, "credential_id": evidence.credential_id,
                "public_key": evidence.public_key, "nonce": evidence.nonce, "rp_id": evidence.rp_id,
                "origin": evidence.origin, "assertion": evidence.assertion})
            appended = await uow.record.append(meeting_id, [event], self._signer.sign)
            await uow.commit()
        return appended[-1][1]
