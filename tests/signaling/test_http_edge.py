"""The HTTP edge on a real network: security headers on every page and response, cookie flags,
forwarded headers believed only from trusted proxies, one public origin for passkeys, the
socket's origin check and links, and HTTPS served by gikai itself."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from html.parser import HTMLParser
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import make_mocked_request

from gikai.signaling.app import create_app
from gikai.signaling.cli.main import main, serve
from gikai.signaling.config import ServerConfig, canonical_origin, parse_networks
from gikai.signaling.http.pages import PAGES, render
from gikai.signaling.ops.proxy import forwarded_view
from tests.support.authenticator import SoftAuthenticator
from tests.support.certs import make_certificate
from tests.support.server import Parts
from tests.support.waiting import eventually

WEB = Path(__file__).resolve().parents[2] / "web"
PUBLIC = "https://gikai.town.example.jp"
ROSTER = "seat,name,reading,role\n1,山田 太郎,やまだ たろう,委員長\n2,佐藤 花子,さとう はなこ,委員\n"
PAGE_PATHS = ["/", "/join", "/login", "/enrol", "/admin", "/archive", "/archive/x", "/gallery/x", "/meeting/x"]


def assert_security_headers(headers, *, https: bool) -> None:
    csp = headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    permissions = headers["Permissions-Policy"]
    for feature in ("camera", "microphone", "display-capture"):
        assert f"{feature}=(self)" in permissions
    assert ("Strict-Transport-Security" in headers) is https


@pytest.fixture
async def plain(aiohttp_client, tmp_path):
    client = await aiohttp_client(create_app(ServerConfig(
        data_dir=tmp_path, media_addresses=["127.0.0.1"], presence_detection=False)))
    services = Parts(client.app)
    username, password = await services.accounts.ensure_clerk()
    return client, username, password


async def test_every_page_and_response_carries_the_security_headers(plain):
    client, username, _ = plain
    paths = [*PAGE_PATHS, "/static/js/app.js", "/static/css/app.css", "/api/me", "/no-such-page", "/healthz",
             "/api/archive"]
    for path in paths:
        r = await client.get(path)
        assert r.status in (200, 401, 404), (path, r.status)
        assert_security_headers(r.headers, https=False)
    refused = await client.post("/api/login", json={"username": username, "password": "wrong"})
    assert refused.status == 400
    assert_security_headers(refused.headers, https=False)


async def test_the_session_cookie_is_httponly_strict_and_secure_only_over_https(plain):
    client, username, password = plain
    r = await client.post("/api/login", json={"username": username, "password": password})
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie, "plain http on one machine: a Secure cookie would never come back"
    csrf = (await r.json())["csrf"]
    out = await client.post("/api/logout", headers={"X-CSRF-Token": csrf})
    assert "HttpOnly" in out.headers["Set-Cookie"] and "SameSite=Strict" in out.headers["Set-Cookie"]


class _Inline(HTMLParser):
    """Whatever CSP without 'unsafe-inline' would block: inline scripts, style elements and
    attributes, event-handler attributes, javascript: links."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and "src" not in names:
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.found.append(f"{tag} {name}=")
            if value and value.strip().lower().startswith("javascript:"):
                self.found.append(f"{tag} {name}=javascript:")


async def test_no_page_has_anything_inline_that_the_policy_blocks(plain):
    client, _, _ = plain
    for name in PAGES:
        parser = _Inline()
        parser.feed(render(name).decode())
        assert parser.found == [], name
    parser = _Inline()
    parser.feed(await (await client.get("/")).text())
    assert parser.found == []
    # The client builds markup in strings too: no style attribute or handler there either.
    for module in (WEB / "js").rglob("*.js"):
        text = module.read_text(encoding="utf-8")
        assert not re.search(r"""<[a-z][^>]*\s(style|on[a-z]+)=""", text), module
        assert 'setAttribute("style"' not in text, module


