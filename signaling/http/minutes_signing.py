"""Signing the final minutes over HTTP (会議録の署名): the archive page shows who signs and who
has signed; a signer logged in with their passkey asks for a ceremony whose challenge is derived
from the minutes' hash, and sends the assertion back. The assertion is checked here against the
member's own stored passkey, then recorded (orchestrator/service/minutes_signing.py)."""

from __future__ import annotations

import secrets
from functools import partial

from aiohttp import web
from webauthn.helpers import bytes_to_base64url

from gikai.orchestrator.domain.accounts import AccountKind
from gikai.orchestrator.domain.minutes_signatures import signing_challenge
from gikai.orchestrator.domain.voting import NoPasskey
from gikai.orchestrator.service.minutes_signing import SignatureEvidence
from gikai.signaling.auth import passkeys
from gikai.signaling.auth.passkeys import PasskeyError
from gikai.signaling.auth.sessions import ACCOUNTS, current
from gikai.signaling.http.common import fail, json_body, ok, origin, require, rp_id, text_field
from gikai.signaling.http.state import CEREMONIES, MINUTES_SIGNING
from gikai.signaling.http.transcripts import Readable

PURPOSE = "sign_minutes"


def _subject(meeting_id: str, signer_id: str, minutes_hash: str, nonce: str) -> str:
    return f"{meeting_id}:{signer_id}:{minutes_hash}:{nonce}"


async def status(readable: Readable, request: web.Request) -> web.Response:
    meeting_id = await readable(request)
    found = await request.app[MINUTES_SIGNING].status(meeting_id)
    me = None
    account = await _member(request)
    if account is not None:
        me = next((s["id"] for s in found["signers"] if s["member_id"] == account), None)
    for s in found["signers"]:
        del s["member_id"]
    return ok({**found, "me": me})


async def _member(request: web.Request) -> str | None:
    found = await current(request)
    if found is None or found[0].kind is not AccountKind.MEMBER:
        return None
    return found[0].member_id


async def sign_options(readable: Readable, request: web.Request) -> web.Response:
    account, _ = await require(request)
    meeting_id = await readable(request)
    if account.kind is not AccountKind.MEMBER or account.member_id is None:
        raise fail(403, "not_a_signer", "only members sign the minutes")
    signer_id, minutes_hash = await request.app[MINUTES_SIGNING].signer_of(meeting_id, account.member_id)
    allowed = await request.app[ACCOUNTS].member_credentials(account.member_id)
    if not allowed:
        raise NoPasskey()
    nonce = secrets.token_bytes(16).hex()
    challenge = signing_challenge(meeting_id, minutes_hash, signer_id, bytes.fromhex(nonce))
    ceremony, _ = request.app[CEREMONIES].start(PURPOSE, _subject(meeting_id, signer_id, minutes_hash, nonce),
                                                challenge)
    return ok({"ceremony": ceremony, "nonce": nonce, "sha256": minutes_hash,
               "publicKey": passkeys.authentication_options(rp_id(request), challenge,
                                                            [c.credential_id for c in allowed])})


async def sign(readable: Readable, request: web.Request) -> web.Response:
    account, _ = await require(request)
    meeting_id = await readable(request)
    if account.kind is not AccountKind.MEMBER or account.member_id is None:
        raise fail(403, "not_a_signer", "only members sign the minutes")
    data = await json_body(request)
    nonce = text_field(data, "nonce", 64)
    minutes_hash = text_field(data, "sha256", 64)
    signing = request.app[MINUTES_SIGNING]
    signer_id, _ = await signing.signer_of(meeting_id, account.member_id)
    try:
        challenge = request.app[CEREMONIES].take(text_field(data, "ceremony", 100), PURPOSE,
                                                 _subject(meeting_id, signer_id, minutes_hash, nonce))
        credential = data.get("credential")
        credential_id = passkeys.credential_id_of(credential)
        mine = {c.credential_id: c for c in await request.app[ACCOUNTS].member_credentials(account.member_id)}
        stored = mine.get(credential_id)
        if stored is None:
            raise PasskeyError("this passkey is not the signer's own")
        count = passkeys.verify_authentication(credential, challenge, rp_id(request), origin(request),
                                               stored.public_key, stored.sign_count)
    except PasskeyError as exc:
        raise fail(400, "passkey_failed", str(exc)) from None
    await request.app[ACCOUNTS].record_sign_count(credential_id, count)
    assert isinstance(credential, dict)
    evidence = SignatureEvidence(credential_id, bytes_to_base64url(stored.public_key), nonce, rp_id(request),
                                 origin(request), credential)
    receipt = await signing.sign(meeting_id, signer_id, minutes_hash, evidence)
    return ok({"receipt": receipt, **await signing.status(meeting_id)})


def setup_minutes_signing(app: web.Application, readable: Readable) -> None:
    r = app.router
    r.add_get("/api/archive/{meeting_id}/minutes/signatures", partial(status, readable))
    r.add_post("/api/archive/{meeting_id}/minutes/sign/options", partial(sign_options, readable))
    r.add_post("/api/archive/{meeting_id}/minutes/sign", partial(sign, readable))
