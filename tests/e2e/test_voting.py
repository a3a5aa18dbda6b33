"""A vote in real browsers, from the chair's console to a verified record.

The rehearsal committee sits with attendance counted by connection (`--no-presence-detection`:
five pages and the server share two cores). The chair and three voting members (鈴木, 高橋,
田中) each have a page; three more members join over plain WebSockets, so seven of twelve are
counted. The voters register passkeys with enrolment links the clerk issues from the command
line (Chromium's virtual authenticator), then vote on the first bill; every page is opened at
http://localhost:PORT (passkeys need a host name). 高橋 tries to vote again from a screen that
missed the news of the first vote (the test filters 高橋's own id out of what the server tells
that page) and is refused by the server.

Being seen on camera at the moment of casting is tested on a second server with presence
detection on: member 渡辺's camera shows an empty room. The chair (over a WebSocket) checks
渡辺 in as sitting in the chamber, so 渡辺 is entitled when the ballot opens, then out again:
at casting the server sees only the empty room and refuses the vote.
The tests of this module run in order.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import ARTIFACTS, REPO, Server, launch_browser, start_server, stop_server
from .fakemedia import write_scene_y4m, write_wav, write_y4m
from .helpers import LANDSCAPE, screenshots, self_id, text_of, virtual_authenticator, wait_for
from .socketmembers import SocketMembers

pytestmark = pytest.mark.e2e

# Rehearsal join links in printed order: 0 委員長 山田 太郎, 1 副委員長 佐藤 花子, 2 鈴木 一郎,
# 3 高橋 美咲, 4 田中 健二, 5 渡辺 恵子, 6 伊藤 修, 7 小林 由美, 8 加藤 正, ...
CHAIR, V1, V2, V3, EMPTY = 0, 2, 3, 4, 5
SOCKET_ONLY = (6, 7, 8)
VOTERS = {"v1": "鈴木 一郎", "v2": "高橋 美咲", "v3": "田中 健二"}
BILL = "議案第1号 令和8年度一般会計予算"
SERVER_ARGS = ["--no-presence-detection"]


def gikai(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gikai", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60)


def on_localhost(server: Server, link: str) -> str:
    return link.replace(server.base_url, server.localhost_url)


def join(page: Any, url: str) -> str:
    page.goto(url)
    page.get_by_test_id("join-button").click()
    return self_id(page)


def ok(answer: dict[str, Any]) -> dict[str, Any]:
    assert answer["type"] == "reply", answer
    return answer.get("data") or {}


@pytest.fixture(scope="module")
def sitting(server: Server, playwright_instance: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("voting-media")
    browser = launch_browser(playwright_instance, write_y4m(folder / "camera.y4m", seconds=2, hue=200, width=320, height=180),
                             write_wav(folder / "voice.wav", seconds=3))
    members = SocketMembers(server.base_url)
    contexts: dict[str, Any] = {}
    try:
        pages: dict[str, Any] = {}
        for who in ("chair", "v1", "v2", "v3"):
            contexts[who] = browser.new_context(viewport=LANDSCAPE, locale="ja-JP")
            pages[who] = contexts[who].new_page()
        ids = {"chair": join(pages["chair"], on_localhost(server, server.links[CHAIR]))}
        for link in SOCKET_ONLY:
            members.join(server.links[link])
        yield {"server": server, "pages": pages, "contexts": contexts, "ids": ids,
               "links": {"v1": server.links[V1], "v2": server.links[V2], "v3": server.links[V3]}}
    finally:
        members.close()
        for context in contexts.values():
            context.close()
        browser.close()


def ballot(page: Any) -> dict[str, Any]:
    return page.evaluate("window.gikai.state.ballot") or {}


def vote(page: Any, choice: str) -> None:
    """Press a choice, then 投票する on the confirmation; the passkey answers by itself."""
    page.get_by_test_id(f"vote-{choice}").click()
    page.get_by_test_id("vote-cast").click()


@pytest.fixture()
def seen_on_camera(playwright_instance: Any, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A second server, presence detection on; 渡辺's page shows an empty room; the chair on a socket."""
    server = start_server(tmp_path)
    browser = launch_browser(playwright_instance, write_scene_y4m(tmp_path / "empty.y4m", "empty", width=320, height=180),
                             write_wav(tmp_path / "voice.wav", seconds=3))
    chair = SocketMembers(server.base_url)
    try:
        page = browser.new_context(viewport=LANDSCAPE, locale="ja-JP").new_page()
        me = join(page, on_localhost(server, server.links[EMPTY]))
        chair_id = chair.join(server.links[CHAIR])
        yield {"page": page, "me": me, "chair": chair, "chair_id": chair_id, "sitting": chair.sitting(0)}
    finally:
        chair.close()
        browser.close()
        stop_server(server.process)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "e2e-server-test_voting-presence.log").write_bytes(server.log.read_bytes())