def test_forwarded_headers_name_the_client_the_nearest_untrusted_hop():
    trusted = parse_networks("127.0.0.1,10.0.0.0/8")

    def view(**headers: str):
        request = make_mocked_request("GET", "/", headers={k.replace("_", "-"): v for k, v in headers.items()})
        return forwarded_view(request, trusted)

    # The client wrote the first address itself; the proxies appended the rest.
    assert view(X_Forwarded_For="6.6.6.6, 198.51.100.4, 10.1.2.3", X_Forwarded_Proto="https",
                X_Forwarded_Host="gikai.example.jp") == {
        "remote": "198.51.100.4", "scheme": "https", "host": "gikai.example.jp"}
    assert view(Forwarded='for=192.0.2.60;proto=https;host="gikai.example.jp:8443"') == {
        "remote": "192.0.2.60", "scheme": "https", "host": "gikai.example.jp:8443"}
    assert view(Forwarded='for="[2001:db8:cafe::17]:4711"') == {"remote": "2001:db8:cafe::17"}
    assert view(X_Forwarded_For="not-an-address", X_Forwarded_Proto="gopher",
                X_Forwarded_Host="evil.example/<script>") == {}
    assert view() == {}


async def test_forwarded_headers_are_believed_only_from_a_trusted_proxy(aiohttp_client, tmp_path):
    async def cookie_and_hsts(trusted: str, folder: str) -> tuple[bool, bool]:
        client = await aiohttp_client(create_app(ServerConfig(
            data_dir=tmp_path / folder, media_addresses=["127.0.0.1"],
            trusted_proxies=parse_networks(trusted))))
        username, password = await Parts(client.app).accounts.ensure_clerk()
        r = await client.post("/api/login", json={"username": username, "password": password},
                              headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
        assert r.status == 200
        return "Secure" in r.headers["Set-Cookie"], "Strict-Transport-Security" in r.headers

    assert await cookie_and_hsts("127.0.0.1", "trusted") == (True, True)
    assert await cookie_and_hsts("192.0.2.1", "untrusted") == (False, False), "anyone can send the header"


async def test_the_public_url_decides_the_passkey_origin_the_socket_origin_cookies_and_links(aiohttp_client, tmp_path):
    client = await aiohttp_client(create_app(ServerConfig(
        data_dir=tmp_path, media_addresses=["127.0.0.1"], presence_detection=False, public_url=PUBLIC + "/")))
    services = Parts(client.app)
    username, password = await services.accounts.ensure_clerk()
    own = f"http://{client.server.host}:{client.server.port}"  # what the request's Host says
    # The request's own origin is no longer this server's: changes from it are refused.
    r = await client.post("/api/login", json={"username": username, "password": password}, headers={"Origin": own})
    assert r.status == 403 and (await r.json())["code"] == "csrf"
    r = await client.post("/api/login", json={"username": username, "password": password}, headers={"Origin": PUBLIC})
    assert r.status == 200
    assert "Secure" in r.headers["Set-Cookie"], "the browser reaches it over https"
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")
    csrf = (await r.json())["csrf"]
    # The test talks plain http to the server behind the (pretended) TLS proxy: a client's jar
    # keeps a Secure cookie to itself there, so the session goes along by hand.
    session = "; ".join(f"{name}={morsel.value}" for name, morsel in r.cookies.items())
    h = {"X-CSRF-Token": csrf, "Origin": PUBLIC, "Cookie": session}
    body = (await (await client.post("/api/admin/bodies", json={"name": "総務委員会", "fixed_membership": 2},
                                     headers=h)).json())["body"]
    await client.post(f"/api/admin/bodies/{body['id']}/roster", json={"csv": ROSTER}, headers=h)
    overview = await (await client.get("/api/admin/overview", headers={"Cookie": session})).json()
    member = next(b for b in overview["bodies"] if b["id"] == body["id"])["members"][1]
    link = (await (await client.post(f"/api/admin/members/{member['id']}/enrolment", headers=h)).json())["link"]
    assert link.startswith(PUBLIC + "/enrol#"), "links name the public origin, not the request's Host"
    token = link.split("#", 1)[1]
    client.session.cookie_jar.clear()

    # The passkey is bound to the public host name, whatever Host the request came with.
    opts = await (await client.post("/api/enrol/options", json={"token": token}, headers={"Origin": PUBLIC})).json()
    assert opts["options"]["rp"]["id"] == "gikai.town.example.jp"
    wrong = SoftAuthenticator(own, client.server.host)
    refused = await client.post("/api/enrol/verify", headers={"Origin": PUBLIC}, json={
        "token": token, "ceremony": opts["ceremony"], "credential": wrong.register(opts["options"])})
    assert refused.status == 400 and (await refused.json())["code"] == "passkey_failed"
    key = SoftAuthenticator(PUBLIC, "gikai.town.example.jp")
    opts = await (await client.post("/api/enrol/options", json={"token": token}, headers={"Origin": PUBLIC})).json()
    done = await client.post("/api/enrol/verify", headers={"Origin": PUBLIC}, json={
        "token": token, "ceremony": opts["ceremony"], "credential": key.register(opts["options"])})
    assert done.status == 200, await done.text()
    client.session.cookie_jar.clear()
    o = await (await client.post("/api/passkey/options", json={}, headers={"Origin": PUBLIC})).json()
    assert o["options"]["rpId"] == "gikai.town.example.jp"
    login = await client.post("/api/passkey/verify", headers={"Origin": PUBLIC},
                              json={"ceremony": o["ceremony"], "credential": key.assert_(o["options"])})
    assert login.status == 200

    # The sockets open only from the public origin.
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused_socket:
        await client.ws_connect("/ws", headers={"Origin": own})
    assert refused_socket.value.status == 403
    ws = await client.ws_connect("/ws", headers={"Origin": PUBLIC})
    await ws.close()
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await client.ws_connect("/gallery/ws", headers={"Origin": own})


def test_the_public_url_is_one_origin_and_bad_options_are_refused_at_start(capsys):
    assert canonical_origin("https://gikai.town.example.jp/") == "https://gikai.town.example.jp"
    assert canonical_origin("https://gikai.town.example.jp:443/x") == "https://gikai.town.example.jp"
    assert canonical_origin("https://GIKAI.example.jp:8443") == "https://gikai.example.jp:8443"
    assert canonical_origin("http://[::1]:8080") == "http://[::1]:8080"
    root = logging.getLogger()
    before = (root.level, list(root.handlers))  # main() sets up logging: put pytest's back after
    try:
        for argv, says in ((["--public-url", "gikai.example.jp"], "not an http(s) URL"),
                           (["--public-url", "https://town.example.jp/gikai"], "served at its root"),
                           (["--tls-cert", "cert.pem"], "--tls-cert and --tls-key go together"),
                           (["--trusted-proxy", "10.0.0.0/33"], "10.0.0.0/33"),
                           (["--metrics-allow", "everyone"], "everyone")):
            with pytest.raises(SystemExit) as stopped:
                main(["serve", *argv])
            assert stopped.value.code == 2
            assert says in capsys.readouterr().err
    finally:
        root.handlers[:] = before[1]
        root.setLevel(before[0])


async def test_gikai_serves_https_and_wss_itself(tmp_path):
    certificate = make_certificate(tmp_path / "certs", ["localhost", "127.0.0.1"])
    with socket.socket() as probe:  # a free port, so the test knows where to connect
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stop = asyncio.Event()
    config = ServerConfig(host="127.0.0.1", port=port, data_dir=tmp_path / "data", media_addresses=["127.0.0.1"],
                          tls_cert=certificate.cert, tls_key=certificate.key, presence_detection=False)
    task = asyncio.ensure_future(serve(config, stop))
    try:
        async with aiohttp.ClientSession() as http:
            async def up() -> bool:
                if task.done():
                    task.result()
                try:
                    return (await http.get(f"https://localhost:{port}/healthz", ssl=certificate.client_context())).ok
                except aiohttp.ClientConnectorError:
                    return False

            await eventually(up, message="the server to answer over https")
            r = await http.get(f"https://localhost:{port}/login", ssl=certificate.client_context())
            assert r.status == 200
            assert_security_headers(r.headers, https=True)
            ws = await http.ws_connect(f"wss://localhost:{port}/gallery/ws", ssl=certificate.client_context(),
                                       headers={"Origin": f"https://localhost:{port}"})
            await ws.send_json({"v": 1, "type": "nonsense"})
            reply = await ws.receive_json(timeout=30)
            assert reply["type"] == "error"
            await ws.close()
            with pytest.raises(aiohttp.ClientConnectorCertificateError):
                await http.get(f"https://localhost:{port}/login")  # the system's CAs do not know the test's
            with pytest.raises(aiohttp.ClientError):
                await http.get(f"http://localhost:{port}/login")  # no plain http on the TLS port
    finally:
        stop.set()
        await task
