#!/usr/bin/env python3
"""What the public gallery costs the server: a sitting with 0, then N receive-only viewers.

Issue 7's target: 100 gallery viewers on one sitting add at most 25% of one core.

Processes, all on 127.0.0.1 (loopback media, no STUN):

* the server: a real ``gikai serve`` (signaling, SFU, gallery) on a fresh data folder, with
  presence detection off; its CPU (user + system, all threads, from psutil) over the window
  is what is measured;
* the members: the rehearsal committee's chair and member 鈴木 publish pre-encoded media
  (640x360 VP8 at 15 fps, ~600 kbit/s, and Opus), four more members join without media for
  a quorum; the chair opens the sitting and gives 鈴木 the floor, so the gallery is sent
  鈴木's camera and two microphones (the chair's and 鈴木's);
* the viewers: aiortc clients on ``/gallery/ws`` (``--procs`` processes sharing them), each
  one peer that only receives; they count what arrives without reassembling or decoding;
* this orchestrator: starts them, measures the window with no viewers, connects the viewers
  (in batches), measures again, prints both and the difference, and stops everything.

A window in which the viewers did not get the full rate (15 fps, two voices at 50 frames/s)
is flagged: the machine was too busy for the number to mean anything.

Run from the repository root: ``python3 bench/gallery_load.py`` (``--quick`` for short
windows, ``--help`` for the options).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import multiprocessing as mp
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp
import psutil
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcconfiguration import RTCBundlePolicy

from gikai.media.sfu.ice import set_host_addresses
from gikai.media.sfu.peer import tap_receiver
from gikai.media.sfu.udp import drain_datagram_reads

SERVING = re.compile(r"gikai serving on (http://127\.0\.0\.1:\d+)")
LINK = re.compile(r"(http://127\.0\.0\.1:\d+/join#\S+)")
GALLERY = re.compile(r"public gallery \S*: http://127\.0\.0\.1:\d+/gallery/(\w+)")
CHAIR, SPEAKER, QUIET = 0, 2, (3, 4, 5, 6)


def _child_setup(lifetime: float) -> None:
    """Children end with the orchestrator and after a hard time limit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass
    signal.alarm(max(1, int(lifetime)))
    logging.basicConfig(level=logging.WARNING)
    set_host_addresses(["127.0.0.1"])
    drain_datagram_reads()


async def _commands(conn: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(None, conn.recv)


def _pc() -> RTCPeerConnection:
    return RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))


# -- members ------------------------------------------------------------------------------
def members_main(conn: Any, base: str, links: list[str], lifetime: float) -> None:
    _child_setup(lifetime)
    try:
        asyncio.run(_members(conn, base, links))
    except Exception as exc:
        conn.send(f"members failed: {exc!r}")
        raise


async def _members(conn: Any, base: str, links: list[str]) -> None:
    from tests.support.client import MediaClient
    from tests.support.encoded import EncodedSourceTrack, encode_opus, encode_vp8
    from tests.support.member import SocketMember
    from tests.support.waiting import eventually

    def media(blue: int, hz: float) -> MediaClient:
        return MediaClient(f"m{blue}", keep_frames=False,
                           video=EncodedSourceTrack("video", encode_vp8(colour=(0, 0, blue)), 15, record=False),
                           audio=EncodedSourceTrack("audio", encode_opus(hz=hz), 50, record=False))

    async with aiohttp.ClientSession() as session:
        def member(link: str, client: Any) -> SocketMember:
            return SocketMember(base + "/ws", link.split("#", 1)[1], client, session=session, timeout=60)

        chair = member(links[CHAIR], media(30, 440.0))
        speaker = member(links[SPEAKER], media(225, 880.0))
        members = [chair, speaker] + [member(links[i], None) for i in QUIET]
        for m in members:
            await m.start()
        for _ in range(100):  # attendance is recorded as each join is: wait for the quorum
            if (opened := await chair.request("command", name="open"))["type"] == "reply":
                break
            await asyncio.sleep(0.2)
        assert opened["type"] == "reply", opened
        assert (await speaker.request("command", name="request_floor", kind="question"))["type"] == "reply"
        await eventually(lambda: chair.sitting.get("queue", {}).get("requests"), bound=60,
                         message="the chair to see 鈴木's request for the floor")
        grant = await chair.request("command", name="grant", request_id=chair.sitting["queue"]["requests"][0]["id"])
        assert grant["type"] == "reply", grant
        conn.send("ready")
        await _commands(conn)  # "stop"
        for m in members:
            await m.ws.close()
            if m.media is not None:
                await m.media.close()


