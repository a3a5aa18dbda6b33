"""Remote attendance by the chair's permission in real browsers: a member applies from the
sitting page before it opens (one big button, the reason as a big choice), watches only until
the chair permits it in the console, and is then counted.

The clerk turns the rule on for the rehearsal committee from the terminal (`gikai body
remote-permission`), as a council would; the server is restarted so that nothing was loaded with
the old rules. Attendance is counted by connection (`--no-presence-detection`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import ARTIFACTS, REPO, launch_browser, start_server, stop_server
from .helpers import open_and_join, screenshots, self_id, text_of, wait_for
from .socketmembers import SocketMembers

pytestmark = pytest.mark.e2e

CHAIR, A, B, CLERK = 0, 2, 3, 12  # rehearsal links: 委員長 山田, 鈴木 一郎, 高橋 美咲, 事務局
SERVER_ARGS = ["--no-presence-detection"]


def gikai(data: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "gikai", *args, "--data", str(data)], cwd=REPO,
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def counted_names(page: Any) -> str:
    group = page.get_by_test_id("counted")
    return group.inner_text() if group.count() else ""


def test_a_member_applies_the_chair_permits_and_the_member_is_counted(tmp_path: Path, playwright_instance: Any,
                                                                      request: pytest.FixtureRequest) -> None:
    first = start_server(tmp_path, extra=SERVER_ARGS)  # creates the rehearsal committee
    stop_server(first.process)
    body_id = next(line.split()[0] for line in gikai(tmp_path / "data", "body", "list").splitlines()
                   if "模擬委員会" in line)
    gikai(tmp_path / "data", "body", "remote-permission", body_id, "on")
    server = start_server(tmp_path, port=first.port, log_name="server-2.log", extra=SERVER_ARGS)
    members = SocketMembers(server.base_url)
    browsers = []
    shots = ARTIFACTS / "remote-permission"
    shots.mkdir(parents=True, exist_ok=True)
    try:
        browsers = [launch_browser(playwright_instance), launch_browser(playwright_instance)]
        chair, a = open_and_join(browsers[0], server.links[CHAIR]), open_and_join(browsers[1], server.links[A])
        a_id = self_id(a)
        members.join(server.links[CLERK])
        members.join(server.links[B])  # remote, never applies: watches
        # The chair presides from the chamber (the clerk checks them in).
        assert members.command(0, "check_in", participant_id=self_id(chair))["type"] == "reply"

        # Before permission, A attending remotely only watches, and is told so.
        wait_for("A's watch-only notice", lambda: a.get_by_test_id("remote-watch-only").is_visible())
        assert "傍聴のみ" in text_of(a, "remote-watch-only")
        card = a.get_by_test_id("remote-card")
        assert "委員長の許可が必要" in card.inner_text()
        a.get_by_test_id("remote-apply").click()
        dialog = a.get_by_test_id("remote-dialog")
        wait_for("the reasons", lambda: dialog.is_visible())
        assert a.get_by_test_id("remote-send").is_disabled(), "a reason first"
        a.get_by_test_id("remote-reason-childcare").click()
        screenshots(a, shots, "member-dialog")
        a.get_by_test_id("remote-send").click()
        wait_for("A's application pending", lambda: "許可をお待ちください" in text_of(a, "remote-state"))
        assert "育児" in text_of(a, "remote-state") and a.get_by_test_id("remote-apply").is_hidden()
        screenshots(a, shots, "member-pending")

        # The chair sees it in the console and permits it; B, never permitted, is not counted.
        row = chair.locator(f"[data-testid=remote-application][data-member-id='{a_id}']")
        wait_for("A's application on the chair's screen", lambda: row.count() == 1)
        assert "育児" in row.inner_text()
        assert "遠隔出席の許可なし" in text_of(chair, "quorum")
        screenshots(chair, shots, "chair-desk")
        row.get_by_test_id("remote-permit").click()
        wait_for("A's permission", lambda: text_of(a, "remote-state") == "遠隔出席が許可されました。")
        wait_for("the notice gone", lambda: a.get_by_test_id("remote-watch-only").is_hidden())
        wait_for("A counted on the chair's screen", lambda: "鈴木 一郎" in counted_names(chair))
        assert "高橋 美咲" not in counted_names(chair)
        wait_for("A counted for the clerk", lambda: a_id in members.sitting(0)["quorum"]["counted"])
        screenshots(a, shots, "member-permitted")
        screenshots(chair, shots, "chair-permitted")

        # The clerk sees the committee's rule on the clerk's page.
        clerk = browsers[0].new_context(viewport={"width": 1024, "height": 768}, locale="ja-JP").new_page()
        clerk.goto(server.localhost_url + "/login")
        clerk.get_by_test_id("clerk-username").fill("clerk")
        clerk.get_by_test_id("clerk-password").fill(first.clerk_password)
        clerk.get_by_test_id("clerk-login").click()
        clerk.wait_for_url("**/admin")
        rule = clerk.locator(f"[data-testid=body-card][data-body-id='{body_id}']").get_by_test_id("body-remote-rule")
        wait_for("the rule on the clerk's page", lambda: "許可制" in rule.inner_text())
        rule.scroll_into_view_if_needed()
        clerk.screenshot(path=str(shots / "clerk-rule-1024x768.png"))
    finally:
        try:
            members.close()
            for browser in browsers:
                browser.close()
        finally:
            stop_server(server.process)
            (ARTIFACTS / f"e2e-server-{request.node.name}.log").write_bytes(server.log.read_bytes())
