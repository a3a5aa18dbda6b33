"""gikai over HTTPS in real Chromium, with a certificate authority the test made itself (Chromium
trusts the server's key through ``--ignore-certificate-errors-spki-list``; no other certificate
error is ignored).

1. gikai serves TLS itself (``--tls-cert/--tls-key``): the clerk sets up a committee, a member
   enrols a passkey, logs in with it and joins; two members of the rehearsal see and hear each
   other through the SFU. The session cookie is Secure; the pages come with HSTS.
2. gikai behind nginx (the repository's deploy/nginx-gikai.conf, TLS at nginx) on loopback, with
   ``--trusted-proxy 127.0.0.1 --public-url https://gikai.test:PORT`` (Chromium resolves
   gikai.test to 127.0.0.1): a rehearsal member enrols a passkey, logs in with it, joins and votes
   with it on a ballot the chair opened.

Every page's console is watched: a Content Security Policy violation fails the test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.certs import Certificate, make_certificate

from .conftest import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS, start_server, stop_server
from .fakemedia import write_face_y4m, write_wav
from .helpers import LANDSCAPE, self_id, text_of, virtual_authenticator, wait_for, wait_heard
from .proxy import free_port, start_nginx
from .socketmembers import SocketMembers
from .test_passkeys import copy_passkey, registered_member

pytestmark = pytest.mark.e2e

PROXY_HOST = "gikai.test"
BILL = "議案第1号 令和8年度一般会計予算"
# Rehearsal links in printed order: 0 委員長, 1 副委員長, 2 鈴木 一郎 (the voter here), 3…11 委員.
CHAIR, VOTER = 0, 2
SOCKET_ONLY = (1, 3, 4, 5, 6)
CSP_VIOLATION = re.compile(r"Content Security Policy|Refused to (load|apply|execute|connect|frame)", re.IGNORECASE)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("tls"), ["localhost", PROXY_HOST, "127.0.0.1"])


@pytest.fixture(scope="module")
def browser(playwright_instance: Any, certificate: Certificate, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Chromium that trusts the test's server key, resolves gikai.test to loopback, and has a
    face and a voice for its fake camera and microphone."""
    folder = tmp_path_factory.mktemp("https-media")
    args = [*CHROMIUM_FLAGS, f"--ignore-certificate-errors-spki-list={certificate.spki}",
            f"--host-resolver-rules=MAP {PROXY_HOST} 127.0.0.1",
            f"--use-file-for-fake-video-capture={write_face_y4m(folder / 'face.y4m')}",
            f"--use-file-for-fake-audio-capture={write_wav(folder / 'voice.wav', seconds=3)}"]
    launched = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=args)
    try:
        yield launched
    finally:
        launched.close()


class Console:
    """Every page's console messages and failed requests, for the CSP check at the end."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def watch(self, page: Any) -> Any:
        page.on("console", lambda m: self.messages.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.messages.append(f"pageerror: {e}"))
        return page

    def violations(self) -> list[str]:
        return [m for m in self.messages if CSP_VIOLATION.search(m)]


def join(page: Any) -> str:
    """Press Join once the client has started (its module sets window.gikai); the member's id."""
    page.wait_for_function("() => window.gikai && window.gikai.state", timeout=60_000)
    page.get_by_test_id("join-button").click()
    return self_id(page)


def assert_secure_session(context: Any) -> None:
    cookies = [c for c in context.cookies() if c["name"].startswith("gikai")]
    assert cookies, "a session cookie"
    for cookie in cookies:
        assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict", cookie


