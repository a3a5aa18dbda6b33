"""The floor decides whose microphone is heard: a sitting of the rehearsal committee run
from the chair's console in a real browser, measured by what another member's browser hears.

The chair, members A, B and C each have a Chromium with their own voice; two more
members join over plain WebSockets so that six of twelve make a quorum. Attendance is
counted by connection here (`--no-presence-detection`, as on a machine without the CPU for
camera analysis): the fake cameras show no face. test_passkeys covers presence on camera.
Each test has a server and browsers of its own and brings the sitting to where its story
starts (opened, A holding the floor...) itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import ARTIFACTS, Server, launch_browser, start_server, stop_server
from .fakemedia import write_wav, write_y4m
from .helpers import (
    LANDSCAPE,
    open_and_join,
    peak_levels,
    screenshots,
    self_id,
    text_of,
    wait_for,
    wait_heard,
    wait_silent,
)
from .socketmembers import SocketMembers

pytestmark = pytest.mark.e2e

# Rehearsal join links in printed order: 0 委員長 山田 太郎, 2 鈴木 一郎, 3 高橋 美咲, 4 田中 健二, ...
CHAIR, A, B, C = 0, 2, 3, 4
SOCKET_ONLY = (5, 6)
SERVER_ARGS = ["--no-presence-detection"]


@pytest.fixture
def sitting(tmp_path: Path, playwright_instance: Any, request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """A sitting of its own (a fresh server: the rehearsal sitting runs once) with the chair, A, B
    and C joined in their browsers, before it opens."""
    server = start_server(tmp_path, extra=SERVER_ARGS)
    folder = tmp_path / "floor-media"
    folder.mkdir()
    browsers, pages = [], []
    members = SocketMembers(server.base_url)
    try:
        for n, link in enumerate((CHAIR, A, B, C)):
            # Small pictures: four browsers and the server share two cores.
            camera = write_y4m(folder / f"camera{n}.y4m", seconds=2, hue=40 + 90 * n, width=320, height=180)
            microphone = write_wav(folder / f"microphone{n}.wav", seconds=3, pitch=120 + 40 * n)
            browsers.append(launch_browser(playwright_instance, camera, microphone))
            pages.append(open_and_join(browsers[-1], server.links[link]))
        ids = [self_id(page) for page in pages]
        names = ["chair", "a", "b", "c"]
        yield {"pages": dict(zip(names, pages, strict=True)), "ids": dict(zip(names, ids, strict=True)),
               "members": members, "server": server}
    finally:
        try:
            members.close()
            for browser in browsers:
                browser.close()
        finally:
            stop_server(server.process)
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / f"e2e-server-floor-{request.node.name}.log").write_bytes(server.log.read_bytes())


def open_with_quorum(sitting: dict[str, Any]) -> None:
    """Two socket members make six of twelve; the chair opens the sitting; everyone sees it."""
    p, members = sitting["pages"], sitting["members"]
    for link in SOCKET_ONLY:
        members.join(sitting["server"].links[link])
    chair = p["chair"]
    wait_for("quorum on the chair's screen", lambda: "定足数に達しています" in text_of(chair, "quorum-verdict"))
    chair.get_by_test_id("lifecycle-open").click()
    for page in p.values():
        wait_for("開会中", lambda pg=page: text_of(pg, "sitting-state") == "開会中" or refusal(chair))
    assert not refusal(chair), f"the chair's open was refused: {refusal(chair)}"


def refusal(chair: Any) -> str:
    """The error the chair's console shows, if any (a refused command or a request timed out)."""
    error = chair.get_by_test_id("command-error")
    return error.inner_text() if error.is_visible() else ""


def a_asks_for_the_floor(sitting: dict[str, Any]) -> None:
    """A asks a question; the chair's queue shows it."""
    p, ids = sitting["pages"], sitting["ids"]
    p["a"].get_by_test_id("request-kind").select_option("question")
    p["a"].get_by_test_id("request-floor").click()
    wait_for("A's own request", lambda: p["a"].get_by_test_id("my-request").is_visible())
    row = p["chair"].locator(f"[data-testid=queue-item][data-participant-id='{ids['a']}']")
    wait_for("A in the chair's queue", lambda: row.count() == 1)


