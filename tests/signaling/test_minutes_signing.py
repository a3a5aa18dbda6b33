"""The signed minutes over HTTP with a software passkey (地方自治法123条): the chair names two members
at the sitting; after the clerk finalises, only the chair and those two sign, each once, with
their own passkey over the final hash; every refusal has its code; the exported record verifies
with `gikai verify` (each assertion checked again offline), which names who has not signed and
fails published minutes that lack a signature, and a forged assertion is named."""

from __future__ import annotations

import copy
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from gikai.orchestrator.domain.rules import SpeechKind
from gikai.signaling.app import create_app
from gikai.signaling.cli.admin import verify_file
from gikai.signaling.cli.signatures import bad_signature
from gikai.signaling.config import ServerConfig
from gikai.signaling.http.state import TRANSCRIPTS
from tests.signaling.test_voting_ws import enrol
from tests.support.server import Parts


@pytest.fixture
async def adjourned(aiohttp_client, tmp_path):
    """The rehearsal sitting: the chair names two signers, a member speaks, the chair adjourns."""
    client = await aiohttp_client(create_app(ServerConfig(data_dir=tmp_path, media_addresses=["127.0.0.1"],
                                                          presence_detection=False)))
    services = Parts(client.app)
    meeting, people, _ = await services.directory.ensure_rehearsal()
    chair = people[0]
    members = [p for p in people if p.member_id and p.id != chair.id]

    async def run(command):
        await services.sittings.execute(meeting.id, command)

    for p in people[:7]:
        await run(lambda s, now, pid=p.id: s.connected(pid, now))
    await run(lambda s, now: s.open(chair.id, now))
    await run(lambda s, now: s.name_minutes_signers(chair.id, [members[0].id, members[1].id], now))
    await run(lambda s, now: s.request_floor(members[2].id, SpeechKind.QUESTION, now))
    request = (await services.sittings.get(meeting.id)).queue.requests[0]
    await run(lambda s, now: s.grant(chair.id, request.id, now))
    await run(lambda s, now: s.end_speech(members[2].id, now))
    await run(lambda s, now: s.adjourn(chair.id, now))
    keys = {p.id: await enrol(client, services, p) for p in (chair, *members[:3])}
    return client, services, meeting, chair, members, keys, tmp_path


async def login(client, key) -> str:
    client.session.cookie_jar.clear()
    o = await (await client.post("/api/passkey/options", json={})).json()
    done = await client.post("/api/passkey/verify", json={"ceremony": o["ceremony"], "credential": key.assert_(o["options"])})
    assert done.status == 200, await done.text()
    return (await done.json())["csrf"]


async def sign(client, meeting_id, csrf, authenticator, **tamper):
    """Ask for the ceremony and answer it; returns (status, body) of the signature."""
    base = f"/api/archive/{meeting_id}/minutes"
    h = {"X-CSRF-Token": csrf}
    got = await client.post(f"{base}/sign/options", headers=h)
    options = await got.json()
    if got.status != 200:
        return got.status, options
    sent = await client.post(f"{base}/sign", headers=h, json={
        "ceremony": options["ceremony"], "nonce": options["nonce"], "sha256": options["sha256"],
        "credential": authenticator.assert_(options["publicKey"], **tamper)})
    return sent.status, await sent.json()


async def export(services, meeting_id, path):
    record = await services.sittings.export_record(meeting_id)
    path.write_text(json.dumps(record), encoding="utf-8")
    return record


