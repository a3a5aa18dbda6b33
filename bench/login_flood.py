#!/usr/bin/env python3
"""What a password-guessing flood on /api/login does to a sitting (issue 14's target: a
connected member's push latency during the flood within 2x of quiet).

A real ``gikai serve`` (fresh data folder, presence off, ``--trusted-proxy 127.0.0.1`` so the
flood can say it comes from many addresses, as a botnet's would) and, in this process:

* two members of the rehearsal committee on the member socket: the chair switches the audio
  mode back and forth (``audio_mode`` floor/open) every 200 ms, and each switch's *push
  latency* is the time from sending the command to the ``sitting`` push reaching the other
  member (both sockets here, one clock);
* the flood: ``--rate`` wrong passwords a second on ``/api/login`` for ``--names`` account
  names (the clerk's among them), each from a different made-up address in
  ``X-Forwarded-For``, so neither the per-address nor (for the first tries) the per-name
  throttle stops them before a password hash: the worst case for the event loop.

Three windows of ``--window`` seconds: quiet, flood, quiet again. Printed: the push latency
p50/p95/p99 of each, the flood's answers by status (400 wrong password, 429 throttled), the
server's CPU, and the ratio flood/quiet. Run from the repository root:
``python3 bench/login_flood.py`` (``--help`` for the options).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import psutil
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from gikai.media import set_host_addresses

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"(https?://[^\s/]+:\d+)/join#(\S+)")


def start_server(folder: Path) -> tuple[subprocess.Popen[bytes], str, list[str]]:
    log = folder / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gikai", "serve", "--host", "127.0.0.1", "--port", "0", "--data",
             str(folder / "data"), "--no-presence-detection", "--media-address", "127.0.0.1",
             "--trusted-proxy", "127.0.0.1"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        links = LINK.findall(log.read_text(errors="replace"))
        if len(links) >= 6:
            return process, links[0][0], [token for _, token in links]
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"gikai serve did not start:\n{log.read_text(errors='replace')[-2000:]}")


class Member:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.ids = 0
        self.replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.sittings: asyncio.Queue[float] = asyncio.Queue()
        self.pc: RTCPeerConnection | None = None
        self.audio_mode = "floor"
        self.answering: set[asyncio.Task[None]] = set()
        self.reader = asyncio.ensure_future(self.read())

    async def read(self) -> None:
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            if data.get("re") in self.replies:
                self.replies.pop(data["re"]).set_result(data)
            elif data.get("type") == "sitting":
                self.sittings.put_nowait(time.monotonic())
            elif data.get("type") == "offer":
                task = asyncio.ensure_future(self.answer(data))
                self.answering.add(task)
                task.add_done_callback(self.answering.discard)

    async def answer(self, offer: dict[str, Any]) -> None:
        """Media is not measured here: every m-line is answered inactive (an unanswered offer
        would end the socket)."""
        if self.pc is None:
            self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type="offer"))
        for transceiver in self.pc.getTransceivers():
            transceiver.direction = "inactive"
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        await self.request("answer", sdp=self.pc.localDescription.sdp, revision=offer["revision"])

    async def request(self, kind: str, **fields: Any) -> dict[str, Any]:
        self.ids += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.replies[self.ids] = future
        await self.ws.send_json({"v": 1, "id": self.ids, "type": kind, **fields})
        return await asyncio.wait_for(future, 30)


async def latencies(chair: Member, other: Member, seconds: float, gap: float = 0.2) -> list[float]:
    """Push latency of the chair's audio-mode switches at the other member, in ms."""
    out: list[float] = []
    mode = chair.audio_mode
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        while not other.sittings.empty():
            other.sittings.get_nowait()
        mode = chair.audio_mode = "floor" if mode == "open" else "open"  # a change each time: a push
        sent = time.monotonic()
        reply = await chair.request("command", name="audio_mode", mode=mode)
        assert reply["type"] == "reply", reply
        arrived = await asyncio.wait_for(other.sittings.get(), 30)
        out.append((arrived - sent) * 1000)
        await asyncio.sleep(max(0.0, gap - (time.monotonic() - sent)))
    return out


