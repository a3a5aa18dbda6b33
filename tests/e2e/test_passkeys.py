"""The real-meeting path in real browsers: the clerk logs in with the printed password and
sets up a committee on /admin, a member registers a passkey with the enrolment link
(Chromium's virtual authenticator), logs in with it in a fresh browser context, and joins
the sitting at /meeting/<id>.

Passkeys need a host name, so every page here is opened at http://localhost:PORT.
Each test has a server of its own and reaches its starting point itself (the clerk logged in,
the committee and meeting made, the passkey registered) through the helpers below.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import ARTIFACTS, launch_browser, start_server, stop_server
from .fakemedia import write_face_y4m, write_wav
from .helpers import LANDSCAPE, screenshots, text_of, wait_for

pytestmark = pytest.mark.e2e

COMMITTEE = "総務常任委員会"
MEETING = "総務常任委員会 第1回"
ROSTER = "seat,name,reading,role\n1,山本 一,やまもと はじめ,委員長\n2,井上 二郎,いのうえ じろう,副委員長\n3,木村 三奈,きむら みな,委員\n"
AUTHENTICATOR = {
    "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
    "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True,
}


def with_authenticator(context: Any, page: Any) -> tuple[Any, str]:
    """A virtual platform authenticator (fingerprint that always matches) for ``page``."""
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    return cdp, added["authenticatorId"]


def copy_passkey(world: dict[str, Any], context: Any, page: Any) -> None:
    """Put the member's passkey into a fresh context's authenticator, as if it were the
    same tablet: each copy's signature counter starts above the last one used, or the
    server would take it for a cloned authenticator (which it refuses)."""
    cdp, authenticator = with_authenticator(context, page)
    world["copies"] = world.get("copies", 0) + 1
    credential = {**world["credentials"][0], "signCount": world["credentials"][0]["signCount"] + 100 * world["copies"]}
    cdp.send("WebAuthn.addCredential", {"authenticatorId": authenticator, "credential": credential})


@pytest.fixture(scope="module")
def browser(playwright_instance: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The member's tablet: a face in front of the camera, so the server counts them present."""
    folder = tmp_path_factory.mktemp("passkey-media")
    launched = launch_browser(playwright_instance, write_face_y4m(folder / "face.y4m"),
                              write_wav(folder / "voice.wav", seconds=3))
    try:
        yield launched
    finally:
        launched.close()


@pytest.fixture
def world(browser: Any, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """A server of its own, the clerk's context, and what the test learns on the way."""
    server = start_server(tmp_path)
    state: dict[str, Any] = {"server": server, "contexts": []}
    try:
        clerk = browser.new_context(viewport=LANDSCAPE, locale="ja-JP")
        state["contexts"].append(clerk)
        state["clerk"] = clerk.new_page()
        yield state
    finally:
        try:
            for context in state["contexts"]:
                context.close()
        finally:
            stop_server(server.process)
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / f"e2e-server-passkeys-{request.node.name}.log").write_bytes(server.log.read_bytes())


def new_page(world: dict[str, Any], browser: Any) -> tuple[Any, Any]:
    context = browser.new_context(viewport=LANDSCAPE, locale="ja-JP")
    world["contexts"].append(context)
    return context, context.new_page()


def clerk_logs_in(world: dict[str, Any]) -> Any:
    """The clerk on /admin, logged in with the printed password (checked in the first test)."""
    server, page = world["server"], world["clerk"]
    assert server.clerk_password, "the server prints the clerk's first password"
    page.goto(server.localhost_url + "/login")
    page.get_by_test_id("clerk-username").fill("clerk")
    page.get_by_test_id("clerk-password").fill(server.clerk_password)
    page.get_by_test_id("clerk-login").click()
    page.wait_for_url("**/admin")
    wait_for("the overview", lambda: page.get_by_test_id("body-card").count() >= 1)
    return page


