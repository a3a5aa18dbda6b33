"""Stop the server in the middle of a sitting and start it again on the same port and data
folder: the pages reconnect by themselves, show the same sitting (open, the same member
holding the floor, the same queue), and the chair carries on from the console. The test has
its own server and browsers and brings the sitting to that point itself.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import ARTIFACTS, Server, launch_browser, start_server, stop_server
from .fakemedia import write_wav, write_y4m
from .helpers import open_and_join, self_id, text_of, wait_for
from .socketmembers import SocketMembers

pytestmark = pytest.mark.e2e

CHAIR, A = 0, 2  # 委員長 山田 太郎, 委員 鈴木 一郎 in real browsers
B, *OTHERS = 3, 4, 5, 6  # over plain sockets: B asks for the floor too; six members in all
# Attendance by connection: the sockets have no camera (presence on camera: test_passkeys).
SERVER_ARGS = ["--no-presence-detection"]


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The test's own running server (replaced by the test when it restarts), stopped at the end."""
    root = tmp_path / "gikai-restart"
    root.mkdir()
    holder: dict[str, Any] = {"root": root, "server": start_server(root, extra=SERVER_ARGS)}
    try:
        yield holder
    finally:
        stop_server(holder["server"].process)
        ARTIFACTS.mkdir(exist_ok=True)
        for log in sorted(root.glob("server*.log")):
            (ARTIFACTS / f"e2e-restart-{log.name}").write_bytes(log.read_bytes())


@pytest.fixture
def pages(servers: dict[str, Any], playwright_instance: Any, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The chair's and A's pages, each in a browser of its own, joined to the test's server."""
    folder = tmp_path / "restart-media"
    folder.mkdir()
    server: Server = servers["server"]
    browsers, opened = [], {}
    try:
        for n, (name, link) in enumerate((("chair", CHAIR), ("a", A))):
            camera = write_y4m(folder / f"camera{n}.y4m", seconds=2, hue=60 + 120 * n, width=320, height=180)
            microphone = write_wav(folder / f"microphone{n}.wav", seconds=3, pitch=130 + 50 * n)
            browsers.append(launch_browser(playwright_instance, camera, microphone))
            opened[name] = open_and_join(browsers[-1], server.links[link])
        yield opened
    finally:
        for browser in browsers:
            browser.close()


def sitting_of(page: Any) -> dict[str, Any]:
    return page.evaluate("window.gikai.state.sitting")


def test_pages_reconnect_after_a_restart_and_the_chair_carries_on(
    servers: dict[str, Any], pages: dict[str, Any], artifacts: Path
) -> None:
    server: Server = servers["server"]
    chair, a = pages["chair"], pages["a"]
    ids = {"chair": self_id(chair), "a": self_id(a)}
    members = SocketMembers(server.base_url)
    try:
        b_id = members.join(server.links[B])
        for link in OTHERS:
            members.join(server.links[link])
        wait_for("a quorum", lambda: "定足数に達しています" in text_of(chair, "quorum-verdict"))
        chair.get_by_test_id("lifecycle-open").click()
        wait_for("open", lambda: text_of(a, "sitting-state") == "開会中")
        a.get_by_test_id("request-floor").click()
        wait_for("A queued", lambda: a.get_by_test_id("my-request").is_visible())
        assert members.command(0, "request_floor", kind="question")["type"] == "reply"
        wait_for("two in the queue", lambda: chair.get_by_test_id("queue-item").count() == 2)
        chair.locator(f"[data-testid=queue-item][data-participant-id='{ids['a']}']").get_by_test_id("grant").click()
        wait_for("A has the floor", lambda: a.get_by_test_id("you-have-floor").is_visible())
        before = sitting_of(chair)
        assert before["floor"]["holder_id"] == ids["a"]
        assert [r["participant_id"] for r in before["queue"]["requests"]] == [b_id]

        for page in pages.values():
            page.evaluate("""() => {
                const status = document.querySelector('[data-testid=status]');
                window.statusSeen = [];
                new MutationObserver(() => window.statusSeen.push(status.textContent))
                    .observe(status, {childList: true, characterData: true, subtree: true});
            }""")
        stopped_at = time.monotonic()
        stop_server(server.process)
    finally:
        members.close()

    for page in pages.values():
        wait_for("再接続中", lambda pg=page: text_of(pg, "status") == "再接続中…")
    # The pages keep showing the sitting while the server is away.
    assert a.get_by_test_id("you-have-floor").is_visible()

    servers["server"] = server = start_server(servers["root"], port=server.port, log_name="server-2.log",
                                              extra=SERVER_ARGS)
    for page in pages.values():
        wait_for("rejoined", lambda pg=page: pg.evaluate("window.gikai.state.connection") == "connected"
                 and pg.evaluate("window.gikai.connectionState") == "connected")
    back_after = time.monotonic() - stopped_at
    print(f"\nserver stopped, restarted and both pages rejoined with media in {back_after:.1f} s")
    for page in pages.values():
        assert "再接続中…" in page.evaluate("window.statusSeen")

    after = sitting_of(chair)
    for key in ("state", "current_item_id", "audio_mode", "acting_chair_id"):
        assert after[key] == before[key], key
    assert after["floor"]["holder_id"] == ids["a"] and after["floor"]["ends_at"] == before["floor"]["ends_at"]
    assert after["queue"] == before["queue"]
    assert text_of(a, "sitting-state") == "開会中"
    assert text_of(a, "you-have-floor") == "あなたが発言中です"
    assert chair.locator(f"[data-testid=queue-item][data-participant-id='{b_id}']").count() == 1
    chair.screenshot(path=str(artifacts / "e2e-restart-chair.png"))

    # The chair carries on: the speech ends on every screen.
    chair.get_by_test_id("chair-end-speech").click()
    for page in pages.values():
        wait_for("the floor is free", lambda pg=page: text_of(pg, "floor-holder") == "いま発言している人はいません")
    assert a.get_by_test_id("request-floor").is_visible()
    assert chair.get_by_test_id("command-error").is_hidden()
