"""Votes at the edge: the chair's ballot actions, and a member's passkey-confirmed vote.

A vote takes two requests. ``vote_options`` checks that the member may vote now and returns
WebAuthn request options whose challenge is derived from this ballot, this choice and this
member (orchestrator.domain.voting.vote_challenge), so the passkey signs exactly that.
``vote`` verifies the assertion against that challenge and the member's own passkeys, takes a
still of the member's camera, and hands both to the ballot service, which records the vote.
Refused votes are written to the record (reason only) at most a few times a minute per socket, and
at most a few per member between ballot closes whatever the sockets (the ballot service counts the
rest into one entry at the close).
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from gikai.orchestrator.domain.errors import DomainError
from gikai.orchestrator.domain.model import Participant
from gikai.orchestrator.domain.voting import (
    BallotKind,
    Choice,
    Majority,
    NoPasskey,
    VoteNotConfirmed,
    vote_challenge,
)
from gikai.orchestrator.service.accounts import AccountService
from gikai.orchestrator.service.ballots import BallotService, Evidence
from gikai.signaling.adapters.presence import PresenceBridge
from gikai.signaling.auth import passkeys
from gikai.signaling.auth.passkeys import Ceremonies, PasskeyError
from gikai.signaling.wire import ProtocolError
from gikai.signaling.ws.protocol import BallotAction, Vote, VoteOptions
from gikai.signaling.ws.views import ballot_view

logger = logging.getLogger(__name__)

REFUSALS_LOGGED_PER_MINUTE = 6


def _enum(kind: type, value: str, field: str, rid: Any) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise ProtocolError("bad_message", f"field '{field}' has an unknown value", rid) from None


class VoteDesk:
    """One socket's votes (its refusals are recorded at most REFUSALS_LOGGED_PER_MINUTE a minute)."""

    def __init__(self, ballots: BallotService, accounts: AccountService, ceremonies: Ceremonies,
                 presence: PresenceBridge | None, rp_id: str, origin: str) -> None:
        self.ballots = ballots
        self.accounts = accounts
        self.ceremonies = ceremonies
        self.presence = presence
        self.rp_id = rp_id
        self.origin = origin
        self._refusals: list[float] = []

    # -- the chair -----------------------------------------------------------------
    async def ballot(self, meeting_id: str, actor: str, r: BallotAction) -> dict[str, Any]:
        ballots = self.ballots
        if r.action == "open":
            await ballots.open(meeting_id, actor, r.motion, _enum(BallotKind, r.kind, "kind", r.id),
                               _enum(Majority, r.majority, "majority", r.id), r.abstain_allowed, r.target)
        elif r.action == "close":
            await ballots.close(meeting_id, r.ballot_id, actor)
        elif r.action == "decide_tie":
            await ballots.decide_tie(meeting_id, r.ballot_id, actor, _enum(Choice, r.choice, "choice", r.id))
        else:
            await ballots.publish(meeting_id, r.ballot_id, actor)
        latest = await ballots.latest(meeting_id)
        assert latest is not None
        return {"ballot": ballot_view(latest, with_tally=True)}

    # -- a member ------------------------------------------------------------------
    async def options(self, meeting_id: str, voter: Participant, r: VoteOptions) -> dict[str, Any]:
        choice = _enum(Choice, r.choice, "choice", r.id)
        try:
            await self.ballots.check(meeting_id, r.ballot_id, voter.id, choice)
            allowed = await self._credentials(voter)
        except DomainError as refused:
            await self._log_refusal(meeting_id, voter.id, r.ballot_id, refused.code)
            raise
        nonce = secrets.token_bytes(16)
        challenge = vote_challenge(r.ballot_id, choice, voter.id, nonce)
        ceremony, _ = self.ceremonies.start("vote", self._subject(r.ballot_id, choice, voter.id), challenge)
        return {"ceremony": ceremony,
                "publicKey": passkeys.authentication_options(self.rp_id, challenge, [c.credential_id for c in allowed])}

    async def vote(self, meeting_id: str, voter: Participant, r: Vote) -> dict[str, Any]:
        choice = _enum(Choice, r.choice, "choice", r.id)
        evidence: Evidence | None = None
        try:
            evidence = await self._confirm(meeting_id, voter, r, choice)
            receipt = await self.ballots.cast(meeting_id, r.ballot_id, voter.id, choice, evidence)
        except DomainError as refused:
            await self._keep_sign_count(evidence)
            await self._log_refusal(meeting_id, voter.id, r.ballot_id, refused.code)
            raise
        if not receipt.new:  # a retry of a vote already recorded: the counter still moved on
            await self._keep_sign_count(evidence)
        return {"receipt": {"ballot_id": receipt.ballot_id, "seq": receipt.seq, "hash": receipt.hash,
                            "repeated": not receipt.new}}

    async def _keep_sign_count(self, evidence: Evidence | None) -> None:
        """A verified assertion whose vote was not recorded: its counter is stored on its own
        (a recorded vote stores it in the vote's commit)."""
        if evidence is not None and evidence.credential_id is not None and evidence.sign_count is not None:
            await self.accounts.record_sign_count(evidence.credential_id, evidence.sign_count)

    async def _confirm(self, meeting_id: str, voter: Participant, r: Vote, choice: Choice) -> Evidence:
        try:
            challenge = self.ceremonies.take(r.ceremony, "vote", self._subject(r.ballot_id, choice, voter.id))
            credential_id = passkeys.credential_id_of(r.credential)
            mine = {c.credential_id: c for c in await self._credentials(voter)}
            stored = mine.get(credential_id)
            if stored is None:
                raise PasskeyError("this passkey is not the voter's own")
            count = passkeys.verify_authentication(r.credential, challenge, self.rp_id, self.origin,
                                                   stored.public_key, stored.sign_count)
        except PasskeyError as exc:
            raise VoteNotConfirmed(str(exc)) from None
        still = await self.presence.still(voter.id) if self.presence is not None else None
        known = await self.ballots.latest(meeting_id)  # kept in memory: a ballot's kind never changes
        ballot = known if known is not None and known.id == r.ballot_id else await self.ballots.load(r.ballot_id)
        assertion = r.credential if ballot.kind is BallotKind.NAMED else None  # a secret choice is not kept
        return Evidence(still, assertion, credential_id, count)

    async def _credentials(self, voter: Participant) -> list[Any]:
        if voter.member_id is None:
            raise NoPasskey("only members of the body vote with a passkey")
        found = await self.accounts.member_credentials(voter.member_id)
        if not found:
            raise NoPasskey()
        return found

    @staticmethod
    def _subject(ballot_id: str, choice: Choice, voter_id: str) -> str:
        return f"{ballot_id}:{choice.value}:{voter_id}"

    async def _log_refusal(self, meeting_id: str, voter_id: str, ballot_id: str, code: str) -> None:
        now = time.monotonic()
        self._refusals = [t for t in self._refusals if now - t < 60.0]
        if len(self._refusals) >= REFUSALS_LOGGED_PER_MINUTE:
            return
        self._refusals.append(now)
        try:
            await self.ballots.refused(meeting_id, voter_id, ballot_id, code)
        except Exception:
            logger.exception("could not record a refused vote")