def a_new_meeting(page: Any) -> Any:
    """The clerk schedules the committee's meeting on /admin; its card."""
    page.get_by_text("会議を作る").first.click()
    page.get_by_test_id("meeting-body").select_option(label=COMMITTEE)
    page.get_by_test_id("meeting-title-input").fill(MEETING)
    page.get_by_test_id("meeting-when").fill("2026-03-10T10:00")
    page.get_by_test_id("meeting-place").fill("第1委員会室")
    page.get_by_test_id("meeting-create").click()
    meeting = page.locator("[data-testid=admin-meeting]", has_text=MEETING)
    wait_for("the new meeting", lambda: meeting.count() == 1)
    return meeting


def an_item_and_a_presenter(page: Any, meeting: Any) -> None:
    """The clerk adds an agenda item and a presenter to the meeting's card."""
    meeting.get_by_test_id("item-title").fill("議案第10号 町税条例の一部改正について")
    meeting.get_by_test_id("item-form-submit").click()
    wait_for("the item was added", lambda: "議案第10号" in text_of(page, "page-status"))
    meeting.get_by_text("説明員・参考人を追加").click()
    meeting.get_by_test_id("guest-name").fill("森 税務課長")
    meeting.get_by_test_id("guest-reading").fill("もり ぜいむかちょう")
    meeting.get_by_test_id("guest-form-submit").click()
    wait_for("the presenter was added", lambda: "森 税務課長" in text_of(page, "page-status"))


def committee_and_meeting(world: dict[str, Any]) -> str:
    """The committee with its three members and the meeting with an item and a presenter, made
    on /admin as the second test does (its refusals are checked there); the meeting's id."""
    page = clerk_logs_in(world)
    page.get_by_text("委員会を作る").first.click()
    page.get_by_test_id("body-name").fill(COMMITTEE)
    page.get_by_test_id("body-fixed").fill("3")
    page.get_by_test_id("body-create").click()
    card = page.locator("[data-testid=body-card]", has_text=COMMITTEE)
    wait_for("the new committee", lambda: card.count() == 1)
    card.get_by_test_id("roster-csv").fill(ROSTER)
    card.get_by_test_id("roster-form-submit").click()
    wait_for("three members", lambda: card.get_by_test_id("member-row").count() == 3)
    meeting = a_new_meeting(page)
    an_item_and_a_presenter(page, meeting)
    world["meeting_id"] = meeting.get_attribute("data-meeting-id")
    return world["meeting_id"]


def registered_member(world: dict[str, Any], browser: Any) -> str:
    """The meeting made and 木村 三奈's passkey registered with the enrolment link (as the
    third test does, where the link and the page are checked); the clerk's page shows it."""
    meeting_id = committee_and_meeting(world)
    page = world["clerk"]
    row = page.locator("[data-testid=member-row]", has_text="木村 三奈")
    row.get_by_test_id("issue-link").click()
    link_box = page.get_by_test_id("enrol-link")
    wait_for("the enrolment link", lambda: link_box.count() == 1)
    link = link_box.input_value()
    context, member = new_page(world, browser)
    cdp, authenticator = with_authenticator(context, member)
    member.goto(link)
    wait_for("whose passkey", lambda: "木村 三奈" in text_of(member, "enrol-for"))
    member.get_by_test_id("enrol-button").click()
    wait_for("registered", lambda: member.get_by_test_id("enrol-done").is_visible())
    world["credentials"] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(world["credentials"]) == 1
    page.reload()
    row = page.locator("[data-testid=member-row]", has_text="木村 三奈")
    wait_for("the passkey shows on the clerk's page", lambda: "登録済み" in row.get_by_test_id("passkey-status").inner_text())
    return meeting_id