def a_is_granted_the_floor(sitting: dict[str, Any]) -> None:
    """The chair grants A's request; A, and B watching, see A holding the floor."""
    p, ids = sitting["pages"], sitting["ids"]
    p["chair"].locator(f"[data-testid=queue-item][data-participant-id='{ids['a']}']").get_by_test_id("grant").click()
    wait_for("A's floor", lambda: p["a"].get_by_test_id("you-have-floor").is_visible())
    wait_for("B sees who speaks", lambda: "鈴木 一郎" in text_of(p["b"], "floor-holder"))


def test_before_opening_everyone_is_heard_and_opening_needs_a_quorum(sitting: dict[str, Any]) -> None:
    p, ids = sitting["pages"], sitting["ids"]
    for who in ("chair", "a", "c"):
        wait_heard(p["b"], ids[who], f"{who} at B before the sitting opens")
    assert text_of(p["b"], "sitting-state") == "開会前"
    assert "聞こえています" in text_of(p["a"], "my-mic")
    # A member can only ask for the floor once the sitting is open, and is told so.
    assert p["a"].get_by_test_id("request-floor").is_disabled()
    assert text_of(p["a"], "request-hint") == "開会後に発言を求めることができます。"
    # Four of twelve: the chair's console says so, and the server's refusal is shown.
    chair = p["chair"]
    assert chair.get_by_test_id("chair-console").is_visible()
    assert "出席 4人/必要 6人" in text_of(chair, "quorum-note")
    chair.get_by_test_id("lifecycle-open").click()
    wait_for("the refusal", lambda: chair.get_by_test_id("command-error").is_visible())
    assert "定足数" in text_of(chair, "command-error")
    assert text_of(chair, "sitting-state") == "開会前", "a refused command changes nothing"


def test_the_chair_opens_the_sitting_and_only_the_chair_is_heard(sitting: dict[str, Any]) -> None:
    p, ids, members = sitting["pages"], sitting["ids"], sitting["members"]
    for link in SOCKET_ONLY:
        members.join(sitting["server"].links[link])
    chair = p["chair"]
    wait_for("quorum on the chair's screen", lambda: "定足数に達しています" in text_of(chair, "quorum-verdict"))
    assert chair.get_by_test_id("quorum-note").is_hidden()
    chair.get_by_test_id("lifecycle-open").click()
    for page in p.values():
        wait_for("開会中", lambda pg=page: text_of(pg, "sitting-state") == "開会中")
    assert chair.get_by_test_id("command-error").is_hidden(), f"success clears the old refusal: {refusal(chair)}"
    wait_silent(p["b"], ids["a"], "A at B (no floor yet)")
    wait_silent(p["b"], ids["c"], "C at B")
    wait_heard(p["b"], ids["chair"], "the chair at B")
    assert "聞こえません" in text_of(p["a"], "my-mic")
    assert "発言を求める" in text_of(p["a"], "my-mic")


def test_a_member_asks_for_the_floor(sitting: dict[str, Any], artifacts: Path) -> None:
    p, ids = sitting["pages"], sitting["ids"]
    open_with_quorum(sitting)
    a = p["a"]
    a.get_by_test_id("request-kind").select_option("question")
    a.get_by_test_id("request-floor").click()
    wait_for("A's own request", lambda: a.get_by_test_id("my-request").is_visible())
    assert text_of(a, "my-request") == "発言を求めました(質疑・1番目)"
    assert text_of(a, "my-mic").startswith("発言の許可を待っています")
    assert a.get_by_test_id("withdraw").is_visible()
    row = p["chair"].locator(f"[data-testid=queue-item][data-participant-id='{ids['a']}']")
    wait_for("A in the chair's queue", lambda: row.count() == 1)
    assert "鈴木 一郎" in row.inner_text() and "質疑" in row.inner_text()
    # Everyone sees the queue, with names and kinds.
    wait_for("A in B's queue", lambda: "質疑" in text_of(p["b"], "queue"))
    wait_silent(p["b"], ids["a"], "A at B while waiting")
    screenshots(a, artifacts, "e2e-member-asking")