async def flood(http: aiohttp.ClientSession, base: str, rate: float, names: list[str], stop: asyncio.Event,
                answers: Counter[int]) -> None:
    rng = random.Random(7)
    pending: set[asyncio.Task[None]] = set()

    async def one() -> None:
        address = f"203.0.{rng.randrange(256)}.{rng.randrange(1, 255)}"  # TEST-NET-3: made up
        with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
            r = await http.post(f"{base}/api/login", json={"username": rng.choice(names), "password": "wrong"},
                                headers={"X-Forwarded-For": address})
            answers[r.status] += 1
            r.release()

    while not stop.is_set():
        task = asyncio.ensure_future(one())
        pending.add(task)
        task.add_done_callback(pending.discard)
        await asyncio.sleep(1 / rate)
    await asyncio.gather(*pending)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        process, base, tokens = start_server(Path(folder))
        usage = psutil.Process(process.pid)
        try:
            async with aiohttp.ClientSession() as http:
                members = []
                for token in tokens[:6]:  # the chair and five members: a quorum
                    m = Member(await http.ws_connect(f"{base}/ws"))
                    joined = await m.request("join", token=token)
                    assert joined["type"] == "reply", joined
                    m.audio_mode = joined["data"]["sitting"]["audio_mode"]
                    members.append(m)
                chair, other = members[0], members[2]
                assert (await chair.request("command", name="open"))["type"] == "reply"
                await latencies(chair, other, 2.0)  # warm-up
                rows = []
                answers: Counter[int] = Counter()
                names = ["clerk", *(f"user{n}" for n in range(args.names - 1))]
                for label in ("quiet", "flood", "quiet again"):
                    stop = asyncio.Event()
                    flooding = asyncio.ensure_future(flood(http, base, args.rate, names, stop, answers)) \
                        if label == "flood" else None
                    cpu0, t0 = usage.cpu_times(), time.monotonic()
                    values = await latencies(chair, other, args.window)
                    cpu1, t1 = usage.cpu_times(), time.monotonic()
                    stop.set()
                    if flooding is not None:
                        await flooding
                    cpu = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / (t1 - t0) * 100
                    rows.append((label, values, cpu))
                for m in members:
                    for task in list(m.answering):
                        task.cancel()
                    await m.ws.close()
                    if m.pc is not None:
                        await m.pc.close()
        finally:
            process.terminate()
            process.wait(10)
    quiet = statistics.median(rows[0][1] + rows[2][1])
    print(f"login flood: {args.rate:g} wrong passwords/s for {args.names} names from made-up addresses, "
          f"windows of {args.window:g} s")
    print(f"{'window':<12} {'switches':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'server CPU %':>13}")
    for label, values, cpu in rows:
        print(f"{label:<12} {len(values):>8} {pct(values, 0.5):>8.1f} {pct(values, 0.95):>8.1f} "
              f"{pct(values, 0.99):>8.1f} {cpu:>13.1f}")
    print(f"flood answers: {dict(sorted(answers.items()))} (400: wrong password, hashed; 429: throttled, not hashed)")
    print(f"ratio flood/quiet push latency p50: {pct(rows[1][1], 0.5) / quiet:.2f}x "
          f"(p95 {pct(rows[1][1], 0.95) / max(pct(rows[0][1], 0.95), 1e-9):.2f}x); target <= 2x")


def main() -> None:
    set_host_addresses(["127.0.0.1"])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--rate", type=float, default=8.0, help="wrong passwords a second (default 8)")
    parser.add_argument("--names", type=int, default=20, help="account names tried (default 20)")
    parser.add_argument("--window", type=float, default=20.0, help="seconds per window (default 20)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
