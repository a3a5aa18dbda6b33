"""The chamber display (議場表示) in a real Chromium at 1920x1080: it follows a sitting that the chair
and members run over plain WebSockets, without a reload: the sitting opens, the first item is
taken up, a member is given the floor (the speech's time counts down), and a named ballot,
voted with passkeys (software authenticators registered with the clerk's enrolment links), is
published: 賛成 2・反対 1 → 可決 stays on screen for the hold time, then the floor again.
axe finds nothing serious on the display and on its overlay variant."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.authenticator import SoftAuthenticator

from .conftest import ARTIFACTS, launch_browser, start_server, stop_server
from .helpers import text_of, wait_for
from .socketmembers import SocketMembers
from .test_accessibility import FAILING_IMPACTS, axe_source  # noqa: F401  (fixture)

pytestmark = pytest.mark.e2e

SERVER_ARGS = ["--no-presence-detection"]
# Rehearsal join links in printed order: 0 委員長 山田 太郎, 1 副委員長 佐藤 花子, 2 鈴木 一郎, 3 高橋 美咲,
# 4 田中 健二, 5 渡辺 恵子, ...
LINKS = (0, 2, 3, 4, 5, 6)
CHAIR, SPEAKER = 0, 1  # indexes among the socket members
NAMES = {1: "鈴木 一郎", 2: "高橋 美咲", 3: "田中 健二"}
VOTERS = {1: "yes", 2: "no", 3: "yes"}
FULL_HD = {"width": 1920, "height": 1080}
HOLD_SECONDS = 6


def enrol_all(playwright: Any, base_url: str, password: str, ids: dict[int, str]) -> dict[int, SoftAuthenticator]:
    """The clerk issues enrolment links; each voter registers a software passkey with one."""
    api = playwright.request.new_context(base_url=base_url, extra_http_headers={"Origin": base_url})
    try:
        csrf = api.post("/api/login", data={"username": "clerk", "password": password}).json()["csrf"]
        overview = api.get("/api/admin/overview").json()
        member_of = {m["name"]: m["id"] for b in overview["bodies"] for m in b["members"]}
        keys = {}
        for index, participant_name in ids.items():
            issued = api.post(f"/api/admin/members/{member_of[participant_name]}/enrolment",
                              headers={"X-CSRF-Token": csrf})
            assert issued.ok, issued.text()
            token = issued.json()["link"].split("#", 1)[1]
            key = SoftAuthenticator(base_url, base_url.split("://", 1)[1].rsplit(":", 1)[0])
            enrolment = playwright.request.new_context(base_url=base_url, extra_http_headers={"Origin": base_url})
            try:
                opts = enrolment.post("/api/enrol/options", data={"token": token}).json()
                done = enrolment.post("/api/enrol/verify", data={"token": token, "ceremony": opts["ceremony"],
                                                                 "credential": key.register(opts["options"])})
                assert done.ok, done.text()
            finally:
                enrolment.dispose()
            keys[index] = key
        return keys
    finally:
        api.dispose()


def vote(members: SocketMembers, index: int, key: SoftAuthenticator, ballot_id: str, choice: str) -> None:
    options = members.request(index, "vote_options", ballot_id=ballot_id, choice=choice)
    assert options["type"] == "reply", options
    data = options["data"]
    cast = members.request(index, "vote", ballot_id=ballot_id, choice=choice, ceremony=data["ceremony"],
                           credential=key.assert_(data["publicKey"]))
    assert cast["type"] == "reply", cast


def audit(page: Any, source: str, name: str) -> list[str]:
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(source)
    found = page.evaluate("""async () => {
        const r = await window.axe.run(document, {resultTypes: ['violations']});
        return r.violations.map((v) => ({id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' '))}));
    }""")
    return [f"{name}: {v['impact']} {v['id']} {v['nodes'][:4]}" for v in found if v["impact"] in FAILING_IMPACTS]


@pytest.fixture
def chamber(tmp_path: Path, playwright_instance: Any, request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    server = start_server(tmp_path, extra=SERVER_ARGS)
    members = SocketMembers(server.base_url)
    browser = None
    try:
        for link in LINKS:
            members.join(server.links[link])
        browser = launch_browser(playwright_instance)
        yield {"server": server, "members": members, "browser": browser}
    finally:
        try:
            if browser is not None:
                browser.close()
            members.close()
        finally:
            stop_server(server.process)
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / f"e2e-server-display-{request.node.name}.log").write_bytes(server.log.read_bytes())


def showing(page: Any) -> str:
    return str(page.evaluate("window.gikaiDisplay ? window.gikaiDisplay.showing : 'none'"))


def test_the_display_follows_the_sitting_by_itself(chamber: dict[str, Any], axe_source: str,  # noqa: F811
                                                   artifacts: Path, playwright_instance: Any) -> None:
    server, members, browser = chamber["server"], chamber["members"], chamber["browser"]
    sitting = members.sitting(CHAIR)
    meeting_id = sitting["meeting_id"]
    keys = enrol_all(playwright_instance, server.base_url, server.clerk_password, NAMES)

    page = browser.new_context(viewport=FULL_HD, locale="ja-JP").new_page()
    loads: list[str] = []
    page.on("load", lambda _: loads.append(page.url))
    page.goto(f"{server.base_url}/display/{meeting_id}?hold={HOLD_SECONDS}")
    wait_for("the display's first view", lambda: showing(page) == "notice")
    assert text_of(page, "display-title") == sitting["title"] and "開会前" in text_of(page, "display-notice")
    problems = audit(page, axe_source, "before-opening")

    members.command(CHAIR, "open")
    first = sitting["agenda"][0]
    members.command(CHAIR, "take_up", item_id=first["id"])
    wait_for("the item taken up", lambda: text_of(page, "display-item") == first["title"])
    assert showing(page) == "floor" and "委員長" in text_of(page, "display-speaker")
    assert text_of(page, "display-state") == "開会中"

    asked = members.command(SPEAKER, "request_floor", kind="question")
    assert asked["type"] == "reply", asked
    request_id = wait_for("the request in the queue", lambda: next(
        (r["id"] for r in members.sitting(CHAIR).get("queue", {}).get("requests", [])), None))
    members.command(CHAIR, "grant", request_id=request_id)
    wait_for("the speaker on the display", lambda: NAMES[SPEAKER] in text_of(page, "display-speaker"))
    assert text_of(page, "display-kind") == "質疑"
    clock = wait_for("the speech's clock", lambda: re.fullmatch(r"残り (\d+):(\d\d)", text_of(page, "display-clock")))
    limit = members.sitting(CHAIR)["floor"]["limit_seconds"]
    assert limit - 60 < int(clock.group(1)) * 60 + int(clock.group(2)) <= limit
    wait_for("the clock to count down", lambda: text_of(page, "display-clock") != clock.group(0))
    page.screenshot(path=str(artifacts / "e2e-display-floor-1920x1080.png"))
    problems += audit(page, axe_source, "floor")

    members.command(CHAIR, "end_speech")
    opened = members.request(CHAIR, "ballot", action="open", motion="議案第1号を原案のとおり可決すべきものと決する",
                             kind="named", majority="simple", abstain_allowed=False)
    assert opened["type"] == "reply", opened
    ballot_id = opened["data"]["ballot"]["id"]
    for index, choice in VOTERS.items():
        vote(members, index, keys[index], ballot_id, choice)
    assert members.request(CHAIR, "ballot", action="close", ballot_id=ballot_id)["type"] == "reply"
    assert showing(page) == "floor", "a closed ballot's tally is not public"
    assert members.request(CHAIR, "ballot", action="publish", ballot_id=ballot_id)["type"] == "reply"
    wait_for("the result announced", lambda: showing(page) == "result")
    assert text_of(page, "display-counts") == "賛成 2・反対 1"
    assert text_of(page, "display-outcome") == "可決"
    assert "議案第1号" in text_of(page, "display-motion")
    page.screenshot(path=str(artifacts / "e2e-display-result-1920x1080.png"))
    problems += audit(page, axe_source, "result")
    wait_for("back to the floor after the hold", lambda: showing(page) == "floor", timeout=HOLD_SECONDS + 60)
    assert loads == [loads[0]], "one page load: everything came over the socket"

    page.set_viewport_size({"width": 1280, "height": 720})
    page.screenshot(path=str(artifacts / "e2e-display-floor-1280x720.png"))
    overlay = browser.new_context(viewport=FULL_HD, locale="ja-JP").new_page()
    overlay.goto(f"{server.base_url}/display/{meeting_id}?overlay=1")
    wait_for("the overlay's view", lambda: showing(overlay) == "floor")
    background = overlay.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background in ("rgba(0, 0, 0, 0)", "transparent"), background
    overlay.screenshot(path=str(artifacts / "e2e-display-overlay-1920.png"), omit_background=True)
    problems += audit(overlay, axe_source, "overlay")
    assert not problems, "\n".join(problems)

    # Adjourned: the display says so, and the sitting's archive page offers 議員別賛否 to download.
    members.command(CHAIR, "adjourn")
    wait_for("the adjournment on the display", lambda: showing(page) == "notice")
    assert "散会" in text_of(page, "display-notice")
    archive = browser.new_context(viewport={"width": 1024, "height": 768}, locale="ja-JP").new_page()
    archive.goto(f"{server.base_url}/archive/{meeting_id}")
    button = archive.get_by_test_id("votes-csv")
    wait_for("the votes' downloads", button.is_visible)
    box = button.bounding_box()
    assert box is not None and box["height"] >= 48, "a big button"
    with archive.expect_download() as download:
        button.click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_bytes().decode("utf-8-sig"), newline="")))
    assert rows[0][:3] == ["議席", "氏名", "よみ"] and "議案第1号" in rows[0][3]
    assert {r[1]: r[3] for r in rows[1:]}["高橋 美咲"] == "反対" and rows[-1][3] == "可決"
    archive.get_by_test_id("votes-links").scroll_into_view_if_needed()
    archive.screenshot(path=str(artifacts / "e2e-display-archive-votes-1024x768.png"))