def test_a_member_not_seen_on_camera_is_refused_and_told_what_to_do(
        seen_on_camera: dict[str, Any], artifacts: Path) -> None:
    page, me, chair = seen_on_camera["page"], seen_on_camera["me"], seen_on_camera["chair"]
    sitting = seen_on_camera["sitting"]
    # Six members sit in the chamber (the clerk's or the chair's check-in), and so does 渡辺 for now.
    others = [e["id"] for e in sitting["quorum"]["not_counted"] if e["id"] not in (me, seen_on_camera["chair_id"])]
    chamber = [*others[:6], me]
    for participant_id in chamber:
        ok(chair.command(0, "check_in", participant_id=participant_id))
    ok(chair.command(0, "open"))
    ok(chair.command(0, "take_up", item_id=sitting["agenda"][0]["id"]))
    opened = ok(chair.request(0, "ballot", action="open", motion=BILL, kind="named", majority="simple",
                              abstain_allowed=False))["ballot"]
    assert me in opened["entitled"]
    wait_for("the vote panel", page.get_by_test_id("vote-yes").is_visible)
    ok(chair.command(0, "check_out", participant_id=me))  # back at the desk at home, in an empty room
    vote(page, "yes")
    refusal = page.get_by_test_id("vote-refusal")
    wait_for("the refusal", refusal.is_visible, timeout=20)
    assert refusal.get_attribute("data-code") == "not_present"
    assert "カメラに映っていない" in text_of(page, "vote-refusal-message")
    assert "カメラの正面に座り" in text_of(page, "vote-refusal-todo")
    assert page.get_by_test_id("vote-retry").is_visible()
    assert page.get_by_test_id("vote-self").is_visible(), "the member sees their own picture"
    screenshots(page, artifacts, "e2e-vote-refused-not-present")

    # The next ballot opens while 渡辺 is not counted: the screen says so, and why.
    ok(chair.request(0, "ballot", action="close", ballot_id=opened["id"]))
    again = ok(chair.request(0, "ballot", action="open", motion="議案第1号に対する修正案", kind="secret",
                             majority="simple", abstain_allowed=False))["ballot"]
    assert me not in again["entitled"] and me not in again["voted"]
    wait_for("渡辺 is told", lambda: page.get_by_test_id("my-vote").is_visible())
    assert page.get_by_test_id("vote-panel").is_hidden()
    assert "この採決では投票できません" in text_of(page, "my-vote")
    screenshots(page, artifacts, "e2e-vote-not-entitled")


def test_three_members_register_passkeys_with_links_from_the_clerk(sitting: dict[str, Any], playwright_instance: Any) -> None:
    server, pages, contexts = sitting["server"], sitting["pages"], sitting["contexts"]
    # The clerk's own API, as the admin page uses it: log in, list the members, issue links.
    api = playwright_instance.request.new_context(base_url=server.localhost_url,
                                                  extra_http_headers={"Origin": server.localhost_url})
    try:
        login = api.post("/api/login", data={"username": "clerk", "password": server.clerk_password})
        assert login.ok, login.text()
        headers = {"X-CSRF-Token": login.json()["csrf"]}
        overview = api.get("/api/admin/overview").json()
        members = {m["name"]: m for b in overview["bodies"] for m in b["members"]}
        links = {}
        for who, name in VOTERS.items():
            issued = api.post(f"/api/admin/members/{members[name]['id']}/enrolment", headers=headers)
            assert issued.ok, issued.text()
            links[who] = issued.json()["link"]
        for who, name in VOTERS.items():
            page = pages[who]
            cdp, authenticator = virtual_authenticator(contexts[who], page)
            page.goto(links[who])
            wait_for("whose passkey", lambda pg=page, n=name: n in text_of(pg, "enrol-for"))
            page.get_by_test_id("enrol-button").click()
            wait_for("registered", lambda pg=page: pg.get_by_test_id("enrol-done").is_visible())
            assert len(cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]) == 1
            sitting["ids"][who] = join(page, on_localhost(server, sitting["links"][who]))
        overview = api.get("/api/admin/overview").json()
        enrolled = {m["name"] for b in overview["bodies"] for m in b["members"] if m["passkey"]}
        assert enrolled == set(VOTERS.values())
    finally:
        api.dispose()


