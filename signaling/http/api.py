"""The HTTP JSON API: logins (password for the clerk, passkeys for members) and the clerk's admin.

Every route of the HTTP API is described in docs/openapi.yaml (tests/signaling/test_openapi.py
keeps the two in step). Sessions are HttpOnly, SameSite=Strict cookies; every state-changing
request made with a session must carry the session's CSRF token in ``X-CSRF-Token`` and come
from this origin.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from gikai.orchestrator.domain.accounts import (
    Account,
    AccountKind,
    Credential,
    LoginFailed,
    LoginSession,
)
from gikai.orchestrator.domain.agenda import ItemKind
from gikai.orchestrator.domain.errors import DomainError, InvalidArgument, NotFound
from gikai.orchestrator.domain.model import BodyKind, Role
from gikai.orchestrator.service.accounts import token_hash
from gikai.signaling import errors
from gikai.signaling.auth import passkeys
from gikai.signaling.auth.passkeys import PasskeyError
from gikai.signaling.auth.sessions import ACCOUNTS, COOKIE, current
from gikai.signaling.auth.tokens import MAX_TOKEN_CHARS
from gikai.signaling.config import secure_cookies
from gikai.signaling.http.common import fail, json_body, ok, origin, require, rp_id, same_origin, text_field
from gikai.signaling.http.state import ADMIN, CEREMONIES, DIRECTORY, GUESSES, SITTINGS, TOKENS

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# A body's fixed number of members (定数): the largest councils have a few hundred.
MAX_FIXED_MEMBERSHIP = 1000


def _with_session(response: web.Response, request: web.Request, token: str, login: LoginSession) -> web.Response:
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/",
                        secure=secure_cookies(request), max_age=12 * 3600)
    return response


def _me(account: Account, login: LoginSession) -> dict[str, Any]:
    return {"account": {"id": account.id, "kind": account.kind.value, "name": account.display_name,
                        "member_id": account.member_id}, "csrf": login.csrf}


@contextlib.asynccontextmanager
async def guarded(request: web.Request, name: str | None = None) -> AsyncIterator[None]:
    """A login or passkey ceremony, throttled per client address and per account name: after a
    few failures each further try waits longer (orchestrator/domain/throttle.py), and a refused
    try costs no password hash. Any refusal counts as a failure; success forgives."""
    guesses = request.app[GUESSES]
    address = request.remote or "?"
    key = name.strip().casefold() if name is not None else None
    wait = guesses.wait(address, key, time.monotonic())
    if wait:
        logger.warning("refused a login or ceremony from %s for %.0f s more after failures", address, wait)
        error = fail(429, "too_many_attempts", f"try again in {math.ceil(wait)} s")
        error.headers["Retry-After"] = str(math.ceil(wait))
        raise error
    try:
        yield
    except Exception:
        guesses.failed(address, key, time.monotonic())
        raise
    guesses.succeeded(address, key)


# -- handlers ------------------------------------------------------------------------
FORBIDDEN = frozenset({"not_clerk", "not_allowed", "not_a_signer"})  # refusals answered 403


@web.middleware
async def domain_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except DomainError as exc:
        status = 403 if exc.code in FORBIDDEN else 429 if exc.code == "too_many_attempts" else 400
        error = fail(status, exc.code, exc.detail, errors.text_of(exc))
        if status == 429:
            error.headers["Retry-After"] = "1"  # the password checks were queued up: a moment is enough
        raise error from None
    except PasskeyError as exc:
        raise fail(400, "passkey_failed", str(exc)) from None


async def login_password(request: web.Request) -> web.Response:
    same_origin(request)
    data = await json_body(request)
    username = text_field(data, "username", 100)
    async with guarded(request, username):
        token, login = await request.app[ACCOUNTS].login_password(username, text_field(data, "password", 200))
    found = await request.app[ACCOUNTS].session(token)
    assert found is not None
    return _with_session(ok(_me(*found)), request, token, login)


async def logout(request: web.Request) -> web.Response:
    same_origin(request)
    token = request.cookies.get(COOKIE)
    if token:
        await request.app[ACCOUNTS].logout(token)
    response = ok()
    response.del_cookie(COOKIE, path="/", secure=secure_cookies(request), httponly=True, samesite="Strict")
    return response


async def me(request: web.Request) -> web.Response:
    found = await current(request)
    if found is None:
        raise fail(401, "not_logged_in")
    return ok(_me(*found))


async def seat(request: web.Request) -> web.Response:
    """Who is about to join which sitting, for the device check: the holder of a rehearsal join
    token (``X-Join-Token``), or the logged-in member (or clerk) in ``?meeting_id``. Joining
    itself still goes through the socket's own check."""
    directory = request.app[DIRECTORY]
    token = request.headers.get("X-Join-Token")
    if token:
        participant_id = request.app[TOKENS].verify(token[:MAX_TOKEN_CHARS])
        try:
            found = await directory.seat(participant_id) if participant_id else None
        except NotFound:
            found = None
        if found is None or not found.body.rehearsal:
            raise fail(403, "invalid_token")
    else:
        account, _ = await require(request)
        try:
            found = await directory.seat_for_account(request.query.get("meeting_id", ""), account.member_id,
                                                     account.kind is AccountKind.CLERK)
        except NotFound:
            raise fail(403, "not_a_participant") from None
    person, meeting, body = found.participant, found.meeting, found.body
    return ok({"name": person.name, "role": person.role.value, "meeting": {"id": meeting.id, "title": meeting.title},
               "body": {"name": body.name, "plenary": body.kind is BodyKind.PLENARY}})


