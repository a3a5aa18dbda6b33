"""Twenty crash cycles: a scripted sitting of socket members runs round after round (joining,
the floor, a named ballot with passkey votes in flight, a recess, a document upload) while the
server is killed with SIGKILL at a random moment, then started again on the same data folder.

After every restart the members rejoin with the links they had (no new link, nothing to redo), the
sitting carries on where the record says it was, and the record, exported as `gikai record
export` does it, passes `gikai verify`'s checks (hash chain, signatures, every quorum and tally
recomputed) with every vote receipt a member was given. Nothing acknowledged is lost or
duplicated: every acknowledged vote and ballot is in the record exactly once, every acknowledged
floor grant and document is there, and no entry appears twice. The counts are printed and
written to artifacts/crash-cycles.txt. The seed is printed too: GIKAI_CRASH_SEED=N replays a run.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from gikai.orchestrator.persistence.database import Database, sqlite_url
from gikai.orchestrator.service.accounts import AccountService
from gikai.orchestrator.service.archive import ArchiveService
from gikai.orchestrator.service.directory import Directory
from gikai.orchestrator.service.signing import Signer
from gikai.signaling.cli.admin import verify_file
from tests.e2e.conftest import ARTIFACTS, Server, start_server
from tests.signaling.test_ballot_crash import _enrol
from tests.signaling.test_voting_ws import vote
from tests.signaling.test_ws import Session
from tests.support.authenticator import SoftAuthenticator
from tests.support.waiting import eventually
from tests.unit.test_documents_render import make_pdf

CYCLES = 20
VOTERS = 5  # members with passkeys (the chair votes only on a tie and has none here)
SERVER_ARGS = ["--no-presence-detection"]


@dataclass
class Ledger:
    """What the server acknowledged (it answered ok), and what was only attempted."""

    votes: dict[tuple[str, str], str] = field(default_factory=dict)  # (ballot, voter) -> receipt hash
    ballots: set[str] = field(default_factory=set)
    grants: int = 0
    grants_tried: int = 0
    documents: set[str] = field(default_factory=set)
    kills: list[str] = field(default_factory=list)  # what the script was doing at each kill
    doing: str = "starting"


class Members:
    """The chair and five voters, joined with their rehearsal links, and the clerk's HTTP session."""

    def __init__(self, http: aiohttp.ClientSession, server: Server, keys: list[SoftAuthenticator],
                 clerk_password: str) -> None:
        self.http, self.server, self.keys, self.clerk_password = http, server, keys, clerk_password
        self.sessions: list[Session] = []
        self.csrf = ""
        self.joined = asyncio.Event()

    async def join(self, ledger: Ledger) -> None:
        ledger.doing = "join"
        for link in self.server.links[:1 + VOTERS]:
            s = Session(await self.http.ws_connect(f"{self.server.base_url}/ws"))
            self.sessions.append(s)
            reply = await s.request("join", token=link.split("#", 1)[1])
            assert reply["ok"], reply
            s.me, s.joined = reply["data"]["participant"]["id"], reply["data"]
        self.joined.set()

    async def close(self) -> None:
        for s in self.sessions:
            with contextlib.suppress(Exception):
                await s.close()
        self.sessions.clear()


async def ok(s: Session, ledger: Ledger, doing: str, message_type: str, **fields: Any) -> dict[str, Any] | None:
    ledger.doing = doing
    reply = await s.request(message_type, **fields)
    return reply if reply.get("ok") else None


async def rounds(m: Members, ledger: Ledger, rng: random.Random, item_id: str, meeting_id: str) -> None:
    """The sitting, round after round, until the server dies under it."""
    await m.join(ledger)
    chair, *voters = m.sessions
    sitting = chair.joined["sitting"]
    if sitting["state"] == "scheduled":
        await ok(chair, ledger, "open", "command", name="open")
    elif sitting["state"] == "recessed":
        await ok(chair, ledger, "resume", "command", name="resume")
    await ok(chair, ledger, "end_speech", "command", name="end_speech")  # a speech the kill cut short
    ballot = chair.joined.get("ballot")
    if ballot and ballot["state"] != "published":  # a ballot the last kill left unfinished
        await finish_ballot(chair, voters, m.keys, ledger, ballot, rng)
    if sitting["current_item_id"] != item_id:
        await ok(chair, ledger, "take_up", "command", name="take_up", item_id=item_id)
    while True:
        speaker = rng.choice(voters)
        await ok(speaker, ledger, "request_floor", "command", name="request_floor", kind="speech")
        request_id = await waiting_request(chair, speaker.me, ledger)  # asked now, or before the last kill
        ledger.grants_tried += 1
        if await ok(chair, ledger, "grant", "command", name="grant", request_id=request_id):
            ledger.grants += 1
        await ok(chair, ledger, "end_speech", "command", name="end_speech")
        opened = await ok(chair, ledger, "ballot_open", "ballot", action="open", motion="議案第1号", kind="named",
                          majority="simple", abstain_allowed=False)
        assert opened is not None, "the last ballot was finished: a new one opens"
        ledger.ballots.add(opened["data"]["ballot"]["id"])
        await finish_ballot(chair, voters, m.keys, ledger, opened["data"]["ballot"], rng)
        if not ledger.documents or rng.random() < 0.4:
            await upload(m, ledger, meeting_id, item_id)
        if rng.random() < 0.3:
            await ok(chair, ledger, "recess", "command", name="recess")
            await ok(chair, ledger, "resume", "command", name="resume")


