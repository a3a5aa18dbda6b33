"""The signed minutes on the archive page, in a real browser with Chromium's virtual passkeys.

The rehearsal sitting, run through the services in this process: the chair named two members to
sign the minutes (会議録署名議員), one of them spoke, the chair adjourned. In Chromium: the named
member registers a passkey with the enrolment link (the page logs them in), opens the sitting's
archive page and sees the three signers, none signed, and no button while the minutes are a
draft; the clerk finalises; the member presses 「会議録に署名する」, the passkey signs the final
hash, and the page shows the signature; the record holds it and `gikai verify` checks it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from gikai.signaling.cli.admin import verify_file
from tests.support.server import Parts

from .conftest import ARTIFACTS, launch_browser
from .helpers import served_in_thread, wait_for
from .test_passkeys import with_authenticator

pytestmark = pytest.mark.e2e


async def _prepare(app: web.Application) -> dict[str, Any]:
    services = Parts(app)
    meeting, people, _ = await services.directory.ensure_rehearsal()
    chair = people[0]
    members = [p for p in people if p.member_id and p.id != chair.id]

    async def run(command: Any) -> None:
        await services.sittings.execute(meeting.id, command)

    for p in people[:7]:
        await run(lambda s, now, pid=p.id: s.connected(pid, now))
    await run(lambda s, now: s.open(chair.id, now))
    await run(lambda s, now: s.name_minutes_signers(chair.id, [members[0].id, members[1].id], now))
    await run(lambda s, now: s.adjourn(chair.id, now))
    username, password = await services.accounts.ensure_clerk()
    assert members[0].member_id
    token = await services.accounts.issue_enrolment(members[0].member_id)
    return {"meeting_id": meeting.id, "username": username, "password": password, "token": token,
            "signer": members[0].name, "signers": [chair.name, members[0].name, members[1].name]}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root: Path = tmp_path_factory.mktemp("gikai-signing")
    with served_in_thread(root, _prepare) as found:
        yield {**found, "root": root}


def test_a_named_member_signs_the_final_minutes_with_a_passkey(served, playwright_instance, tmp_path):
    browser = launch_browser(playwright_instance)
    base, meeting_id = served["base"], served["meeting_id"]
    try:
        context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="ja-JP")
        page = context.new_page()
        with_authenticator(context, page)
        page.goto(f"{base}/enrol#{served['token']}")
        page.get_by_test_id("enrol-button").click()
        wait_for("the passkey registered", lambda: page.get_by_test_id("enrol-done").is_visible())

        page.goto(f"{base}/archive/{meeting_id}")
        signers = page.get_by_test_id("signer")
        signers.first.wait_for()
        assert [signers.nth(i).locator(".signer-name").inner_text() for i in range(3)] == served["signers"]
        assert all(signers.nth(i).get_attribute("data-signed") == "no" for i in range(3))
        assert page.get_by_test_id("sign-minutes").count() == 0, "nothing to sign before the minutes are final"

        clerk = browser.new_context().request
        assert clerk.post(f"{base}/api/login", data={"username": served["username"],
                                                     "password": served["password"]}).ok
        csrf = clerk.get(f"{base}/api/me").json()["csrf"]
        finalised = clerk.post(f"{base}/api/archive/{meeting_id}/minutes/finalise", headers={"X-CSRF-Token": csrf})
        assert finalised.ok, finalised.text()
        digest = finalised.json()["sha256"]

        page.reload()
        button = page.get_by_test_id("sign-minutes")
        button.wait_for()
        box = button.bounding_box()
        assert box and box["height"] >= 48, box
        button.scroll_into_view_if_needed()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "e2e-minutes-sign-before-1024x768.png"))
        button.click()
        mine = page.locator("[data-testid=signer][data-signed=yes]")
        wait_for("the signature shown", lambda: mine.count() == 1)
        assert served["signer"] in mine.inner_text() and "署名済み" in mine.inner_text()
        assert page.get_by_test_id("sign-minutes").count() == 0
        page.screenshot(path=str(ARTIFACTS / "e2e-minutes-sign-after-1024x768.png"))

        record = context.request.get(f"{base}/api/archive/{meeting_id}/record.json").json()
        [signed] = [e for e in record["entries"] if e["name"] == "minutes_signed"]
        assert signed["data"]["sha256"] == digest and signed["data"]["origin"] == base
        assert page.get_by_test_id("chain-head").inner_text().strip() == record["entries"][-1]["hash"]
        # The minutes themselves show who signed, and who has not yet.
        page.goto(f"{base}/api/archive/{meeting_id}/minutes.html?lang=ja")
        section = page.locator("section", has_text="会議録の署名").last
        text = section.inner_text()
        assert digest in text and text.count("未署名") == 2 and served["signer"] in text, text
        section.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "e2e-minutes-signatures-html-1024x768.png"))
        path = tmp_path / "record.json"
        path.write_text(json.dumps(record), encoding="utf-8")
        assert verify_file(path, None) == 0
    finally:
        browser.close()
