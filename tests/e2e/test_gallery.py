"""The public gallery (傍聴席) in a real Chromium: a citizen watches the rehearsal committee.

The chair and member 鈴木 publish from Python (aiortc, pre-encoded VP8 and Opus: the chair's
picture is low in blue and sounds 440 Hz, 鈴木's is high in blue and sounds 880 Hz), so the
only browser is the citizen's. Four more members join over plain WebSockets for a quorum of
six; attendance is counted by connection. The gallery holds one viewer (`--gallery-max-viewers
1`), so a second visitor is shown the full page. Each test has a server, a sitting and a
viewer of its own, and brings the sitting to where its story starts itself.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gikai.media.sfu.ice import set_host_addresses
from tests.support.client import MediaClient
from tests.support.encoded import EncodedSourceTrack, encode_opus, encode_vp8
from tests.support.member import SocketMember

from .conftest import ARTIFACTS, launch_browser, start_server, stop_server
from .helpers import HEARD, LANDSCAPE, screenshots, text_of, wait_for

pytestmark = pytest.mark.e2e

SERVER_ARGS = ["--no-presence-detection", "--gallery-max-viewers", "1"]
# Rehearsal join links in printed order: 0 委員長 山田 太郎, 2 鈴木 一郎, 3 高橋 美咲, ...
CHAIR, SPEAKER = 0, 2
QUIET = (3, 4, 5, 6)
CHAIR_BLUE, SPEAKER_BLUE = 30, 225


class Chamber:
    """The members' side of the sitting, on an event loop of its own."""

    def __init__(self, base_url: str) -> None:
        self.ws_url = base_url + "/ws"
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="chamber", daemon=True)
        self.thread.start()
        self.members: list[SocketMember] = []
        set_host_addresses(["127.0.0.1"])

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    def join(self, link: str, blue: int | None = None, tone: float = 0.0) -> dict[str, Any]:
        async def make() -> dict[str, Any]:
            media = None
            if blue is not None:
                media = MediaClient(f"m{len(self.members)}", keep_frames=False,
                                    video=EncodedSourceTrack("video", encode_vp8(colour=(0, 0, blue)), 15),
                                    audio=EncodedSourceTrack("audio", encode_opus(hz=tone), 50))
            member = SocketMember(self.ws_url, link.split("#", 1)[1], media)
            self.members.append(member)
            return await member.start()
        return self.run(make())

    def request(self, index: int, type_: str, **fields: Any) -> dict[str, Any]:
        reply = self.run(self.members[index].request(type_, **fields))
        assert reply["type"] == "reply", reply
        return reply["data"]

    def close(self) -> None:
        async def close_all() -> None:
            await asyncio.gather(*(m.close() for m in self.members), return_exceptions=True)

        try:
            self.run(close_all())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            self.loop.close()
            set_host_addresses(None)


