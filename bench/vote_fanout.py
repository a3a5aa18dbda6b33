#!/usr/bin/env python3
"""Vote fan-out (issue 5): from a cast to every watcher seeing the updated count.

Target: 16 voters and 200 connected watchers; from the moment a ``vote`` request is sent to
the moment every watcher has received the ``ballot`` push whose ``voted`` list includes the
voter, p99 <= 100 ms.

Two processes on 127.0.0.1:

* the server: the real app (``signaling.app.create_app``; SQLite in a temporary folder, or
  a scratch database on the PostgreSQL server given by ``--database-url``), alone in its
  process so that its CPU can be measured. It seeds a rehearsal committee (join tokens work):
  a chair and 16 members (fixed membership 17: all present, quorate) and 200 observers, and
  timestamps each vote's way through it by wrapping the functions the vote passes (below).
* the load (this script): enrols a passkey per member over the HTTP API with
  ``tests.support.authenticator.SoftAuthenticator``, opens 217 WebSockets and joins them, has
  the chair open the sitting, then runs rounds of ballot open -> 16 casts -> close -> publish:
  first one voter at a time ("sequential"), then all 16 at once ("burst").

A cast is ``vote_options`` then ``vote`` with a fresh assertion. Its latency runs from just
before the ``vote`` frame is written (and, separately, from the arrival of its reply) to the
arrival at the last of the 200 watchers of the first ``ballot`` push listing the voter. One
clock (CLOCK_MONOTONIC) for both processes. The watchers share this process and the machine's
2 cores with the server, so an arrival includes the load's own reading; the server's
timestamp of its last write to the 217 sockets bounds that part.

Media: every socket that joins gets an SFU peer (a full mesh of send-only transceivers) and
an offer, which the load never answers. ``--media held`` (default) raises media/peer.py's
ANSWER_TIMEOUT in the server process so those peers wait instead of failing; ``--media none``
gives sockets no SFU peer at all (the signaling path alone); ``--media unanswered`` leaves the
server as it is, which disconnects each socket (4002) 20 s after its unanswered offer: the run
reports that and stops.

Run from the repository root: ``python3 bench/vote_fanout.py`` (``--quick``: one round per
mode; ``--help`` for the rest).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import gc
import json
import logging
import math
import multiprocessing as mp
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp
import psutil  # type: ignore[import-untyped]
from load_common import _command_queue  # bench/ is this script's folder: first on sys.path

from tests.support.authenticator import SoftAuthenticator

LOOPBACK = "127.0.0.1"
TARGET_P99_MS = 100.0
BUSY_OTHERS = 15.0  # % of one core other processes may use during a window before it counts as busy
CHOICES = ("yes", "no")
TOOLS: list[int] = []  # our own instruments' processes (py-spy): not "other processes"


# ---------------------------------------------------------------------------------
# the server process
# ---------------------------------------------------------------------------------
def _child_setup(lifetime: float, level: str) -> None:
    """Bounded, orphan-proof: dies with the load (Linux) and after ``lifetime`` seconds."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass
    signal.alarm(max(1, int(lifetime)))
    logging.basicConfig(level=getattr(logging, level), format="server %(name)s: %(message)s")


def server_main(conn: Any, data_dir: str, database_url: str | None, media: str, voters: int,
                watchers: int, lifetime: float, level: str) -> None:
    _child_setup(lifetime, level)
    asyncio.run(_serve(conn, Path(data_dir), database_url, media, voters, watchers))


class _NoPeer:
    """What a socket gets instead of an SFU peer with ``--media none``."""

    ups: ClassVar[dict[str, Any]] = {}  # no published tracks, ever: shared and never written
    closed = False

    async def accept_answer(self, sdp: str, revision: int) -> None:
        raise RuntimeError("no media in this benchmark")

    async def close(self) -> None:
        pass


def _set_media(mode: str) -> None:
    import gikai.media.sfu.peer as peer
    from gikai.media.sfu.room import Room

    if mode == "held":  # the unanswered offer waits (a week) instead of failing the peer at 20 s
        peer.ANSWER_TIMEOUT = 7 * 24 * 3600.0
    elif mode == "none":
        Room.add_peer = lambda self, peer_id, send_offer: _NoPeer()  # type: ignore[method-assign,assignment,return-value]


async def _seed(services: Any, voters: int, watchers: int) -> dict[str, Any]:
    """A rehearsal committee: a chair, ``voters`` members, ``watchers`` observers. Written with
    the repository directly: AdminService makes no rehearsal bodies, and join tokens need one."""
    from gikai.orchestrator.domain.model import Body, BodyKind, Meeting, Member, Participant, Role
    from gikai.orchestrator.service.sittings import utcnow

    body = Body("票決計測委員会", BodyKind.COMMITTEE, voters + 1, rehearsal=True)
    members = [Member(body.id, "委員長 計測", "いいんちょう けいそく", 1, Role.CHAIR)] + [
        Member(body.id, f"委員 {i:02d}", f"いいん {i:02d}", i + 1, Role.MEMBER) for i in range(1, voters + 1)]
    meeting = Meeting(body.id, "票決ファンアウト計測", utcnow(), "ベンチ")
    seated = [Participant(meeting.id, m.name, m.reading, m.role, m.seat, m.id) for m in members]
    audience = [Participant(meeting.id, f"傍聴 {i:03d}", f"ぼうちょう {i:03d}", Role.OBSERVER) for i in range(watchers)]
    async with services.db.unit_of_work() as uow:
        await uow.directory.add_committee(body, members, meeting, seated + audience, [])
        await uow.commit()
    enrolment = [await services.accounts.issue_enrolment(m.id) for m in members[1:]]
    issue = services.tokens.issue
    return {"meeting_id": meeting.id, "chair": issue(seated[0].id),
            "voters": [(issue(p.id), e) for p, e in zip(seated[1:], enrolment, strict=True)],
            "watchers": [issue(p.id) for p in audience]}


