"""The page shell (signaling/http/pages.py): every page is served whole from one shell, and
preloads exactly the modules its entry module loads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiohttp import web

from gikai.signaling.http import pages
from gikai.signaling.http.routes import setup_routes

STATIC_LINE = re.compile(r"^[ \t]*(?:import\b(?!\s*\()|export\b.*\bfrom\b)", re.MULTILINE)


def preloads(html: str) -> list[str]:
    return re.findall(r'<link rel="modulepreload" href="([^"]+)">', html)


def test_the_import_reader_finds_every_static_import_and_nothing_else(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    js = tmp_path / "js"
    (js / "views").mkdir(parents=True)
    for name in ("a.js", "b.js", "c.js", "d.js", "e.js", "views/f.js", "lazy.js"):
        (js / name).write_text("", encoding="utf-8")
    (js / "main.js").write_text(
        '/** @typedef {import("./lazy.js").T} T */\n'
        'import "./a.js";\n'
        "import {\n  one,\n  two as $,\n} from './b.js';\n"
        'import * as all from "./c.js";\n'
        'import d, { e } from "./d.js";\n'
        'export { x } from "./e.js";\n'
        'export const text = "./lazy.js";\n'
        'import { f } from "/static/js/views/f.js";\n'
        'const later = () => import("./lazy.js");\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(pages, "WEB_DIR", tmp_path)
    monkeypatch.setattr(pages, "JS_DIR", js)
    found = [p.relative_to(js).as_posix() for p in pages.imports_of(js / "main.js")]
    assert found == ["a.js", "b.js", "c.js", "d.js", "e.js", "views/f.js"]


def test_a_missing_module_is_an_error_not_a_silent_gap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    js = tmp_path / "js"
    js.mkdir()
    (js / "main.js").write_text('import { gone } from "./gone.js";\n', encoding="utf-8")
    monkeypatch.setattr(pages, "WEB_DIR", tmp_path)
    monkeypatch.setattr(pages, "JS_DIR", js)
    with pytest.raises(ValueError, match=r"gone\.js"):
        pages.module_graph("main.js")


def test_every_module_under_web_js_has_all_its_static_imports_read() -> None:
    for module in sorted(pages.JS_DIR.rglob("*.js")):
        text = module.read_text(encoding="utf-8")
        assert len(pages.imports_of(module)) == len(STATIC_LINE.findall(text)), module


@pytest.mark.parametrize("name", sorted(pages.PAGES))
def test_every_page_preloads_exactly_the_modules_its_entry_loads(name: str) -> None:
    html = pages.render(name).decode()
    page = pages.PAGES[name]
    listed = preloads(html)
    assert listed[0] == f"/static/js/{page.entry}"
    assert len(listed) == len(set(listed))
    # The closure under imports: everything listed is loaded, and everything loaded is listed.
    closure = set(listed)
    for url in listed:
        module = pages.WEB_DIR / url.removeprefix("/static/")
        assert module.is_file(), url
        for target in pages.imports_of(module):
            assert pages.STATIC + target.relative_to(pages.WEB_DIR).as_posix() in closure, (url, target)
    assert f'<script type="module" src="/static/js/{page.entry}"></script>' in html


def test_the_meeting_and_gallery_pages_preload_the_one_socket_client() -> None:
    member = preloads(pages.render("join").decode())
    gallery = preloads(pages.render("gallery").decode())
    for url in ("/static/js/socket.js", "/static/js/signaling.js", "/static/js/views/dom.js"):
        assert url in member
    assert "/static/js/socket.js" in gallery and "/static/js/views/dom.js" in gallery
    assert "/static/js/store.js" not in gallery, "the gallery loads nothing of the member's state"


@pytest.mark.parametrize("name", sorted(pages.PAGES))
def test_every_page_is_one_whole_document_in_the_shell(name: str) -> None:
    html = pages.render(name).decode()
    fragment = (pages.WEB_DIR / "pages" / f"{name}.html").read_text(encoding="utf-8")
    for tag in ("<html", "<head", "<body", "<header", "<noscript", "modulepreload"):
        assert tag not in fragment, f"{name}: the shell writes {tag}"
    assert html.startswith("<!doctype html>\n<html lang=\"ja\">")
    for once in ("<head>", "<body", '<header class="topbar">', 'data-testid="lang-ja"', 'data-testid="lang-en"',
                 '<meta name="viewport" content="width=device-width, initial-scale=1">', "<noscript>",
                 'href="/static/css/app.css"', 'href="/static/css/controls.css"', '<main'):
        assert html.count(once) == 1, (name, once)
    testids = re.findall(r'data-testid="([^"]+)"', html)
    assert len(testids) == len(set(testids)), f"{name}: a data-testid twice"
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), f"{name}: an id twice"


@pytest.mark.parametrize(("path", "name"), [
    ("/join", "join"), ("/meeting/m1", "join"), ("/login", "login"), ("/enrol", "enrol"),
    ("/admin", "admin"), ("/gallery/m1", "gallery"),
])
async def test_the_server_serves_each_page_from_the_shell_never_stored(aiohttp_client, path: str,  # type: ignore[no-untyped-def]
                                                                       name: str) -> None:
    app = web.Application()
    setup_routes(app)
    client = await aiohttp_client(app)
    response = await client.get(path)
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.content_type == "text/html" and response.charset == "utf-8"
    assert await response.read() == pages.render(name)
