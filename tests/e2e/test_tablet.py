"""A whole rehearsal sitting on a 10-inch tablet (issue 15): what the chair and a member see
at 1024x768 and 768x1024 (and a 1366x768 laptop), measured from bounding boxes.

The chair and member 鈴木 (A) have pages; six members join over plain WebSockets, make the
quorum and ask for the floor. Attendance is counted by connection (`--no-presence-detection`).
"Visible" below means the element's whole box is inside the viewport and inside every scroll
area around it, and it is what the screen shows at its centre (no dialog or panel over it).
The tests of this module run in order: they follow one sitting from opening to 散会.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import ARTIFACTS, launch_browser, start_server, stop_server
from .fakemedia import write_wav, write_y4m
from .helpers import self_id, text_of, wait_for
from .socketmembers import SocketMembers

pytestmark = pytest.mark.e2e

# Rehearsal join links in printed order: 0 委員長 山田 太郎, 2 鈴木 一郎, then members.
CHAIR, A = 0, 2
SOCKET_ONLY = (3, 4, 5, 6, 7, 8)
SERVER_ARGS = ["--no-presence-detection"]
VIEWPORTS = ({"width": 1024, "height": 768}, {"width": 768, "height": 1024}, {"width": 1366, "height": 768})

# How much of an element's box the screen shows (0..1): clipped by the viewport and by every
# ancestor that clips (scroll areas), and 0 when something else is drawn over its centre.
SHOWN = """(el) => {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height) return 0;
    let l = r.left, t = r.top, rr = r.right, b = r.bottom;
    const clip = (c) => { l = Math.max(l, c.left); t = Math.max(t, c.top); rr = Math.min(rr, c.right); b = Math.min(b, c.bottom); };
    for (let p = el.parentElement; p; p = p.parentElement) {
        const s = getComputedStyle(p);
        if (s.overflowX !== 'visible' || s.overflowY !== 'visible') clip(p.getBoundingClientRect());
    }
    clip({left: 0, top: 0, right: innerWidth, bottom: innerHeight});
    const shown = Math.max(0, rr - l) * Math.max(0, b - t) / (r.width * r.height);
    const top = document.elementFromPoint((l + rr) / 2, (t + b) / 2);
    return top && (el === top || el.contains(top)) ? shown : 0;
}"""

# Every scroll area, and the page itself, scrolled to its end; what the page then shows.
SCROLL_ALL_TO_THE_END = """() => {
    const areas = [...document.querySelectorAll('*')].filter((e) => {
        const s = getComputedStyle(e);
        return e.scrollHeight > e.clientHeight + 1 && /(auto|scroll)/.test(s.overflowY);
    });
    for (const e of areas) e.scrollTop = e.scrollHeight;
    window.scrollTo(0, 1e6);
    // What is drawn on a grid over the screen: the page's own background (html or body) is a blank.
    let blank = 0, points = 0;
    for (let x = 0.1; x < 1; x += 0.2) for (let y = 0.1; y < 1; y += 0.2) {
        points += 1;
        const e = document.elementFromPoint(innerWidth * x, innerHeight * y);
        if (!e || e === document.body || e === document.documentElement) blank += 1;
    }
    return {areas: areas.map((e) => e.dataset.testid || e.className || e.tagName), blank, points,
            pageScroll: document.scrollingElement.scrollTop,
            pageHeight: document.scrollingElement.scrollHeight, height: innerHeight};
}"""

# Buttons whose label does not fit (scrollWidth > clientWidth), among those shown.
CLIPPED_LABELS = """() => [...document.querySelectorAll('button, .btn')]
    .filter((b) => b.offsetParent !== null && b.scrollWidth > b.clientWidth + 1)
    .map((b) => `${b.dataset.testid || ''} "${b.textContent.trim()}" ${b.scrollWidth}>${b.clientWidth}`)"""


def shown(page: Any, locator: Any) -> float:
    return float(locator.evaluate(SHOWN))


def assert_shown(page: Any, locator: Any, what: str) -> None:
    size = page.viewport_size
    box = locator.bounding_box()
    fraction = shown(page, locator)
    assert fraction > 0.99, f"{what} at {size['width']}x{size['height']}: box {box}, shown {fraction:.2f}"


def at(page: Any, viewport: dict[str, int]) -> str:
    """Resize the page and wait until its layout has settled (two animation frames)."""
    page.set_viewport_size(viewport)
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    return f"{viewport['width']}x{viewport['height']}"


@pytest.fixture(scope="module")
def sitting(playwright_instance: Any, tmp_path_factory: pytest.TempPathFactory,
            request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("tablet")
    server = start_server(root, extra=SERVER_ARGS)
    browser = launch_browser(playwright_instance, write_y4m(root / "camera.y4m", seconds=2, hue=200, width=320, height=180),
                             write_wav(root / "voice.wav", seconds=3))
    members = SocketMembers(server.base_url)
    try:
        pages: dict[str, Any] = {}
        for who, link in (("chair", CHAIR), ("a", A)):
            pages[who] = browser.new_context(viewport=VIEWPORTS[0], locale="ja-JP").new_page()
            pages[who].goto(server.links[link])
            pages[who].get_by_test_id("join-button").click()
        ids = {who: self_id(page) for who, page in pages.items()}
        others = [members.join(server.links[link]) for link in SOCKET_ONLY]
        yield {"server": server, "pages": pages, "ids": ids, "members": members, "others": others}
    finally:
        members.close()
        browser.close()
        stop_server(server.process)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "e2e-server-test_tablet.log").write_bytes(server.log.read_bytes())


def queue_row(page: Any, participant_id: str) -> Any:
    return page.locator(f"[data-testid=queue-item][data-participant-id='{participant_id}']")


def test_the_chair_sees_the_floor_and_the_newest_request_without_scrolling(sitting: dict[str, Any], artifacts: Path) -> None:
    chair, members, others = sitting["pages"]["chair"], sitting["members"], sitting["others"]
    wait_for("the quorum", lambda: "定足数に達しています" in text_of(chair, "quorum-verdict"))
    chair.get_by_test_id("lifecycle-open").click()
    wait_for("開会中", lambda: text_of(chair, "sitting-state") == "開会中")
    chair.get_by_test_id("agenda-item").first.get_by_test_id("take-up").click()
    wait_for("the bill taken up", lambda: chair.locator("[data-testid=agenda-item][aria-current=step]").count() == 1)

    # Three members ask in turn; the newest is the last.
    for i in range(3):
        assert members.command(i, "request_floor", kind="question")["type"] == "reply"
    wait_for("three requests on the chair's screen", lambda: chair.locator("[data-testid=queue-item]").count() == 3)
    for viewport in VIEWPORTS:
        size = at(chair, viewport)
        assert_shown(chair, chair.get_by_test_id("floor"), "the floor strip")
        assert_shown(chair, queue_row(chair, others[2]).get_by_test_id("grant"), "許可 on the newest request")
        chair.screenshot(path=str(artifacts / f"e2e-tablet-chair-queue-{size}.png"))

    # The first is granted: the floor shows who speaks and the time left, with the chair's
    # buttons, and two more ask. The newest request's 許可 is still in view.
    queue_row(chair, others[0]).get_by_test_id("grant").click()
    wait_for("the floor held", lambda: chair.get_by_test_id("floor-timer").is_visible())
    for i in (3, 4):
        assert members.command(i, "request_floor", kind="debate_pro")["type"] == "reply"
    wait_for("four waiting", lambda: chair.locator("[data-testid=queue-item]").count() == 4)
    for viewport in VIEWPORTS:
        size = at(chair, viewport)
        for testid, what in (("floor-holder", "who speaks"), ("floor-timer", "the time left"),
                             ("chair-end-speech", "終了")):
            assert_shown(chair, chair.get_by_test_id(testid), what)
        assert_shown(chair, queue_row(chair, others[4]).get_by_test_id("grant"), "許可 on the newest request")
        chair.screenshot(path=str(artifacts / f"e2e-tablet-chair-floor-{size}.png"))
    at(chair, VIEWPORTS[0])


@pytest.mark.parametrize("who", ["chair", "a"])
def test_scrolling_every_region_to_its_end_leaves_the_screen_full(sitting: dict[str, Any], who: str, artifacts: Path) -> None:
    page = sitting["pages"][who]
    for viewport in VIEWPORTS:
        size = at(page, viewport)
        # A finger or a wheel on the panel first, then every scroll area to its end by script.
        panel = page.get_by_test_id("sitting-panel").bounding_box()
        assert panel
        page.mouse.move(panel["x"] + panel["width"] / 2, panel["y"] + panel["height"] - 20)
        for _ in range(5):
            page.mouse.wheel(0, 2000)
        result = page.evaluate(SCROLL_ALL_TO_THE_END)
        page.screenshot(path=str(artifacts / f"e2e-tablet-{who}-scrolled-{size}.png"))
        assert result["pageScroll"] == 0 and result["pageHeight"] <= result["height"], f"the page itself scrolls at {size}: {result}"
        assert result["blank"] == 0, f"blank screen at {size}: {result}"
        assert_shown(page, page.get_by_test_id("floor"), "the floor strip after scrolling")
        if who == "chair":
            assert_shown(page, page.locator("[data-testid=queue-item]").last.get_by_test_id("grant"), "the last 許可 after scrolling")
        page.evaluate("() => { for (const e of document.querySelectorAll('*')) e.scrollTop = 0; }")
    at(page, VIEWPORTS[0])