_VOTE: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("bench_vote", default=None)


def _time_votes(votes: list[dict[str, Any]]) -> None:
    """Wrap what a vote passes through; each vote's marks go to ``votes``: in (VoteDesk.vote
    called), verified (passkey checked), locked (the sitting's lock held), tell / told
    (MemberPushes.ballot_changed: the view built and written to every socket), out (the reply
    next), and ``calls``: (what, start, seconds) of the database and crypto steps on the way."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from gikai.orchestrator.persistence.record import RecordRepository
    from gikai.orchestrator.service.accounts import AccountService
    from gikai.orchestrator.service.ballots import BallotService
    from gikai.orchestrator.service.sittings import SittingService
    from gikai.signaling.auth import passkeys
    from gikai.signaling.ws.pushes import MemberPushes
    from gikai.signaling.ws.voting import VoteDesk

    def stamp(name: str) -> None:
        mark = _VOTE.get()
        if mark is not None:
            mark[name] = time.monotonic()

    def called(what: str, started: float) -> None:
        mark = _VOTE.get()
        if mark is not None:
            mark["calls"].append((what, started, time.monotonic() - started))

    def timed(owner: Any, attr: str, what: str) -> None:
        original = getattr(owner, attr)

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.monotonic()
            try:
                return await original(*args, **kwargs)
            finally:
                called(what, started)

        setattr(owner, attr, wrapper)

    vote, confirm, hold, changed = VoteDesk.vote, VoteDesk._confirm, SittingService.hold, MemberPushes.ballot_changed
    verify = passkeys.verify_authentication

    async def timed_vote(desk: Any, meeting_id: str, voter: Any, r: Any) -> Any:
        mark: dict[str, Any] = {"voter": voter.id, "ballot": r.ballot_id, "in": time.monotonic(), "calls": []}
        token = _VOTE.set(mark)
        try:
            return await vote(desk, meeting_id, voter, r)
        finally:
            mark["out"] = time.monotonic()
            _VOTE.reset(token)
            votes.append(mark)

    async def timed_confirm(desk: Any, *args: Any) -> Any:
        try:
            return await confirm(desk, *args)
        finally:
            stamp("verified")

    @asynccontextmanager
    async def timed_hold(sittings: Any, meeting_id: str) -> Any:
        async with hold(sittings, meeting_id) as sitting:
            stamp("locked")
            yield sitting

    async def timed_changed(notifier: Any, sitting: Any, ballot: Any) -> None:
        stamp("tell")
        await changed(notifier, sitting, ballot)
        stamp("told")

    def timed_verify(*args: Any, **kwargs: Any) -> int:
        started = time.monotonic()
        try:
            return verify(*args, **kwargs)
        finally:
            called("WebAuthn verify", started)

    VoteDesk.vote, VoteDesk._confirm = timed_vote, timed_confirm  # type: ignore[method-assign,assignment]
    SittingService.hold = timed_hold  # type: ignore[method-assign,assignment]
    MemberPushes.ballot_changed = timed_changed  # type: ignore[method-assign,assignment]
    passkeys.verify_authentication = timed_verify
    timed(AccountService, "member_credentials", "passkeys query")
    timed(AccountService, "record_sign_count", "sign count stored")
    timed(BallotService, "load", "ballot loaded")
    timed(RecordRepository, "append", "record chain")
    timed(AsyncSession, "commit", "commit")


def _time_collections(log: list[tuple[float, float, int]]) -> None:
    """Every garbage collection of 2 ms or more: (start, seconds, generation)."""
    started = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.monotonic()
        elif time.monotonic() - started[0] >= 0.002:
            log.append((started[0], time.monotonic() - started[0], info["generation"]))

    gc.callbacks.append(on_gc)


async def _serve(conn: Any, data_dir: Path, database_url: str | None, media: str, voters: int,
                 watchers: int) -> None:
    from aiohttp import web

    from gikai.signaling.app import create_app
    from gikai.signaling.config import ServerConfig
    from tests.support.server import Parts

    _set_media(media)
    votes: list[dict[str, Any]] = []
    collections: list[tuple[float, float, int]] = []
    _time_votes(votes)
    _time_collections(collections)
    config = ServerConfig(data_dir=data_dir, database_url=database_url, media_addresses=[LOOPBACK],
                          presence_detection=False)
    runner = web.AppRunner(create_app(config), handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, LOOPBACK, 0).start()
    services = Parts(runner.app)
    seeded = await _seed(services, voters, watchers)
    conn.send({"port": runner.addresses[0][1], **seeded})
    commands = _command_queue(conn)
    profiler: Any = None
    while True:
        msg = await commands.get()
        if msg["cmd"] == "stats":
            room = services.sfu.rooms.get(seeded["meeting_id"])
            conn.send({"votes": list(votes), "gc": list(collections), "peers": len(room.peers) if room else 0,
                       "rss_mb": psutil.Process().memory_info().rss / 2**20,
                       "transceivers": sum(len(p.pc.getTransceivers()) for p in room.peers.values()) if room else 0})
        elif msg["cmd"] == "profile":  # cProfile between two commands
            import cProfile

            if msg.get("path") is None:
                profiler = cProfile.Profile()
                profiler.enable()
            elif profiler is not None:
                profiler.disable()
                profiler.dump_stats(msg["path"])
            conn.send({"ok": True})
        elif msg["cmd"] == "quit":
            # No orderly clean-up: closing 217 peers and attendances is not what is measured.
            os._exit(0)


# ---------------------------------------------------------------------------------
# the load: every participant's socket, in this process
# ---------------------------------------------------------------------------------
class Fanout:
    """When each watcher first saw each voter in a ballot's ``voted`` (and each ballot state)."""

    def __init__(self) -> None:
        self.watchers = 0
        self.pushes = 0  # ballot pushes received by watchers
        self.arrivals: dict[tuple[str, str], list[float]] = defaultdict(list)
        self.closed: Counter[Any] = Counter()  # close codes of sockets the server ended
        self._complete: dict[tuple[str, str], asyncio.Event] = {}
        self.stirred = asyncio.Event()  # a socket had its first offer, or was closed

    async def wait_offers(self, sockets: list[Socket]) -> None:
        """Until every socket has had an offer, or the server closed one."""
        while sum(s.offers > 0 for s in sockets) < len(sockets) and not self.closed:
            self.stirred.clear()
            await self.stirred.wait()

    def seen(self, seen_before: set[tuple[str, str]], view: dict[str, Any], arrived: float) -> None:
        self.pushes += 1
        for key in (*view["voted"], "state:" + view["state"]):
            if (view["id"], key) in seen_before:
                continue
            seen_before.add((view["id"], key))
            times = self.arrivals[(view["id"], key)]
            times.append(arrived)
            if len(times) >= self.watchers and (view["id"], key) in self._complete:
                self._complete[(view["id"], key)].set()

    async def everyone_saw(self, ballot_id: str, key: str, within: float = 10.0) -> bool:
        if len(self.arrivals[(ballot_id, key)]) >= self.watchers:
            return True
        event = self._complete.setdefault((ballot_id, key), asyncio.Event())
        try:
            await asyncio.wait_for(event.wait(), within)
            return True
        except TimeoutError:
            return False