def test_over_https_a_member_enrols_logs_in_with_a_passkey_and_members_see_and_hear_each_other(
        browser: Any, certificate: Certificate, tmp_path: Path) -> None:
    server = start_server(tmp_path, extra=["--tls-cert", str(certificate.cert), "--tls-key", str(certificate.key)])
    console = Console()
    world: dict[str, Any] = {"server": server, "contexts": []}
    try:
        assert server.base_url.startswith("https://127.0.0.1:") and server.links[0].startswith("https://")
        clerk = browser.new_context(viewport=LANDSCAPE, locale="ja-JP")
        world["contexts"].append(clerk)
        world["clerk"] = console.watch(clerk.new_page())
        first = world["clerk"].goto(server.localhost_url + "/login")
        assert first.headers["strict-transport-security"].startswith("max-age=")
        assert world["clerk"].evaluate("window.isSecureContext")

        meeting_id = registered_member(world, browser)  # the clerk's committee; 木村 三奈's passkey
        assert_secure_session(clerk)
        context = browser.new_context(viewport=LANDSCAPE, locale="ja-JP")
        world["contexts"].append(context)
        member = console.watch(context.new_page())
        copy_passkey(world, context, member)
        member.goto(server.localhost_url + "/login")
        member.get_by_test_id("passkey-login").click()
        wait_for("the member's meetings", lambda: member.get_by_test_id("meetings-section").is_visible())
        assert "木村 三奈" in text_of(member, "logged-in-as")
        assert_secure_session(context)
        member.goto(f"{server.localhost_url}/meeting/{meeting_id}")
        join(member)
        wait_for("the sitting panel", lambda: member.get_by_test_id("sitting-panel").is_visible())
        assert member.evaluate("window.gikai.state.self.name") == "木村 三奈"

        # Two members of the rehearsal committee, over https and wss: each sees and hears the other.
        pages = []
        for link in server.links[:2]:
            ctx = browser.new_context(viewport=LANDSCAPE, locale="ja-JP")
            world["contexts"].append(ctx)
            page = console.watch(ctx.new_page())
            page.goto(link.replace(server.base_url, server.localhost_url))
            pages.append((page, join(page)))
        for (page, _), (_, other) in ((pages[0], pages[1]), (pages[1], pages[0])):
            wait_for("the other's video", lambda p=page, o=other: p.evaluate("window.gikai.remoteVideos()")
                     and any(v["participant"] == o and v["frames"] > 10 for v in p.evaluate("window.gikai.remoteVideos()")))
            wait_heard(page, other, "the other member")

        # Every other page loads without a policy violation: the front page, the archive, the
        # public gallery, and the minutes (a document whose inline style sheet is allowed by hash).
        gallery = re.search(r"/gallery/([0-9a-f]+)", server.log.read_text()).group(1)  # type: ignore[union-attr]
        for path in ("/", "/archive", f"/archive/{gallery}", f"/gallery/{gallery}", "/enrol", "/join"):
            loaded = world["clerk"].goto(server.localhost_url + path)
            assert loaded.ok, path
            world["clerk"].wait_for_load_state("networkidle")
        minutes = world["clerk"].goto(f"{server.localhost_url}/api/archive/{gallery}/minutes.html")
        assert minutes.ok and "'sha256-" in minutes.headers["content-security-policy"]
        body = world["clerk"].evaluate("[getComputedStyle(document.body).fontFamily, getComputedStyle(document.body).margin]")
        assert "Noto Serif CJK JP" in body[0] and body[1] == "0px", f"the minutes' own style sheet applies: {body}"
        assert console.violations() == [], console.violations()
    finally:
        for context in world["contexts"]:
            context.close()
        stop_server(server.process)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "e2e-server-https.log").write_bytes(server.log.read_bytes())