# -- viewers ------------------------------------------------------------------------------
class _Count:
    """Takes the place of the receiver's jitter buffer: counts, assembles nothing, decodes nothing."""

    def __init__(self, kind: str) -> None:
        self.audio = kind == "audio"
        self.packets = 0
        self.frames = 0  # video: packets with the marker bit (the last of a picture); audio: Opus frames

    def add(self, packet: Any) -> tuple[bool, None]:
        self.packets += 1
        if self.audio:  # 20 ms frames: viewers get several in one packet (RFC 6716 code 3)
            payload = packet.payload
            self.frames += (payload[1] & 0x3F) if len(payload) > 1 and payload[0] & 3 == 3 else 1
        else:
            self.frames += packet.marker
        return False, None


class _Viewer:
    def __init__(self, session: aiohttp.ClientSession, base: str, meeting_id: str) -> None:
        self.session, self.base, self.meeting_id = session, base, meeting_id
        self.pc = _pc()
        self.counts: dict[str, list[_Count]] = {"audio": [], "video": []}
        self.refused: str | None = None
        self.on_screen: str | None = None
        self._tapped: set[int] = set()
        self._answers: set[asyncio.Future[None]] = set()

    async def start(self) -> None:
        self.ws = await self.session.ws_connect(self.base + "/gallery/ws")
        self.reader = asyncio.ensure_future(self._read())
        await self.ws.send_json({"v": 1, "id": 1, "type": "watch", "meeting_id": self.meeting_id})

    async def _read(self) -> None:
        async for msg in self.ws:
            data = json.loads(msg.data)
            if data.get("type") == "offer":
                task = asyncio.ensure_future(self._answer(data))
                self._answers.add(task)  # kept until done: a task nobody holds may vanish
                task.add_done_callback(self._answers.discard)
            elif data.get("type") == "gallery":
                self.on_screen = data["view"]["on_screen"]
            elif data.get("type") == "reply" and "view" in data.get("data", {}):
                self.on_screen = data["data"]["view"]["on_screen"]
            elif data.get("type") == "error":
                self.refused = data["code"]

    async def _answer(self, data: dict[str, Any]) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=data["sdp"], type="offer"))
        for t in self.pc.getTransceivers():
            t.direction = "recvonly"
            if id(t.receiver) not in self._tapped:
                self._tapped.add(id(t.receiver))
                count = _Count(t.kind)
                self.counts[t.kind].append(count)
                tap_receiver(t.receiver, count)  # type: ignore[arg-type]
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        await self.ws.send_json({"v": 1, "id": 2, "type": "answer", "sdp": self.pc.localDescription.sdp,
                                 "revision": data["revision"]})

    def snapshot(self) -> dict[str, Any]:
        return {"video_frames": sum(c.frames for c in self.counts["video"]),
                "audio": [c.frames for c in self.counts["audio"]],
                "audio_packets": sum(c.packets for c in self.counts["audio"]),
                "state": self.pc.connectionState,
                "socket_closed": self.ws.closed, "on_screen": self.on_screen}


def viewers_main(conn: Any, base: str, meeting_id: str, count: int, batch: int, lifetime: float) -> None:
    _child_setup(lifetime)
    asyncio.run(_viewers(conn, base, meeting_id, count, batch))


async def _viewers(conn: Any, base: str, meeting_id: str, count: int, batch: int) -> None:
    async with aiohttp.ClientSession() as session:
        viewers: list[_Viewer] = []
        for start in range(0, count, batch):
            group = [_Viewer(session, base, meeting_id) for _ in range(min(batch, count - start))]
            await asyncio.gather(*(v.start() for v in group))
            viewers += group
            deadline = time.monotonic() + 60
            while any(v.pc.connectionState != "connected" and not v.refused for v in group):
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)
        refused = [v.refused for v in viewers if v.refused]
        conn.send({"connected": sum(v.pc.connectionState == "connected" for v in viewers), "refused": refused})
        while await _commands(conn) != "stop":
            conn.send([v.snapshot() for v in viewers])
        for v in viewers:
            await v.ws.close()
            await v.pc.close()


# -- the orchestrator -------------------------------------------------------------------
def start_server(folder: Path, max_viewers: int) -> tuple[subprocess.Popen[bytes], str, list[str], str]:
    log = folder / "server.log"
    with open(log, "wb") as out:  # the server writes to its own copy of the file descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "gikai", "serve", "--host", "127.0.0.1", "--port", "0", "--data",
             str(folder / "data"), "--media-address", "127.0.0.1", "--no-presence-detection",
             "--gallery-max-viewers", str(max_viewers), "--log-level", "info"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log.read_text(encoding="utf-8", errors="replace")
        serving, gallery = SERVING.search(text), GALLERY.search(text)
        if serving and gallery:
            return process, serving.group(1), LINK.findall(text), gallery.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the server did not start:\n{log.read_text(errors='replace')}")


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for p in processes:
        try:
            times = p.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def calibrate() -> float:
    """Milliseconds of CPU a fixed pure-Python workload takes (as in sfu_load.py): this VM's
    speed drifts, so compare CPU figures between runs only with similar calibration."""
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        d: dict[int, int] = {}
        for i in range(200_000):
            d[i & 1023] = d.get(i & 1023, 0) + i
        best = min(best, time.process_time() - started)
    return best * 1000


