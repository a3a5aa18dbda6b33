"""HTTP routes: the web client's pages and its static files (/healthz and /metrics: signaling/ops/)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from gikai.signaling.http.pages import NO_STORE, page_handler
from gikai.signaling.http.pages import WEB_DIR as WEB_DIR  # archive.py reads it from here


def page(file_name: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The page ``file_name`` ("join.html"), rendered in the one page shell (pages.py)."""
    return page_handler(file_name.removesuffix(".html"))


join_page = page("join.html")


async def index(request: web.Request) -> web.Response:
    html = (
        "<!doctype html><html lang=ja><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        "<title>gikai</title><link rel=stylesheet href=/static/css/index.css><body class=index>"
        "<h1>gikai 議会</h1><p>事務局から届いた参加用リンクを開くか、"
        "<a href=/login>パスキーでログイン</a>してください。</p>"
        "<p lang=en>Open the join link the clerk sent you, or <a href=/login>log in with your passkey</a>.</p>"
        "</body></html>"
    )
    return web.Response(text=html, content_type="text/html", headers=NO_STORE)


async def _revalidate_static(request: web.Request, response: web.StreamResponse) -> None:
    """Scripts and styles are checked with the server on every load (a 304 when unchanged), so a
    tablet never runs an old client against a new server after an upgrade."""
    if request.path.startswith("/static/") and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-cache"


def setup_routes(app: web.Application) -> None:
    app.on_response_prepare.append(_revalidate_static)
    app.router.add_get("/", index)
    app.router.add_get("/join", join_page)
    app.router.add_get("/meeting/{meeting_id}", join_page)  # members, logged in with a passkey
    app.router.add_get("/login", page("login.html"))
    app.router.add_get("/enrol", page("enrol.html"))
    app.router.add_get("/admin", page("admin.html"))
    app.router.add_get("/gallery/{meeting_id}", page("gallery.html"))  # the public gallery, no login
    app.router.add_get("/display/{meeting_id}", page("display.html"))  # the chamber display, no login
    app.router.add_static("/static/", WEB_DIR, follow_symlinks=False)