def test_the_granted_member_is_heard_and_the_others_are_not(sitting: dict[str, Any], artifacts: Path) -> None:
    p, ids = sitting["pages"], sitting["ids"]
    open_with_quorum(sitting)
    a_asks_for_the_floor(sitting)
    chair, a, b = p["chair"], p["a"], p["b"]
    chair.locator(f"[data-testid=queue-item][data-participant-id='{ids['a']}']").get_by_test_id("grant").click()
    wait_for("A's floor", lambda: a.get_by_test_id("you-have-floor").is_visible())
    assert text_of(a, "you-have-floor") == "あなたが発言中です"
    assert a.get_by_test_id("end-own-speech").is_visible()
    assert re.fullmatch(r"残り (10:00|9:[45]\d)", text_of(a, "floor-timer"))
    wait_for("A's microphone is live", lambda: "聞こえています" in text_of(a, "my-mic"))
    wait_for("B sees who speaks", lambda: "鈴木 一郎" in text_of(b, "floor-holder"))

    heard_a = wait_heard(b, ids["a"], "A at B with the floor")
    heard_chair = wait_heard(b, ids["chair"], "the chair at B")
    levels = peak_levels(b, 1.5)
    assert levels.get(ids["c"], 0) == 0, f"C must not be forwarded while A has the floor: {levels}"
    assert levels.get(ids["a"], 0) > 0 and levels.get(ids["chair"], 0) > 0, levels
    print(f"\nat B: A {heard_a:.2f}, chair {heard_chair:.2f}, C {levels.get(ids['c'], 0):.2f}")
    # The chair can see the running timer and end, extend.
    assert chair.get_by_test_id("chair-end-speech").is_enabled()
    screenshots(a, artifacts, "e2e-member-holding-floor")
    screenshots(chair, artifacts, "e2e-chair-console")
    screenshots(sitting["pages"]["c"], artifacts, "e2e-member-not-speaking")


def test_extending_adds_time_to_the_timer_everyone_sees(sitting: dict[str, Any]) -> None:
    p = sitting["pages"]
    open_with_quorum(sitting)
    a_asks_for_the_floor(sitting)
    a_is_granted_the_floor(sitting)
    p["chair"].get_by_test_id("extend-60").click()
    for page in (p["a"], p["b"]):
        wait_for("the extended timer", lambda pg=page: re.fullmatch(r"残り (11:00|10:[1-5]\d)", text_of(pg, "floor-timer")))


def test_ending_the_speech_silences_the_member_again(sitting: dict[str, Any]) -> None:
    p, ids = sitting["pages"], sitting["ids"]
    open_with_quorum(sitting)
    a_asks_for_the_floor(sitting)
    a_is_granted_the_floor(sitting)
    wait_heard(p["b"], ids["a"], "A at B with the floor")
    p["chair"].get_by_test_id("chair-end-speech").click()
    wait_for("no one has the floor", lambda: text_of(p["b"], "floor-holder") == "いま発言している人はいません")
    assert p["a"].get_by_test_id("you-have-floor").count() == 0
    wait_silent(p["b"], ids["a"], "A at B after the speech")
    wait_heard(p["b"], ids["chair"], "the chair at B after the speech")


def test_open_discussion_lets_everyone_be_heard(sitting: dict[str, Any]) -> None:
    p, ids = sitting["pages"], sitting["ids"]
    open_with_quorum(sitting)
    wait_silent(p["b"], ids["c"], "C at B in floor mode")
    chair = p["chair"]
    chair.get_by_test_id("audio-open").click()
    wait_heard(p["b"], ids["c"], "C at B in open discussion")
    assert chair.get_by_test_id("audio-open").get_attribute("aria-pressed") == "true"
    chair.get_by_test_id("audio-floor").click()
    wait_silent(p["b"], ids["c"], "C at B back in floor mode")