async def test_the_chair_and_the_named_members_sign_once_and_verify_checks_every_signature(adjourned, capsys):
    client, services, meeting, chair, members, keys, tmp = adjourned
    status = await (await client.get(f"/api/archive/{meeting.id}/minutes/signatures")).json()
    assert status["named"] and status["sha256"] is None and status["me"] is None
    assert [s["id"] for s in status["signers"]] == [chair.id, members[0].id, members[1].id]

    csrf = await login(client, keys[chair.id])
    code, body = await sign(client, meeting.id, csrf, keys[chair.id])
    assert (code, body["code"]) == (400, "minutes_not_final")
    digest = await client.app[TRANSCRIPTS].finalise(meeting.id, "clerk")

    code, body = await sign(client, meeting.id, csrf, keys[chair.id])
    assert code == 200, body
    assert body["sha256"] == digest and body["signers"][0]["signed_at"] and not body["complete"]
    code, body = await sign(client, meeting.id, csrf, keys[chair.id])
    assert (code, body["code"]) == (400, "already_signed")

    outsider = await login(client, keys[members[2].id])  # spoke, but was not named
    code, body = await sign(client, meeting.id, outsider, keys[members[2].id])
    assert (code, body["code"]) == (403, "not_a_signer")

    first = await login(client, keys[members[0].id])
    mine = await (await client.get(f"/api/archive/{meeting.id}/minutes/signatures")).json()
    assert mine["me"] == members[0].id
    code, body = await sign(client, meeting.id, first, keys[members[0].id], key=ec.generate_private_key(ec.SECP256R1()))
    assert (code, body["code"]) == (400, "passkey_failed"), "an assertion by another key"
    code, body = await sign(client, meeting.id, first, keys[members[0].id], origin="http://evil.example")
    assert (code, body["code"]) == (400, "passkey_failed"), "an assertion made for another site"
    code, body = await sign(client, meeting.id, first, keys[members[1].id])
    assert (code, body["code"]) == (400, "passkey_failed"), "somebody else's passkey"
    no_csrf = await client.post(f"/api/archive/{meeting.id}/minutes/sign/options")
    assert no_csrf.status == 403
    code, body = await sign(client, meeting.id, first, keys[members[0].id])
    assert code == 200, body

    # One signature missing: the record verifies, names who has not signed, and published minutes fail.
    path, minutes = tmp / "record.json", tmp / "minutes.json"
    await export(services, meeting.id, path)
    minutes.write_bytes(await (await client.get(f"/api/archive/{meeting.id}/minutes.json")).read())
    capsys.readouterr()
    assert verify_file(path, None) == 0
    out = capsys.readouterr().out
    assert "minutes signed by 2 of 3" in out and f"NOT signed by {members[1].name}" in out
    assert verify_file(path, None, minutes=minutes) == 1
    assert f"the minutes are not signed by {members[1].name}" in capsys.readouterr().err

    last = await login(client, keys[members[1].id])
    code, body = await sign(client, meeting.id, last, keys[members[1].id])
    assert code == 200 and body["complete"], body
    record = await export(services, meeting.id, path)
    assert verify_file(path, None, minutes=minutes) == 0
    assert "minutes signed by 3 of 3" in capsys.readouterr().out

    # A forged assertion on a record whose chain was re-made around it is still named.
    entries = copy.deepcopy(record["entries"])
    forged = next(e for e in entries if e["name"] == "minutes_signed")
    forged["data"]["assertion"]["response"]["signature"] = keys[chair.id].assert_(
        {"challenge": "AAAA", "rpId": client.server.host})["response"]["signature"]
    found = bad_signature(meeting.id, entries)
    assert found is not None and f"minutes_signed by {forged['data']['signer_id']}" in found


async def test_a_sitting_whose_chair_named_nobody_has_no_signing(aiohttp_client, tmp_path):
    client = await aiohttp_client(create_app(ServerConfig(data_dir=tmp_path, media_addresses=["127.0.0.1"],
                                                          presence_detection=False)))
    services = Parts(client.app)
    meeting, people, _ = await services.directory.ensure_rehearsal()
    for p in people[:7]:
        await services.sittings.execute(meeting.id, lambda s, now, pid=p.id: s.connected(pid, now))
    await services.sittings.execute(meeting.id, lambda s, now: s.open(people[0].id, now))
    await services.sittings.execute(meeting.id, lambda s, now: s.adjourn(people[0].id, now))
    await client.app[TRANSCRIPTS].finalise(meeting.id, "clerk")
    key = await enrol(client, services, people[0])
    csrf = await login(client, key)
    status = await (await client.get(f"/api/archive/{meeting.id}/minutes/signatures")).json()
    assert status == {"ok": True, "sha256": status["sha256"], "named": False, "signers": [], "complete": False,
                      "me": None}
    code, body = await sign(client, meeting.id, csrf, key)
    assert (code, body["code"]) == (400, "minutes_signers_not_named")