def test_behind_nginx_a_member_enrols_logs_in_and_votes_with_a_passkey(
        browser: Any, certificate: Certificate, tmp_path: Path) -> None:
    gikai_port, proxy_port = free_port(), free_port()
    public = f"https://{PROXY_HOST}:{proxy_port}"
    server = start_server(tmp_path, port=gikai_port, extra=[
        "--public-url", public, "--trusted-proxy", "127.0.0.1", "--no-presence-detection", "--log-format", "json"])
    nginx = start_nginx(tmp_path / "nginx", PROXY_HOST, proxy_port, gikai_port, certificate.cert, certificate.key)
    members = SocketMembers(f"http://127.0.0.1:{gikai_port}")  # straight to gikai, as a tablet's app would not
    console = Console()
    contexts: list[Any] = []
    try:
        assert server.base_url == public and all(link.startswith(public + "/join#") for link in server.links)

        # The clerk issues 鈴木 一郎 an enrolment link on /admin, through the proxy.
        clerk_context = browser.new_context(viewport=LANDSCAPE, locale="ja-JP")
        contexts.append(clerk_context)
        clerk = console.watch(clerk_context.new_page())
        response = clerk.goto(public + "/login")
        assert response.headers["strict-transport-security"].startswith("max-age=")
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        clerk.get_by_test_id("clerk-username").fill("clerk")
        clerk.get_by_test_id("clerk-password").fill(server.clerk_password)
        clerk.get_by_test_id("clerk-login").click()
        clerk.wait_for_url("**/admin")
        assert_secure_session(clerk_context)
        row = clerk.locator("[data-testid=member-row]", has_text="鈴木 一郎")
        wait_for("鈴木 一郎 on the roster", lambda: row.count() == 1)
        row.get_by_test_id("issue-link").click()
        link_box = clerk.get_by_test_id("enrol-link")
        wait_for("the enrolment link", lambda: link_box.count() == 1)
        enrol_link = link_box.input_value()
        assert enrol_link.startswith(public + "/enrol#"), "the link names the public origin, not gikai's"

        # 鈴木 enrols a passkey on his tablet...
        tablet = browser.new_context(viewport=LANDSCAPE, locale="ja-JP")
        contexts.append(tablet)
        page = console.watch(tablet.new_page())
        cdp, authenticator = virtual_authenticator(tablet, page)
        page.goto(enrol_link)
        wait_for("whose passkey", lambda: "鈴木 一郎" in text_of(page, "enrol-for"))
        page.get_by_test_id("enrol-button").click()
        wait_for("registered", lambda: page.get_by_test_id("enrol-done").is_visible())
        credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
        assert len(credentials) == 1 and credentials[0]["rpId"] == PROXY_HOST

        # ...logs in with it on another (fresh) screen...
        world = {"credentials": credentials}
        screen = browser.new_context(viewport=LANDSCAPE, locale="ja-JP")
        contexts.append(screen)
        voter = console.watch(screen.new_page())
        copy_passkey(world, screen, voter)
        voter.goto(public + "/login")
        voter.get_by_test_id("passkey-login").click()
        wait_for("logged in", lambda: voter.get_by_test_id("meetings-section").is_visible())
        assert "鈴木 一郎" in text_of(voter, "logged-in-as")
        assert_secure_session(screen)

        # ...and joins the sitting (https and wss through nginx), where six more make a quorum.
        voter.goto(server.links[VOTER])
        voter_id = join(voter)
        members.join(server.links[CHAIR])
        for index in SOCKET_ONLY:
            members.join(server.links[index])
        sitting = members.sitting(0)
        wait_for("the quorum", lambda: members.sitting(0).get("quorum", {}).get("met"))
        assert members.command(0, "open")["type"] == "reply"
        assert members.command(0, "take_up", item_id=sitting["agenda"][0]["id"])["type"] == "reply"
        opened = members.request(0, "ballot", action="open", motion=BILL, kind="named", majority="simple",
                                 abstain_allowed=False)
        assert opened["type"] == "reply", opened
        assert voter_id in opened["data"]["ballot"]["entitled"]
        wait_for("the vote panel", voter.get_by_test_id("vote-yes").is_visible)
        voter.get_by_test_id("vote-yes").click()
        voter.get_by_test_id("vote-cast").click()
        wait_for("the receipt", lambda: voter.get_by_test_id("vote-receipt").is_visible())
        receipt = voter.evaluate("window.gikai.state.vote.receipt")
        assert re.fullmatch(r"[0-9a-f]{64}", receipt["hash"])
        assert console.violations() == [], console.violations()

        # gikai saw the browsers' own addresses and https, through the proxy: its log is JSON lines.
        lines = [json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")]
        assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    finally:
        members.close()
        for context in contexts:
            context.close()
        nginx.stop()
        stop_server(server.process)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "e2e-server-https-nginx.log").write_bytes(server.log.read_bytes())
        error_log = tmp_path / "nginx" / "error.log"
        if error_log.exists():
            (ARTIFACTS / "e2e-nginx-error.log").write_bytes(error_log.read_bytes())