def test_the_agenda_the_queue_order_and_a_withdrawn_request(sitting: dict[str, Any]) -> None:
    p, ids, members = sitting["pages"], sitting["ids"], sitting["members"]
    open_with_quorum(sitting)
    chair, b = p["chair"], p["b"]
    first = chair.get_by_test_id("agenda-item").first
    first.get_by_test_id("take-up").click()
    wait_for("the current item on B", lambda: b.locator("[data-testid=agenda-item][aria-current=step]").count() == 1)
    assert "令和8年度一般会計予算" in text_of(b, "current-item")

    # B asks to debate, a socket member raises a point of order: it goes first.
    b.get_by_test_id("request-kind").select_option("debate_pro")
    b.get_by_test_id("request-floor").click()
    wait_for("B's request", lambda: b.get_by_test_id("my-request").is_visible())
    assert members.command(0, "request_floor", kind="point_of_order")["type"] == "reply"
    wait_for("B is second", lambda: "2番目" in text_of(b, "my-request"))

    def queue() -> list[str]:
        return chair.eval_on_selector_all("[data-testid=queue-item]", "els => els.map(e => e.dataset.participantId)")

    wait_for("two in the queue", lambda: len(queue()) == 2)
    assert queue()[1] == ids["b"]
    # The chair moves B up (sending the queue version shown).
    chair.locator(f"[data-testid=queue-item][data-participant-id='{ids['b']}']").get_by_test_id("move-up").click()
    wait_for("B first", lambda: queue()[0] == ids["b"])
    wait_for("B is told", lambda: "1番目" in text_of(b, "my-request"))
    # B changes their mind.
    b.get_by_test_id("withdraw").click()
    wait_for("B's request gone", lambda: ids["b"] not in queue())
    assert b.get_by_test_id("request-floor").is_visible()
    chair.get_by_test_id("deny").first.click()
    wait_for("an empty queue", lambda: "発言を求めている人はいません" in text_of(b, "queue"))

    # The decision, recorded through the dialog.
    chair.get_by_test_id("agenda-item").first.get_by_test_id("decide").click()
    dialog = chair.get_by_test_id("dialog")
    dialog.get_by_test_id("dialog-choice").first.click()
    assert dialog.get_by_test_id("dialog-input").input_value() == "原案可決"
    dialog.get_by_test_id("dialog-confirm").click()
    wait_for("the result on B", lambda: "結果: 原案可決" in text_of(b, "agenda"))


def test_the_chair_calls_the_presenter(sitting: dict[str, Any]) -> None:
    p = sitting["pages"]
    open_with_quorum(sitting)
    chair, b = p["chair"], p["b"]
    chair.get_by_test_id("call-select").select_option(label="中村 直樹(説明員)")
    chair.get_by_test_id("call-button").click()
    wait_for("the presenter has the floor", lambda: "中村 直樹" in text_of(b, "floor-holder"))
    assert "説明" in text_of(b, "floor-holder")
    assert re.fullmatch(r"残り (20:00|19:[45]\d)", text_of(b, "floor-timer")), "explanations get 20 minutes"
    assert chair.get_by_test_id("call-button").is_disabled(), "one speaker at a time"
    chair.get_by_test_id("chair-end-speech").click()
    wait_for("the floor is free", lambda: text_of(b, "floor-holder") == "いま発言している人はいません")


def test_the_speech_timer_counts_from_the_servers_clock(server: Server, playwright_instance: Any) -> None:
    """Pure functions of the page's sitting module: any page of the server will do."""
    browser = launch_browser(playwright_instance)
    try:
        page = browser.new_context(viewport=LANDSCAPE, locale="ja-JP").new_page()
        page.goto(server.base_url + "/join")
        result = timer_cases(page)
    finally:
        browser.close()
    assert result == {"left": 30000, "text": "0:30", "warn": "warning", "ok": "ok", "over": "overrun",
                      "overText": "0:12", "moved": ["a", "c", "b"], "edge": ["a", "b"]}


