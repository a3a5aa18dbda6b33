"""Three members join the rehearsal committee from three real Chromiums through a real
`gikai serve`: each sees and hears the other two, a dropped connection heals itself,
and a member who leaves disappears from the others' screens.

The tests of this module run in order on one meeting (module fixture `meeting`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import PARTICIPANTS, Server
from .helpers import wait_for

pytestmark = pytest.mark.e2e

VIEWPORT = {"width": 1024, "height": 768}


def remote_videos(page: Any) -> dict[str, int]:
    """participant id -> frames decoded and shown by that participant's <video>."""
    return {v["participant"]: v["frames"] for v in page.evaluate("window.gikai.remoteVideos()")}


def tiles(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "[data-testid=tile][data-self=false]", "els => els.map(e => e.dataset.participantId)"
    )


def assert_video_flows(pages: list[Any], ids: list[str], frames: int = 10) -> None:
    """Each page shows a video per other participant, and every one keeps decoding frames: each
    shows ``frames`` more of every other (waited for: a slow machine is slower, a frozen picture fails)."""
    for page, me in zip(pages, ids, strict=True):
        others = set(ids) - {me}
        wait_for(f"{me} to show videos of {others}",
                 lambda page=page, others=others: set(remote_videos(page)) == others
                 and all(remote_videos(page).values()))
    before = [remote_videos(page) for page in pages]
    for page, me, shown in zip(pages, ids, before, strict=True):
        wait_for(f"{me} to show {frames} more frames of each of {set(shown)}",
                 lambda page=page, shown=shown: (now := remote_videos(page))
                 and all(now.get(other, 0) - count >= frames for other, count in shown.items()) and now)


@pytest.fixture(scope="module")
def meeting(server: Server, browsers: list[Any], artifacts: Path) -> Iterator[dict[str, Any]]:
    screenshot_device_check(browsers[0], server.links[0], artifacts)
    pages = []
    # Each member opens the link and presses Join at once, so that "page load to first
    # remote frame" measures the client and the server, not this test's pauses. The last
    # one joins a meeting already under way; the first ones also wait for the others.
    for browser, link in zip(browsers, server.links[:PARTICIPANTS], strict=True):
        context = browser.new_context(viewport=VIEWPORT, locale="ja-JP")
        page = context.new_page()
        page.goto(link)
        page.get_by_test_id("join-button").click()
        pages.append(page)
    ids = [wait_for("join reply", lambda p=page: p.evaluate("window.gikai.state.self?.id")) for page in pages]
    yield {"pages": pages, "ids": ids, "server": server}
    for page in pages:
        page.context.close()


def screenshot_device_check(browser: Any, link: str, artifacts: Path) -> None:
    """The device check screen at tablet sizes, in a context of its own (it never joins)."""
    context = browser.new_context(viewport=VIEWPORT, locale="ja-JP")
    try:
        check = context.new_page()
        check.goto(link)
        wait_for("camera preview", lambda: check.evaluate(
            "document.querySelector('[data-testid=check-preview]').videoWidth > 0"))
        wait_for("microphone level", lambda: check.evaluate(
            "Number(document.querySelector('[data-testid=level-meter]').getAttribute('aria-valuenow')) > 0"))
        for width, height in ((1024, 768), (768, 1024)):
            check.set_viewport_size({"width": width, "height": height})
            check.screenshot(path=str(artifacts / f"e2e-check-{width}x{height}.png"))
            box = check.get_by_test_id("join-button").bounding_box()
            assert box and box["y"] + box["height"] <= height, "Join must be visible without scrolling"
    finally:
        context.close()