def test_the_chair_opens_a_named_ballot_on_the_current_item(sitting: dict[str, Any], artifacts: Path) -> None:
    pages, ids = sitting["pages"], sitting["ids"]
    chair = pages["chair"]
    wait_for("the quorum", lambda: "定足数に達しています" in text_of(chair, "quorum-verdict"), timeout=30)
    chair.get_by_test_id("lifecycle-open").click()
    wait_for("開会中", lambda: text_of(chair, "sitting-state") == "開会中")
    chair.get_by_test_id("agenda-item").first.get_by_test_id("take-up").click()
    wait_for("the bill taken up", lambda: text_of(chair, "current-item") == BILL)

    chair.get_by_test_id("ballot-start").click()
    dialog = chair.get_by_test_id("ballot-dialog")
    assert dialog.get_by_test_id("ballot-motion-input").input_value() == BILL, "the motion is the item's title"
    assert dialog.get_by_test_id("ballot-kind-named").is_checked()
    assert dialog.get_by_test_id("ballot-majority").input_value() == "simple"
    dialog.get_by_test_id("ballot-abstain").check()
    screenshots(chair, artifacts, "e2e-vote-chair-dialog")
    dialog.get_by_test_id("ballot-dialog-confirm").click()
    console = chair.get_by_test_id("ballot-console")
    wait_for("the open ballot on the chair's console", lambda: console.get_attribute("data-state") == "open")
    opened = ballot(chair)
    assert opened["kind"] == "named" and opened["majority"] == "simple" and opened["abstain_allowed"]
    entitled = set(opened["entitled"])
    assert {ids["v1"], ids["v2"], ids["v3"]} <= entitled and ids["chair"] not in entitled
    assert len(entitled) == 6, "the members present, less the chair on a simple majority"
    assert text_of(chair, "ballot-progress") == "投票済み 0人/投票できる人 6人"
    # no recess or adjournment during a vote: the chair's buttons say so before the server would
    assert chair.get_by_test_id("lifecycle-recess").is_disabled() and chair.get_by_test_id("lifecycle-adjourn").is_disabled()
    assert text_of(chair, "ballot-pause-note") == "採決中は休憩・散会できません。採決を締め切ると押せます。"

    v1 = pages["v1"]
    panel = v1.get_by_test_id("vote-panel")
    wait_for("the vote panel", panel.is_visible)
    assert text_of(v1, "vote-motion") == BILL
    assert [b.inner_text() for b in panel.locator("button.vote-choice").all()] == ["賛成", "反対", "棄権"]
    assert "記名投票" in text_of(v1, "vote-kind-note")
    box = v1.get_by_test_id("vote-yes").bounding_box()
    assert box and box["height"] >= 96 and box["width"] >= 200, f"vote buttons are large: {box}"
    assert chair.get_by_test_id("vote-panel").is_hidden(), "the chair does not vote on a simple majority"
    assert text_of(chair, "chair-not-voting") == "この採決では投票できません(委員長は可否同数のときのみ決します)。"
    screenshots(v1, artifacts, "e2e-vote-panel-open")
    screenshots(chair, artifacts, "e2e-vote-chair-open")


