"""Who is logged in on a request: the HttpOnly session cookie, looked up by the account service."""

from __future__ import annotations

from aiohttp import web

from gikai.orchestrator.domain.accounts import Account, LoginSession
from gikai.orchestrator.service.accounts import AccountService

COOKIE = "gikai_session"
ACCOUNTS = web.AppKey("accounts", AccountService)


async def current(request: web.Request) -> tuple[Account, LoginSession] | None:
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 200:
        return None
    return await request.app[ACCOUNTS].session(token)
