"""Logins, passkeys and the clerk's admin over HTTP, against a running app."""

from __future__ import annotations

import asyncio
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from gikai.orchestrator.domain.throttle import Backoff
from gikai.signaling.app import create_app
from gikai.signaling.config import ServerConfig
from gikai.signaling.http.state import GUESSES
from tests.signaling.test_ws import Session
from tests.support.authenticator import SoftAuthenticator
from tests.support.server import Parts
from tests.support.waiting import eventually

ROSTER = "seat,name,reading,role\n1,山田 太郎,やまだ たろう,委員長\n2,佐藤 花子,さとう はなこ,委員\n3,鈴木 一郎,すずき いちろう,委員\n"


@pytest.fixture
async def app_client(aiohttp_client, tmp_path):
    client = await aiohttp_client(create_app(ServerConfig(data_dir=tmp_path, media_addresses=["127.0.0.1"], presence_detection=False)))
    services = Parts(client.app)
    username, password = await services.accounts.ensure_clerk()
    return client, services, username, password


def origin(client) -> str:
    return f"http://{client.server.host}:{client.server.port}"


async def login_clerk(client, username, password) -> str:
    r = await client.post("/api/login", json={"username": username, "password": password})
    assert r.status == 200, await r.text()
    return (await r.json())["csrf"]


async def test_the_clerk_logs_in_and_every_admin_change_needs_the_csrf_token(app_client):
    client, _, username, password = app_client
    bad = await client.post("/api/login", json={"username": username, "password": "wrong-password"})
    assert bad.status == 400 and (await bad.json())["code"] == "login_failed"
    assert (await client.get("/api/admin/overview")).status == 401
    csrf = await login_clerk(client, username, password)
    r = await client.post("/api/admin/bodies", json={"name": "総務委員会", "fixed_membership": 3})
    assert r.status == 403 and (await r.json())["code"] == "csrf"
    r = await client.post("/api/admin/bodies", json={"name": "総務委員会", "fixed_membership": 3},
                          headers={"X-CSRF-Token": csrf, "Origin": "http://evil.example"})
    assert r.status == 403
    r = await client.post("/api/admin/bodies", json={"name": "総務委員会", "fixed_membership": 3},
                          headers={"X-CSRF-Token": csrf})
    assert r.status == 200
    assert (await client.post("/api/admin/bodies", data=b"\xff\xfe", headers={"X-CSRF-Token": csrf})).status == 400


async def test_a_lone_surrogate_in_a_json_body_is_refused_and_nothing_breaks(app_client, caplog):
    client, _, username, password = app_client
    surrogate = '"\\ud800"'  # JSON text for a lone surrogate: it parses, but is not Unicode
    r = await client.post("/api/login", data=f'{{"username": {surrogate}, "password": "x"}}',
                          headers={"Content-Type": "application/json"})
    assert r.status == 400 and (await r.json())["code"] == "bad_request"
    csrf = await login_clerk(client, username, password)
    r = await client.post("/api/admin/bodies", data=f'{{"name": {surrogate}, "fixed_membership": 3}}',
                          headers={"X-CSRF-Token": csrf, "Origin": origin(client),
                                   "Content-Type": "application/json"})
    assert r.status == 400 and (await r.json())["code"] == "bad_request"
    r = await client.post("/api/admin/bodies", json={"name": "総務委員会 \U0001F600", "fixed_membership": 3},
                          headers={"X-CSRF-Token": csrf, "Origin": origin(client)})
    assert r.status == 200, await r.text()
    assert "Error handling request" not in caplog.text and "Traceback" not in caplog.text


async def test_a_flood_of_wrong_passwords_is_refused_before_hashing_and_the_clerk_is_told(app_client):
    client, _, username, password = app_client
    guesses = client.app[GUESSES]
    guesses.by_name.rule = Backoff(free_failures=5, first_wait=0.5, longest_wait=1.0)
    guesses.by_address.rule = Backoff(free_failures=20, first_wait=0.5, longest_wait=1.0)
    flood = await asyncio.gather(*(
        client.post("/api/login", json={"username": username, "password": f"wrong-{i}"}) for i in range(40)))
    codes = [(r.status, (await r.json())["code"]) for r in flood]
    assert set(codes) <= {(400, "login_failed"), (429, "too_many_attempts")}, codes
    # at most the free failures and the few queued checks cost a password hash
    assert codes.count((400, "login_failed")) <= 10, codes
    refused = [r for r in flood if r.status == 429]
    assert refused and all(int(r.headers["Retry-After"]) >= 1 for r in refused)
    # while the account is paused even the right password waits; afterwards it works at once
    r = await client.post("/api/login", json={"username": username, "password": password})
    assert r.status == 429
    locks = guesses.lockouts(time.monotonic())
    assert [(lock.kind, lock.key) for lock in locks if lock.kind == "name"] == [("name", username)]

    async def logged_in() -> bool:
        r = await client.post("/api/login", json={"username": username, "password": password})
        return r.status == 200

    await eventually(logged_in, message="the clerk logs in once the pause is over")
    overview = await (await client.get("/api/admin/overview")).json()
    assert "lockouts" in overview and all(lock["kind"] != "name" for lock in overview["lockouts"])


