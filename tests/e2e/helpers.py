"""Small helpers shared by the end-to-end modules: polling, joining, hearing, screenshots."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
LANDSCAPE = {"width": 1024, "height": 768}
PORTRAIT = {"width": 768, "height": 1024}
HEARD = 0.05  # analyser level (0..1 on a 60 dB scale): clearly a voice
SILENT = 0.0  # below -60 dBFS the analyser reads exactly zero
AUTHENTICATOR = {
    "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
    "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True,
}


# A browser joining, a page loading, media starting: seconds on a quiet machine, far more on a
# busy 2-core CI machine running three Chromiums. A bound only decides how long a failure takes.
BROWSER_BOUND = 60.0


def wait_for(what: str, probe: Callable[[], T], timeout: float = BROWSER_BOUND, interval: float = 0.1) -> T:
    """Poll ``probe`` until it returns something truthy; fail with ``what`` and the last value
    otherwise. ``timeout`` is raised to at least ``BROWSER_BOUND``: a shorter bound only makes a
    slow machine fail, it proves nothing about the behaviour."""
    timeout = max(timeout, BROWSER_BOUND)
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"waited {timeout:.0f} s for {what}; last value: {last!r}")


def open_and_join(browser: Any, url: str, viewport: dict[str, int] = LANDSCAPE, audio_only: bool = False) -> Any:
    """A fresh context and page that open ``url`` and press Join on the device check;
    ``audio_only``: the member has chosen to receive the others' audio only (映像を受け取らない)."""
    context = browser.new_context(viewport=viewport, locale="ja-JP")
    if audio_only:  # the choice as web/js/audioonly.js keeps it, there before the page's script runs
        context.add_init_script("localStorage.setItem('gikai.audioOnly', '1')")
    page = context.new_page()
    page.goto(url)
    page.get_by_test_id("join-button").click()
    return page


def virtual_authenticator(context: Any, page: Any) -> tuple[Any, str]:
    """A platform authenticator for ``page`` (DevTools WebAuthn): a fingerprint that always matches."""
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    return cdp, added["authenticatorId"]


def self_id(page: Any) -> str:
    return wait_for("join reply", lambda: page.evaluate("window.gikai.state.self?.id"))


def peak_levels(page: Any, seconds: float = 0.8) -> dict[str, float]:
    """The loudest analyser level per remote participant over ``seconds``."""
    return page.evaluate("""async (ms) => {
        const peak = {};
        const until = performance.now() + ms;
        while (performance.now() < until) {
            for (const [id, level] of Object.entries(window.gikai.audioLevels())) {
                peak[id] = Math.max(peak[id] ?? 0, level);
            }
            await new Promise((r) => setTimeout(r, 50));
        }
        return peak;
    }""", int(seconds * 1000))


def wait_heard(page: Any, who: str, what: str, timeout: float = BROWSER_BOUND) -> float:
    """Wait until ``page`` receives ``who``'s voice; returns the level heard."""
    return wait_for(f"{what} to be heard", lambda: (lv := peak_levels(page).get(who, 0.0)) > HEARD and lv,
                    timeout=timeout, interval=0)


def wait_silent(page: Any, who: str, what: str, timeout: float = BROWSER_BOUND) -> None:
    """Wait until ``page`` receives nothing at all from ``who`` (the SFU holds it back)."""
    wait_for(f"{what} to be silent", lambda: peak_levels(page).get(who, 0.0) <= SILENT,
             timeout=timeout, interval=0)


def text_of(page: Any, testid: str) -> str:
    return page.get_by_test_id(testid).first.inner_text()


def screenshots(page: Any, folder: Path, name: str, full_page: bool = False) -> None:
    """``name``-1024x768.png and ``name``-768x1024.png; the page is left in landscape."""
    for size in (LANDSCAPE, PORTRAIT):
        page.set_viewport_size(size)
        page.wait_for_timeout(250)
        page.screenshot(path=str(folder / f"{name}-{size['width']}x{size['height']}.png"), full_page=full_page)
    page.set_viewport_size(LANDSCAPE)


@contextmanager
def served_in_thread(root: Path, prepare: Callable[[Any], Awaitable[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
    """A server in this process, in a thread with its own event loop, on ``localhost`` (a secure
    context for passkeys): ``prepare(app)`` makes its sitting through the services first. Yields
    what ``prepare`` returned, with ``port`` and ``base``."""
    import asyncio
    import threading

    from aiohttp import web

    from gikai.signaling.app import create_app
    from gikai.signaling.config import ServerConfig

    loop = asyncio.new_event_loop()
    ready, found = threading.Event(), {}
    stop = asyncio.Event()

    async def main() -> None:
        app = create_app(ServerConfig(data_dir=root, media_addresses=["127.0.0.1"], presence_detection=False))
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "localhost", 0)
        await site.start()
        try:
            found["port"] = runner.addresses[0][1]
            found.update(await prepare(app))
        finally:
            ready.set()
        await stop.wait()
        await runner.cleanup()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(60) and "meeting_id" in found, "the server and its sitting"
    try:
        yield {**found, "base": f"http://localhost:{found['port']}"}
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
