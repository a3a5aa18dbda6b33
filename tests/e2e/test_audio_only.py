"""Audio only (映像を受け取らない) and temporal layers in real Chromium against `gikai serve`: the
camera goes out as VP8 L1T3, the big toggle stops the others' video to this member alone, the
suggestion's one button does the same, and the choice is undone by the toggle."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server
from tests.e2e.helpers import LANDSCAPE, wait_for


def remote_frames(page: Any) -> dict[str, int]:
    return {v["participant"]: v["frames"] for v in page.evaluate("window.gikai.remoteVideos()")}


def frames_stop(page: Any, who: str) -> int:
    """Wait until ``page`` shows no new frame of ``who`` for 1.5 s; the count it stopped at."""
    def still() -> int | None:
        before = remote_frames(page).get(who, 0)
        time.sleep(1.5)  # one poll of the condition "no new frame for 1.5 s"
        after = remote_frames(page).get(who, 0)
        return after if after == before else None
    return wait_for(f"{who}'s video to stop", still)


def frames_grow(page: Any, who: str, by: int = 15) -> None:
    start = remote_frames(page).get(who, 0)
    wait_for(f"{by} more frames of {who}", lambda: remote_frames(page).get(who, 0) >= start + by)


@pytest.fixture(scope="module")
def two(server: Server, browsers: list[Any]) -> Iterator[list[Any]]:
    pages = []
    for browser, link in zip(browsers[:2], server.links[:2], strict=True):
        page = browser.new_context(viewport=LANDSCAPE, locale="ja-JP").new_page()
        page.goto(link)
        page.get_by_test_id("join-button").click()
        pages.append(page)
    yield pages
    for page in pages:
        page.context.close()


def test_the_camera_goes_out_with_three_temporal_layers(two: list[Any]) -> None:
    page = two[0]
    wait_for("a camera sender", lambda: page.evaluate("window.gikai.cameraScalability()"))
    modes = wait_for("the camera encoded as L1T3",
                     lambda: (m := page.evaluate("window.gikai.cameraScalability()")) and "L1T3" in m["encoded"] and m)
    assert modes["asked"] == ["L1T3"]


def test_audio_only_stops_the_others_video_to_this_member_only(two: list[Any], artifacts: Path) -> None:
    a, b = two
    ida = wait_for("a's id", lambda: a.evaluate("window.gikai.state.self?.id"))
    idb = wait_for("b's id", lambda: b.evaluate("window.gikai.state.self?.id"))
    wait_for("a to show b's video", lambda: remote_frames(a).get(idb, 0) > 10)
    wait_for("b to show a's video", lambda: remote_frames(b).get(ida, 0) > 10)
    toggle = a.get_by_test_id("audio-only-toggle")
    assert toggle.get_attribute("aria-pressed") == "false"
    assert toggle.inner_text().strip() == "映像を受け取らない(音声のみ)"

    # The server's suggestion, as its push shows it (the push itself: tests/signaling/test_audio_only.py).
    a.evaluate("document.getElementById('audio-only-suggestion').hidden = false")
    suggestion = a.get_by_test_id("audio-only-suggestion")
    assert "音声だけ" in suggestion.inner_text()
    a.screenshot(path=str(artifacts / "e2e-audio-only-suggested.png"))
    a.get_by_test_id("audio-only-accept").click()  # its one button
    assert suggestion.is_hidden()
    assert toggle.get_attribute("aria-pressed") == "true"

    frames_stop(a, idb)
    frames_grow(b, ida)  # the other member still receives this member's camera
    assert a.evaluate("document.body.classList.contains('audio-only')")
    a.screenshot(path=str(artifacts / "e2e-audio-only-on.png"))

    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "false"
    frames_grow(a, idb)
    a.screenshot(path=str(artifacts / "e2e-audio-only-off.png"))
