"""What every JSON API shares: its replies and refusals (texts from signaling/errors.py), the
request body, and who may make a request (a session, its CSRF token, this origin).

Text that no database can store is refused at this edge: a lone surrogate (not Unicode) and the
NUL character (PostgreSQL's text cannot hold it), in a JSON body and in an API's address."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from gikai.orchestrator.domain.accounts import Account, AccountKind, LoginSession
from gikai.signaling import errors
from gikai.signaling.auth.sessions import current
from gikai.signaling.config import origin_allowed, request_origin, request_rp_id
from gikai.signaling.wire import is_clean_text

MAX_BODY = 512 * 1024

_STATUS: dict[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest, 401: web.HTTPUnauthorized, 403: web.HTTPForbidden, 404: web.HTTPNotFound,
    422: web.HTTPUnprocessableEntity, 429: web.HTTPTooManyRequests,
}


def fail(status: int, code: str, detail: str = "", texts: errors.Text | None = None) -> web.HTTPException:
    """A refusal as JSON: ``texts`` only where a raised error refines its code's text."""
    body = json.dumps({"ok": False, "code": code, "message": errors.message(code, texts), "detail": detail})
    if status == 413:
        return web.HTTPRequestEntityTooLarge(0, text=body, content_type="application/json")
    return _STATUS[status](text=body, content_type="application/json")


def ok(data: dict[str, Any] | None = None) -> web.Response:
    return web.json_response({"ok": True, **(data or {})})


def origin(request: web.Request) -> str:
    """The expected WebAuthn origin and the base of links: --public-url when set."""
    return request_origin(request)


def rp_id(request: web.Request) -> str:
    return request_rp_id(request)


async def json_body(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise fail(400, "bad_request", "body too large")
    try:
        data = json.loads(await request.text())
    except (ValueError, UnicodeDecodeError):
        raise fail(400, "bad_request", "body is not JSON") from None
    if not isinstance(data, dict):
        raise fail(400, "bad_request", "body must be a JSON object")
    if not is_clean_text(data):
        raise fail(400, "bad_request", "text holds a lone surrogate (not Unicode) or a NUL character")
    return data


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def storable_addresses(request: web.Request, handler: Handler) -> web.StreamResponse:
    """An API address whose path or query holds a NUL character (``%00``) is refused before any
    handler looks an id or a search text up in the database."""
    if request.path.startswith("/api/") and ("\x00" in request.path or "\x00" in request.query_string):
        raise fail(400, "bad_request", "the address holds a NUL character")
    return await handler(request)


def text_field(data: dict[str, Any], name: str, max_len: int = 200, required: bool = True) -> str:
    value = data.get(name, "" if not required else None)
    if not isinstance(value, str) or len(value) > max_len or (required and not value.strip()):
        raise fail(400, "bad_request", f"field '{name}' must be text of at most {max_len} characters")
    return value


def same_origin(request: web.Request) -> None:
    sent = request.headers.get("Origin")
    if sent is not None and not origin_allowed(request, sent):
        raise fail(403, "csrf", "cross-origin request")


async def require(request: web.Request, clerk: bool = False) -> tuple[Account, LoginSession]:
    """The request's login; a change (not GET) also needs this origin and the session's CSRF token."""
    found = await current(request)
    if found is None:
        raise fail(401, "not_logged_in")
    account, login = found
    if request.method != "GET":
        same_origin(request)
        if request.headers.get("X-CSRF-Token") != login.csrf:
            raise fail(403, "csrf", "missing or wrong CSRF token")
    if clerk and account.kind is not AccountKind.CLERK:
        raise fail(403, "not_clerk")
    return account, login