def test_members_vote_with_their_passkeys_and_get_a_receipt(sitting: dict[str, Any], artifacts: Path) -> None:
    pages = sitting["pages"]
    v1 = pages["v1"]
    v1.get_by_test_id("vote-yes").click()
    assert text_of(v1, "vote-question") == "賛成で投票します。よろしいですか?"
    assert v1.get_by_test_id("vote-back").is_visible()
    screenshots(v1, artifacts, "e2e-vote-confirm")
    v1.get_by_test_id("vote-back").click()
    assert v1.get_by_test_id("vote-no").is_visible(), "戻る goes back to the choices"
    vote(v1, "yes")
    wait_for("V1's receipt", lambda: v1.get_by_test_id("vote-receipt").is_visible(), timeout=20)
    assert text_of(v1, "vote-receipt-title") == "投票を受け付けました"
    receipt = v1.evaluate("window.gikai.state.vote.receipt")
    assert re.fullmatch(r"[0-9a-f]{64}", receipt["hash"])
    assert text_of(v1, "vote-hash").replace(" ", "").rstrip("…") == receipt["hash"][:12]
    assert v1.get_by_test_id("vote-receipt").get_attribute("data-hash") == receipt["hash"]
    sitting["receipts"] = {"v1": receipt}
    screenshots(v1, artifacts, "e2e-vote-receipt")
    v1.get_by_text("受付番号をすべて表示").click()
    assert text_of(v1, "vote-hash-full").replace(" ", "") == receipt["hash"]
    v1.get_by_test_id("vote-copy").click()
    wait_for("copied", lambda: text_of(v1, "vote-copy") == "コピーしました")
    v1.get_by_test_id("lang-en").click()  # the panel is rebuilt in the other language, same step
    assert text_of(v1, "vote-receipt-title") == "Your vote was received"
    v1.screenshot(path=str(artifacts / "e2e-vote-receipt-en-1024x768.png"))
    v1.get_by_test_id("lang-ja").click()

    for who, choice in (("v2", "yes"), ("v3", "no")):
        page = pages[who]
        wait_for(f"{who}'s panel", page.get_by_test_id("vote-yes").is_visible)
        vote(page, choice)
        wait_for(f"{who}'s receipt", lambda pg=page: pg.get_by_test_id("vote-receipt").is_visible(), timeout=20)
        sitting["receipts"][who] = page.evaluate("window.gikai.state.vote.receipt")

    chair = pages["chair"]
    wait_for("three votes on the chair's console", lambda: text_of(chair, "ballot-progress") == "投票済み 3人/投票できる人 6人")
    voted = chair.get_by_test_id("ballot-voted").inner_text()
    assert all(name in voted for name in VOTERS.values()), voted
    assert "伊藤 修" in text_of(chair, "ballot-waiting")
    assert "賛成" not in voted and "反対" not in voted, "who voted, never what"
    screenshots(chair, artifacts, "e2e-vote-chair-three-voted")
    v1.get_by_test_id("vote-dismiss").click()
    wait_for("the panel closes", v1.get_by_test_id("vote-panel").is_hidden)
    assert "投票済み" in text_of(v1, "my-vote")


def test_a_second_vote_by_the_same_member_is_refused(sitting: dict[str, Any], artifacts: Path) -> None:
    pages, ids = sitting["pages"], sitting["ids"]
    page, me = pages["v2"], ids["v2"]

    def forget_my_vote(route: Any) -> None:
        """A screen that missed the news: the server's word that 高橋 voted never reaches it."""
        upstream = route.connect_to_server()

        def to_page(message: Any) -> None:
            if isinstance(message, str) and me in message:
                data = json.loads(message)
                view = (data.get("data") or {}).get("ballot") if data.get("type") == "reply" else data.get("ballot")
                if isinstance(view, dict) and me in view.get("voted", []):
                    view["voted"].remove(me)
                    message = json.dumps(data, ensure_ascii=False)
            route.send(message)

        upstream.on_message(to_page)

    page.route_web_socket(re.compile(r".*/ws$"), forget_my_vote)
    page.reload()
    page.get_by_test_id("join-button").click()
    wait_for("the choices again", page.get_by_test_id("vote-no").is_visible, timeout=20)
    vote(page, "no")
    refusal = page.get_by_test_id("vote-refusal")
    wait_for("the refusal", refusal.is_visible, timeout=20)
    assert refusal.get_attribute("data-code") == "already_voted"
    assert "すでに投票しています" in text_of(page, "vote-refusal-message")
    assert page.get_by_test_id("vote-retry").count() == 0, "nothing to retry"
    screenshots(page, artifacts, "e2e-vote-refused-twice")
    chair = pages["chair"]
    assert text_of(chair, "ballot-progress") == "投票済み 3人/投票できる人 6人", "still one vote each"
    # This screen's socket runs through the test's filter: done with it.
    sitting["contexts"].pop("v2").close()