async def enrol_options(request: web.Request) -> web.Response:
    same_origin(request)
    data = await json_body(request)
    token = text_field(data, "token", 100)
    async with guarded(request):
        account = await request.app[ACCOUNTS].enrolment_account(token)
    existing = [c.credential_id for c in await request.app[ACCOUNTS].credentials(account.id)]
    ceremony, challenge = request.app[CEREMONIES].start("register", token_hash(token))
    options = passkeys.registration_options(rp_id(request), account.id, account.display_name, challenge, existing)
    return ok({"ceremony": ceremony, "options": options, "name": account.display_name})


async def enrol_verify(request: web.Request) -> web.Response:
    same_origin(request)
    data = await json_body(request)
    token = text_field(data, "token", 100)
    async with guarded(request):
        account = await request.app[ACCOUNTS].enrolment_account(token)
        challenge = request.app[CEREMONIES].take(text_field(data, "ceremony", 100), "register", token_hash(token))
        credential_id, public_key, count = passkeys.verify_registration(
            data.get("credential"), challenge, rp_id(request), origin(request))
        session_token, login = await request.app[ACCOUNTS].complete_enrolment(
            token, Credential(credential_id, account.id, public_key, count, datetime.now()))
    return _with_session(ok(_me(account, login)), request, session_token, login)


async def passkey_options(request: web.Request) -> web.Response:
    same_origin(request)
    ceremony, challenge = request.app[CEREMONIES].start("authenticate")
    return ok({"ceremony": ceremony, "options": passkeys.authentication_options(rp_id(request), challenge)})


async def passkey_verify(request: web.Request) -> web.Response:
    same_origin(request)
    data = await json_body(request)
    async with guarded(request):
        challenge = request.app[CEREMONIES].take(text_field(data, "ceremony", 100), "authenticate")
        credential = data.get("credential")
        stored = await request.app[ACCOUNTS].credential(passkeys.credential_id_of(credential))
        if stored is None:
            raise LoginFailed("unknown passkey")
        count = passkeys.verify_authentication(credential, challenge, rp_id(request), origin(request),
                                               stored.public_key, stored.sign_count)
        token, login = await request.app[ACCOUNTS].login_passkey(stored.credential_id, count)
    found = await request.app[ACCOUNTS].session(token)
    assert found is not None
    return _with_session(ok(_me(*found)), request, token, login)


async def my_meetings(request: web.Request) -> web.Response:
    account, _ = await require(request)
    if account.kind is AccountKind.CLERK:
        meetings = (await request.app[ADMIN].overview())["meetings"]
    else:
        meetings = [{"id": m.id, "title": m.title, "state": m.state.value,
                     "scheduled_at": m.scheduled_at.isoformat(), "place": m.place}
                    for m in await request.app[ADMIN].member_meetings(account.member_id or "")]
    return ok({"meetings": meetings})


# -- the clerk's admin -------------------------------------------------------------------
async def admin_overview(request: web.Request) -> web.Response:
    await require(request, clerk=True)
    now = time.monotonic()
    lockouts = [{"kind": lock.kind, "key": lock.key, "failures": lock.failures, "seconds": math.ceil(lock.until - now)}
                for lock in request.app[GUESSES].lockouts(now)]
    return ok({**await request.app[ADMIN].overview(), "lockouts": lockouts})