async def waiting_request(chair: Session, who: str, ledger: Ledger) -> str:
    """The id of ``who``'s request in the queue, as the chair's screen is told."""
    ledger.doing = "floor request"

    def found() -> str:
        pushes = chair.pushed("sitting")
        sitting = pushes[-1]["sitting"] if pushes else chair.joined["sitting"]
        return next((r["id"] for r in sitting["queue"]["requests"] if r["participant_id"] == who), "")

    await eventually(found, message=f"{who}'s request in the chair's queue")
    return found()


async def finish_ballot(chair: Session, voters: list[Session], keys: list[SoftAuthenticator], ledger: Ledger,
                        ballot: dict[str, Any], rng: random.Random) -> None:
    """Votes (in flight together, as from five tablets), close, a tie decided, publish: whatever
    of that the ballot still needs."""
    ballot_id, state = ballot["id"], ballot["state"]
    if state == "open":
        await asyncio.gather(*(voter_casts(v, k, ledger, ballot_id, rng.choice(["yes", "no"]))
                               for v, k in zip(voters, keys, strict=True)))
        closed = await ok(chair, ledger, "ballot_close", "ballot", action="close", ballot_id=ballot_id)
        assert closed is not None, "the chair closes the ballot"
        ballot = closed["data"]["ballot"]
    tally = ballot.get("tally") or {}
    if tally.get("outcome") == "tied" and not tally.get("decided_by_chair"):
        await ok(chair, ledger, "decide_tie", "ballot", action="decide_tie", ballot_id=ballot_id, choice="no")
    published = await ok(chair, ledger, "publish", "ballot", action="publish", ballot_id=ballot_id)
    assert published is not None, "the chair publishes the result"


async def voter_casts(s: Session, key: SoftAuthenticator, ledger: Ledger, ballot_id: str, choice: str) -> None:
    ledger.doing = "vote"
    reply = await vote(s, key, ballot_id, choice)
    if reply.get("ok"):
        ledger.votes[(ballot_id, s.me)] = reply["data"]["receipt"]["hash"]


async def upload(m: Members, ledger: Ledger, meeting_id: str, item_id: str) -> None:
    ledger.doing = "document upload"
    base = m.server.base_url
    if not m.csrf:
        r = await m.http.post(f"{base}/api/login", json={"username": "clerk", "password": m.clerk_password})
        assert r.status == 200, await r.text()
        m.csrf = (await r.json())["csrf"]
    form = aiohttp.FormData()
    form.add_field("title", f"資料{len(ledger.documents) + 1}")
    form.add_field("file", io.BytesIO(make_pdf(["議案第1号 資料"])), filename="資料.pdf", content_type="application/pdf")
    r = await m.http.post(f"{base}/api/admin/meetings/{meeting_id}/items/{item_id}/documents", data=form,
                          headers={"X-CSRF-Token": m.csrf})
    assert r.status == 200, await r.text()
    ledger.documents.add((await r.json())["document"]["id"])