def test_the_chair_closes_announces_and_everyone_sees_the_result(sitting: dict[str, Any], artifacts: Path) -> None:
    pages, ids = sitting["pages"], sitting["ids"]
    chair, v1, v3 = pages["chair"], pages["v1"], pages["v3"]
    chair.get_by_test_id("ballot-close").click()
    dialog = chair.get_by_test_id("dialog")
    assert "まだ投票していない人が 3人います" in dialog.inner_text()
    dialog.get_by_test_id("dialog-confirm").click()
    console = chair.get_by_test_id("ballot-console")
    wait_for("the count on the chair's console", lambda: console.get_attribute("data-state") == "closed")
    counts = {k: console.get_by_test_id(f"tally-{k}").get_attribute("data-count") for k in ("yes", "no", "abstain", "none")}
    assert counts == {"yes": "2", "no": "1", "abstain": "0", "none": "3"}, counts
    assert text_of(chair, "ballot-outcome") == "可決"
    assert chair.get_by_test_id("ballot-publish").is_visible()
    wait_for("recess possible again once the vote is closed", lambda: chair.get_by_test_id("lifecycle-recess").is_enabled())
    assert chair.get_by_test_id("ballot-pause-note").is_hidden()
    wait_for("members are told voting closed", lambda: v1.get_by_test_id("ballot-wait").is_visible())
    assert v1.evaluate("window.gikai.state.ballot.tally") is None, "no count before it is announced"
    screenshots(chair, artifacts, "e2e-vote-chair-closed")

    chair.get_by_test_id("ballot-publish").click()
    for page in (v1, v3):
        card = page.get_by_test_id("ballot-card")
        wait_for("the result", lambda c=card: c.get_attribute("data-state") == "published")
        assert text_of(page, "ballot-outcome") == "可決"
        assert card.get_by_test_id("tally-yes").get_attribute("data-count") == "2"
        assert card.get_by_test_id("tally-no").get_attribute("data-count") == "1"
        assert "投票した人の過半数の賛成で可決" in text_of(page, "ballot-rule")
    named = v1.get_by_test_id("ballot-named")
    assert "鈴木 一郎" in named.get_by_test_id("named-yes").inner_text()
    assert "高橋 美咲" in named.get_by_test_id("named-yes").inner_text()
    assert "田中 健二" in named.get_by_test_id("named-no").inner_text()
    assert "伊藤 修" in named.get_by_test_id("named-none").inner_text()
    assert ballot(v1)["votes"] == {ids["v1"]: "yes", ids["v2"]: "yes", ids["v3"]: "no"}
    screenshots(v1, artifacts, "e2e-vote-result")
    screenshots(chair, artifacts, "e2e-vote-chair-published")


