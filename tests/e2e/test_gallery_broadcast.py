"""The gallery falls back to the broadcast: with `--broadcast` and one WebRTC seat, a second
visitor finds the seats full and is shown the sitting through the HLS stream instead (the page's
own small MSE player), with the view's panels still live; the picture follows the floor."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import ARTIFACTS, launch_browser, start_server, stop_server
from .helpers import HEARD, LANDSCAPE, screenshots, text_of, wait_for
from .test_gallery import CHAIR, CHAIR_BLUE, QUIET, SPEAKER, SPEAKER_BLUE, Chamber, hook, open_sitting, picture_is

pytestmark = pytest.mark.e2e

SERVER_ARGS = ["--no-presence-detection", "--gallery-max-viewers", "1", "--broadcast"]


@pytest.fixture
def gallery(tmp_path: Path, playwright_instance: Any, request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    server = start_server(tmp_path, extra=SERVER_ARGS)
    chamber = Chamber(server.base_url)
    browser = None
    try:
        joined = chamber.join(server.links[CHAIR], CHAIR_BLUE, 440.0)
        chamber.join(server.links[SPEAKER], SPEAKER_BLUE, 880.0)
        for link in QUIET:
            chamber.join(server.links[link])
        browser = launch_browser(playwright_instance)
        page = browser.new_context(viewport=LANDSCAPE, locale="ja-JP").new_page()
        url = f"{server.base_url}/gallery/{joined['meeting']['id']}"
        page.goto(url)
        yield {"page": page, "chamber": chamber, "url": url, "browser": browser}
    finally:
        try:
            if browser is not None:
                browser.close()
            chamber.close()
        finally:
            stop_server(server.process)
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / f"e2e-server-gallery-broadcast-{request.node.name}.log").write_bytes(server.log.read_bytes())


def test_a_visitor_who_finds_the_seats_full_watches_the_broadcast(gallery: dict[str, Any], artifacts: Path) -> None:
    page, chamber = gallery["page"], gallery["chamber"]
    open_sitting(gallery)  # the first visitor holds the one WebRTC seat
    other = gallery["browser"].new_context(viewport=LANDSCAPE, locale="ja-JP").new_page()
    try:
        other.goto(gallery["url"])
        wait_for("the broadcast playing", lambda: hook(other, "fallback") and hook(other, "broadcastSegments") >= 2)
        assert not other.get_by_test_id("gallery-full").is_visible()
        assert other.get_by_test_id("gallery-broadcast-note").is_visible()
        assert "放送でご覧いただいています" in text_of(other, "gallery-broadcast-note")
        assert text_of(other, "gallery-state") == "開会中", "the view's panels stay live without a seat"
        start = hook(other, "videoTime")
        wait_for("the broadcast's picture moving on", lambda: hook(other, "videoTime") > start + 2)
        wait_for("the chair in the broadcast", lambda: picture_is(other, CHAIR_BLUE))
        assert not other.get_by_test_id("gallery-caption").is_visible(), "the caption band is in the picture"
        other.get_by_test_id("gallery-sound").click()
        heard = hook(other, "broadcastAudioBytes")
        wait_for("the broadcast's sound decoded", lambda: hook(other, "broadcastAudioBytes") > max(heard, 0) + 10000)
        assert other.evaluate("document.querySelector('[data-testid=gallery-video]').muted") is False
        wait_for("the chair's voice on the broadcast's level meter", lambda: hook(other, "audioLevel()") > HEARD)

        chamber.request(1, "command", name="request_floor", kind="question")
        queue = wait_for("the request", lambda: chamber.members[0].sitting["queue"]["requests"])
        chamber.request(0, "command", name="grant", request_id=queue[0]["id"])
        wait_for("the speaker's name on the fallback page", lambda: "鈴木 一郎(委員)" in text_of(other, "gallery-speaker"))
        wait_for("the speaker in the broadcast", lambda: picture_is(other, SPEAKER_BLUE))
        screenshots(other, artifacts, "gallery-broadcast-fallback")
    finally:
        other.context.close()
    assert hook(page, "fallback") is False, "the visitor with the seat still watches over WebRTC"
