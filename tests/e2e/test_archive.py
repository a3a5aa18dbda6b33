"""The archive pages in a real browser, on a sitting recorded by a real server.

A rehearsal sitting runs through `gikai serve` in two-second recording segments: members
A and B join from Chromium with cameras of clearly different colours, the chair and three
more members over plain sockets (a quorum of six). The chair opens, gives A the floor for
about four seconds, calls a short recess, gives B the floor, and adjourns. Then a viewer finds the sitting at /archive,
opens it, clicks B's speech on the timeline, and the player shows B's recording: the
colour of the video frame, read through a canvas, is B's and not A's.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from .conftest import ARTIFACTS, Server, launch_browser, start_server, stop_server
from .fakemedia import write_wav, write_y4m
from .helpers import LANDSCAPE, open_and_join, screenshots, self_id, text_of, wait_for
from .socketmembers import SocketMembers

pytestmark = pytest.mark.e2e

# Rehearsal join links in printed order: 0 委員長 山田 太郎, 2 鈴木 一郎, 3 高橋 美咲, ...
CHAIR, A, B = 0, 2, 3
OTHERS = (4, 5, 6)
HUES = {"a": 0, "b": 200}  # far apart: A reads magenta-red, B green-cyan
SPEECH_SECONDS = 4.0
RECESS_SECONDS = 2.0
SERVER_ARGS = ["--no-presence-detection", "--recording-segment-seconds", "2"]


def clip_colour(path: Path, width: int, height: int) -> np.ndarray:
    """The mean RGB of a y4m clip's first frame (BT.601, full range as the browser shows it)."""
    with open(path, "rb") as f:
        f.readline()
        f.readline()
        y = np.frombuffer(f.read(width * height), np.uint8).reshape(height, width).astype(float)
        u = np.frombuffer(f.read(width * height // 4), np.uint8).reshape(height // 2, width // 2).astype(float)
        v = np.frombuffer(f.read(width * height // 4), np.uint8).reshape(height // 2, width // 2).astype(float)
    u, v = u.repeat(2, 0).repeat(2, 1) - 128, v.repeat(2, 0).repeat(2, 1) - 128
    rgb = np.stack([y + 1.402 * v, y - 0.344 * u - 0.714 * v, y + 1.772 * u], axis=-1)
    return np.clip(rgb, 0, 255).reshape(-1, 3).mean(axis=0)


@pytest.fixture(scope="module")
def recorded(playwright_instance: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Run the sitting; yield the running server, the meeting id, the members' ids and colours."""
    root = tmp_path_factory.mktemp("gikai-archive")
    server = start_server(root, extra=SERVER_ARGS)
    browsers: list[Any] = []
    try:
        facts = run_sitting(server, playwright_instance, root, browsers)
        for browser in browsers:  # the members leave; the viewer's browser is new
            browser.close()
        browsers.clear()
        yield {"server": server, **facts}
    finally:
        for browser in browsers:
            browser.close()
        stop_server(server.process)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "e2e-server-test_archive.log").write_bytes(server.log.read_bytes())


def run_sitting(server: Server, playwright: Any, folder: Path, browsers: list[Any]) -> dict[str, Any]:
    pages, colours = {}, {}
    for name, link in (("a", A), ("b", B)):
        camera = write_y4m(folder / f"camera-{name}.y4m", seconds=2, hue=HUES[name], width=320, height=180)
        microphone = write_wav(folder / f"microphone-{name}.wav", seconds=3, pitch=130 if name == "a" else 190)
        colours[name] = clip_colour(camera, 320, 180)
        browsers.append(launch_browser(playwright, camera, microphone))
        pages[name] = open_and_join(browsers[-1], server.links[link])
    ids = {name: self_id(page) for name, page in pages.items()}
    members = SocketMembers(server.base_url)
    try:
        members.join(server.links[CHAIR])
        for link in OTHERS:
            members.join(server.links[link])
        wait_for("a quorum", lambda: members.sitting().get("quorum", {}).get("met"), timeout=30)
        assert members.command(0, "open")["type"] == "reply"
        wait_for("open", lambda: text_of(pages["a"], "sitting-state") == "開会中", timeout=20)
        item = members.sitting()["agenda"][0]["id"]
        assert members.command(0, "take_up", item_id=item)["type"] == "reply"
        time.sleep(2.0)  # the chair speaks a little first
        for name in ("a", "b"):
            pages[name].get_by_test_id("request-floor").click()
            request = wait_for(f"{name}'s request", lambda n=name: next(
                (r["id"] for r in members.sitting()["queue"]["requests"] if r["participant_id"] == ids[n]), None),
                timeout=20)
            assert members.command(0, "grant", request_id=request)["type"] == "reply"
            wait_for(f"{name} has the floor", lambda n=name: pages[n].get_by_test_id("you-have-floor").is_visible(),
                     timeout=20)
            time.sleep(SPEECH_SECONDS)
            assert members.command(0, "end_speech")["type"] == "reply"
            time.sleep(1.0)
            if name == "a":  # a short recess between the two speeches
                assert members.command(0, "recess")["type"] == "reply"
                time.sleep(RECESS_SECONDS)
                assert members.command(0, "resume")["type"] == "reply"
                time.sleep(1.0)
        meeting_id = members.sitting()["meeting_id"]
        assert members.command(0, "adjourn")["type"] == "reply"
    finally:
        members.close()
    return {"meeting_id": meeting_id, "ids": ids, "colours": colours}


def get(url: str) -> tuple[int, bytes, str]:
    with urllib.request.urlopen(url, timeout=30) as reply:
        return reply.status, reply.read(), reply.headers.get("Content-Type", "")


FRAME_COLOUR = """() => {
    const v = document.querySelector('[data-testid=player-stage] video[data-deck=front]');
    if (!v || !v.videoWidth || v.seeking || v.readyState < 2) return null;
    const c = document.createElement('canvas');
    c.width = 64; c.height = 36;
    const g = c.getContext('2d');
    g.drawImage(v, 0, 0, c.width, c.height);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    const sum = [0, 0, 0];
    for (let i = 0; i < d.length; i += 4) { sum[0] += d[i]; sum[1] += d[i + 1]; sum[2] += d[i + 2]; }
    const n = d.length / 4;
    return {rgb: sum.map((x) => x / n), who: v.dataset.participant, t: window.gikaiArchive.player.t};
}"""


def frame_of(page: Any, who: str) -> dict[str, Any]:
    """The colour of the picture on screen, once it is ``who``'s recording."""
    return wait_for(f"{who}'s picture on screen", lambda: (f := page.evaluate(FRAME_COLOUR)) and f["who"] == who and f,
                    timeout=20)


def nearer(rgb: list[float], colours: dict[str, np.ndarray]) -> str:
    return min(colours, key=lambda name: float(np.linalg.norm(np.asarray(rgb) - colours[name])))


@pytest.fixture(scope="module")
def viewer(recorded: dict[str, Any], playwright_instance: Any) -> Iterator[Any]:
    browser = launch_browser(playwright_instance)
    try:
        yield browser.new_context(viewport=LANDSCAPE, locale="ja-JP").new_page()
    finally:
        browser.close()


def test_the_archive_finds_the_sitting_by_speaker_and_lists_it_with_its_era_date(
    recorded: dict[str, Any], viewer: Any, artifacts: Path
) -> None:
    page, server = viewer, recorded["server"]
    page.goto(server.base_url + "/archive")
    card = page.locator(f"[data-testid=archive-result][data-meeting-id='{recorded['meeting_id']}']")
    card.wait_for()
    assert text_of(page, "results-heading") == "すべての会議(1件)"
    assert text_of(page, "result-date").startswith("令和")
    assert "模擬委員会" in card.inner_text() and "議案第1号" in card.inner_text()
    screenshots(page, artifacts, "e2e-archive-list", full_page=True)

    page.get_by_test_id("search-speaker").fill("佐藤 花子")  # a member who never spoke
    page.get_by_test_id("search-submit").click()
    wait_for("no result", lambda: page.get_by_test_id("archive-result").count() == 0
             and "見つかりませんでした" in text_of(page, "results-heading"))
    page.get_by_test_id("search-speaker").fill("高橋")
    page.get_by_test_id("search-q").fill("予算")
    page.get_by_test_id("search-submit").click()
    wait_for("the sitting found", lambda: page.get_by_test_id("archive-result").count() == 1
             and text_of(page, "results-heading") == "見つかった会議(1件)")
    assert "speaker=" in page.url, "the search is kept in the address"
    page.get_by_test_id("result-link").click()
    page.wait_for_url(f"**/archive/{recorded['meeting_id']}")


def test_clicking_b_s_speech_on_the_timeline_plays_b_s_recording(recorded: dict[str, Any], viewer: Any,
                                                                  artifacts: Path) -> None:
    page, ids, colours = viewer, recorded["ids"], recorded["colours"]
    page.get_by_test_id("timeline-svg").wait_for()
    speeches = page.locator("[data-testid=timeline-svg] g.speech")
    assert sorted(speeches.evaluate_all("els => els.map(e => e.dataset.participant)")) == sorted(ids.values())
    assert page.get_by_test_id("speech-button").count() == 2
    sitting = page.evaluate("window.gikaiArchive.sitting")
    b_speech = next(s for s in sitting["speeches"] if s["holder_id"] == ids["b"])
    assert SPEECH_SECONDS - 1 < b_speech["end"] - b_speech["start"] < SPEECH_SECONDS + 3

    page.locator(f"[data-testid=timeline-svg] g.speech[data-participant='{ids['b']}']").click()
    frame = frame_of(page, ids["b"])
    assert abs(frame["t"] - b_speech["start"]) < 0.05, "the click seeks to the start of B's speech"
    assert nearer(frame["rgb"], colours) == "b", (frame, colours)
    assert "高橋 美咲" in text_of(page, "player-now")
    assert page.locator(f"[data-testid=speech-button][data-participant-id='{ids['b']}']").get_attribute(
        "aria-current") == "true"
    screenshots(page, artifacts, "e2e-archive-sitting", full_page=True)

    # Playing on: the clock runs and the picture stays B's, across B's two-second files.
    page.get_by_test_id("play").click()
    wait_for("the sitting clock to run", lambda: page.evaluate("window.gikaiArchive.player.t") > b_speech["start"] + 2.2,
             timeout=20)
    playing = frame_of(page, ids["b"])
    assert nearer(playing["rgb"], colours) == "b", (playing, colours)
    assert page.evaluate("[...document.querySelectorAll('[data-testid=player-stage] audio')]"
                         ".some(a => !a.paused && a.dataset.participant === '" + ids["b"] + "')"), "B is heard"

    # In recess nobody is on screen, and the recess can be skipped.
    [(recess_start, recess_end)] = sitting["recesses"]
    page.get_by_test_id("play").click()  # pause
    page.locator("[data-testid=timeline-svg] g.recess text").click()
    wait_for("休憩中", lambda: "休憩中" in text_of(page, "stage-message"))
    assert abs(page.evaluate("window.gikaiArchive.player.t") - recess_start) < 0.05
    page.get_by_test_id("skip-recess").click()
    wait_for("after the recess", lambda: page.get_by_test_id("stage-message").is_hidden()
             or "休憩中" not in text_of(page, "stage-message"))
    assert abs(page.evaluate("window.gikaiArchive.player.t") - recess_end) < 0.05

    # A's speech from the list: A's picture.
    page.locator(f"[data-testid=speech-button][data-participant-id='{ids['a']}']").click()
    assert nearer(frame_of(page, ids["a"])["rgb"], colours) == "a"
    assert page.get_by_test_id("play").get_attribute("data-state") == "playing"
    page.get_by_test_id("play").click()
    wait_for("paused", lambda: page.get_by_test_id("play").get_attribute("data-state") == "paused")


def test_the_minutes_pdf_downloads(recorded: dict[str, Any], viewer: Any) -> None:
    page = viewer
    with page.expect_download() as download:
        page.get_by_test_id("minutes-pdf-ja").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    status, body, kind = get(f"{recorded['server'].base_url}/api/archive/{recorded['meeting_id']}/minutes.pdf?lang=en")
    assert status == 200 and body.startswith(b"%PDF") and kind == "application/pdf"
    assert page.get_by_test_id("minutes-html-en").get_attribute("href").endswith("minutes.html?lang=en")
    assert page.get_by_test_id("render-start").count() == 0, "only the clerk makes the video"


def test_the_clerk_makes_the_publishable_video_and_a_reload_finds_the_job(
    recorded: dict[str, Any], playwright_instance: Any, artifacts: Path
) -> None:
    server = recorded["server"]
    browser = launch_browser(playwright_instance)
    try:
        page = browser.new_context(viewport=LANDSCAPE, locale="ja-JP").new_page()
        page.goto(server.localhost_url + "/login")
        page.get_by_test_id("clerk-username").fill("clerk")
        page.get_by_test_id("clerk-password").fill(server.clerk_password)
        page.get_by_test_id("clerk-login").click()
        page.wait_for_url("**/admin")
        page.goto(f"{server.localhost_url}/archive/{recorded['meeting_id']}")
        page.get_by_test_id("render-start").click()
        wait_for("the job under way or done", lambda: page.get_by_test_id("render-progress").count()
                 or page.get_by_test_id("render-download").count())
        page.reload()  # the job lives on the server
        download = page.get_by_test_id("render-download")
        download.wait_for(timeout=180_000)
        assert download.get_attribute("href").endswith("/video.mp4")
        page.get_by_test_id("render").scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "e2e-archive-render-1024x768.png"))
        status, body, kind = get(f"{server.base_url}/api/archive/{recorded['meeting_id']}/video.mp4")
        assert status == 200 and kind == "video/mp4" and body[4:8] == b"ftyp"
    finally:
        browser.close()


def test_the_programme_follows_the_floor_and_hears_the_chair_with_the_speaker(viewer: Any) -> None:
    """archive/programme.js on a made-up sitting: the chair between speeches, nobody in recess."""
    found = viewer.evaluate("""async () => {
        const p = await import('/static/js/archive/programme.js');
        const s = {duration: 100, recesses: [[40, 50]], items: [], tracks: [
            {participant_id: 'm', kind: 'video', segments: [{path: 'm1', start: 0, end: 30}, {path: 'm2', start: 30, end: null}]}],
            people: [{id: 'c', role: 'chair'}, {id: 'm', role: 'member'}],
            speeches: [{holder_id: 'm', start: 10, end: 20}, {holder_id: 'c', start: 60, end: 70}]};
        return {
            who: [5, 15, 45, 65, 80].map((t) => p.floorAt(s, t).who),
            heard: [5, 15, 45].map((t) => p.heardAt(s, t)),
            cuts: [0, 10, 20, 40, 50, 70].map((t) => p.nextCut(s, t)),
            source: [p.sourceAt(s, 'm', 'video', 35), p.sourceAt(s, 'm', 'audio', 35)],
            files: [p.nextFile(s, 'm', 'video', 12), p.nextFile(s, 'm', 'video', 31)],
        };
    }""")
    assert found["who"] == ["c", "m", None, "c", "c"]
    assert found["heard"] == [["c"], ["m", "c"], []]
    assert found["cuts"] == [10, 20, 40, 50, 60, 100]
    assert found["source"] == [{"segment": {"path": "m2", "start": 30, "end": None}, "offset": 5}, None]
    assert found["files"] == [30, 100]
