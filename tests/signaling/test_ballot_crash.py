"""A server killed (SIGKILL) during an open ballot restarts with every accepted vote and the
ballot still open; voting carries on and the record verifies."""

from __future__ import annotations

import json

import aiohttp

from gikai.orchestrator.persistence.database import Database, sqlite_url
from gikai.orchestrator.service.accounts import AccountService
from gikai.orchestrator.service.directory import Directory
from gikai.signaling.cli.admin import verify_file
from tests.e2e.conftest import start_server
from tests.signaling.test_record import gikai
from tests.signaling.test_voting_ws import vote
from tests.signaling.test_ws import Session
from tests.support.authenticator import SoftAuthenticator
from tests.support.waiting import eventually


async def _enrol(http: aiohttp.ClientSession, base: str, accounts: AccountService, member_id: str) -> SoftAuthenticator:
    token = await accounts.issue_enrolment(member_id)
    host = base.split("://", 1)[1].split(":")[0]
    key = SoftAuthenticator(base, host)
    opts = await (await http.post(f"{base}/api/enrol/options", json={"token": token})).json()
    done = await http.post(f"{base}/api/enrol/verify", json={"token": token, "ceremony": opts["ceremony"],
                                                             "credential": key.register(opts["options"])})
    assert done.status == 200, await done.text()
    http.cookie_jar.clear()
    return key


async def _join_all(http: aiohttp.ClientSession, base: str, links: list[str]) -> list[Session]:
    sessions = []
    for link in links:
        s = Session(await http.ws_connect(f"{base}/ws"))
        reply = await s.request("join", token=link.split("#", 1)[1])
        assert reply["ok"], reply
        s.me, s.joined = reply["data"]["participant"]["id"], reply["data"]
        sessions.append(s)
    return sessions


async def test_a_ballot_survives_a_killed_server(tmp_path):
    server = start_server(tmp_path, extra=["--no-presence-detection"])
    db = Database(sqlite_url(server.data))
    try:
        accounts = AccountService(db.unit_of_work)
        _, participants, _ = await Directory(db.unit_of_work).ensure_rehearsal()
        async with aiohttp.ClientSession() as http:
            keys = [await _enrol(http, server.base_url, accounts, p.member_id) for p in participants[1:4]]
            chair, *voters = sessions = await _join_all(http, server.base_url, server.links[:6])
            assert (await chair.request("command", name="open"))["ok"]
            opened = await chair.request("ballot", action="open", motion="議案第2号", kind="named",
                                         majority="simple", abstain_allowed=False)
            bid = opened["data"]["ballot"]["id"]
            first = await vote(voters[0], keys[0], bid, "yes")
            assert (await vote(voters[1], keys[1], bid, "no"))["ok"]

            server.process.kill()  # SIGKILL: no clean-up at all
            server.process.wait()
            await eventually(lambda: all(s.ws.closed for s in sessions))
            for s in sessions:
                await s.close()

            server = start_server(tmp_path, port=server.port, log_name="server2.log",
                                  extra=["--no-presence-detection"])
            chair, *voters = sessions = await _join_all(http, server.base_url, server.links[:6])
            ballot = voters[2].joined["ballot"]
            assert ballot["id"] == bid and ballot["state"] == "open"
            assert ballot["voted"] == sorted([voters[0].me, voters[1].me])
            again = await vote(voters[0], keys[0], bid, "yes")
            assert again["data"]["receipt"] == {**first["data"]["receipt"], "repeated": True}
            assert (await vote(voters[1], keys[1], bid, "yes"))["code"] == "already_voted"
            assert (await vote(voters[2], keys[2], bid, "yes"))["ok"]
            closed = await chair.request("ballot", action="close", ballot_id=bid)
            assert closed["data"]["ballot"]["tally"]["yes"] == 2 and closed["data"]["ballot"]["tally"]["no"] == 1
            for s in sessions:
                await s.close()
        out = tmp_path / "record.json"
        exported = gikai("record", "export", participants[0].meeting_id, "--out", str(out), "--data", str(server.data))
        assert exported.returncode == 0, exported.stderr
        assert verify_file(out, None, [first["data"]["receipt"]["hash"]]) == 0
        names = [e["name"] for e in json.loads(out.read_text(encoding="utf-8"))["entries"]]
        assert names.count("vote_cast") == 3 and "ballot_closed" in names
    finally:
        server.process.kill()
        server.process.wait()
        await db.close()