@pytest.fixture
def gallery(tmp_path: Path, playwright_instance: Any, request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """A sitting of its own (a fresh server: the rehearsal sitting can be opened only once) with
    the members in the chamber and one citizen's page on the gallery, before the sitting opens."""
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
            (ARTIFACTS / f"e2e-server-gallery-{request.node.name}.log").write_bytes(server.log.read_bytes())


def hook(page: Any, expression: str) -> Any:
    return page.evaluate(f"window.gikaiGallery && window.gikaiGallery.{expression}")


def picture_is(page: Any, blue: int) -> bool:
    """The picture shown is that publisher's: its blue is far from the red/green gradient's mean."""
    r, g, b = page.evaluate("window.gikaiGallery.colour()")
    return (b - (r + g) / 2 < -50) if blue < 128 else (b - (r + g) / 2 > 50)


def frames_advance(page: Any) -> bool:
    """The picture is live: more frames are shown than a moment ago (waited for, up to the bound)."""
    before = hook(page, "framesShown")
    wait_for("the gallery's picture to advance", lambda: hook(page, "framesShown") > before + 3)
    return True


def view_shown(page: Any) -> None:
    wait_for("the gallery view", lambda: hook(page, "view"))


def open_sitting(gallery: dict[str, Any]) -> None:
    """The chair opens the sitting and takes up the first item; the chair is on screen."""
    page, chamber = gallery["page"], gallery["chamber"]
    view_shown(page)
    chamber.request(0, "command", name="open")
    chamber.request(0, "command", name="take_up", item_id=hook(page, "view.agenda[0].id"))
    wait_for("the open sitting", lambda: text_of(page, "gallery-state") == "開会中")
    wait_for("the chair's picture", lambda: hook(page, "framesShown") > 10 and picture_is(page, CHAIR_BLUE))


def test_before_the_sitting_opens_the_gallery_says_so(gallery: dict[str, Any]) -> None:
    page = gallery["page"]
    view_shown(page)
    assert "模擬委員会 3月定例会" in text_of(page, "gallery-title")
    assert text_of(page, "gallery-state") == "開会前"
    assert "まだ会議は始まっていません" in text_of(page, "gallery-notice")
    assert "議案第1号 令和8年度一般会計予算" in text_of(page, "gallery-agenda")
    assert "公表された採決の結果はまだありません" in text_of(page, "gallery-result")
    body = page.inner_text("body")
    for private in ("佐藤 花子", "高橋 美咲", "定足数"):
        assert private not in body, "no roster, no quorum data in the gallery"


def test_the_chair_opens_and_the_gallery_sees_and_hears_the_chair(gallery: dict[str, Any]) -> None:
    page = gallery["page"]
    open_sitting(gallery)
    assert "山田 太郎(委員長)" in text_of(page, "gallery-caption")
    assert frames_advance(page), "the picture is live"
    page.get_by_test_id("gallery-sound").click()
    wait_for("the chair's voice", lambda: hook(page, "audioLevel()") > HEARD)

    def decoded_and_played() -> bool:
        stats = page.evaluate("window.gikaiGallery.stats()")
        return stats["video"]["framesDecoded"] > 10 and any(a["totalAudioEnergy"] > 0 for a in stats["audio"])

    wait_for("decoded video and played audio in the receiver's statistics", decoded_and_played)
    assert page.get_by_test_id("gallery-sound").inner_text() == "音声を止める"


def test_the_floor_moves_and_the_picture_follows(gallery: dict[str, Any], artifacts: Path) -> None:
    page, chamber = gallery["page"], gallery["chamber"]
    open_sitting(gallery)
    page.get_by_test_id("gallery-sound").click()
    chamber.request(1, "command", name="request_floor", kind="question")
    queue = wait_for("the request", lambda: chamber.members[0].sitting["queue"]["requests"])
    chamber.request(0, "command", name="grant", request_id=queue[0]["id"])
    wait_for("the speaker's name", lambda: "鈴木 一郎(委員)" in text_of(page, "gallery-speaker"))
    assert "質疑" in text_of(page, "gallery-speaker")
    wait_for("the speaker's picture", lambda: picture_is(page, SPEAKER_BLUE))
    assert "発言中" in text_of(page, "gallery-caption") and "鈴木 一郎" in text_of(page, "gallery-caption")
    assert frames_advance(page)
    wait_for("the speaker heard", lambda: hook(page, "audioLevel()") > HEARD)
    screenshots(page, artifacts, "gallery-speaking")


def test_a_recess_is_announced_and_carries_no_media(gallery: dict[str, Any], artifacts: Path) -> None:
    page, chamber = gallery["page"], gallery["chamber"]
    open_sitting(gallery)
    page.get_by_test_id("gallery-sound").click()
    wait_for("the chair's voice before the recess", lambda: hook(page, "audioLevel()") > HEARD)
    chamber.request(0, "command", name="recess")
    wait_for("the recess notice", lambda: "休憩中です" in text_of(page, "gallery-notice"))
    assert text_of(page, "gallery-state") == "休憩中"
    assert not page.get_by_test_id("gallery-video").is_visible()
    wait_for("silence", lambda: hook(page, "audioLevel()") == 0)
    screenshots(page, artifacts, "gallery-recess")
    chamber.request(0, "command", name="resume")
    wait_for("back in session", lambda: text_of(page, "gallery-state") == "開会中")
    wait_for("the picture again", lambda: frames_advance(page))


def test_a_published_result_is_shown_and_nothing_before(gallery: dict[str, Any], artifacts: Path) -> None:
    page, chamber = gallery["page"], gallery["chamber"]
    open_sitting(gallery)
    ballot = chamber.request(0, "ballot", action="open", motion="議案第1号 令和8年度一般会計予算を原案のとおり可決する",
                             kind="named", majority="simple", abstain_allowed=False)["ballot"]
    chamber.request(0, "ballot", action="close", ballot_id=ballot["id"])
    # A change the gallery does show, made after the close: once it is on the page, whatever the
    # close would have shown (it must show nothing) has reached the page before it.
    chamber.request(1, "command", name="request_floor", kind="question")
    queue = wait_for("the request", lambda: chamber.members[0].sitting["queue"]["requests"])
    chamber.request(0, "command", name="grant", request_id=queue[0]["id"])
    wait_for("the speaker's name after the close", lambda: "鈴木 一郎(委員)" in text_of(page, "gallery-speaker"))
    assert "公表された採決の結果はまだありません" in text_of(page, "gallery-result")
    chamber.request(0, "command", name="end_speech")
    wait_for("the chair back on screen", lambda: picture_is(page, CHAIR_BLUE))
    chamber.request(0, "ballot", action="decide_tie", ballot_id=ballot["id"], choice="yes")
    chamber.request(0, "ballot", action="publish", ballot_id=ballot["id"])
    wait_for("the result", lambda: text_of(page, "gallery-outcome") == "可決")
    assert "賛成 0人" in text_of(page, "gallery-counts")
    assert "委員長が決めました" in text_of(page, "gallery-result")
    screenshots(page, artifacts, "gallery-result")
    page.get_by_test_id("lang-en").click()
    assert text_of(page, "gallery-outcome") == "Adopted" and text_of(page, "gallery-state") == "In session"
    screenshots(page, artifacts, "gallery-english")
    page.get_by_test_id("lang-ja").click()


def test_a_second_visitor_finds_the_gallery_full(gallery: dict[str, Any], artifacts: Path) -> None:
    open_sitting(gallery)
    other = gallery["browser"].new_context(viewport=LANDSCAPE, locale="ja-JP").new_page()
    try:
        other.goto(gallery["url"])
        wait_for("the full page", lambda: other.get_by_test_id("gallery-full").is_visible())
        assert "満席です" in other.inner_text("body") and "The gallery is full" in other.inner_text("body")
        assert not other.get_by_test_id("screen-watch").is_visible()
        screenshots(other, artifacts, "gallery-full")
    finally:
        other.context.close()
    assert frames_advance(gallery["page"]), "the viewer inside keeps watching"