def test_each_member_sees_and_hears_the_other_two(meeting: dict[str, Any], artifacts: Path) -> None:
    pages, ids = meeting["pages"], meeting["ids"]
    assert_video_flows(pages, ids)

    for page, me in zip(pages, ids, strict=True):
        others = set(ids) - {me}
        stats = wait_for(
            f"{me} to receive audio with a level from {others}",
            lambda p=page, others=others: (s := p.evaluate("window.gikai.stats()")) and all(
                s.get(o, {}).get("audio", {}).get("totalAudioEnergy", 0) > 0 for o in others) and s,
        )
        levels = wait_for(f"{me}'s analysers to hear {others}",
                          lambda p=page, others=others: (lv := p.evaluate("window.gikai.audioLevels()"))
                          and all(lv.get(o, 0) > 0 for o in others) and lv)
        for other in others:
            assert stats[other]["audio"]["packetsReceived"] > 0
            assert levels[other] > 0

    lines = []
    for i, page in enumerate(pages):
        first = page.evaluate("window.gikai.firstRemoteFrameMs")
        assert first is not None and first > 0
        name = page.evaluate("window.gikai.state.self.name")
        steps = page.evaluate("({...window.gikai.timeline, ...window.gikai.peerTimeline})")
        steps_text = ", ".join(f"{k} {v}" for k, v in sorted(steps.items(), key=lambda kv: kv[1]))
        clicked = steps.get("join_clicked", 0)
        lines.append(f"participant {i} ({name}): page load to first remote video frame {first:.0f} ms, "
                     f"Join click to first remote frame {first - clicked:.0f} ms [ms since page load: {steps_text}]")
    report = "\n".join(lines)
    print("\n" + report)
    (artifacts / "e2e-timings.txt").write_text(report + "\n", encoding="utf-8")


def test_tiles_show_names_roles_and_japanese_labels(meeting: dict[str, Any], artifacts: Path) -> None:
    page = meeting["pages"][0]
    assert page.evaluate("document.documentElement.lang") == "ja"
    assert page.get_by_test_id("tile-you").inner_text() == "あなた"
    roles = page.eval_on_selector_all("[data-testid=tile-role]", "els => els.map(e => e.textContent)")
    assert "委員長" in roles
    assert page.get_by_test_id("leave-button").inner_text() == "退出する"
    assert page.get_by_test_id("mic-toggle").get_attribute("aria-pressed") == "true"
    # Every string exists in both languages.
    missing = page.evaluate("""async () => {
        const { TABLES } = await import('/static/js/i18n.js');
        const ja = Object.keys(TABLES.ja), en = Object.keys(TABLES.en);
        return [...ja.filter(k => !en.includes(k)), ...en.filter(k => !ja.includes(k))];
    }""")
    assert missing == []


def test_store_apply_is_pure_and_tracks_the_roster(meeting: dict[str, Any]) -> None:
    result = meeting["pages"][0].evaluate("""async () => {
        const { apply, initialState, othersPresent } = await import('/static/js/store.js');
        const me = {id: 'a', name: 'A', role: 'chair'};
        const s0 = initialState();
        const s1 = apply(s0, {type: 'joined', data: {participant: me, meeting: {id: 'm', title: 'T'},
            roster: [{...me, seat: 1}, {id: 'b', name: 'B', role: 'member', seat: 3}]}});
        const s2 = apply(s1, {type: 'participant_joined', participant: {id: 'c', name: 'C', role: 'clerk', seat: 2}});
        const s3 = apply(s2, {type: 'participant_updated', participant: {id: 'b', audio_muted: true}});
        const s4 = apply(s3, {type: 'participant_left', id: 'c'});
        return {
            untouched: s0.roster.length === 0 && s1.roster.length === 2 && s2.roster.length === 3,
            order: othersPresent(s2).map(p => p.id),
            muted: s3.roster.find(p => p.id === 'b').audio_muted,
            name_kept: s3.roster.find(p => p.id === 'b').name,
            after_left: othersPresent(s4).map(p => p.id),
        };
    }""")
    assert result == {"untouched": True, "order": ["c", "b"], "muted": True, "name_kept": "B", "after_left": ["b"]}