def timer_cases(page: Any) -> dict[str, Any]:
    return page.evaluate("""async () => {
        const s = await import('/static/js/sitting.js');
        const sitting = {floor: {ends_at: 100000}, warning_seconds: 60};
        // This device's clock is 5 s behind the server's: 30 s left on the server's clock.
        const left = s.remainingMs(sitting, 5000, 65000);
        return {
            left, text: s.clock(left), warn: s.timerPhase(left, 60), ok: s.timerPhase(61000, 60),
            over: s.timerPhase(-12000, 60), overText: s.clock(-12400),
            moved: s.moved(['a', 'b', 'c'], 2, -1), edge: s.moved(['a', 'b'], 0, -1),
        };
    }""")


def test_in_recess_everyone_is_heard_again(sitting: dict[str, Any]) -> None:
    p, ids = sitting["pages"], sitting["ids"]
    open_with_quorum(sitting)
    wait_silent(p["b"], ids["c"], "C at B before the recess")
    chair, b = p["chair"], p["b"]
    chair.get_by_test_id("lifecycle-recess").click()
    wait_for("休憩中", lambda: text_of(b, "sitting-state") == "休憩中")
    wait_heard(b, ids["c"], "C at B in recess")
    assert text_of(b, "request-hint") == "休憩中です。再開後に発言を求めることができます。"
    assert chair.get_by_test_id("lifecycle-resume").is_enabled() and chair.get_by_test_id("lifecycle-open").is_disabled()
    chair.get_by_test_id("lifecycle-resume").click()
    wait_for("開会中 again", lambda: text_of(b, "sitting-state") == "開会中")
    wait_silent(b, ids["c"], "C at B after resuming")


def test_the_chair_mutes_and_removes_a_member(sitting: dict[str, Any], artifacts: Path) -> None:
    p, ids = sitting["pages"], sitting["ids"]
    open_with_quorum(sitting)
    chair, c = p["chair"], p["c"]
    row = chair.locator(f"[data-testid=roster-item][data-participant-id='{ids['c']}']")
    row.get_by_test_id("mute").click()
    wait_for("C is told", lambda: "委員長があなたのマイクを止めています" in text_of(c, "my-mic"))
    row.get_by_test_id("unmute").click()
    wait_for("C's mic back", lambda: "止めています" not in text_of(c, "my-mic"))

    row.get_by_test_id("remove").click()
    dialog = chair.get_by_test_id("dialog")
    assert "田中 健二" in dialog.inner_text()
    dialog.get_by_test_id("dialog-cancel").click()
    assert c.get_by_test_id("screen-meeting").is_visible(), "cancelling removes no one"
    row.get_by_test_id("remove").click()
    chair.get_by_test_id("dialog").get_by_test_id("dialog-confirm").click()
    wait_for("C's final screen", lambda: c.get_by_test_id("screen-error").is_visible())
    assert "委員長の指示により退出しました" in text_of(c, "error-text")
    c.screenshot(path=str(artifacts / "e2e-removed.png"))
    # Waited on the page's own clock: its reconnect timer (a few hundred ms) would fire before this
    # one however slow the machine, so a page that meant to reconnect would have by now.
    c.evaluate("() => new Promise((done) => setTimeout(done, 2500))")
    assert c.get_by_test_id("screen-error").is_visible(), "no reconnect after removal"
    assert c.evaluate("window.gikai.state.connection") == "idle"
    wait_for("C marked removed", lambda: "退出済み" in row.inner_text())
    chair.set_viewport_size(LANDSCAPE)


def test_adjourning_asks_first_and_ends_the_sitting(sitting: dict[str, Any]) -> None:
    p = sitting["pages"]
    open_with_quorum(sitting)
    chair, b = p["chair"], p["b"]
    chair.get_by_test_id("lifecycle-adjourn").click()
    dialog = chair.get_by_test_id("dialog")
    assert "散会しますか" in dialog.inner_text()
    dialog.get_by_test_id("dialog-confirm").click()
    wait_for("散会", lambda: text_of(b, "sitting-state") == "散会")
    assert text_of(b, "request-hint") == "この会議は散会しました。"
    assert all(chair.get_by_test_id(f"lifecycle-{name}").is_disabled() for name in ("open", "recess", "resume", "adjourn"))