def test_the_clerk_logs_in_with_the_printed_password(world: dict[str, Any], artifacts: Path) -> None:
    server, page = world["server"], world["clerk"]
    assert server.clerk_password, "the server prints the clerk's first password"
    page.goto(server.localhost_url + "/login")
    assert page.get_by_test_id("passkey-login").inner_text() == "パスキーでログイン"
    screenshots(page, artifacts, "e2e-login")
    page.get_by_test_id("clerk-username").fill("clerk")
    page.get_by_test_id("clerk-password").fill("not-the-password")
    page.get_by_test_id("clerk-login").click()
    wait_for("a refusal", lambda: page.get_by_test_id("clerk-problem").is_visible())
    assert "ログインできませんでした" in text_of(page, "clerk-problem")
    page.get_by_test_id("clerk-password").fill(server.clerk_password)
    page.get_by_test_id("clerk-login").click()
    page.wait_for_url("**/admin")
    wait_for("the overview", lambda: page.get_by_test_id("body-card").count() >= 1)
    assert "事務局" in text_of(page, "admin-who")


def test_the_clerk_creates_a_committee_its_roster_and_a_meeting(world: dict[str, Any], artifacts: Path) -> None:
    page = clerk_logs_in(world)
    page.get_by_text("委員会を作る").first.click()
    page.get_by_test_id("body-name").fill(COMMITTEE)
    page.get_by_test_id("body-fixed").fill("3")
    page.get_by_test_id("body-create").click()
    card = page.locator("[data-testid=body-card]", has_text=COMMITTEE)
    wait_for("the new committee", lambda: card.count() == 1)
    # A wrong roster is refused as a whole, and the server says which line is wrong.
    card.get_by_test_id("roster-csv").fill(ROSTER + "4,林 四郎,はやし しろう,書記\n")
    card.get_by_test_id("roster-form-submit").click()
    problem = card.get_by_test_id("roster-form-problem")
    wait_for("the roster refusal", lambda: problem.is_visible())
    assert "名簿の内容に誤りがあります" in problem.inner_text() and "line 5" in problem.inner_text()
    assert card.get_by_test_id("roster-csv").input_value().startswith("seat,name"), "what was typed stays"
    card.get_by_test_id("roster-csv").fill(ROSTER)
    card.get_by_test_id("roster-form-submit").click()
    wait_for("three members", lambda: card.get_by_test_id("member-row").count() == 3)

    meeting = a_new_meeting(page)
    world["meeting_id"] = meeting.get_attribute("data-meeting-id")
    an_item_and_a_presenter(page, meeting)
    assert meeting.get_by_test_id("open-meeting").get_attribute("href") == f"/meeting/{world['meeting_id']}"


def test_a_member_registers_a_passkey_with_the_enrolment_link(
    world: dict[str, Any], browser: Any, artifacts: Path
) -> None:
    committee_and_meeting(world)
    page = world["clerk"]
    row = page.locator("[data-testid=member-row]", has_text="木村 三奈")
    assert "未登録" in row.get_by_test_id("passkey-status").inner_text()
    row.get_by_test_id("issue-link").click()
    link_box = page.get_by_test_id("enrol-link")
    wait_for("the enrolment link", lambda: link_box.count() == 1)
    link = link_box.input_value()
    assert link.startswith(world["server"].localhost_url + "/enrol#")
    page.get_by_test_id("copy-link").click()
    wait_for("copied", lambda: page.get_by_test_id("copy-link").inner_text() == "コピーしました")
    screenshots(page, artifacts, "e2e-admin")
    page.screenshot(path=str(artifacts / "e2e-admin-full.png"), full_page=True)

    context, member = new_page(world, browser)
    cdp, authenticator = with_authenticator(context, member)
    member.goto(link)
    assert "#" not in member.url, "the token leaves the address bar"
    wait_for("whose passkey", lambda: "木村 三奈" in text_of(member, "enrol-for"))
    screenshots(member, artifacts, "e2e-enrol")
    member.get_by_test_id("enrol-button").click()
    wait_for("registered", lambda: member.get_by_test_id("enrol-done").is_visible())
    member.screenshot(path=str(artifacts / "e2e-enrol-done-1024x768.png"))
    world["credentials"] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(world["credentials"]) == 1 and world["credentials"][0]["isResidentCredential"]

    # The link works once.
    _, again = new_page(world, browser)
    again.goto(link)
    wait_for("a used link", lambda: again.get_by_test_id("enrol-invalid").is_visible())
    assert "使えません" in text_of(again, "invalid-text")
    again.screenshot(path=str(artifacts / "e2e-enrol-used.png"))

    page.reload()
    row = page.locator("[data-testid=member-row]", has_text="木村 三奈")
    wait_for("the passkey shows on the clerk's page", lambda: "登録済み" in row.get_by_test_id("passkey-status").inner_text())