def test_muting_shows_on_the_other_screens(meeting: dict[str, Any], artifacts: Path) -> None:
    pages, ids = meeting["pages"], meeting["ids"]
    pages[1].get_by_test_id("mic-toggle").click()
    assert pages[1].get_by_test_id("mic-toggle").get_attribute("aria-pressed") == "false"
    badge = f"[data-testid=tile][data-participant-id='{ids[1]}'] [data-testid=tile-muted]"
    for page in (pages[0], pages[2]):
        wait_for("mute label", lambda p=page: p.is_visible(badge), timeout=5)
    pages[0].screenshot(path=str(artifacts / "e2e-other-muted.png"))
    pages[1].screenshot(path=str(artifacts / "e2e-self-muted.png"))
    pages[1].get_by_test_id("mic-toggle").click()
    for page in (pages[0], pages[2]):
        wait_for("mute label gone", lambda p=page: not p.is_visible(badge), timeout=5)


def test_camera_off_shows_the_name_instead(meeting: dict[str, Any], artifacts: Path) -> None:
    pages, ids = meeting["pages"], meeting["ids"]
    pages[2].get_by_test_id("camera-toggle").click()
    placeholder = f"[data-testid=tile][data-participant-id='{ids[2]}'] .placeholder"
    for page in pages[:2]:
        wait_for("name placeholder", lambda p=page: p.is_visible(placeholder), timeout=5)
    assert pages[2].is_visible("[data-testid=tile][data-self=true] .placeholder")
    pages[0].screenshot(path=str(artifacts / "e2e-camera-off.png"))
    pages[2].get_by_test_id("camera-toggle").click()
    for page in pages[:2]:
        wait_for("video back", lambda p=page: not p.is_visible(placeholder), timeout=5)


def test_screenshots_at_tablet_sizes(meeting: dict[str, Any], artifacts: Path) -> None:
    pages = meeting["pages"]
    for i, page in enumerate(pages):
        page.screenshot(path=str(artifacts / f"e2e-meeting-{i}.png"))
    page = pages[0]
    for width, height in ((1024, 768), (768, 1024)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)
        page.screenshot(path=str(artifacts / f"e2e-meeting-{width}x{height}.png"))
        for tile in page.query_selector_all("[data-testid=tile]"):
            box = tile.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width + 1
        for button in ("mic-toggle", "camera-toggle", "leave-button"):
            box = page.get_by_test_id(button).bounding_box()
            assert box and box["height"] >= 48 and box["y"] + box["height"] <= height
    page.set_viewport_size(VIEWPORT)


def test_a_dropped_connection_rejoins_by_itself(meeting: dict[str, Any]) -> None:
    pages, ids = meeting["pages"], meeting["ids"]
    pages[0].evaluate("""() => {
        const status = document.querySelector('[data-testid=status]');
        window.statusSeen = [];
        new MutationObserver(() => window.statusSeen.push(status.textContent))
            .observe(status, {childList: true, characterData: true, subtree: true});
    }""")
    pages[0].evaluate("window.gikai.dropConnection()")
    # The socket closes asynchronously: see it go before waiting for it to come back.
    wait_for("the reconnecting notice", lambda: "再接続中…" in pages[0].evaluate("window.statusSeen"))
    wait_for("reconnected", lambda: pages[0].evaluate("window.gikai.state.connection") == "connected"
             and pages[0].evaluate("window.gikai.connectionState") == "connected")
    assert_video_flows(pages, ids)


def test_leaving_removes_the_tile_from_the_others(meeting: dict[str, Any], artifacts: Path) -> None:
    pages, ids = meeting["pages"], meeting["ids"]
    leaver = ids[2]
    assert all(leaver in tiles(page) for page in pages[:2])
    pages[2].get_by_test_id("leave-button").click()
    pages[2].get_by_test_id("dialog").get_by_test_id("dialog-confirm").click()  # 退出する asks first
    wait_for("left screen", lambda: pages[2].get_by_test_id("screen-left").is_visible(), timeout=5)
    for page in pages[:2]:
        wait_for(f"{leaver}'s tile to go", lambda p=page: leaver not in tiles(p), timeout=5)
    assert set(tiles(pages[0])) == {ids[1]}
    assert set(tiles(pages[1])) == {ids[0]}
    pages[2].screenshot(path=str(artifacts / "e2e-left.png"))
    pages[0].screenshot(path=str(artifacts / "e2e-after-leave.png"))