async def test_a_member_enrols_a_passkey_logs_in_and_joins_the_meeting(app_client):
    client, services, username, password = app_client
    csrf = await login_clerk(client, username, password)
    h = {"X-CSRF-Token": csrf}
    body = (await (await client.post("/api/admin/bodies", json={"name": "総務委員会", "fixed_membership": 3}, headers=h)).json())["body"]
    roster = await client.post(f"/api/admin/bodies/{body['id']}/roster", json={"csv": ROSTER}, headers=h)
    assert (await roster.json())["imported"] == 3
    bad_roster = await client.post(f"/api/admin/bodies/{body['id']}/roster", json={"csv": "seat,name\n"}, headers=h)
    assert (await bad_roster.json())["code"] == "invalid_roster"
    meeting = (await (await client.post("/api/admin/meetings", json={
        "body_id": body["id"], "title": "第1回", "scheduled_at": "2026-03-10T10:00"}, headers=h)).json())["meeting"]
    overview = await (await client.get("/api/admin/overview")).json()
    member = next(b for b in overview["bodies"] if b["id"] == body["id"])["members"][1]
    link = (await (await client.post(f"/api/admin/members/{member['id']}/enrolment", headers=h)).json())["link"]
    token = link.split("#", 1)[1]
    await client.post("/api/logout")
    client.session.cookie_jar.clear()

    key = SoftAuthenticator(origin(client), client.server.host)
    opts = await (await client.post("/api/enrol/options", json={"token": token})).json()
    assert opts["options"]["authenticatorSelection"]["userVerification"] == "required"
    done = await client.post("/api/enrol/verify", json={"token": token, "ceremony": opts["ceremony"],
                                                        "credential": key.register(opts["options"])})
    assert done.status == 200, await done.text()
    again = await client.post("/api/enrol/options", json={"token": token})
    assert (await again.json())["code"] == "enrolment_invalid", "the link works once"
    client.session.cookie_jar.clear()

    async def login(**tamper) -> int:
        o = await (await client.post("/api/passkey/options", json={})).json()
        r = await client.post("/api/passkey/verify", json={"ceremony": o["ceremony"],
                                                           "credential": key.assert_(o["options"], **tamper)})
        return r.status

    assert await login(key=ec.generate_private_key(ec.SECP256R1())) == 400, "a forged signature"
    assert await login(verified=False) == 400, "no user verification"
    assert await login(origin="http://evil.example") == 400, "another site's assertion"
    o = await (await client.post("/api/passkey/options", json={})).json()
    assertion = key.assert_(o["options"])
    first = await client.post("/api/passkey/verify", json={"ceremony": o["ceremony"], "credential": assertion})
    assert first.status == 200
    replay = await client.post("/api/passkey/verify", json={"ceremony": o["ceremony"], "credential": assertion})
    assert replay.status == 400, "a replayed assertion"
    me = await (await client.get("/api/me")).json()
    assert me["account"]["member_id"] == member["id"]
    meetings = await (await client.get("/api/meetings")).json()
    assert [m["id"] for m in meetings["meetings"]] == [meeting["id"]]
    # The device check names the sitting and the person before joining.
    seat = await (await client.get("/api/seat", params={"meeting_id": meeting["id"]})).json()
    assert seat == {"ok": True, "name": "佐藤 花子", "role": "member", "meeting": {"id": meeting["id"], "title": "第1回"},
                    "body": {"name": "総務委員会", "plenary": False}}
    other = await client.get("/api/seat", params={"meeting_id": "no-such-sitting"})
    assert other.status == 403 and (await other.json())["code"] == "not_a_participant"

    s = Session(await client.ws_connect("/ws"))
    try:
        joined = await s.request("join", meeting_id=meeting["id"])
        assert joined["ok"] and joined["data"]["participant"]["name"] == "佐藤 花子"
    finally:
        await s.close()
    # A rehearsal join link cannot be used for a real meeting, and no session means no join.
    client.session.cookie_jar.clear()
    anonymous = Session(await client.ws_connect("/ws"))
    try:
        assert (await anonymous.request("join", meeting_id=meeting["id"]))["code"] == "not_logged_in"
        participant_id = next(p.id for p in await services.directory.participants(meeting["id"]))
        forged = services.tokens.issue(participant_id)
        assert (await anonymous.request("join", token=forged))["code"] == "invalid_token"
        refused = await client.get("/api/seat", headers={"X-Join-Token": forged})
        assert refused.status == 403 and (await refused.json())["code"] == "invalid_token", "rehearsals only"
        assert (await client.get("/api/seat", params={"meeting_id": meeting["id"]})).status == 401
    finally:
        await anonymous.close()


async def test_a_rehearsal_join_link_says_whose_seat_in_which_sitting(app_client):
    client, services, _, _ = app_client
    rehearsal = await services.directory.ensure_rehearsal()
    assert rehearsal is not None
    meeting, participants, _ = rehearsal
    chair = next(p for p in participants if p.role.value == "chair")
    r = await client.get("/api/seat", headers={"X-Join-Token": services.tokens.issue(chair.id)})
    assert r.status == 200, await r.text()
    seat = await r.json()
    assert (seat["name"], seat["role"], seat["meeting"]) == (chair.name, "chair", {"id": meeting.id, "title": meeting.title})
    assert seat["body"]["plenary"] is False, "the rehearsal body is a committee"
    bad = await client.get("/api/seat", headers={"X-Join-Token": "not-a-token"})
    assert bad.status == 403 and (await bad.json())["code"] == "invalid_token"