def test_the_member_logs_in_with_the_passkey_and_joins_the_sitting(
    world: dict[str, Any], browser: Any, artifacts: Path
) -> None:
    server, meeting_id = world["server"], registered_member(world, browser)
    # A page of the member's meeting without a login goes to /login and comes back after.
    context, page = new_page(world, browser)
    copy_passkey(world, context, page)
    page.goto(f"{server.localhost_url}/meeting/{meeting_id}")
    page.wait_for_url("**/login?next=*")
    page.goto(server.localhost_url + "/login")
    page.get_by_test_id("passkey-login").click()
    wait_for("the member's meetings", lambda: page.get_by_test_id("meetings-section").is_visible())
    assert "木村 三奈" in text_of(page, "logged-in-as")
    cards = page.get_by_test_id("meeting-card")
    assert cards.count() == 1 and MEETING in cards.first.inner_text()
    screenshots(page, artifacts, "e2e-login-meetings")
    cards.first.get_by_test_id("join-meeting").click()
    page.wait_for_url(f"**/meeting/{meeting_id}")
    page.get_by_test_id("join-button").click()
    wait_for("the sitting panel", lambda: page.get_by_test_id("sitting-panel").is_visible())
    assert text_of(page, "meeting-title") == MEETING
    assert text_of(page, "sitting-state") == "開会前"
    assert page.evaluate("window.gikai.state.self.name") == "木村 三奈"
    assert "町税条例" in text_of(page, "agenda")
    assert page.get_by_test_id("request-floor").is_visible()
    # Attendance is judged on camera here: the server sees the member's face...
    wait_for("counted present", lambda: "出席に数えられています" in text_of(page, "my-presence"), timeout=20)
    page.screenshot(path=str(artifacts / "e2e-member-meeting-present-1024x768.png"))
    # ...and says plainly when it no longer does, and why.
    page.get_by_test_id("camera-toggle").click()
    wait_for("not counted without a picture", lambda: "カメラの映像が届いていません" in text_of(page, "my-presence"),
             timeout=20)
    page.get_by_test_id("camera-toggle").click()
    wait_for("counted again", lambda: "出席に数えられています" in text_of(page, "my-presence"), timeout=20)
    page.context.close()


def test_the_login_page_follows_next_after_the_passkey(world: dict[str, Any], browser: Any) -> None:
    server, meeting_id = world["server"], registered_member(world, browser)
    context, page = new_page(world, browser)
    copy_passkey(world, context, page)
    page.goto(f"{server.localhost_url}/meeting/{meeting_id}")
    page.wait_for_url("**/login?next=*")
    page.get_by_test_id("passkey-login").click()
    page.wait_for_url(f"**/meeting/{meeting_id}")
    assert page.get_by_test_id("join-button").is_visible()


def test_a_revoked_passkey_no_longer_logs_in(world: dict[str, Any], browser: Any) -> None:
    registered_member(world, browser)
    clerk = world["clerk"]
    row = clerk.locator("[data-testid=member-row]", has_text="木村 三奈")
    row.get_by_test_id("revoke").click()
    clerk.get_by_test_id("dialog").get_by_test_id("dialog-confirm").click()
    wait_for("revoked", lambda: "未登録" in row.get_by_test_id("passkey-status").inner_text())

    context, page = new_page(world, browser)
    copy_passkey(world, context, page)
    page.goto(world["server"].localhost_url + "/login")
    page.get_by_test_id("passkey-login").click()
    wait_for("a refusal", lambda: page.get_by_test_id("passkey-problem").is_visible())
    assert "ログインできませんでした" in text_of(page, "passkey-problem")
    assert page.get_by_test_id("meetings-section").is_hidden()