async def admin_create_body(request: web.Request) -> web.Response:
    await require(request, clerk=True)
    data = await json_body(request)
    try:
        kind = BodyKind(data.get("kind", "committee"))
        fixed_membership: Any = data.get("fixed_membership")  # None or junk: refused below
        fixed = int(fixed_membership)  # JSON's 1e400 is infinity: OverflowError
        if not 1 <= fixed <= MAX_FIXED_MEMBERSHIP:  # beyond it, no database column holds it
            raise ValueError
    except (ValueError, TypeError, OverflowError):
        raise InvalidArgument(
            f"kind must be plenary or committee; fixed_membership a number from 1 to {MAX_FIXED_MEMBERSHIP}") from None
    body = await request.app[ADMIN].create_body(text_field(data, "name"), kind, fixed)
    return ok({"body": {"id": body.id, "name": body.name}})


async def admin_import_roster(request: web.Request) -> web.Response:
    await require(request, clerk=True)
    data = await json_body(request)
    members = await request.app[ADMIN].import_roster(
        request.match_info["body_id"], text_field(data, "csv", 200_000))
    return ok({"imported": len(members)})


async def admin_create_meeting(request: web.Request) -> web.Response:
    await require(request, clerk=True)
    data = await json_body(request)
    try:
        when = datetime.fromisoformat(text_field(data, "scheduled_at", 40))
    except ValueError:
        raise InvalidArgument("scheduled_at must be a date and time like 2026-03-10T10:00") from None
    meeting = await request.app[ADMIN].create_meeting(
        text_field(data, "body_id", 40), text_field(data, "title", 300), when.replace(tzinfo=None),
        text_field(data, "place", 200, required=False))
    return ok({"meeting": {"id": meeting.id, "title": meeting.title}})


async def admin_add_item(request: web.Request) -> web.Response:
    await require(request, clerk=True)
    data = await json_body(request)
    try:
        kind = ItemKind(data.get("kind", "bill"))
    except ValueError:
        raise InvalidArgument("unknown item kind") from None
    item = await request.app[ADMIN].add_agenda_item(
        request.match_info["meeting_id"], text_field(data, "title", 500), kind)
    request.app[SITTINGS].forget(request.match_info["meeting_id"])
    return ok({"item": {"id": item.id, "title": item.title}})


async def admin_add_participant(request: web.Request) -> web.Response:
    await require(request, clerk=True)
    data = await json_body(request)
    try:
        role = Role(data.get("role", "presenter"))
    except ValueError:
        raise InvalidArgument("unknown role") from None
    meeting_id = request.match_info["meeting_id"]
    p = await request.app[ADMIN].add_participant(
        meeting_id, text_field(data, "name", 100), text_field(data, "reading", 100), role)
    request.app[SITTINGS].forget(meeting_id)
    return ok({"participant": {"id": p.id, "name": p.name}})


async def admin_enrolment(request: web.Request) -> web.Response:
    await require(request, clerk=True)
    token = await request.app[ACCOUNTS].issue_enrolment(request.match_info["member_id"])
    return ok({"link": f"{origin(request)}/enrol#{token}"})


async def admin_revoke(request: web.Request) -> web.Response:
    await require(request, clerk=True)
    revoked = await request.app[ACCOUNTS].revoke_passkeys(request.match_info["member_id"])
    return ok({"revoked": revoked})


def setup_api(app: web.Application) -> None:
    r = app.router
    r.add_post("/api/login", login_password)
    r.add_post("/api/logout", logout)
    r.add_get("/api/me", me)
    r.add_get("/api/meetings", my_meetings)
    r.add_get("/api/seat", seat)
    r.add_post("/api/enrol/options", enrol_options)
    r.add_post("/api/enrol/verify", enrol_verify)
    r.add_post("/api/passkey/options", passkey_options)
    r.add_post("/api/passkey/verify", passkey_verify)
    r.add_get("/api/admin/overview", admin_overview)
    r.add_post("/api/admin/bodies", admin_create_body)
    r.add_post("/api/admin/bodies/{body_id}/roster", admin_import_roster)
    r.add_post("/api/admin/meetings", admin_create_meeting)
    r.add_post("/api/admin/meetings/{meeting_id}/agenda", admin_add_item)
    r.add_post("/api/admin/meetings/{meeting_id}/participants", admin_add_participant)
    r.add_post("/api/admin/members/{member_id}/enrolment", admin_enrolment)
    r.add_post("/api/admin/members/{member_id}/revoke", admin_revoke)