def test_a_tied_secret_ballot_is_decided_by_the_chair(sitting: dict[str, Any], artifacts: Path) -> None:
    pages = sitting["pages"]
    chair, v1, v3 = pages["chair"], pages["v1"], pages["v3"]
    chair.get_by_test_id("ballot-start").click()
    dialog = chair.get_by_test_id("ballot-dialog")
    dialog.get_by_test_id("ballot-motion-input").fill("議案第1号に対する修正案")
    dialog.get_by_test_id("ballot-kind-secret").check()
    dialog.get_by_test_id("ballot-dialog-confirm").click()
    wait_for("the secret ballot on V1", lambda: v1.get_by_test_id("vote-yes").is_visible())
    assert "無記名投票: だれが何に投票したかは記録されません" in text_of(v1, "vote-kind-note")
    assert v1.get_by_test_id("vote-abstain").count() == 0, "abstaining not allowed this time"
    screenshots(v1, artifacts, "e2e-vote-panel-secret")

    vote(v1, "yes")
    vote(v3, "no")
    for page in (v1, v3):
        wait_for("a receipt", lambda pg=page: pg.get_by_test_id("vote-receipt").is_visible(), timeout=20)
    wait_for("two votes", lambda: text_of(chair, "ballot-progress").startswith("投票済み 2人"))
    chair.get_by_test_id("ballot-close").click()
    chair.get_by_test_id("dialog").get_by_test_id("dialog-confirm").click()
    wait_for("the tie", lambda: chair.get_by_test_id("tie-break").is_visible())
    assert text_of(chair, "ballot-outcome") == "可否同数"
    assert chair.get_by_test_id("ballot-publish").count() == 0, "a tie is decided before it is announced"
    screenshots(chair, artifacts, "e2e-vote-chair-tie")
    chair.get_by_test_id("tie-yes").click()
    chair.get_by_test_id("dialog").get_by_test_id("dialog-confirm").click()
    wait_for("decided", lambda: chair.get_by_test_id("ballot-publish").is_visible())
    assert text_of(chair, "ballot-outcome") == "可決"
    chair.get_by_test_id("ballot-publish").click()
    card = v3.get_by_test_id("ballot-card")
    wait_for("the result on V3", lambda: card.get_attribute("data-state") == "published")
    assert text_of(v3, "ballot-outcome") == "可決"
    assert "委員長が「可決」と決しました" in text_of(v3, "ballot-decided-by-chair")
    assert card.get_by_test_id("ballot-named").count() == 0 and ballot(v3)["votes"] is None
    screenshots(v3, artifacts, "e2e-vote-result-tie-secret")
    sitting["meeting_id"] = chair.evaluate("window.gikai.state.meeting.id")