async def check_record(data: Path, meeting_id: str, ledger: Ledger, out: Path) -> dict[str, int]:
    db = Database(sqlite_url(data))
    try:
        archive = ArchiveService(db.unit_of_work, Signer.load_or_create(data), data / "recordings", data / "imported")
        record = await archive.signed_record(meeting_id)
        async with db.unit_of_work() as uow:
            kept = {d.id for d in await uow.documents.in_meeting(meeting_id, None)}
    finally:
        await db.close()
    assert ledger.documents <= kept, f"acknowledged documents lost: {ledger.documents - kept}"
    await asyncio.to_thread(out.write_text, json.dumps(record, ensure_ascii=False), encoding="utf-8")
    assert verify_file(out, None, list(ledger.votes.values())) == 0, "the record must verify after a crash"
    entries = record["entries"]
    same = Counter(json.dumps([e["name"], e["at"], e["actor_id"], e["data"]], sort_keys=True)
                   for e in entries)
    assert not [k for k, n in same.items() if n > 1], "an entry is in the record twice"
    cast = Counter((e["data"]["ballot_id"], e["actor_id"]) for e in entries if e["name"] == "vote_cast")
    for key in ledger.votes:
        assert cast[key] == 1, f"acknowledged vote {key} is in the record {cast[key]} times"
    opened = Counter(e["data"]["ballot_id"] for e in entries if e["name"] == "ballot_opened")
    for ballot_id in ledger.ballots:
        assert opened[ballot_id] == 1, f"acknowledged ballot {ballot_id} opened {opened[ballot_id]} times"
    granted = sum(1 for e in entries if e["name"] == "floor_granted")
    assert ledger.grants <= granted <= ledger.grants_tried, (ledger.grants, granted, ledger.grants_tried)
    return {"entries": len(entries), "votes": len(ledger.votes), "ballots": len(ledger.ballots),
            "grants": granted, "documents": len(ledger.documents)}


async def test_twenty_kills_lose_and_duplicate_nothing_acknowledged(tmp_path: Path) -> None:
    seed = int(os.environ.get("GIKAI_CRASH_SEED", random.randrange(1 << 30)))
    print(f"\ncrash cycles: GIKAI_CRASH_SEED={seed}")
    rng = random.Random(seed)
    ledger = Ledger()
    server = start_server(tmp_path, extra=SERVER_ARGS)
    clerk_password = server.clerk_password  # printed at the first start only
    db = Database(sqlite_url(server.data))
    try:
        meeting, participants, _ = await Directory(db.unit_of_work).ensure_rehearsal()
        item_id = ""
        accounts = AccountService(db.unit_of_work)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:  # cookies for 127.0.0.1
            keys = [await _enrol(http, server.base_url, accounts, p.member_id) for p in participants[1:1 + VOTERS]]
            counts: dict[str, int] = {}
            for cycle in range(CYCLES):
                members = Members(http, server, keys, clerk_password)
                if not item_id:
                    await members.join(ledger)
                    item_id = members.sessions[0].joined["sitting"]["agenda"][0]["id"]
                    await members.close()
                script = asyncio.ensure_future(rounds(members, ledger, rng, item_id, meeting.id))
                # the kill lands anywhere: in the joins (one time in five), else once all are in: in a
                # grant, a ballot, votes in flight, an upload, a recess
                if rng.random() >= 0.2:
                    await eventually(lambda m=members, t=script: m.joined.is_set() or t.done(), message="the members joined")
                await asyncio.wait([script], timeout=rng.uniform(0.05, 6.0))
                if script.done():  # the script ends only by failing while the server lives
                    script.result()
                ledger.kills.append(ledger.doing)
                server.process.kill()  # SIGKILL: no clean-up at all
                server.process.wait()
                script.cancel()
                with contextlib.suppress(BaseException):
                    await script
                await members.close()
                server = start_server(tmp_path, port=server.port, log_name=f"server{cycle + 2}.log", extra=SERVER_ARGS)
                counts = await check_record(server.data, meeting.id, ledger, tmp_path / f"record{cycle}.json")
            # after the last restart the sitting carries on: the members rejoin and a round completes
            members = Members(http, server, keys, clerk_password)
            before = len(ledger.votes)
            script = asyncio.ensure_future(rounds(members, ledger, rng, item_id, meeting.id))
            await eventually(lambda: len(ledger.votes) >= before + VOTERS or script.done(),
                             message="a whole ballot after the last restart")
            script.cancel()
            with contextlib.suppress(BaseException):
                await script
            await members.close()
            counts = await check_record(server.data, meeting.id, ledger, tmp_path / "record-final.json")
        report = (f"crash cycles (seed {seed}): {CYCLES} SIGKILLs, during {dict(Counter(ledger.kills))}; "
                  f"acknowledged and found once each: {counts['votes']} votes, {counts['ballots']} ballots, "
                  f"{counts['documents']} documents; floor grants {ledger.grants} acknowledged, {counts['grants']} "
                  f"in the record of {ledger.grants_tried} tried; {counts['entries']} entries, none twice; "
                  f"lost: 0, duplicated: 0; the record verified after every restart\n")
        print(report)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "crash-cycles.txt").write_text(report, encoding="utf-8")
    finally:
        server.process.kill()
        server.process.wait()
        await db.close()
