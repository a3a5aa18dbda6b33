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

from .conftest import one_browser_sitting
from .helpers import self_id, text_of, wait_for

pytestmark = pytest.mark.e2e

# Rehearsal join links in printed order: 0 委員長 山田 太郎, 2 鈴木 一郎, then members.
CHAIR, A = 0, 2
SOCKET_ONLY = (3, 4, 5, 6, 7, 8)
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


# Text shown in the Japanese UI that is not Japanese: Latin words, or a translation key left
# as it is ("status.idle"). Device names (the browser's) and the English button are not ours.
FOREIGN_TEXT = """() => {
    const found = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const el = n.parentElement;
        const text = n.textContent.trim();
        if (!text || !el || el.closest('select, [lang=en], script, style') || !el.checkVisibility()) continue;
        if (/[A-Za-z]{2,}/.test(text)) found.push(text);
    }
    return found;
}"""


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
def sitting(playwright_instance: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("tablet")
    with one_browser_sitting(playwright_instance, root, "test_tablet", hue=200) as (server, browser, members):
        pages: dict[str, Any] = {}
        for who, link in (("chair", CHAIR), ("a", A)):
            pages[who] = browser.new_context(viewport=VIEWPORTS[0], locale="ja-JP").new_page()
            pages[who].goto(server.links[link])
            pages[who].get_by_test_id("join-button").click()
        ids = {who: self_id(page) for who, page in pages.items()}
        others = [members.join(server.links[link]) for link in SOCKET_ONLY]
        yield {"server": server, "pages": pages, "ids": ids, "members": members, "others": others}


def queue_row(page: Any, participant_id: str) -> Any:
    return page.locator(f"[data-testid=queue-item][data-participant-id='{participant_id}']")


def test_the_device_check_names_the_sitting_and_the_person(sitting: dict[str, Any], artifacts: Path) -> None:
    context = sitting["pages"]["chair"].context.browser.new_context(viewport=VIEWPORTS[1], locale="ja-JP")
    try:
        page = context.new_page()
        page.goto(sitting["server"].links[9])  # a member who is not in this sitting yet: only the check
        wait_for("the sitting named", lambda: page.get_by_test_id("check-who").is_visible())
        assert text_of(page, "check-sitting") == "模擬委員会 3月定例会(リハーサル)"
        assert text_of(page, "check-person") == "吉田 和子(委員)"
        for viewport in VIEWPORTS[:2]:
            size = at(page, viewport)
            assert_shown(page, page.get_by_test_id("check-who"), "who joins which sitting")
            assert_shown(page, page.get_by_test_id("join-button"), "参加する")
            page.screenshot(path=str(artifacts / f"e2e-tablet-check-{size}.png"))
        assert page.evaluate(FOREIGN_TEXT) == [], "no Latin words or untranslated keys on the Japanese check"
        page.get_by_test_id("lang-en").click()
        wait_for("English", lambda: text_of(page, "check-person") == "吉田 和子 (Member)")
        # The presiding title follows the body: 委員長 in this committee, 議長 in a plenary.
        titles = page.evaluate("""async () => {
            const i18n = await import('/static/js/i18n.js');
            i18n.setLanguage('ja');
            const committee = [i18n.t('role.chair'), i18n.t('mic.muted_by_chair')];
            i18n.setPlenary(true);
            const plenary = [i18n.t('role.chair'), i18n.t('mic.muted_by_chair'), i18n.t('role.member'), i18n.t('role.vice_chair')];
            i18n.setPlenary(false);
            return {committee, plenary};
        }""")
        assert titles == {"committee": ["委員長", "委員長があなたのマイクを止めています。"],
                          "plenary": ["議長", "議長があなたのマイクを止めています。", "議員", "副議長"]}
        # The kinds of speech offered follow the body's rules: in a plenary a member attending
        # remotely asks for 一般質問 only (the 2023 default), in the chamber for any kind.
        kinds = page.evaluate("""async () => {
            const { FloorRequestBlock } = await import('/static/js/views/request.js');
            const block = new FloorRequestBlock(async () => {}, 'speech');
            const sitting = {state: 'open', plenary: true, removed: [], queue: {version: 0, requests: []},
                             floor: null, attendance: {me: 'remote'}, remote_may_speak: ['general_question']};
            const state = {self: {id: 'me', role: 'member'}, sitting};
            const labels = () => [...block.kindSelect.options].map((o) => o.textContent);
            block.render(state, false, true);
            const remote = labels();
            sitting.attendance.me = 'in_room';
            block.render(state, false, true);
            const chamber = labels();
            sitting.attendance.me = 'remote';
            sitting.remote_may_speak = [];
            block.render(state, false, true);
            return {remote, chamber, none: [labels(), block.requestButton.disabled, block.requestHint.textContent]};
        }""")
        assert kinds["remote"] == ["一般質問"]
        assert kinds["chamber"] == ["一般質問", "発言", "質疑", "賛成討論", "反対討論", "議事進行"]
        assert kinds["none"] == [[], True, "遠隔で出席している方は、会議規則により、この会議では発言できません。"]
    finally:
        context.close()


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
    # Each arrival is heard (a chime) and seen (新着 on the newest).
    wait_for("three chimes", lambda: chair.evaluate("window.gikai.chimes") == 3)
    assert text_of(chair, "chime-toggle") == "通知音 オン"
    assert queue_row(chair, others[2]).get_by_test_id("new-request").is_visible()
    assert queue_row(chair, others[0]).get_by_test_id("new-request").count() == 0
    for viewport in VIEWPORTS:
        size = at(chair, viewport)
        assert_shown(chair, chair.get_by_test_id("floor"), "the floor strip")
        assert_shown(chair, queue_row(chair, others[2]).get_by_test_id("grant"), "許可 on the newest request")
        chair.screenshot(path=str(artifacts / f"e2e-tablet-chair-queue-{size}.png"))

    # The first is granted: the floor shows who speaks and the time left, with the chair's
    # buttons, and two more ask. The newest request's 許可 is still in view.
    queue_row(chair, others[0]).get_by_test_id("grant").click()
    wait_for("the floor held", lambda: chair.get_by_test_id("floor-timer").is_visible())
    chair.get_by_test_id("chime-toggle").click()  # the chair turns the chime off
    assert chair.get_by_test_id("chime-toggle").get_attribute("aria-pressed") == "false"
    for i in (3, 4):
        assert members.command(i, "request_floor", kind="debate_pro")["type"] == "reply"
    wait_for("four waiting", lambda: chair.locator("[data-testid=queue-item]").count() == 4)
    wait_for("新着 on the newest", lambda: queue_row(chair, others[4]).get_by_test_id("new-request").count() == 1)
    assert chair.evaluate("window.gikai.chimes") == 3, "no chime once it is turned off"
    for viewport in VIEWPORTS:
        size = at(chair, viewport)
        for testid, what in (("floor-holder", "who speaks"), ("floor-timer", "the time left"),
                             ("chair-end-speech", "終了")):
            assert_shown(chair, chair.get_by_test_id(testid), what)
        assert_shown(chair, queue_row(chair, others[4]).get_by_test_id("grant"), "許可 on the newest request")
        chair.screenshot(path=str(artifacts / f"e2e-tablet-chair-floor-{size}.png"))
    at(chair, VIEWPORTS[0])
    chair.get_by_test_id("chime-toggle").click()
    assert text_of(chair, "chime-toggle") == "通知音 オン"


def test_the_chair_names_two_members_to_sign_the_minutes(sitting: dict[str, Any], artifacts: Path) -> None:
    chair = sitting["pages"]["chair"]
    section = chair.get_by_test_id("signers-section")
    section.scroll_into_view_if_needed()
    assert "2人" in text_of(chair, "signers-hint")
    name = section.get_by_test_id("signers-name")
    assert name.is_disabled(), "nothing chosen yet"
    choices = section.get_by_test_id("signer-choice")
    assert choices.count() >= 3
    chosen = [str(choices.nth(i).get_attribute("data-key")).removeprefix("signer-") for i in (1, 2)]
    names = [choices.nth(i).inner_text() for i in (1, 2)]
    choices.nth(1).click()
    choices.nth(2).click()
    assert choices.nth(3).is_disabled(), "no third once two are chosen"
    for i in (1, 2):
        assert choices.nth(i).get_attribute("aria-pressed") == "true"
        box = choices.nth(i).bounding_box()
        assert box and box["height"] >= 44, f"a finger's target: {box}"
    section.scroll_into_view_if_needed()
    chair.screenshot(path=str(artifacts / "e2e-tablet-chair-signers-picking-1024x768.png"))
    name.click()
    wait_for("the names shown", lambda: section.get_by_test_id("signers-named").is_visible())
    named = text_of(chair, "signers-named")
    assert all(n in named for n in names), (names, named)
    state = chair.evaluate("window.gikai.state.sitting.minutes_signers")
    assert state == {"count": 2, "named": chosen}
    assert section.get_by_test_id("signers-again").is_visible() and not choices.first.is_visible()
    section.scroll_into_view_if_needed()
    chair.screenshot(path=str(artifacts / "e2e-tablet-chair-signers-1024x768.png"))


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


def switch_language(page: Any, lang: str) -> None:
    page.get_by_test_id(f"lang-{lang}").click()
    wait_for(f"the page in {lang}", lambda: page.evaluate("document.documentElement.lang") == lang)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_member_can_always_ask_for_the_floor_and_no_label_is_clipped(sitting: dict[str, Any], lang: str, artifacts: Path) -> None:
    a, chair = sitting["pages"]["a"], sitting["pages"]["chair"]
    for page in (a, chair):
        switch_language(page, lang)
    try:
        for viewport in VIEWPORTS:
            size = at(a, viewport)
            assert_shown(a, a.get_by_test_id("request-floor"), f"発言を求める ({lang})")
            assert_shown(a, a.get_by_test_id("floor-holder"), f"who speaks ({lang})")
            assert_shown(a, a.get_by_test_id("mic-heard"), f"whether others hear me ({lang})")
            a.screenshot(path=str(artifacts / f"e2e-tablet-member-{lang}-{size}.png"))
            for page, who in ((a, "member"), (chair, "chair")):
                at(page, viewport)
                clipped = page.evaluate(CLIPPED_LABELS)
                assert clipped == [], f"clipped labels on the {who}'s screen at {size} ({lang}): {clipped}"
                if lang == "ja":
                    assert page.evaluate(FOREIGN_TEXT) == [], f"Latin words in the {who}'s Japanese screen"
            chair.screenshot(path=str(artifacts / f"e2e-tablet-chair-{lang}-{size}.png"))
    finally:
        for page in (a, chair):
            switch_language(page, "ja")
            at(page, VIEWPORTS[0])


def test_papers_upright_leave_the_floor_and_the_request_in_view(sitting: dict[str, Any], artifacts: Path) -> None:
    a = sitting["pages"]["a"]
    a.get_by_test_id("docs-toggle").click()
    panel = a.get_by_test_id("docs-panel")
    wait_for("the papers", panel.is_visible)
    try:
        for viewport in VIEWPORTS:
            size = at(a, viewport)
            a.screenshot(path=str(artifacts / f"e2e-tablet-member-papers-{size}.png"))
            assert_shown(a, a.get_by_test_id("docs-panel").locator("h2").first, "the papers' heading")
            assert_shown(a, a.get_by_test_id("floor-holder"), "who speaks, beside the papers")
            assert_shown(a, a.get_by_test_id("request-floor"), "発言を求める, beside the papers")
            box = panel.bounding_box()
            assert box and box["height"] >= 0.35 * viewport["height"], f"the papers keep room at {size}: {box}"
    finally:
        a.get_by_test_id("docs-toggle").click()
        wait_for("the papers closed", panel.is_hidden)
        at(a, VIEWPORTS[0])


def test_the_microphone_control_says_whether_the_others_hear_you(sitting: dict[str, Any], artifacts: Path) -> None:
    a, chair, ids = sitting["pages"]["a"], sitting["pages"]["chair"], sitting["ids"]
    assert text_of(a, "mic-heard") == "あなたの声は聞こえていません", "no floor: the SFU holds A's microphone back"
    assert a.get_by_test_id("mic-toggle").get_attribute("aria-pressed") == "true", "though the microphone is on"
    assert text_of(chair, "mic-heard").startswith("話しています"), "the chair is always heard"
    a.get_by_test_id("request-floor").click()
    wait_for("A in the chair's queue", lambda: queue_row(chair, ids["a"]).count() == 1)
    chair.get_by_test_id("chair-end-speech").click()
    grant = queue_row(chair, ids["a"]).get_by_test_id("grant")
    wait_for("許可 enabled", grant.is_enabled)
    grant.click()
    wait_for("A is told the others hear them", lambda: text_of(a, "mic-heard").startswith("話しています"))
    at(a, VIEWPORTS[1])
    a.screenshot(path=str(artifacts / "e2e-tablet-member-speaking-768x1024.png"))
    at(a, VIEWPORTS[0])
    a.get_by_test_id("mic-toggle").click()
    wait_for("microphone off: not heard", lambda: text_of(a, "mic-heard") == "あなたの声は聞こえていません")
    a.get_by_test_id("mic-toggle").click()
    wait_for("heard again", lambda: text_of(a, "mic-heard").startswith("話しています"))
    chair.get_by_test_id("chair-end-speech").click()
    wait_for("the floor ended: not heard", lambda: text_of(a, "mic-heard") == "あなたの声は聞こえていません")


def focused_testid(page: Any) -> str:
    return str(page.evaluate("document.activeElement?.dataset?.testid || ''"))


def test_leaving_asks_first_with_the_focus_on_staying(sitting: dict[str, Any], artifacts: Path) -> None:
    a = sitting["pages"]["a"]
    a.get_by_test_id("leave-button").click()
    dialog = a.get_by_test_id("dialog")
    wait_for("the question", dialog.is_visible)
    assert "退出しますか" in dialog.inner_text()
    assert focused_testid(a) == "dialog-cancel", "Enter or a stray tap does not leave"
    assert text_of(a, "dialog-cancel") == "会議に戻る"
    a.screenshot(path=str(artifacts / "e2e-tablet-leave-confirm-1024x768.png"))
    # The language changes while the dialog is open: so does the dialog.
    # (the modal dialog keeps taps off the page: the switch is made as the page's own would)
    a.evaluate("async () => (await import('/static/js/i18n.js')).setLanguage('en')")
    wait_for("the dialog in English", lambda: "Leave the sitting?" in dialog.inner_text())
    assert text_of(a, "dialog-cancel") == "Back to the sitting"
    a.evaluate("async () => (await import('/static/js/i18n.js')).setLanguage('ja')")
    wait_for("the dialog in Japanese", lambda: "退出しますか" in dialog.inner_text())
    a.keyboard.press("Enter")
    wait_for("the dialog closed", lambda: dialog.count() == 0)
    assert a.get_by_test_id("screen-meeting").is_visible(), "Enter on the focused safe choice stays"
    # The chair's 散会 dialog also starts on the safe choice.
    chair = sitting["pages"]["chair"]
    chair.get_by_test_id("lifecycle-adjourn").click()
    wait_for("the chair's question", chair.get_by_test_id("dialog").is_visible)
    assert focused_testid(chair) == "dialog-cancel"
    chair.get_by_test_id("dialog-cancel").click()


def test_after_adjournment_everyone_sees_that_the_sitting_is_over(sitting: dict[str, Any], artifacts: Path) -> None:
    a, chair = sitting["pages"]["a"], sitting["pages"]["chair"]
    chair.get_by_test_id("lifecycle-adjourn").click()
    chair.get_by_test_id("dialog").get_by_test_id("dialog-confirm").click()
    for page in (a, chair):
        over = page.get_by_test_id("meeting-over")
        wait_for("the meeting-over screen", over.is_visible)
        assert text_of(page, "over-title") == "会議は散会しました"
        assert "会議録" in over.inner_text()
        assert focused_testid(page) == "over-title"
        meeting_id = page.evaluate("window.gikai.state.sitting.meeting_id")
        assert page.get_by_test_id("over-archive").get_attribute("href") == f"/archive/{meeting_id}"
        for viewport in VIEWPORTS[:2]:
            size = at(page, viewport)
            for testid in ("over-title", "over-archive", "over-leave", "over-back"):
                assert_shown(page, page.get_by_test_id(testid), testid)
            page.screenshot(path=str(artifacts / f"e2e-tablet-over-{'chair' if page is chair else 'member'}-{size}.png"))
        at(page, VIEWPORTS[0])
    chair.get_by_test_id("over-back").click()
    wait_for("the chair's panel again", chair.get_by_test_id("meeting-over").is_hidden)
    assert text_of(chair, "sitting-state") == "散会"
    a.get_by_test_id("over-leave").click()
    wait_for("A has left", a.get_by_test_id("screen-left").is_visible)