def test_the_exported_record_verifies_and_any_edit_is_named(sitting: dict[str, Any], tmp_path: Path) -> None:
    server, receipts = sitting["server"], sitting["receipts"]
    out = tmp_path / "record.json"
    exported = gikai("record", "export", sitting["meeting_id"], "--out", str(out), "--data", str(server.data))
    assert exported.returncode == 0, exported.stderr
    ok_run = gikai("verify", str(out), *[a for r in receipts.values() for a in ("--receipt", r["hash"])])
    assert ok_run.returncode == 0, ok_run.stdout + ok_run.stderr
    assert ok_run.stdout.count("receipt ") == 3, ok_run.stdout

    record = json.loads(out.read_text(encoding="utf-8"))
    entries = record["entries"]
    votes = [e for e in entries if e["name"] == "vote_cast"]
    assert [v["data"]["choice"] for v in votes] == ["yes", "yes", "no"], "named votes; the secret ones carry no choice"
    refused = [e for e in entries if e["name"] == "vote_refused"]
    assert [(e["actor_id"], e["data"]["reason"]) for e in refused] == [(sitting["ids"]["v2"], "already_voted")]
    first = votes[0]["seq"]

    def tampered(name: str, change: Any) -> subprocess.Popen[str]:
        copy = json.loads(json.dumps(record))
        change(copy["entries"])
        bad = tmp_path / f"{name}.json"
        bad.write_text(json.dumps(copy, ensure_ascii=False), encoding="utf-8")
        return subprocess.Popen([sys.executable, "-m", "gikai", "verify", str(bad)], cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    checks = {  # three copies checked at once: each is a fresh interpreter
        "edited": tampered("edited", lambda e: e[first - 1]["data"].update(choice="no")),
        "deleted": tampered("deleted", lambda e: e.pop(first - 1)),
        "swapped": tampered("swapped", lambda e: e.__setitem__(slice(first - 1, first + 1), [e[first], e[first - 1]])),
    }
    for name, check in checks.items():
        out, err = check.communicate(timeout=60)
        assert check.returncode != 0, f"{name}: {out}"
        assert f"entry {first}" in err, f"{name}: {err}"


def test_ballot_views_merge_in_order_and_read_the_state(sitting: dict[str, Any]) -> None:
    """The pure parts (web/js/ballot.js, store.js) as the browser runs them."""
    result = sitting["pages"]["chair"].evaluate("""async () => {
        const b = await import('/static/js/ballot.js');
        const { apply, initialState } = await import('/static/js/store.js');
        const { TABLES } = await import('/static/js/i18n.js');
        const view = (over) => ({id: 'b1', motion: 'M', kind: 'named', majority: 'simple', abstain_allowed: false,
            state: 'open', agenda_item_id: null, entitled: ['a', 'b', 'c'], voted: [], opened_at: 10,
            closed_at: null, tally: null, votes: null, ...over});
        const two = view({voted: ['a', 'b']});
        const tied = view({state: 'closed', voted: ['a', 'b'], tally: {yes: 1, no: 1, abstain: 0, entitled: 3,
            fixed_membership: 12, outcome: 'tied', decided_by_chair: false}});
        const decided = view({state: 'closed', voted: ['a', 'b'], tally: {...tied.tally, outcome: 'adopted',
            decided_by_chair: true}});
        const me = {id: 'a', name: 'A', role: 'member'};
        let s = apply(initialState(), {type: 'joined', data: {participant: me, meeting: {id: 'm', title: 'T'},
            roster: [], ballot: view({})}});
        const before = s;
        s = apply(s, {type: 'vote', ballotId: 'b1', step: 'confirm', choice: 'yes'});
        s = apply(s, {type: 'vote', ballotId: 'other', step: 'refused', error: {code: 'x'}});
        const chosen = s.vote;
        const lost = apply(apply(s, {type: 'vote', ballotId: 'b1', step: 'refused', error: {code: 'connection_lost'}}),
            {type: 'joined', data: {participant: me, meeting: {id: 'm', title: 'T'}, roster: [], ballot: two}});
        s = apply(s, {type: 'ballot', ballot: view({id: 'b2', opened_at: 20})});
        return {
            older_push_ignored: b.newerBallot(two, view({voted: ['a']})) === two,
            later_stage_wins: b.newerBallot(two, tied) === tied && b.newerBallot(tied, two) === tied,
            decided_tie_kept: b.newerBallot(decided, tied) === decided,
            older_ballot_ignored: b.newerBallot(view({id: 'b2', opened_at: 20}), view({})).id === 'b2',
            status: [b.voteStatus(null, 'a'), b.voteStatus(view({}), 'a'), b.voteStatus(two, 'a'),
                     b.voteStatus(view({}), 'z'), b.voteStatus(tied, 'a')],
            tie: [b.needsTieBreak(tied), b.needsTieBreak(decided)],
            choices: [b.choicesOf(view({})), b.choicesOf(view({abstain_allowed: true}))],
            short: b.shortHash('0123456789abcdef'), groups: b.groups('0123456789', 4),
            news: [b.ballotNews(null, view({})), b.ballotNews(two, tied), b.ballotNews(tied, decided),
                   b.ballotNews(decided, view({state: 'published', voted: ['a', 'b']})), b.ballotNews(two, two)],
            pure: before.vote === null && before.ballot.id === 'b1',
            chosen: [chosen.step, chosen.choice],
            new_ballot_resets_my_vote: s.ballot.id === 'b2' && s.vote === null,
            lost_answer_settled_by_voted: [lost.vote.step, lost.vote.choice],
            keys: Object.keys(TABLES.ja).filter(k => !(k in TABLES.en)).concat(
                Object.keys(TABLES.en).filter(k => !(k in TABLES.ja))),
        };
    }""")
    assert result == {
        "older_push_ignored": True, "later_stage_wins": True, "decided_tie_kept": True, "older_ballot_ignored": True,
        "status": ["none", "can_vote", "voted", "not_entitled", "closed"], "tie": [True, False],
        "choices": [["yes", "no"], ["yes", "no", "abstain"]], "short": "0123 4567 89ab", "groups": "0123 4567 89",
        "news": ["opened", "closed", "decided", "published", ""], "pure": True, "chosen": ["confirm", "yes"],
        "new_ballot_resets_my_vote": True, "lost_answer_settled_by_voted": ["dismissed", "yes"], "keys": [],
    }