class Socket:
    """One participant's WebSocket: requests matched to replies, pushes noted on arrival."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, fanout: Fanout, watcher: bool) -> None:
        self.ws, self.fanout, self.watcher = ws, fanout, watcher
        self.me = ""
        self.offers = 0
        self.seen: set[tuple[str, str]] = set()
        self._next = 0
        self._waiting: dict[int, asyncio.Future[tuple[dict[str, Any], float]]] = {}
        self._reader = asyncio.ensure_future(self._read())

    async def request(self, type_: str, **fields: Any) -> tuple[float, dict[str, Any], float]:
        """(sent at, the answer, the answer's arrival)."""
        self._next += 1
        rid = self._next
        self._waiting[rid] = asyncio.get_running_loop().create_future()
        text = json.dumps({"v": 1, "id": rid, "type": type_, **fields})
        sent = time.monotonic()
        await self.ws.send_str(text)
        answer, arrived = await asyncio.wait_for(self._waiting[rid], 120)
        return sent, answer, arrived

    async def ask(self, type_: str, **fields: Any) -> dict[str, Any]:
        _, answer, _ = await self.request(type_, **fields)
        if answer.get("type") != "reply":
            raise RuntimeError(f"{type_} refused: {answer.get('code')} {answer.get('message', {}).get('en', '')}")
        return answer["data"]  # type: ignore[no-any-return]

    async def _read(self) -> None:
        try:
            async for msg in self.ws:
                arrived = time.monotonic()
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                kind = data.get("type")
                if kind in ("reply", "error") and data.get("re") in self._waiting:
                    future = self._waiting.pop(data["re"])
                    if not future.done():
                        future.set_result((data, arrived))
                elif kind == "ballot" and self.watcher:
                    self.fanout.seen(self.seen, data["ballot"], arrived)
                elif kind == "offer":
                    self.offers += 1  # never answered: see the module docstring
                    if self.offers == 1:
                        self.fanout.stirred.set()
        finally:
            self.fanout.closed[self.ws.close_code] += 1
            self.fanout.stirred.set()
            for future in self._waiting.values():
                if not future.done():
                    future.set_exception(ConnectionError(f"socket closed ({self.ws.close_code})"))


async def _enrol(http: aiohttp.ClientSession, base: str, token: str) -> SoftAuthenticator:
    key = SoftAuthenticator(base, LOOPBACK)
    async with http.post(f"{base}/api/enrol/options", json={"token": token}) as r:
        options = await r.json()
    credential = key.register(options["options"])
    async with http.post(f"{base}/api/enrol/verify",
                         json={"token": token, "ceremony": options["ceremony"], "credential": credential}) as r:
        if r.status != 200:
            raise RuntimeError(f"enrolment failed: {await r.text()}")
    return key


@dataclass
class Cast:
    mode: str
    ballot: str
    voter: str
    sent: float
    replied: float
    first: float  # the first watcher's arrival
    last: float  # the last watcher's arrival (nan if some never saw it)
    seen: int  # watchers that saw it


async def _cast(voter: Socket, ballot_id: str, choice: str, ceremony: str, credential: dict[str, Any],
                fanout: Fanout, mode: str) -> Cast:
    sent, answer, replied = await voter.request("vote", ballot_id=ballot_id, choice=choice,
                                                ceremony=ceremony, credential=credential)
    if answer.get("type") != "reply":
        raise RuntimeError(f"vote refused: {answer.get('code')}")
    everyone = await fanout.everyone_saw(ballot_id, voter.me)
    times = fanout.arrivals[(ballot_id, voter.me)]
    return Cast(mode, ballot_id, voter.me, sent, replied, min(times, default=math.nan),
                max(times) if everyone else math.nan, len(times))


async def _round(mode: str, n: int, chair: Socket, voters: list[Socket], keys: dict[str, SoftAuthenticator],
                 fanout: Fanout, gap: float) -> tuple[list[Cast], int]:
    """One ballot: open, every voter casts (one by one, or all at once), close, publish.
    Returns the casts and how many ballot pushes each watcher should have had."""
    view = (await chair.ask("ballot", action="open", motion=f"計測議案 {mode} {n}", kind="named",
                            majority="simple", abstain_allowed=False))["ballot"]
    bid = view["id"]
    await fanout.everyone_saw(bid, "state:open")
    choices = [CHOICES[i % 2] for i in range(len(voters))]
    casts: list[Cast] = []
    if mode == "sequential":
        for voter, choice in zip(voters, choices, strict=True):
            options = await voter.ask("vote_options", ballot_id=bid, choice=choice)
            credential = keys[voter.me].assert_(options["publicKey"])
            casts.append(await _cast(voter, bid, choice, options["ceremony"], credential, fanout, mode))
            await asyncio.sleep(gap)
    else:  # every option first, every assertion signed, then the 16 votes back to back
        every = await asyncio.gather(*(v.ask("vote_options", ballot_id=bid, choice=c)
                                       for v, c in zip(voters, choices, strict=True)))
        signed = [keys[v.me].assert_(o["publicKey"]) for v, o in zip(voters, every, strict=True)]
        casts = list(await asyncio.gather(*(_cast(v, bid, c, o["ceremony"], s, fanout, mode)
                                            for v, c, o, s in zip(voters, choices, every, signed, strict=True))))
    closed = (await chair.ask("ballot", action="close", ballot_id=bid))["ballot"]
    tied = closed["tally"]["outcome"] == "tied"
    if tied:  # the chair's casting vote (art. 116) before publication
        await chair.ask("ballot", action="decide_tie", ballot_id=bid, choice="yes")
    await chair.ask("ballot", action="publish", ballot_id=bid)
    await fanout.everyone_saw(bid, "state:published")
    await asyncio.sleep(gap)
    return casts, len(casts) + 3 + tied


class Usage:
    """CPU over a window: the server, this load process and everything else on the machine
    (less the profiler, when there is one: ``TOOLS``)."""

    def __init__(self, server_pid: int) -> None:
        self.procs = {"server": psutil.Process(server_pid), "load": psutil.Process(),
                      **{f"tool{pid}": psutil.Process(pid) for pid in TOOLS}}
        self.start = self._now()

    def _now(self) -> tuple[float, float, dict[str, float], tuple[float, ...]]:
        t = psutil.cpu_times()
        machine = t.user + t.nice + t.system + t.irq + t.softirq + getattr(t, "steal", 0.0)
        return (time.monotonic(), machine, {k: sum(p.cpu_times()[:2]) for k, p in self.procs.items()},
                os.getloadavg())

    def stop(self) -> dict[str, Any]:
        (t0, m0, p0, l0), (t1, m1, p1, l1) = self.start, self._now()
        span = max(1e-6, t1 - t0)
        ours = {k: p1[k] - p0[k] for k in p1}
        return {"seconds": span, "server_s": ours["server"], "server": 100 * ours["server"] / span,
                "load": 100 * ours["load"] / span, "loadavg": (l0, l1),
                "others": max(0.0, 100 * ((m1 - m0) - sum(ours.values())) / span)}


async def _quiet(server_pid: int, limit: float, within: float, server_idle: float = 0.0) -> bool:
    """Wait (at most ``within`` s) until, for 3 s in a row, others use < ``limit`` % of a core (and,
    given ``server_idle``, the server < that): joins leave work behind (offers, collections)."""
    end, calm = time.monotonic() + within, 0
    while time.monotonic() < end:
        usage = Usage(server_pid)
        await asyncio.sleep(1.0)
        u = usage.stop()
        calm = calm + 1 if u["others"] < limit and (not server_idle or u["server"] < server_idle) else 0
        if calm >= 3:
            return True
    return False


async def _lag(log: list[tuple[float, float]], period: float = 0.02) -> None:
    """This process's event-loop lateness: the load's own share of an arrival time."""
    while True:
        due = time.monotonic() + period
        await asyncio.sleep(period)
        log.append((due, time.monotonic() - due))


def _calibrate() -> float:
    """Milliseconds of CPU a fixed pure-Python loop takes: this VM's speed drifts (bench/README.md)."""
    best = math.inf
    for _ in range(5):
        started = time.process_time()
        d: dict[int, int] = {}
        for i in range(200_000):
            d[i & 1023] = d.get(i & 1023, 0) + i
        best = min(best, time.process_time() - started)
    return best * 1000


def _server_call(conn: Any, msg: dict[str, Any]) -> Any:
    conn.send(msg)
    if not conn.poll(120):
        raise RuntimeError(f"server did not answer {msg['cmd']}")
    return conn.recv()


async def _join_everyone(args: argparse.Namespace, wss: aiohttp.ClientSession, base: str,
                         seeded: dict[str, Any], fanout: Fanout) -> tuple[Socket, list[Socket], list[Socket]]:
    gate = asyncio.Semaphore(args.join_concurrency)

    async def join(token: str, watcher: bool) -> Socket:
        async with gate:
            sock = Socket(await wss.ws_connect(f"{base}/ws", max_msg_size=0), fanout, watcher)
            sock.me = (await sock.ask("join", token=token))["participant"]["id"]
            return sock

    chair = await join(seeded["chair"], False)
    voters = list(await asyncio.gather(*(join(t, False) for t, _ in seeded["voters"])))
    watchers = list(await asyncio.gather(*(join(t, True) for t in seeded["watchers"])))
    fanout.watchers = len(watchers)
    return chair, voters, watchers


async def _measure(args: argparse.Namespace, mode: str, server_pid: int, chair: Socket, voters: list[Socket],
                   keys: dict[str, SoftAuthenticator], fanout: Fanout,
                   lags: list[tuple[float, float]]) -> dict[str, Any]:
    """``args.rounds`` ballots in ``mode``; again (``--retries``) while the machine was busy."""
    best: dict[str, Any] | None = None
    for attempt in range(1 + args.retries):
        if args.wait_idle and not await _quiet(server_pid, BUSY_OTHERS, args.wait_idle):
            print(f"  machine still busy after {args.wait_idle:g} s; measuring anyway", file=sys.stderr, flush=True)
        usage, pushes, lag_from = Usage(server_pid), fanout.pushes, len(lags)
        casts: list[Cast] = []
        expected = 0
        for n in range(args.rounds):
            more, per_watcher = await _round(mode, n + 1, chair, voters, keys, fanout, args.gap)
            casts += more
            expected += per_watcher * fanout.watchers
        run = {"casts": casts, "usage": usage.stop(), "pushes": fanout.pushes - pushes, "expected": expected,
               "rounds": args.rounds, "lag": [late for _, late in lags[lag_from:]], "attempt": attempt + 1,
               "window": (usage.start[0], time.monotonic())}
        busy = run["usage"]["others"]
        print(f"  {mode}: {len(casts)} casts, other processes used {busy:.0f}% of a core", file=sys.stderr, flush=True)
        if best is None or busy < best["usage"]["others"]:
            best = run  # the least disturbed attempt
        if busy < BUSY_OTHERS:
            break
    assert best is not None
    return best


def _start_profiling(args: argparse.Namespace, conn: Any, server_pid: int) -> subprocess.Popen[bytes] | None:
    spy = None
    if args.py_spy:
        spy = subprocess.Popen(["py-spy", "record", "--pid", str(server_pid), "--rate", "250", "--format", "raw",
                                "--threads", "--nonblocking", "-o", args.py_spy],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        TOOLS.append(spy.pid)
        time.sleep(1.0)  # py-spy attaches
    if args.profile:
        _server_call(conn, {"cmd": "profile"})
    return spy


def _stop_profiling(args: argparse.Namespace, conn: Any, spy: subprocess.Popen[bytes] | None) -> None:
    if args.profile:
        _server_call(conn, {"cmd": "profile", "path": str(Path(args.profile).resolve())})
    if spy is not None:
        spy.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
        spy.wait(30)


async def load(args: argparse.Namespace, conn: Any, server_pid: int, seeded: dict[str, Any]) -> dict[str, Any]:
    """Enrol, join everyone, open the sitting, measure each mode; everything for the report."""
    base = f"http://{LOOPBACK}:{seeded['port']}"
    out: dict[str, Any] = {"loadavg_start": os.getloadavg(), "calibration": [_calibrate()]}
    fanout = Fanout()
    lags: list[tuple[float, float]] = []
    lagger = asyncio.ensure_future(_lag(lags))
    jar = aiohttp.DummyCookieJar()  # no session cookies: sockets join with their tokens
    async with aiohttp.ClientSession(cookie_jar=jar) as http, aiohttp.ClientSession(
            cookie_jar=jar, connector=aiohttp.TCPConnector(limit=0)) as wss:
        started = time.monotonic()
        keys = [await _enrol(http, base, enrolment) for _, enrolment in seeded["voters"]]
        out["enrol_s"] = time.monotonic() - started
        usage = Usage(server_pid)
        chair, voters, watchers = await _join_everyone(args, wss, base, seeded, fanout)
        everyone = [chair, *voters, *watchers]
        out["join_s"] = time.monotonic() - usage.start[0]
        if args.media != "none":  # the server works on after the replies: every peer's first offer
            await fanout.wait_offers(everyone)
        out["offers_s"] = time.monotonic() - usage.start[0]
        out["join_usage"] = usage.stop()
        print(f"  joined {len(everyone)} sockets in {out['join_s']:.1f} s, every first offer in"
              f" {out['offers_s']:.1f} s", file=sys.stderr, flush=True)
        if args.media == "unanswered":
            await asyncio.sleep(25)  # media/peer.py ANSWER_TIMEOUT is 20 s
        await _quiet(server_pid, math.inf, 600, server_idle=10.0)
        stats = _server_call(conn, {"cmd": "stats"})
        out["after_join"] = {**stats, "votes": None, "gc": None, "setup_gc": stats["gc"]}
        out["offers"] = sum(s.offers for s in everyone)
        out["closed_early"] = dict(fanout.closed)
        if fanout.closed:
            return out
        await chair.ask("command", name="open")
        voter_keys = {v.me: k for v, k in zip(voters, keys, strict=True)}
        spy = _start_profiling(args, conn, server_pid)
        out["modes"] = {mode: await _measure(args, mode, server_pid, chair, voters, voter_keys, fanout, lags)
                        for mode in args.modes}
        _stop_profiling(args, conn, spy)
        out["server"] = _server_call(conn, {"cmd": "stats"})
        out["closed"] = dict(fanout.closed)
        out["loadavg_end"] = os.getloadavg()
        out["calibration"].append(_calibrate())
        lagger.cancel()
    return out


# ---------------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------------
def _pct(values: list[float], q: float) -> float:
    values = sorted(v for v in values if not math.isnan(v))
    if not values:
        return math.nan
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def _row(values: list[float]) -> str:
    ms = [1000 * v for v in values]
    return "".join(f"{x:>7.1f}" for x in (_pct(ms, 0.5), _pct(ms, 0.95), _pct(ms, 0.99), max(ms, default=math.nan)))


PHASES = (  # (name, from mark, to mark)
    ("passkey check", "in", "verified"),
    ("waiting for the sitting lock", "verified", "locked"),
    ("recording the vote", "locked", "tell"),
    ("writing to every socket", "tell", "told"),
)


def _spans(casts: list[Cast], marks: dict[tuple[str, str], dict[str, Any]]) -> list[tuple[str, list[float]]]:
    """Where each cast's time went: the server's marks against the load's clock, and inside
    each server phase the timed calls (summed per cast)."""
    spans: dict[str, list[float]] = defaultdict(list)
    for c in casts:
        m = marks.get((c.ballot, c.voter))
        if m is None or "told" not in m:
            continue
        spans["to the server"].append(m["in"] - c.sent)
        for name, a, b in PHASES:
            spans[name].append(m[b] - m[a])
            inside: Counter[str] = Counter()
            for what, started, took in m["calls"]:
                if m[a] <= started < m[b]:
                    inside[what] += took
            for what, took in inside.items():
                spans[f"{name}/{what}"].append(took)
        spans["last watcher reads it"].append(c.last - m["told"])
        spans["reply, after the fan-out"].append(c.replied - m["out"])
    return list(spans.items())


def _print_spans(spans: list[tuple[str, list[float]]]) -> None:
    def ms(v: list[float]) -> str:
        return f"{1000 * _pct(v, 0.5):.1f} / {1000 * _pct(v, 0.99):.1f}"

    for name, values in spans:
        if "/" in name:
            continue
        parts = [f"{what.split('/')[1]} {ms(v)}" for what, v in spans if what.startswith(name + "/")]
        print(f"      {name:<30}{ms(values):>15}" + (f"   ({'; '.join(parts)})" if parts else ""))


def _print_setup(args: argparse.Namespace, out: dict[str, Any], database: str) -> None:
    print()
    print(f"vote fan-out: {args.voters} voters + chair, {args.watchers} watchers, media {args.media},"
          f" {database}; {args.rounds} round(s) per mode, {os.cpu_count()} cores")
    la0, la_end = out["loadavg_start"], out.get("loadavg_end", os.getloadavg())
    print(f"load average at start {la0[0]:.2f} {la0[1]:.2f} {la0[2]:.2f}; at end"
          f" {la_end[0]:.2f} {la_end[1]:.2f} {la_end[2]:.2f}")
    j, after = out["join_usage"], out["after_join"]
    print(f"set-up: {args.voters} passkeys enrolled in {out['enrol_s']:.1f} s; {args.voters + 1 + args.watchers}"
          f" sockets joined in {out['join_s']:.1f} s, every first offer out after {out['offers_s']:.1f} s"
          f" (server CPU {j['server_s']:.0f} s); then: {after['peers']} SFU peers,"
          f" {after['transceivers']} transceivers, server RSS {after['rss_mb']:.0f} MB;"
          f" {out['offers']} offers received, none answered")
    stalls = [(took, g) for t, took, g in after["setup_gc"] if took >= 0.1]
    if stalls:
        print(f"server GC pauses >= 100 ms during set-up: {len(stalls)}, longest {max(stalls)[0]:.2f} s"
              f" (generation {max(stalls)[1]}): what the heap costs a vote that arrives during one")


def _print_table(args: argparse.Namespace, out: dict[str, Any]) -> list[str]:
    """The latency table; returns each mode's verdict on the target."""
    head = (f"{'mode':<11}{'casts':>6} | {'send -> all watchers (ms)':^28} | {'reply -> all (ms)':^28} |"
            f" {'vote request (ms)':^28} | {'pushes':>7} {'server':>7} {'load':>6} {'others':>7}")
    print()
    print(head)
    print(f"{'':<17} | {'p50    p95    p99    max':>27} | {'p50    p95    p99    max':>27} |"
          f" {'p50    p95    p99    max':>27} | {'':>7} {'CPU %':>7} {'CPU %':>6} {'CPU %':>7}")
    print("-" * len(head))
    verdicts = []
    for mode, r in out["modes"].items():
        casts, u = r["casts"], r["usage"]
        busy = "*" if u["others"] >= BUSY_OTHERS else " "
        print(f"{mode:<10}{busy}{len(casts):>6} |{_row([c.last - c.sent for c in casts])} |"
              f"{_row([c.last - c.replied for c in casts])} |{_row([c.replied - c.sent for c in casts])} |"
              f" {r['pushes']:>7} {u['server']:>7.0f} {u['load']:>6.0f} {u['others']:>7.0f}")
        missing = sum(c.seen < args.watchers for c in casts)
        p99 = 1000 * _pct([c.last - c.sent for c in casts], 0.99)
        verdicts.append(f"{mode} p99 {p99:.1f} ms {'met' if p99 <= TARGET_P99_MS and not missing else 'MISSED'}"
                        + (f" ({missing} casts not seen by every watcher)" if missing else ""))
    return verdicts


def _print_details(out: dict[str, Any]) -> None:
    marks = {(m["ballot"], m["voter"]): m for m in out["server"]["votes"]}
    print()
    print("pushes: ballot pushes the watchers received in the mode (expected per round and watcher: open, a"
          " cast each, close, the chair's decision of a tie, publish). CPU in % of one core over the mode's window;"
          f" others: processes outside this benchmark (* >= {BUSY_OTHERS:g}%: measured on a busy machine).")
    for mode, r in out["modes"].items():
        u = r["usage"]
        lag = sorted(r["lag"])
        t0, t1 = r["window"]
        pauses = [(took, g) for t, took, g in out["server"]["gc"] if t0 <= t < t1]
        print(f"  {mode} (attempt {r['attempt']}): {u['seconds']:.1f} s, server CPU {u['server_s']:.2f} s,"
              f" pushes {r['pushes']}/"
              f"{r['expected']}; load average {u['loadavg'][0][0]:.2f} -> {u['loadavg'][1][0]:.2f};"
              f" load event loop late p99 {1000 * _pct(lag, 0.99):.1f} / max {1000 * max(lag, default=0):.0f} ms;"
              f" server GC pauses >= 2 ms: {len(pauses)}" + (f" (longest {1000 * max(pauses)[0]:.0f} ms, generation"
                                                            f" {max(pauses)[1]})" if pauses else ""))
        print("    per cast, p50 / p99 ms (server phases, with the timed calls inside them):")
        _print_spans(_spans(r["casts"], marks))


def report(args: argparse.Namespace, out: dict[str, Any], database: str) -> None:
    _print_setup(args, out, database)
    if out["closed_early"]:
        print(f"the server closed {sum(out['closed_early'].values())} sockets before the ballots"
              f" (close codes {out['closed_early']}): nothing measured")
        return
    verdicts = _print_table(args, out)
    _print_details(out)
    print()
    print(f"target (send -> all {args.watchers} watchers, p99 <= {TARGET_P99_MS:g} ms): " + "; ".join(verdicts))
    if out.get("closed"):
        print(f"sockets closed during the run: {out['closed']}")
    before, after_run = (out["calibration"] + [math.nan])[:2]
    print(f"calibration: a fixed pure-Python loop took {before:.1f} ms before and {after_run:.1f} ms after"
          " (this VM's speed drifts: compare runs with similar calibration)")


IDLE_LEAVES = ("EpollSelector.select", "_connection_worker_thread")  # waiting for I/O, or for work


def _summarise_py_spy(path: str, top: int = 18) -> None:
    """The server's samples per thread; for the event loop's thread, the functions with the
    most samples of their own and (below 40%, under the framework) including their callees."""
    threads: Counter[str] = Counter()
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    loop = 0
    for line in Path(path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        first, *frames = stack.split(";")
        frames = [f.split(" (")[0] + " (" + f.rsplit(" (", 1)[-1].split(":")[0].rsplit("/", 1)[-1] + ")"
                  for f in frames]
        n = int(count)
        name = re.sub(r"^Thread-\d+ \((.*)\)$", r"\1", first.split(": ", 1)[-1])  # aiosqlite: a thread each
        idle = bool(frames) and frames[-1].split(" (")[0] in IDLE_LEAVES
        threads[name + (" idle" if idle else "")] += n
        if name != "MainThread" or idle or not frames:
            continue
        loop += n
        own[frames[-1]] += n
        for f in set(frames):
            inclusive[f] += n
    total = sum(threads.values())
    print(f"\npy-spy, server over the measured modes ({path}), {total} samples: " + ", ".join(
        f"{t} {100 * n / total:.0f}%" for t, n in threads.most_common()))
    if loop:
        print("  event loop, self: " + "; ".join(f"{f} {100 * n / loop:.1f}%" for f, n in own.most_common(top)))
        below = [(f, n) for f, n in inclusive.most_common() if n < 0.4 * loop][:top]
        print("  event loop, inclusive: " + "; ".join(f"{f} {100 * n / loop:.0f}%" for f, n in below))


def _scratch_database(url: str) -> tuple[str, Callable[[], None]]:
    """A database of this run's own on that PostgreSQL server; dropped afterwards (only it)."""
    import asyncpg  # type: ignore[import-untyped]

    parts = urlsplit(url.replace("postgresql+asyncpg://", "postgresql://"))
    name = f"gikai_bench_vote_{os.getpid()}"

    def run(sql: str) -> None:
        async def go() -> None:
            conn = await asyncpg.connect(urlunsplit(parts))
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        asyncio.run(go())

    run(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path="/" + name)), lambda: run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=16)
    parser.add_argument("--watchers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=4, help="ballots per mode (16 casts each; default 4)")
    parser.add_argument("--quick", action="store_true", help="one round per mode")
    parser.add_argument("--modes", default="sequential,burst", help="sequential, burst or both (default)")
    parser.add_argument("--media", choices=("held", "none", "unanswered"), default="held",
                        help="what becomes of the offers nobody answers (module docstring)")
    parser.add_argument("--database-url", help="a PostgreSQL server: the run creates and drops a database"
                                               " of its own there (default: SQLite in a temporary folder)")
    parser.add_argument("--gap", type=float, default=0.05, help="seconds between sequential casts")
    parser.add_argument("--join-concurrency", type=int, default=8, help="joins in flight at once")
    parser.add_argument("--wait-idle", type=float, default=30.0, metavar="SECONDS",
                        help="before each mode, wait up to this long for other processes to be quiet")
    parser.add_argument("--retries", type=int, default=0,
                        help="re-run a mode measured on a busy machine this many times; keep the least busy")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the server over the modes (pstats FILE)")
    parser.add_argument("--py-spy", metavar="FILE", help="record the server with py-spy over the modes")
    parser.add_argument("--json", metavar="FILE", help="also write the raw results here")
    parser.add_argument("--log-level", default="ERROR")
    args = parser.parse_args()
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if args.quick:
        args.rounds = 1

    def terminated(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminated)
    data_dir = tempfile.mkdtemp(prefix="gikai-vote-fanout-")
    database_url, drop = (_scratch_database(args.database_url) if args.database_url else (None, None))
    database = f"PostgreSQL (scratch database on {urlsplit(args.database_url).netloc})" if drop else "SQLite"
    ctx = mp.get_context("spawn")
    conn, child = ctx.Pipe()
    server = ctx.Process(target=server_main, name="server", daemon=True,
                         args=(child, data_dir, database_url, args.media, args.voters, args.watchers,
                               3 * 3600, args.log_level))
    try:
        server.start()
        if not conn.poll(300):
            raise RuntimeError("the server did not start")
        seeded = conn.recv()
        assert server.pid is not None
        print(f"server pid {server.pid} on port {seeded['port']}; joining and measuring", file=sys.stderr, flush=True)
        out = asyncio.run(load(args, conn, server.pid, seeded))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        with contextlib.suppress(Exception):
            conn.send({"cmd": "quit"})
        server.join(10)
        if server.is_alive():
            server.kill()
            server.join(5)
        if drop is not None:
            drop()
        shutil.rmtree(data_dir, ignore_errors=True)
    report(args, out, database)
    if args.py_spy and Path(args.py_spy).exists():
        _summarise_py_spy(args.py_spy)
    if args.profile:
        import pstats

        print()
        pstats.Stats(args.profile).sort_stats("tottime").print_stats(25)
    if args.json:
        modes = {m: {**r, "casts": [c.__dict__ for c in r["casts"]]} for m, r in out.get("modes", {}).items()}
        Path(args.json).write_text(json.dumps({**out, "modes": modes}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