def wait_idle(ours: list[psutil.Process], limit: float, quiet: float = 25.0) -> None:
    """Wait (at most ``limit`` s) until other processes use under ``quiet``% of one core for 3 s running."""
    deadline, calm = time.monotonic() + limit, 0
    while time.monotonic() < deadline and calm < 3:
        machine0, ours0 = psutil.cpu_times(), cpu_seconds(ours)
        time.sleep(1.0)
        machine1, ours1 = psutil.cpu_times(), cpu_seconds(ours)
        busy = sum(getattr(machine1, f) - getattr(machine0, f) for f in ("user", "system", "nice", "irq", "softirq"))
        calm = calm + 1 if 100 * (busy - (ours1 - ours0)) < quiet else 0


def measure(server: psutil.Process, generators: list[psutil.Process], seconds: float) -> dict[str, float]:
    machine0, server0, gens0, t0 = psutil.cpu_times(), cpu_seconds([server]), cpu_seconds(generators), time.monotonic()
    time.sleep(seconds)
    machine1, server1, gens1, t1 = psutil.cpu_times(), cpu_seconds([server]), cpu_seconds(generators), time.monotonic()
    busy = sum(getattr(machine1, f) - getattr(machine0, f) for f in ("user", "system", "nice", "irq", "softirq"))
    wall = t1 - t0
    return {"server": 100 * (server1 - server0) / wall, "generators": 100 * (gens1 - gens0) / wall,
            "others": 100 * max(0.0, busy - (server1 - server0) - (gens1 - gens0)) / wall, "wall": wall}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, default=100)
    parser.add_argument("--procs", type=int, default=2, help="viewer processes (default 2)")
    parser.add_argument("--batch", type=int, default=10, help="viewers connecting at once (default 10)")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--measure", type=float, default=20.0)
    parser.add_argument("--quick", action="store_true", help="2 s warm-up, 6 s windows")
    parser.add_argument("--server-log", type=Path, help="keep the server's log in this file")
    parser.add_argument("--py-spy", type=Path, help="profile the server in the window with viewers (raw stacks)")
    parser.add_argument("--wait-idle", type=float, default=60.0,
                        help="before each window wait up to this long for other processes to go quiet (default 60)")
    args = parser.parse_args()
    if args.quick:
        args.warmup, args.measure = 2.0, 6.0
    lifetime = 600 + args.viewers * 3
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the children and the server on the way out
    ctx = mp.get_context("spawn")
    children: list[Any] = []
    calibration = calibrate()
    with tempfile.TemporaryDirectory(prefix="gikai-gallery-bench-") as tmp:
        process, base, links, meeting_id = start_server(Path(tmp), max(args.viewers, 1))
        server = psutil.Process(process.pid)
        try:
            members_conn, child = ctx.Pipe()
            members = ctx.Process(target=members_main, args=(child, base, links, lifetime), name="members")
            members.start()
            children.append((members, members_conn))
            ready = members_conn.recv() if members_conn.poll(180) else "members: no answer in 180 s"
            if ready != "ready":
                raise RuntimeError(ready)
            generators = [psutil.Process(members.pid)]
            print(f"server {base}, sitting {meeting_id}: open, 鈴木 has the floor; "
                  f"warm-up {args.warmup:.0f} s, windows {args.measure:.0f} s", flush=True)
            time.sleep(args.warmup)
            wait_idle([server, *generators], args.wait_idle)
            rows = [(0, measure(server, generators, args.measure), None)]
            print(f"  0 viewers: server {rows[0][1]['server']:.1f}% of one core", flush=True)

            per = [args.viewers // args.procs + (i < args.viewers % args.procs) for i in range(args.procs)]
            wait_idle([server, *generators], args.wait_idle)
            viewer_conns = []
            started = time.monotonic()
            for i, n in enumerate(p for p in per if p):
                conn, child = ctx.Pipe()
                proc = ctx.Process(target=viewers_main, args=(child, base, meeting_id, n, args.batch, lifetime),
                                   name=f"viewers{i}")
                proc.start()
                children.append((proc, conn))
                viewer_conns.append(conn)
                generators.append(psutil.Process(proc.pid))
            connected, refused = 0, []
            for conn in viewer_conns:
                report = conn.recv()
                connected += report["connected"]
                refused += report["refused"]
            print(f"  {connected} viewers connected in {time.monotonic() - started:.1f} s"
                  + (f"; refused: {refused}" if refused else ""), flush=True)
            time.sleep(args.warmup)  # no waiting for quiet now: starved viewers would lose their connections
            spy = None
            if args.py_spy:
                spy = subprocess.Popen(["py-spy", "record", "--pid", str(process.pid), "--duration",
                                        str(int(args.measure)), "--rate", "100", "--format", "raw", "--nonblocking",
                                        "--output", str(args.py_spy)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            before = _snapshots(viewer_conns)
            window = measure(server, generators, args.measure)
            after = _snapshots(viewer_conns)
            if spy is not None:
                spy.wait(30)
            rows.append((connected, window, _rates(before, after, window["wall"])))
            states = Counter((s["state"], s["socket_closed"], s["on_screen"]) for s in after)
            print("  viewers after the window (connection, socket closed, on screen):", dict(states))
            _report(rows, args)
            print(f"calibration: a fixed pure-Python loop took {calibration:.1f} ms before and "
                  f"{calibrate():.1f} ms after the runs")
        finally:
            for _, conn in children:
                with contextlib.suppress(Exception):
                    conn.send("stop")
            for proc, _ in children:
                proc.join(10)
                if proc.is_alive():
                    proc.kill()
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
            if args.server_log:
                args.server_log.write_bytes((Path(tmp) / "server.log").read_bytes())
            problems = [line for line in (Path(tmp) / "server.log").read_text(errors="replace").splitlines()
                        if " WARNING " in line or " ERROR " in line or "Traceback" in line or "failed" in line]
            if problems:
                print(f"\nthe server logged {len(problems)} warnings/errors; the first:", *problems[:8], sep="\n  ")
    return 0


def _snapshots(conns: list[Any]) -> list[dict[str, Any]]:
    for conn in conns:
        conn.send("snapshot")
    return [s for conn in conns for s in conn.recv()]


def _rates(before: list[dict[str, Any]], after: list[dict[str, Any]], wall: float) -> dict[str, Any]:
    # One snapshot per viewer, in the same order both times. A viewer's audio streams can grow
    # in between (a renegotiation taps another receiver): only those it had before are compared.
    video = [(a["video_frames"] - b["video_frames"]) / wall for a, b in zip(after, before, strict=True)]
    audio = [sorted(((x - y) / wall for x, y in zip(a["audio"], b["audio"], strict=False)), reverse=True)
             for a, b in zip(after, before, strict=True)]
    return {"video_min": min(video), "video_median": statistics.median(video),
            "audio_streams": statistics.median(sum(r > 25 for r in rates) for rates in audio),
            "audio_min": min(rates[1] if len(rates) > 1 else 0.0 for rates in audio),
            "audio_pps": statistics.median((a["audio_packets"] - b["audio_packets"]) / wall
                                           for a, b in zip(after, before, strict=True))}


def _report(rows: list[tuple[int, dict[str, float], dict[str, Any] | None]], args: argparse.Namespace) -> None:
    print()
    print("viewers | server CPU (% of one core) | viewers' processes | others | video fps per viewer (min / median)"
          " | audio streams per viewer (slowest, frames/s) | audio packets/s per viewer")
    for n, cpu, rates in rows:
        media = "-" if rates is None else (f"{rates['video_min']:.1f} / {rates['video_median']:.1f}"
                                           f" | {rates['audio_streams']:.0f} ({rates['audio_min']:.0f})"
                                           f" | {rates['audio_pps']:.0f}")
        print(f"{n:7d} | {cpu['server']:26.1f} | {cpu['generators']:18.1f} | {cpu['others']:6.1f} | {media}")
    added = rows[1][1]["server"] - rows[0][1]["server"]
    n = rows[1][0]
    verdict = "within" if added <= 25.0 * max(n, 1) / 100 else "OVER"
    print(f"\n{n} viewers add {added:.1f}% of one core to the server ({added / max(n, 1):.2f}% per viewer); "
          f"target for 100: <= 25% -> {verdict} (scaled to {n})")
    rates = rows[1][2]
    if rates is not None and (rates["video_min"] < 14 or rates["audio_min"] < 45):
        print("warning: viewers did not receive the full rate (the machine is too busy): this number means nothing")
    if rows[1][1]["others"] >= 15 or rows[0][1]["others"] >= 15:
        print("note: other processes used the machine during a window; run again on a quiet machine")


if __name__ == "__main__":
    sys.exit(main())
