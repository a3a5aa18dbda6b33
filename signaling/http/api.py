"""The HTTP JSON API: logins (password for the clerk, passkeys for members) and the clerk's admin.

Sessions are HttpOnly, SameSite=Strict cookies; every state-changing request made with a
session must carry the session's CSRF token in ``X-CSRF-Token`` and come from this origin.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from aiohttp import web

from gikai.orchestrator.domain.accounts import (
    Account,
    AccountKind,
    Credential,
    LoginFailed,
    LoginSession,
    NotClerk,
)
from gikai.orchestrator.domain.agenda import ItemKind
from gikai.orchestrator.domain.errors import DomainError, InvalidArgument
from gikai.orchestrator.domain.model import BodyKind, Role
from gikai.orchestrator.service.accounts import token_hash
from gikai.signaling.auth import passkeys
from gikai.signaling.auth.passkeys import PasskeyError
from gikai.signaling.services import Services

logger = logging.getLogger(__name__)

COOKIE = "gikai_session"
MAX_BODY = 512 * 1024

MESSAGES = {
    "bad_request": ("リクエストの内容に誤りがあります。", "The request is not valid."),
    "not_logged_in": ("ログインしてください。", "Please log in."),
    "csrf": ("ページを再読み込みしてから、もう一度お試しください。", "Please reload the page and try again."),
    "passkey_failed": ("パスキーを確認できませんでした。もう一度お試しください。",
                       "The passkey could not be verified. Please try again."),
}


def _fail(status: int, code: str, detail: str = "", text: tuple[str, str] | None = None) -> web.HTTPException:
    ja, en = text or MESSAGES[code]
    body = json.dumps({"ok": False, "code": code, "message": {"ja": ja, "en": en}, "detail": detail})
    return _error_class(status)(text=body, content_type="application/json")


def _error_class(status: int) -> type[web.HTTPException]:
    return {400: web.HTTPBadRequest, 401: web.HTTPUnauthorized, 403: web.HTTPForbidden,
            404: web.HTTPNotFound}[status]


def _ok(data: dict[str, Any] | None = None) -> web.Response:
    return web.json_response({"ok": True, **(data or {})})


def _origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _rp_id(request: web.Request) -> str:
    return request.url.host or "localhost"


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise _fail(400, "bad_request", "body too large")
    try:
        data = json.loads(await request.text())
    except (ValueError, UnicodeDecodeError):
        raise _fail(400, "bad_request", "body is not JSON") from None
    if not isinstance(data, dict):
        raise _fail(400, "bad_request", "body must be a JSON object")
    return data


def _text(data: dict[str, Any], name: str, max_len: int = 200, required: bool = True) -> str:
    value = data.get(name, "" if not required else None)
    if not isinstance(value, str) or len(value) > max_len or (required and not value.strip()):
        raise _fail(400, "bad_request", f"field '{name}' must be text of at most {max_len} characters")
    return value


def _same_origin(request: web.Request) -> None:
    origin = request.headers.get("Origin")
    if origin is not None and not request.app[Services.KEY].origin_allowed(origin, request):
        raise _fail(403, "csrf", "cross-origin request")


async def current(request: web.Request) -> tuple[Account, LoginSession] | None:
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 200:
        return None
    return await request.app[Services.KEY].accounts.session(token)


async def _require(request: web.Request, clerk: bool = False) -> tuple[Account, LoginSession]:
    found = await current(request)
    if found is None:
        raise _fail(401, "not_logged_in")
    account, login = found
    if request.method != "GET":
        _same_origin(request)
        if request.headers.get("X-CSRF-Token") != login.csrf:
            raise _fail(403, "csrf", "missing or wrong CSRF token")
    if clerk and account.kind is not AccountKind.CLERK:
        raise _fail(403, "not_clerk", text=(NotClerk.ja, NotClerk.en))
    return account, login


def _with_session(response: web.Response, request: web.Request, token: str, login: LoginSession) -> web.Response:
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/",
                        secure=request.scheme == "https", max_age=12 * 3600)
    return response


def _me(account: Account, login: LoginSession) -> dict[str, Any]:
    return {"account": {"id": account.id, "kind": account.kind.value, "name": account.display_name,
                        "member_id": account.member_id}, "csrf": login.csrf}


# -- handlers ------------------------------------------------------------------------
@web.middleware
async def domain_errors(request: web.Request, handler):  # type: ignore[no-untyped-def]
    try:
        return await handler(request)
    except DomainError as exc:
        status = 403 if exc.code in ("not_clerk", "not_allowed") else 400
        raise _fail(status, exc.code, exc.detail, (exc.ja, exc.en)) from None
    except PasskeyError as exc:
        raise _fail(400, "passkey_failed", str(exc)) from None


async def login_password(request: web.Request) -> web.Response:
    _same_origin(request)
    data = await _body(request)
    services = request.app[Services.KEY]
    token, login = await services.accounts.login_password(_text(data, "username", 100), _text(data, "password", 200))
    found = await services.accounts.session(token)
    assert found is not None
    return _with_session(_ok(_me(*found)), request, token, login)


async def logout(request: web.Request) -> web.Response:
    _same_origin(request)
    token = request.cookies.get(COOKIE)
    if token:
        await request.app[Services.KEY].accounts.logout(token)
    response = _ok()
    response.del_cookie(COOKIE, path="/")
    return response


async def me(request: web.Request) -> web.Response:
    found = await current(request)
    if found is None:
        raise _fail(401, "not_logged_in")
    return _ok(_me(*found))


async def enrol_options(request: web.Request) -> web.Response:
    _same_origin(request)
    data = await _body(request)
    token = _text(data, "token", 100)
    services = request.app[Services.KEY]
    account = await services.accounts.enrolment_account(token)
    existing = [c.credential_id for c in await services.accounts.credentials(account.id)]
    ceremony, challenge = services.ceremonies.start("register", token_hash(token))
    options = passkeys.registration_options(_rp_id(request), account.id, account.display_name, challenge, existing)
    return _ok({"ceremony": ceremony, "options": options, "name": account.display_name})


async def enrol_verify(request: web.Request) -> web.Response:
    _same_origin(request)
    data = await _body(request)
    token = _text(data, "token", 100)
    services = request.app[Services.KEY]
    account = await services.accounts.enrolment_account(token)
    challenge = services.ceremonies.take(_text(data, "ceremony", 100), "register", token_hash(token))
    credential_id, public_key, count = passkeys.verify_registration(
        data.get("credential"), challenge, _rp_id(request), _origin(request))
    session_token, login = await services.accounts.complete_enrolment(
        token, Credential(credential_id, account.id, public_key, count, datetime.now()))
    return _with_session(_ok(_me(account, login)), request, session_token, login)


async def passkey_options(request: web.Request) -> web.Response:
    _same_origin(request)
    services = request.app[Services.KEY]
    ceremony, challenge = services.ceremonies.start("authenticate")
    return _ok({"ceremony": ceremony, "options": passkeys.authentication_options(_rp_id(request), challenge)})


async def passkey_verify(request: web.Request) -> web.Response:
    _same_origin(request)
    data = await _body(request)
    services = request.app[Services.KEY]
    challenge = services.ceremonies.take(_text(data, "ceremony", 100), "authenticate")
    credential = data.get("credential")
    stored = await services.accounts.credential(passkeys.credential_id_of(credential))
    if stored is None:
        raise LoginFailed("unknown passkey")
    count = passkeys.verify_authentication(credential, challenge, _rp_id(request), _origin(request),
                                           stored.public_key, stored.sign_count)
    token, login = await services.accounts.login_passkey(stored.credential_id, count)
    found = await services.accounts.session(token)
    assert found is not None
    return _with_session(_ok(_me(*found)), request, token, login)


async def my_meetings(request: web.Request) -> web.Response:
    account, _ = await _require(request)
    services = request.app[Services.KEY]
    if account.kind is AccountKind.CLERK:
        meetings = (await services.admin.overview())["meetings"]
    else:
        meetings = [{"id": m.id, "title": m.title, "state": m.state.value,
                     "scheduled_at": m.scheduled_at.isoformat(), "place": m.place}
                    for m in await services.admin.member_meetings(account.member_id or "")]
    return _ok({"meetings": meetings})


# -- the clerk's admin -------------------------------------------------------------------
async def admin_overview(request: web.Request) -> web.Response:
    await _require(request, clerk=True)
    return _ok(await request.app[Services.KEY].admin.overview())


async def admin_create_body(request: web.Request) -> web.Response:
    await _require(request, clerk=True)
    data = await _body(request)
    try:
        kind = BodyKind(data.get("kind", "committee"))
        fixed = int(data.get("fixed_membership"))
    except (ValueError, TypeError):
        raise InvalidArgument("kind must be plenary or committee; fixed_membership a number") from None
    body = await request.app[Services.KEY].admin.create_body(_text(data, "name"), kind, fixed)
    return _ok({"body": {"id": body.id, "name": body.name}})


async def admin_import_roster(request: web.Request) -> web.Response:
    await _require(request, clerk=True)
    data = await _body(request)
    members = await request.app[Services.KEY].admin.import_roster(
        request.match_info["body_id"], _text(data, "csv", 200_000))
    return _ok({"imported": len(members)})


async def admin_create_meeting(request: web.Request) -> web.Response:
    await _require(request, clerk=True)
    data = await _body(request)
    try:
        when = datetime.fromisoformat(_text(data, "scheduled_at", 40))
    except ValueError:
        raise InvalidArgument("scheduled_at must be a date and time like 2026-03-10T10:00") from None
    meeting = await request.app[Services.KEY].admin.create_meeting(
        _text(data, "body_id", 40), _text(data, "title", 300), when.replace(tzinfo=None),
        _text(data, "place", 200, required=False))
    return _ok({"meeting": {"id": meeting.id, "title": meeting.title}})


async def admin_add_item(request: web.Request) -> web.Response:
    await _require(request, clerk=True)
    data = await _body(request)
    try:
        kind = ItemKind(data.get("kind", "bill"))
    except ValueError:
        raise InvalidArgument("unknown item kind") from None
    item = await request.app[Services.KEY].admin.add_agenda_item(
        request.match_info["meeting_id"], _text(data, "title", 500), kind)
    request.app[Services.KEY].sittings.forget(request.match_info["meeting_id"])
    return _ok({"item": {"id": item.id, "title": item.title}})


async def admin_add_participant(request: web.Request) -> web.Response:
    await _require(request, clerk=True)
    data = await _body(request)
    try:
        role = Role(data.get("role", "presenter"))
    except ValueError:
        raise InvalidArgument("unknown role") from None
    meeting_id = request.match_info["meeting_id"]
    p = await request.app[Services.KEY].admin.add_participant(
        meeting_id, _text(data, "name", 100), _text(data, "reading", 100), role)
    request.app[Services.KEY].sittings.forget(meeting_id)
    return _ok({"participant": {"id": p.id, "name": p.name}})


async def admin_enrolment(request: web.Request) -> web.Response:
    await _require(request, clerk=True)
    token = await request.app[Services.KEY].accounts.issue_enrolment(request.match_info["member_id"])
    return _ok({"link": f"{_origin(request)}/enrol#{token}"})


async def admin_revoke(request: web.Request) -> web.Response:
    await _require(request, clerk=True)
    revoked = await request.app[Services.KEY].accounts.revoke_passkeys(request.match_info["member_id"])
    return _ok({"revoked": revoked})


def setup_api(app: web.Application) -> None:
    r = app.router
    r.add_post("/api/login", login_password)
    r.add_post("/api/logout", logout)
    r.add_get("/api/me", me)
    r.add_get("/api/meetings", my_meetings)
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
