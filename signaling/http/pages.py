"""The HTML pages: one shell (head, header with the language switch) around each page's body.

A page is a title, its style sheets, its entry module, the titles in its header, and its body,
kept in ``web/pages/<name>.html``. Everything else every page shares is written once here.

The shell preloads the entry module's whole static import graph (``<link rel="modulepreload">``),
so a tablet fetches every module at once instead of discovering them one import at a time. The
list is read from the modules' own ``import … from`` statements, so it cannot drift from them.
A page is rendered once per process (the files do not change under a running server).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path

from aiohttp import web

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
JS_DIR = WEB_DIR / "js"
STATIC = "/static/"

NO_STORE = {"Cache-Control": "no-store"}

# Every page's first two style sheets: the layout's base and the shared controls (large buttons).
BASE_STYLES = ("app.css", "controls.css")


@dataclass(frozen=True)
class Page:
    """What one page adds to the shell; ``name`` is its body fragment, ``web/pages/<name>.html``."""

    name: str
    entry: str  # under web/js
    styles: tuple[str, ...]  # under web/css, after BASE_STYLES
    titles: str  # the header's titles: the app's name and the page's heading
    title: str = "gikai"
    body_class: str = ""


def _titles(app_name: str, heading: str, *more: str) -> str:
    return "\n".join(f"      {line}" for line in (app_name, heading, *more))


_APP = '<p class="app-name" data-i18n="app.name">gikai</p>'

PAGES: dict[str, Page] = {page.name: page for page in (
    Page("join", "app.js", ("sitting.css", "vote.css", "documents.css", "remote.css"),
         _titles(_APP, '<h1 class="meeting-title" id="meeting-title" data-testid="meeting-title"></h1>')),
    Page("login", "pages/login.js", ("pages.css",),
         _titles(_APP, '<h1 class="meeting-title" data-i18n="login.title"></h1>'), body_class="page"),
    Page("enrol", "pages/enrol.js", ("pages.css",),
         _titles(_APP, '<h1 class="meeting-title" data-i18n="enrol.title"></h1>'), body_class="page"),
    Page("admin", "pages/admin.js", ("pages.css",),
         _titles(_APP, '<h1 class="meeting-title" data-i18n="admin.title"></h1>'), body_class="page"),
    Page("archive", "pages/archive.js", ("pages.css", "archive.css"),
         _titles(_APP, '<h1 class="meeting-title" data-i18n="archive.title"></h1>'),
         body_class="page archive-page"),
    Page("sitting-archive", "pages/sitting-archive.js", ("pages.css", "archive.css"),
         _titles('<p class="app-name" data-i18n="archive.title"></p>',
                 '<h1 class="meeting-title" id="sitting-title" data-testid="sitting-title"></h1>'),
         body_class="page archive-page"),
    Page("gallery", "pages/gallery.js", ("gallery.css",),
         _titles('<p class="app-name" data-i18n="gallery.app">gikai 傍聴席</p>',
                 '<h1 class="meeting-title" id="title" data-testid="gallery-title"></h1>',
                 '<p class="body-name" id="body-name" data-testid="gallery-body"></p>'),
         title="傍聴席 gikai", body_class="gallery-page"),
    Page("captions", "pages/captions.js", ("captions.css",),
         _titles('<p class="app-name" data-i18n="captions.app">gikai 字幕</p>',
                 '<h1 class="meeting-title" id="title" data-testid="captions-title"></h1>',
                 '<p class="body-name" id="body-name" data-testid="captions-body"></p>'),
         title="字幕 gikai", body_class="captions-page"),
    Page("display", "pages/display.js", ("display.css",),
         _titles('<p class="app-name" data-i18n="display.app">gikai 議場表示</p>',
                 '<h1 class="meeting-title" id="title" data-testid="display-title"></h1>',
                 '<p class="body-name" id="body-name" data-testid="display-body"></p>'),
         title="議場表示 gikai", body_class="display-page"),
)}

SHELL = """<!doctype html>
<html lang="ja">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <title>{title}</title>
  <link rel="icon" href="data:,">
{links}
  <script type="module" src="{entry}"></script>
</head>
<body{body_class}>
  <header class="topbar">
    <div class="titles">
{titles}
    </div>
    <div class="lang" role="group" data-i18n-aria="lang.switch">
      <button type="button" class="lang-button" data-lang="ja" data-testid="lang-ja" lang="ja">日本語</button>
      <button type="button" class="lang-button" data-lang="en" data-testid="lang-en" lang="en">English</button>
    </div>
  </header>
{body}
  <noscript>JavaScript が必要です / JavaScript is required.</noscript>
</body>
</html>
"""

# A static import or re-export at the start of a line: `import "x"`, `import {a, b} from "x"`
# (over several lines too), `import * as n from "x"`, `export {a} from "x"`. Dynamic `import(…)`
# and JSDoc `{import("x").T}` types are not loaded with the module and do not match.
IMPORT = re.compile(
    r"""^[ \t]*(?:import(?=[\s{*])[\s\w${},*]*?|export[\s\w${},*]*?\sfrom)\s*["']([^"']+)["']""",
    re.MULTILINE,
)


def imports_of(module: Path) -> list[Path]:
    """The modules ``module`` imports statically, in the order written."""
    found: list[Path] = []
    for spec in IMPORT.findall(module.read_text(encoding="utf-8")):
        if not spec.startswith((".", "/")):
            raise ValueError(f"{module}: {spec!r} is not a path (no bare imports without a build step)")
        target = (WEB_DIR / spec.removeprefix(STATIC) if spec.startswith("/") else module.parent / spec).resolve()
        if not target.is_relative_to(JS_DIR) or not target.is_file():
            raise ValueError(f"{module}: {spec!r} is not a module under web/js")
        found.append(target)
    return found


def module_graph(entry: str) -> list[str]:
    """Every module the entry loads, itself first, breadth first: as ``/static/js/…`` URLs."""
    start = (JS_DIR / entry).resolve()
    seen = {start}
    order: list[Path] = []
    queue = deque([start])
    while queue:
        module = queue.popleft()
        order.append(module)
        for target in imports_of(module):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return [STATIC + module.relative_to(WEB_DIR).as_posix() for module in order]


@cache
def render(name: str) -> bytes:
    """The whole page ``name`` (a key of PAGES)."""
    page = PAGES[name]
    styles = [f'  <link rel="stylesheet" href="{STATIC}css/{css}">' for css in (*BASE_STYLES, *page.styles)]
    preloads = [f'  <link rel="modulepreload" href="{url}">' for url in module_graph(page.entry)]
    body = (WEB_DIR / "pages" / f"{name}.html").read_text(encoding="utf-8").rstrip("\n")
    return SHELL.format(
        title=escape(page.title),
        links="\n".join(styles + preloads),
        entry=f"{STATIC}js/{page.entry}",
        body_class=f' class="{page.body_class}"' if page.body_class else "",
        titles=page.titles,
        body=body,
    ).encode("utf-8")


def page_handler(name: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The handler that serves page ``name``; never stored, so a reload gets the new client."""
    if name not in PAGES:
        raise KeyError(f"no page {name!r}")

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=render(name), content_type="text/html", charset="utf-8", headers=NO_STORE)

    return handler


__all__ = ["PAGES", "Page", "imports_of", "module_graph", "page_handler", "render"]