def test_a_page_without_a_join_link_says_so(meeting: dict[str, Any], browsers: list[Any]) -> None:
    context = browsers[0].new_context(viewport=VIEWPORT, locale="ja-JP")
    try:
        page = context.new_page()
        page.goto(meeting["server"].base_url + "/join")
        wait_for("error screen", lambda: page.get_by_test_id("screen-error").is_visible(), timeout=5)
        assert "参加用リンク" in page.get_by_test_id("error-text").inner_text()
        page.get_by_test_id("lang-en").click()
        assert "join link" in page.get_by_test_id("error-text").inner_text()
    finally:
        context.close()


def test_rejoin_after_leaving_and_after_a_reload(meeting: dict[str, Any]) -> None:
    pages, ids = meeting["pages"], meeting["ids"]
    pages[2].get_by_test_id("rejoin-button").click()
    assert_video_flows(pages, ids)
    # A reload keeps the join token (sessionStorage), though the address bar no longer shows it.
    assert "#" not in pages[2].url
    pages[2].reload()
    pages[2].get_by_test_id("join-button").click()
    assert_video_flows(pages, ids)


def test_joining_from_a_second_screen_ends_the_first(
    meeting: dict[str, Any], browsers: list[Any], artifacts: Path
) -> None:
    pages, ids = meeting["pages"], meeting["ids"]
    second = browsers[0].new_context(viewport=VIEWPORT, locale="ja-JP")
    try:
        page = second.new_page()
        page.goto(meeting["server"].links[0])
        page.get_by_test_id("join-button").click()
        wait_for("first screen to be told", lambda: pages[0].get_by_test_id("screen-error").is_visible())
        assert "別の画面" in pages[0].get_by_test_id("error-text").inner_text()
        assert pages[0].get_by_test_id("retry-button").is_visible()
        pages[0].screenshot(path=str(artifacts / "e2e-replaced.png"))
        wait_for("second screen to show the others", lambda: len(remote_videos(page)) == 2)
    finally:
        second.close()
    pages[0].get_by_test_id("retry-button").click()
    assert_video_flows(pages, ids)


def test_a_member_without_camera_or_microphone_can_still_join(
    meeting: dict[str, Any], browsers: list[Any], artifacts: Path
) -> None:
    pages, ids = meeting["pages"], meeting["ids"]
    context = browsers[0].new_context(viewport=VIEWPORT, locale="ja-JP")
    # The browser refuses the devices, as when the member taps "Block".
    context.add_init_script("""navigator.mediaDevices.getUserMedia = async () => {
        throw new DOMException('blocked', 'NotAllowedError');
    };""")
    try:
        page = context.new_page()
        page.goto(meeting["server"].links[3])
        problem = page.get_by_test_id("check-problem")
        wait_for("a plain explanation", lambda: problem.is_visible() and "許可" in problem.inner_text(), timeout=5)
        page.screenshot(path=str(artifacts / "e2e-check-no-devices.png"))
        box = page.get_by_test_id("join-button").bounding_box()
        assert box and box["y"] + box["height"] <= VIEWPORT["height"], "Join must be visible without scrolling"
        page.get_by_test_id("join-button").click()
        me = wait_for("join reply", lambda: page.evaluate("window.gikai.state.self?.id"))
        wait_for("the others' videos", lambda: set(remote_videos(page)) == set(ids) and all(remote_videos(page).values()))
        for other in pages:
            wait_for("the new member's tile", lambda p=other: me in tiles(p), timeout=5)
    finally:
        context.close()
    for other in pages:
        wait_for("the tile to go", lambda p=other: me not in tiles(p), timeout=5)
