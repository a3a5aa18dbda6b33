#!/usr/bin/env python3
"""Load benchmark for gikai's SFU: a full mesh of P participants on loopback.

Each participant publishes one pre-encoded VP8 video (640x360, 15 fps) and receives
the P-1 others without decoding them, so the SFU forwards P*(P-1) streams. Video only
unless ``--audio``. Three kinds of process:

* the SFU (``media.SFU``, one room), alone in its process so its CPU can be measured;
* one or more load generators: aiortc clients (``tests.support.client.MediaClient``)
  that answer the SFU's offers, publish and reassemble received frames;
* this orchestrator, which starts both, drives warm-up and measurement windows,
  samples every child's CPU time and prints the table.

Signaling between generators and the SFU is one aiohttp WebSocket per generator on
127.0.0.1 carrying offer/answer JSON; orchestration uses multiprocessing pipes. The
generators read every waiting datagram per wake-up (asyncio reads one per socket per loop
iteration, too few for a subscriber socket carrying P-1 videos); the SFU runs unmodified.

Latency is the time from a publisher's track handing a frame to its sender to a
subscriber's assembler completing that frame, matched by the frame's bytes (the
latest send of those bytes by that publisher not later than the arrival); all
processes run on one machine and use CLOCK_MONOTONIC, one clock.

The baseline (``--baseline-sizes``, P=4 by default) is aiortc's usual way: the server
decodes every publication and gives each subscriber a ``MediaRelay`` proxy, whose
sender re-encodes VP8. It lives in this file and does not touch ``media/``.

Run from the repository root: ``python3 bench/sfu_load.py`` (``--quick`` for a short
run, ``--help`` for the options).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import gc
import json
import logging
import multiprocessing as mp
import os
import pickle
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp
import psutil
from aiohttp import web
from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtcconfiguration import RTCBundlePolicy

from gikai.media import SFU
from gikai.media.analysis.presence import PresenceMonitor
from gikai.media.sfu.assembler import FrameAssembler
from gikai.media.sfu.ice import set_host_addresses
from gikai.media.sfu.peer import Offer, tap_receiver
from gikai.media.sfu.udp import drain_datagram_reads
from tests.support.client import MediaClient, upload_slots
from tests.support.encoded import EncodedSourceTrack, encode_opus, encode_vp8

FPS = 15
LOOPBACK = "127.0.0.1"
ROOM = "bench"


# ---------------------------------------------------------------------------------
# child process plumbing
# ---------------------------------------------------------------------------------
def _drain_datagram_sockets() -> None:
    """Read every waiting datagram per readiness event (the SFU does this itself: media/sfu/udp.py)."""
    drain_datagram_reads()


def _child_setup(lifetime: float, level: str, drain: bool = False) -> None:
    """Bounded, orphan-proof children: Ctrl-C is the orchestrator's business."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:  # die with the orchestrator even if it is killed outright (Linux)
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass
    signal.alarm(max(1, int(lifetime)))  # SIGALRM's default action ends the process
    logging.basicConfig(level=getattr(logging, level), format="%(processName)s %(name)s: %(message)s")
    if drain:
        _drain_datagram_sockets()


def _watch_slow_callbacks(threshold: float, log: list[tuple[float, float, str]]) -> None:
    """Record every event-loop callback that runs longer than ``threshold`` seconds."""
    original = asyncio.events.Handle._run

    def _run(self: asyncio.events.Handle) -> None:
        started = time.perf_counter()
        original(self)
        took = time.perf_counter() - started
        if took >= threshold:
            callback = getattr(self._callback, "__self__", self._callback)
            if isinstance(callback, asyncio.Task):
                coro = callback.get_coro()
                what = getattr(coro, "__qualname__", repr(coro))
            else:
                what = getattr(self._callback, "__qualname__", repr(self._callback))
            log.append((time.monotonic() - took, took, str(what)[:120]))

    asyncio.events.Handle._run = _run  # type: ignore[method-assign]


def hog_main(lifetime: float, level: str) -> None:
    """A CPU hog: another tenant on the machine, for --stress."""
    _child_setup(lifetime, level)
    while True:
        pass


def _command_queue(conn: Any) -> asyncio.Queue[dict[str, Any]]:
    """Commands from the orchestrator's pipe, read by the event loop."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def readable() -> None:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            loop.remove_reader(conn.fileno())
            msg = {"cmd": "quit"}
        queue.put_nowait(msg)

    loop.add_reader(conn.fileno(), readable)
    return queue


class _Stalls:
    """What held a process's event loop up: late wake-ups and long garbage collections."""

    def __init__(self, threshold: float = 0.010,
                 probe: Callable[[], int] | None = None) -> None:
        self.threshold = threshold
        self.probe = probe  # e.g. the longest down-track queue, sampled every 100 ms
        self.queue_max = 0
        self.queues: list[tuple[float, int]] = []  # (time, longest queue) when above 2 frames
        self.lags: list[tuple[float, float]] = []  # (wake-up time, lateness)
        self.gcs: list[tuple[float, float, int]] = []  # (start, duration, generation)
        self._gc_start = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
            return
        took = time.perf_counter() - self._gc_start
        if took >= 0.002:
            self.gcs.append((time.monotonic() - took, took, info["generation"]))

    async def watch(self, period: float = 0.02) -> None:
        tick = 0
        while True:
            due = time.monotonic() + period
            await asyncio.sleep(period)
            now = time.monotonic()
            late = now - due
            if late >= self.threshold:
                self.lags.append((due, late))
            tick += 1
            if self.probe is not None and tick % 5 == 0:
                longest = self.probe()
                self.queue_max = max(self.queue_max, longest)
                if longest > 2:
                    self.queues.append((now, longest))

    def report(self) -> dict[str, Any]:
        return {"lags": list(self.lags), "gcs": list(self.gcs), "queues": list(self.queues)}


def _vp8_only(transceiver: Any) -> None:
    codecs = RTCRtpSender.getCapabilities("video").codecs
    transceiver.setCodecPreferences([c for c in codecs if c.mimeType in ("video/VP8", "video/rtx")])


# ---------------------------------------------------------------------------------
# SFU process: gikai (media.SFU) or the aiortc decode/relay/re-encode baseline
# ---------------------------------------------------------------------------------
class _Signaling:
    """One WebSocket per generator: join/answer in, offer out."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self._answers: set[asyncio.Future[None]] = set()

    async def handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        lock = asyncio.Lock()

        async def send(obj: dict[str, Any]) -> None:
            async with lock:
                await ws.send_str(json.dumps(obj))

        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(msg.data)
            if data["t"] == "join":
                peer_id = data["peer"]

                async def send_offer(offer: Any, peer_id: str = peer_id) -> None:
                    await send({"t": "offer", "peer": peer_id, "sdp": offer.sdp,
                                "revision": offer.revision, "streams": offer.streams})

                self.server.add_peer(peer_id, send_offer)
            elif data["t"] == "answer":
                task = asyncio.ensure_future(self._answer(data))
                self._answers.add(task)  # kept until done: a task nobody holds may vanish
                task.add_done_callback(self._answers.discard)
        return ws

    async def _answer(self, data: dict[str, Any]) -> None:
        try:
            await self.server.accept_answer(data["peer"], data["sdp"], data["revision"])
        except Exception:
            logging.getLogger("bench.sfu").exception("answer of %s failed", data["peer"])


class GikaiServer:
    def __init__(self, presence: bool = False) -> None:
        self.sfu = SFU()
        self.room = self.sfu.room(ROOM)
        self.observations = 0
        # "presence" mode: every published camera is also decoded and analysed, as in a sitting.
        self.monitor = PresenceMonitor(self._observed) if presence else None

    def _observed(self, peer_id: str, observation: Any) -> None:
        self.observations += 1

    def add_peer(self, peer_id: str, send_offer: Callable[[Any], Any]) -> None:
        peer = self.room.add_peer(peer_id, send_offer)
        if self.monitor is not None:
            self.monitor.watch(peer_id, peer.ups)

    async def accept_answer(self, peer_id: str, sdp: str, revision: int) -> None:
        await self.room.peers[peer_id].accept_answer(sdp, revision)

    def stats(self) -> dict[str, int]:
        out = dropped = kf = frames_in = lost = 0
        for peer in self.room.peers.values():
            frames_in += peer.ups["video"].frames_in
            lost += peer.assemblers["video"].lost_frames
            for (_, kind), down in peer.subscriptions().items():
                if kind == "video":
                    out += down.frames_out
                    dropped += down.frames_dropped
                    kf += down.keyframe_requests
        return {"frames_out": out, "frames_in": frames_in, "dropped": dropped,
                "keyframe_requests": kf, "assembler_lost": lost,
                "analyses": self.monitor.analyses() if self.monitor else 0}

    def longest_queue(self) -> int:
        """Frames waiting in the fullest down-track queue (bench instrumentation)."""
        return max((len(down._queue) for peer in self.room.peers.values()
                    for down in peer.subscriptions().values()), default=0)

    async def close(self) -> None:
        if self.monitor is not None:
            await self.monitor.close()
        await self.sfu.close()


class _RelayedTrack(MediaStreamTrack):
    """A MediaRelay proxy of a publication that may not have arrived yet."""

    kind = "video"

    def __init__(self, relay: MediaRelay, source: asyncio.Future[MediaStreamTrack]) -> None:
        super().__init__()
        self.frames_out = 0
        self._relay = relay
        self._source = source
        self._inner: MediaStreamTrack | None = None

    async def recv(self) -> Any:
        if self._inner is None:
            track = await asyncio.shield(self._source)
            self._inner = self._relay.subscribe(track)  # aiortc's default: buffered
        frame = await self._inner.recv()
        self.frames_out += 1
        return frame  # a decoded av.VideoFrame: the sender encodes it again

    def stop(self) -> None:
        super().stop()
        if self._inner is not None:
            self._inner.stop()


class _BaselinePeer:
    """A plain aiortc peer: receives with the decoding receiver, sends by encoding."""

    def __init__(self, peer_id: str, send_offer: Callable[[Any], Any]) -> None:
        self.id = peer_id
        self.pc = RTCPeerConnection(
            RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
        _vp8_only(self.pc.addTransceiver("video", direction="recvonly"))
        self.source: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pc.on("track", self._on_track)
        self.subs: dict[str, tuple[Any, Any]] = {}
        self._send_offer = send_offer
        self._revision = 0
        self._dirty = True
        self._task: asyncio.Task[None] | None = None
        self._answered: asyncio.Future[None] | None = None

    def _on_track(self, track: Any) -> None:
        if track.kind == "video" and not self.source.done():
            self.source.set_result(track)

    def subscribe(self, publisher: _BaselinePeer, relay: Any) -> None:
        track = _RelayedTrack(relay, publisher.source)
        transceiver = self.pc.addTransceiver(track, direction="sendonly")
        _vp8_only(transceiver)
        self.subs[publisher.id] = (transceiver, track)
        self.renegotiate()

    def renegotiate(self) -> None:
        self._dirty = True
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._negotiate())

    async def _negotiate(self) -> None:
        while self._dirty:
            self._dirty = False
            await self.pc.setLocalDescription(await self.pc.createOffer())
            self._revision += 1
            streams = {t.mid: {"participant": pid, "kind": "video"}
                       for pid, (t, _) in self.subs.items() if t.mid is not None}
            self._answered = asyncio.get_running_loop().create_future()
            await self._send_offer(Offer(self.pc.localDescription.sdp, self._revision, streams))
            await asyncio.wait_for(asyncio.shield(self._answered), 30)

    async def accept_answer(self, sdp: str, revision: int) -> None:
        assert self._answered is not None and revision == self._revision
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        self._answered.set_result(None)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for _, track in self.subs.values():
            track.stop()
        await self.pc.close()


class BaselineServer:
    def __init__(self) -> None:
        self.relay = MediaRelay()
        self.peers: dict[str, _BaselinePeer] = {}

    def add_peer(self, peer_id: str, send_offer: Callable[[Any], Any]) -> None:
        peer = _BaselinePeer(peer_id, send_offer)
        for other in self.peers.values():
            peer.subscribe(other, self.relay)
            other.subscribe(peer, self.relay)
        self.peers[peer_id] = peer
        peer.renegotiate()

    async def accept_answer(self, peer_id: str, sdp: str, revision: int) -> None:
        await self.peers[peer_id].accept_answer(sdp, revision)

    def stats(self) -> dict[str, int]:
        return {"frames_out": sum(t.frames_out for p in self.peers.values() for _, t in p.subs.values())}

    async def close(self) -> None:
        await asyncio.gather(*(p.close() for p in self.peers.values()), return_exceptions=True)


def sfu_main(conn: Any, mode: str, lifetime: float, level: str, drain: bool,
             slow_callbacks: float) -> None:
    _child_setup(lifetime, level, drain)
    asyncio.run(_sfu(conn, mode, slow_callbacks))


async def _sfu(conn: Any, mode: str, slow_callbacks: float = 0.0) -> None:
    slow: list[tuple[float, float, str]] = []
    if slow_callbacks > 0:
        _watch_slow_callbacks(slow_callbacks / 1000, slow)
    set_host_addresses([LOOPBACK])
    server: Any = BaselineServer() if mode == "baseline" else GikaiServer(presence=mode == "presence")
    stalls = _Stalls(probe=getattr(server, "longest_queue", None))
    watcher = asyncio.ensure_future(stalls.watch())
    app = web.Application()
    app.router.add_get("/ws", _Signaling(server).handler)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, LOOPBACK, 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    commands = _command_queue(conn)
    conn.send({"port": port})
    profiler: Any = None
    try:
        while True:
            msg = await commands.get()
            cmd = msg["cmd"]
            if cmd == "stats":
                collections = {f"gc{i}": g["collections"] for i, g in enumerate(gc.get_stats())}
                conn.send({**server.stats(), **collections,
                           "stalls": {**stalls.report(), "slow": list(slow)}})
            elif cmd == "freeze":
                gc.collect()
                gc.freeze()
            elif cmd == "profile":  # cProfile the SFU between two commands (join test)
                import cProfile

                if msg.get("path") is None:
                    profiler = cProfile.Profile()
                    profiler.enable()
                elif profiler is not None:
                    profiler.disable()
                    profiler.dump_stats(msg["path"])
                    profiler = None
            elif cmd == "info":
                objects = gc.get_objects()
                kinds = Counter(type(o).__qualname__ for o in objects).most_common(6)
                del objects
                # After the window: how long one full collection stops this process now.
                started = time.perf_counter()
                gc.collect()
                full_gc = time.perf_counter() - started
                info = {"gc_tracked": len(gc.get_objects()), "gc_frozen": gc.get_freeze_count(),
                        "gc_types": kinds, "queue_max": stalls.queue_max, "full_gc_ms": full_gc * 1000}
                conn.send(info)
            elif cmd == "quit":
                break
    finally:
        watcher.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.close(), 5)
        await runner.cleanup()


# ---------------------------------------------------------------------------------
# load generator process: aiortc clients that publish and count, never decode
# ---------------------------------------------------------------------------------
class _Recorder:
    def __init__(self) -> None:
        self.on = False
        self.sends: list[tuple[str, int, float]] = []  # publisher, frame index, time
        self.arrivals: list[tuple[str, str, int, float]] = []  # publisher, subscriber, index, time


def _make_client(name: str, packets: tuple[bytes, ...], index_of: dict[bytes, int],
                 rec: _Recorder, audio: bool) -> MediaClient:
    class RecordingSource(EncodedSourceTrack):
        async def recv(self) -> Any:  # type: ignore[override]
            frame = await super().recv()
            if rec.on:
                rec.sends.append((name, index_of[frame.data], time.monotonic()))
            return frame

    class BenchClient(MediaClient):
        def _sink_for(self, mid: str, kind: str) -> Callable[[Any], None]:
            counts = self.frame_counts
            arrivals = rec.arrivals

            def sink(frame: Any) -> None:
                now = time.monotonic()
                info = self.streams.get(mid)
                if info is None:
                    return
                publisher = info["participant"]
                counts[(publisher, kind)] += 1
                if kind == "video" and rec.on:
                    arrivals.append((publisher, name, index_of.get(frame.data, -1), now))

            return sink

        async def handle_offer(self, offer: Any) -> str:  # like MediaClient's, video only by default
            self.offers += 1
            self.streams = dict(offer.streams)
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer.sdp, type="offer"))
            for t, slot in upload_slots(self.pc, offer.streams):
                if slot is None:
                    t.direction = "recvonly"
                    if id(t.receiver) not in self._tapped:
                        self._tapped.add(id(t.receiver))
                        tap_receiver(t.receiver, FrameAssembler(t.kind, self._sink_for(t.mid, t.kind)))
                elif t.sender.track is None and (slot == "video" or (slot == "audio" and audio)):
                    source = self.video if slot == "video" else self.audio
                    t.sender.replaceTrack(source)
                    t.sender._send_keyframe = source.request_keyframe
                    t.direction = "sendonly"
                elif t.sender.track is None:
                    t.direction = "inactive"
            await self.pc.setLocalDescription(await self.pc.createAnswer())
            return self.pc.localDescription.sdp

    video = RecordingSource("video", packets, FPS, record=False)
    sound = EncodedSourceTrack("audio", encode_opus(), 50, record=False)
    return BenchClient(name, video=video, audio=sound, keep_frames=False)


def gen_main(conn: Any, port: int, names: list[str], everyone: list[str], late: list[str],
             packets: tuple[bytes, ...], audio: bool, join_interval: float, lifetime: float,
             level: str, drain: bool) -> None:
    _child_setup(lifetime, level, drain)
    asyncio.run(_gen(conn, port, names, everyone, late, packets, audio, join_interval))


async def _gen(conn: Any, port: int, names: list[str], everyone: list[str], late: list[str],
               packets: tuple[bytes, ...], audio: bool, join_interval: float) -> None:
    """Join ``names`` (but those in ``late`` only on "join_late"), answer offers, record."""
    set_host_addresses([LOOPBACK])
    index_of = {data: i for i, data in enumerate(packets)}
    rec = _Recorder()
    clients = {n: _make_client(n, packets, index_of, rec, audio) for n in names}
    commands = _command_queue(conn)
    session = aiohttp.ClientSession()
    ws = await session.ws_connect(f"http://{LOOPBACK}:{port}/ws", max_msg_size=0)
    lock = asyncio.Lock()
    log = logging.getLogger("bench.gen")

    async def send(obj: dict[str, Any]) -> None:
        async with lock:
            await ws.send_str(json.dumps(obj))

    async def answer(data: dict[str, Any]) -> None:
        try:
            offer = Offer(data["sdp"], data["revision"], data["streams"])
            sdp = await clients[data["peer"]].handle_offer(offer)
            await send({"t": "answer", "peer": data["peer"], "sdp": sdp, "revision": data["revision"]})
        except Exception:
            log.exception("offer for %s failed", data["peer"])

    answers: set[asyncio.Future[None]] = set()

    async def read() -> None:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(msg.data)
            if data["t"] == "offer":
                task = asyncio.ensure_future(answer(data))
                answers.add(task)  # kept until done: a task nobody holds may vanish
                task.add_done_callback(answers.discard)

    reader = asyncio.ensure_future(read())
    stalls = _Stalls()
    watcher = asyncio.ensure_future(stalls.watch())

    early = [n for n in names if n not in late]
    early_everyone = [n for n in everyone if n not in late]

    def flowing() -> int:
        return sum(1 for n in early for p in early_everyone
                   if p != n and clients[n].frame_counts.get((p, "video"), 0) > 0)

    try:
        started = time.monotonic()
        for n in early:
            await send({"t": "join", "peer": n})
            await asyncio.sleep(join_interval)
        wanted = len(early) * (len(early_everyone) - 1)
        ready_timeout = 30 + 3 * len(everyone)
        # Bounded by ready_timeout; the counts grow in MediaClient's receivers, which set no event.
        while flowing() < wanted and time.monotonic() - started < ready_timeout:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        conn.send({"ready": flowing() == wanted, "flowing": flowing(), "wanted": wanted,
                   "setup_s": time.monotonic() - started})
        while True:
            cmd = (await commands.get())["cmd"]
            if cmd == "record":
                rec.on = True
            elif cmd == "freeze":
                gc.collect()
                gc.freeze()
            elif cmd == "join_late":
                for n in [n for n in late if n in names]:
                    await send({"t": "join", "peer": n})
            elif cmd == "pause":
                rec.on = False
            elif cmd == "collect":
                rec.on = False
                conn.send({
                    "sends": rec.sends, "arrivals": rec.arrivals,
                    "keyframe_requests": sum(c.video.keyframe_requests for c in clients.values()),
                    "offers": sum(c.offers for c in clients.values()),
                    "stalls": stalls.report(),
                })
            elif cmd == "quit":
                break
    finally:
        watcher.cancel()
        reader.cancel()
        await asyncio.gather(*(asyncio.wait_for(c.close(), 5) for c in clients.values()),
                             return_exceptions=True)
        await ws.close()
        await session.close()


# ---------------------------------------------------------------------------------
# orchestrator
# ---------------------------------------------------------------------------------
class ChildError(RuntimeError):
    pass


def _recv(conn: Any, timeout: float, what: str, proc: Any) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if conn.poll(0.2):
            return conn.recv()
        if not proc.is_alive():
            raise ChildError(f"{what}: process ended with code {proc.exitcode}")
    raise ChildError(f"{what}: no answer within {timeout:.0f} s")


def _cpu(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process, all its threads."""
    t = psutil.Process(pid).cpu_times()
    return t.user, t.system


def _udp_counters() -> dict[str, int]:
    """Machine-wide UDP counters (Linux): RcvbufErrors counts datagrams lost to full sockets."""
    try:
        lines = [line.split() for line in Path("/proc/net/snmp").read_text().splitlines()
                 if line.startswith("Udp:")]
        return {k: int(v) for k, v in zip(lines[0][1:], lines[1][1:], strict=True)}  # names, then values
    except Exception:
        return {}


def _stall_summary(log: dict[str, Any], t0: float, t1: float) -> dict[str, float]:
    lags = [late for t, late in log["lags"] if t0 <= t < t1]
    gcs = [took for t, took, gen in log["gcs"] if t0 <= t < t1]
    return {"lag_n": len(lags), "lag_max": max(lags, default=0.0) * 1000,
            "lag_sum": sum(lags) * 1000, "gc_n": len(gcs), "gc_max": max(gcs, default=0.0) * 1000}


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[k]


JOIN_SPAN = 3.0  # seconds after a late join whose frames count as "during the join"
TIMELINE_STEP = 0.1  # seconds between CPU samples during the window
CONTENDED_CORES = 0.35  # other processes' CPU (in cores) that makes a sample "contended"
CONTENTION_TAIL = 1.0  # seconds after contention during which queues are still draining


def _merge(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _timeline(procs: list[Any], until: float,
              step: float = TIMELINE_STEP) -> list[tuple[float, float, float]]:
    """Sample (time, machine busy, our processes' busy) in cores, every ``step`` s until ``until``."""
    handles = [psutil.Process(p.pid) for p in procs] + [psutil.Process()]

    def busy() -> tuple[float, float]:
        t = psutil.cpu_times()
        machine = t.user + t.nice + t.system + t.irq + t.softirq + getattr(t, "steal", 0.0)
        ours = 0.0
        for h in handles:
            try:
                c = h.cpu_times()
                ours += c.user + c.system
            except psutil.Error:
                pass
        return machine, ours

    samples = []
    last_t, (last_m, last_o) = time.monotonic(), busy()
    while True:
        remaining = until - time.monotonic()
        if remaining <= 0:
            return samples
        time.sleep(min(step, remaining))
        now, (m, o) = time.monotonic(), busy()
        samples.append((now, (m - last_m) / (now - last_t), (o - last_o) / (now - last_t)))
        last_t, last_m, last_o = now, m, o


def _calibrate() -> float:
    """Milliseconds of CPU a fixed pure-Python workload takes: this VM's speed drifts."""
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        d: dict[int, int] = {}
        for i in range(200_000):
            d[i & 1023] = d.get(i & 1023, 0) + i
        best = min(best, time.process_time() - started)
    return best * 1000


def _wait_for_quiet(limit: float, timeout: float) -> tuple[bool, float]:
    """Before a scenario: wait until the machine is busy under ``limit`` % of one core for 3 s."""
    cores = psutil.cpu_count() or 1
    end = time.monotonic() + timeout
    quiet = 0
    psutil.cpu_percent(None)
    while True:
        time.sleep(1.0)
        busy = psutil.cpu_percent(None) * cores
        quiet = quiet + 1 if busy < limit else 0
        if quiet >= 3:
            return True, busy
        if time.monotonic() >= end:
            return False, busy


def run_scenario(mode: str, size: int, gen_procs: int, packets: tuple[bytes, ...],
                 args: argparse.Namespace, late_join: bool = False) -> dict[str, Any]:
    """One measurement. ``late_join``: the last participant joins in the middle of the
    window; the figures then cover the others' streams, plus what the join did to them."""
    ctx = mp.get_context("spawn")
    names = [f"p{i:02d}" for i in range(size)]
    late = names[-1:] if late_join else []
    counted = [n for n in names if n not in late]
    groups = [names[i::gen_procs] for i in range(gen_procs) if names[i::gen_procs]]
    setup_budget = 60 + 4 * size
    lifetime = setup_budget + args.warmup + args.measure + 60
    procs: list[Any] = []
    conns: list[Any] = []
    spies: list[subprocess.Popen[bytes]] = []
    try:
        sfu_conn, child = ctx.Pipe()
        sfu = ctx.Process(target=sfu_main, name="sfu", args=(child, mode, lifetime, args.log_level,
                                                                 args.sfu_drain, args.slow_callbacks),
                          daemon=True)
        sfu.start()
        procs.append(sfu)
        conns.append(sfu_conn)
        port = _recv(sfu_conn, 60, "sfu start", sfu)["port"]

        gens: list[tuple[Any, Any]] = []
        for i, group in enumerate(groups):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=gen_main, name=f"gen{i}",
                               args=(child, port, group, names, late, packets, args.audio,
                                     args.join_interval, lifetime, args.log_level,
                                     not args.gen_one_read), daemon=True)
            proc.start()
            procs.append(proc)
            conns.append(parent)
            gens.append((proc, parent))

        readiness = [_recv(c, setup_budget, f"{p.name} setup", p) for p, c in gens]
        flowing = sum(r["flowing"] for r in readiness)
        wanted = sum(r["wanted"] for r in readiness)
        setup_s = max(r["setup_s"] for r in readiness)
        print(f"  [{mode} P={size}{' late join' if late else ''}] set up in {setup_s:.1f} s,"
              f" {flowing}/{wanted} streams flowing;"
              f" warm-up {args.warmup:g} s, measure {args.measure:g} s", file=sys.stderr, flush=True)

        for i in range(args.stress):
            hog = ctx.Process(target=hog_main, name=f"hog{i}", args=(lifetime, args.log_level),
                              daemon=True)
            hog.start()
            procs.append(hog)
        for _, c in gens:  # the generators are instruments: keep their collector out of the way
            c.send({"cmd": "freeze"})
        if args.sfu_gc_freeze:
            sfu_conn.send({"cmd": "freeze"})
        lead = min(1.0, args.warmup)  # record sends a little before the window opens
        time.sleep(args.warmup - lead)
        for _, c in gens:
            c.send({"cmd": "record"})
        time.sleep(lead)

        def sample() -> tuple[float, dict[str, float], dict[str, int]]:
            sfu_conn.send({"cmd": "stats"})
            stats = _recv(sfu_conn, 10, "sfu stats", sfu)
            now = time.monotonic()
            cpu = {p.name: _cpu(p.pid) for p in procs}
            return now, cpu, stats

        own = psutil.Process()
        own0 = sum(own.cpu_times()[:2])
        spies = []
        if args.py_spy:
            Path(args.py_spy).mkdir(parents=True, exist_ok=True)
            for p in procs:
                out = Path(args.py_spy) / f"{mode}-{size}-{p.name}.txt"
                spies.append(subprocess.Popen(
                    ["py-spy", "record", "--pid", str(p.pid), "--duration", str(int(args.measure)),
                     "--rate", "100", "--format", "raw", "--nonblocking", "-o", str(out)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        psutil.cpu_percent(None)
        udp0 = _udp_counters()
        t0, cpu0, stats0 = sample()
        t_join = None
        if late:
            timeline = _timeline(procs, t0 + args.measure / 2)
            if args.profile_join:
                sfu_conn.send({"cmd": "profile"})
            t_join = time.monotonic()
            for _, c in gens:
                c.send({"cmd": "join_late"})
            if args.profile_join:
                timeline += _timeline(procs, t_join + JOIN_SPAN)
                sfu_conn.send({"cmd": "profile", "path": str(Path(args.profile_join).resolve())})
            timeline += _timeline(procs, t0 + args.measure)
        else:
            timeline = _timeline(procs, t0 + args.measure)
        t1, cpu1, stats1 = sample()
        udp1 = _udp_counters()
        machine = psutil.cpu_percent(None) * (psutil.cpu_count() or 1)  # % of one core
        own1 = sum(own.cpu_times()[:2])
        sfu_conn.send({"cmd": "info"})
        sfu_info = _recv(sfu_conn, 10, "sfu info", sfu)
        time.sleep(1.0)  # frames sent just before t1 still arrive
        # Every generator records sends until after t_stop; arrivals from t_stop on are
        # ignored, so no arrival can miss its send in another generator's log.
        t_stop = time.monotonic()
        for _, c in gens:
            c.send({"cmd": "pause"})

        sends: list[tuple[str, int, float]] = []
        arrivals: list[tuple[str, str, int, float]] = []
        kf_requests = offers = 0
        stall_logs = {"sfu": stats1.pop("stalls")}
        stats0.pop("stalls")
        for proc, c in gens:
            c.send({"cmd": "collect"})
            got = _recv(c, 60, f"{proc.name} collect", proc)
            sends += got["sends"]
            arrivals += got["arrivals"]
            kf_requests += got["keyframe_requests"]
            offers += got["offers"]
            stall_logs[proc.name] = got["stalls"]
    finally:
        for spy in spies:
            try:
                spy.wait(timeout=max(1.0, args.measure + 5))
            except subprocess.TimeoutExpired:
                spy.kill()
                spy.wait()
        for c in conns:
            with contextlib.suppress(Exception):
                c.send({"cmd": "quit"})
        deadline = time.monotonic() + 10
        for p in procs:
            p.join(max(0.1, deadline - time.monotonic()))
        for p in procs:
            if p.is_alive():
                p.terminate()
                p.join(2)
            if p.is_alive():
                p.kill()
                p.join(2)

    window = t1 - t0
    cpu = {name: 100 * (sum(cpu1[name]) - sum(cpu0[name])) / window for name in cpu0}
    sfu_sys = 100 * (cpu1["sfu"][1] - cpu0["sfu"][1]) / window
    gen_cpu = {n: v for n, v in cpu.items() if n.startswith("gen")}
    hog_cpu = sum(v for n, v in cpu.items() if n.startswith("hog"))
    others = max(0.0, machine - sum(cpu.values()) - 100 * (own1 - own0) / window)

    # Sends by (publisher, frame index), in time order, for matching arrivals by bytes.
    send_times: dict[tuple[str, int], list[float]] = defaultdict(list)
    sent_in_window: Counter[str] = Counter()
    for pub, idx, t in sends:
        send_times[(pub, idx)].append(t)
        if t0 <= t < t1:
            sent_in_window[pub] += 1
    for times in send_times.values():
        times.sort()
    per_stream: Counter[tuple[str, str]] = Counter()
    latencies: list[float] = []
    delivered = unmatched = 0
    loop_period = len(packets) / FPS
    # Moments when other processes took CPU (this machine is shared), plus the backlog time
    # after them: a frame in flight then is left out of the "quiet" latency figures.
    busy_spans = [(t - TIMELINE_STEP, t + CONTENTION_TAIL) for t, m, o in timeline
                  if m - o > CONTENDED_CORES]
    busy_starts = [a for a, _ in busy_spans]

    def disturbed(start: float, end: float) -> bool:
        j = bisect.bisect_right(busy_starts, end) - 1
        while j >= 0 and busy_spans[j][0] >= start - CONTENTION_TAIL - TIMELINE_STEP:
            if busy_spans[j][1] > start:
                return True
            j -= 1
        return False

    quiet_latencies: list[float] = []
    quiet_time = window - sum(
        min(t1, b) - max(t0, a) for a, b in _merge(busy_spans) if b > t0 and a < t1)
    join_latencies: list[float] = []
    join_end = (t_join or 0.0) + JOIN_SPAN
    newcomer_first: dict[tuple[str, str], float] = {}
    for pub, sub, idx, ta in arrivals:
        if ta >= t_stop:
            continue
        if pub in late or sub in late:
            if t_join is not None and ta >= t_join and (pub, sub) not in newcomer_first:
                newcomer_first[(pub, sub)] = ta
            continue
        if t0 <= ta < t1:
            per_stream[(pub, sub)] += 1
        if mode == "baseline":
            continue  # re-encoded frames cannot be matched by their bytes
        times = send_times.get((pub, idx))
        j = bisect.bisect_right(times, ta) - 1 if times else -1
        if j < 0:
            if t0 <= ta < t1:
                unmatched += 1
            continue
        ts = times[j]  # type: ignore[index]
        if ta - ts > loop_period / 2:  # an older loop of the same bytes: its send is missing
            if t0 <= ta < t1:
                unmatched += 1
            continue
        if t0 <= ts < t1:
            delivered += 1
            latencies.append(ta - ts)
            if not disturbed(ts, ta):
                quiet_latencies.append(ta - ts)
            if t_join is not None and t_join <= ts < join_end:
                join_latencies.append(ta - ts)
    expected_frames = sum(sent_in_window[p] for p in counted) * (len(counted) - 1)
    received = sum(per_stream.values())
    if mode == "baseline":
        delivered = received  # counted by arrival time in the window instead
    if args.dump_raw:
        raw = {"t0": t0, "t1": t1, "t_stop": t_stop, "sends": sends, "arrivals": arrivals,
               "names": names, "groups": groups, "stalls": stall_logs,
               "timeline": timeline}
        Path(args.dump_raw).mkdir(parents=True, exist_ok=True)
        suffix = "-join" if late else ""
        with open(Path(args.dump_raw) / f"{mode}-{size}{suffix}.pickle", "wb") as f:
            pickle.dump(raw, f)
    latencies.sort()
    quiet_latencies.sort()
    join_latencies.sort()
    streams = len(counted) * (len(counted) - 1)
    stream_fps = [per_stream[(p, s)] / window for p in counted for s in counted if p != s]
    join: dict[str, Any] | None = None
    if t_join is not None:
        newcomer_streams = 2 * len(late) * (size - 1)
        join = {
            "p50": _percentile(join_latencies, 0.50) * 1000,
            "p99": _percentile(join_latencies, 0.99) * 1000,
            "max": (join_latencies[-1] * 1000) if join_latencies else float("nan"),
            "newcomer_flowing": len(newcomer_first), "newcomer_streams": newcomer_streams,
            "newcomer_s": (max(newcomer_first.values()) - t_join
                           if len(newcomer_first) == newcomer_streams else float("nan")),
            "stalls": {name: _stall_summary(log, t_join, join_end) for name, log in stall_logs.items()},
        }
    return {
        "mode": mode, "P": size, "streams": streams, "gen_procs": len(groups),
        "window": window, "setup_s": setup_s, "flowing": flowing, "wanted": wanted,
        "sfu_cpu": cpu["sfu"], "sfu_sys": sfu_sys, "gen_cpu": gen_cpu, "hog_cpu": hog_cpu,
        "machine_cpu": machine, "other_cpu": others,
        "fwd_fps": received / window, "expected_fps": streams * FPS,
        "sfu_out_fps": (stats1["frames_out"] - stats0["frames_out"]) / window,
        "pub_fps": sum(sent_in_window[p] for p in counted) / window / len(counted),
        "late": len(late), "join": join,
        "slow": [(t - t0, took * 1000, what) for t, took, what in stall_logs["sfu"].get("slow", [])
                 if t0 <= t < t1],
        "delivered": delivered / expected_frames if expected_frames else 0.0,
        "slowest_fps": min(stream_fps) if stream_fps else 0.0,
        "lat_p50": _percentile(latencies, 0.50) * 1000,
        "lat_p99": _percentile(latencies, 0.99) * 1000,
        "lat_max": (latencies[-1] * 1000) if latencies else float("nan"),
        "lat_n": len(latencies), "unmatched": unmatched,
        "quiet_p50": _percentile(quiet_latencies, 0.50) * 1000,
        "quiet_p99": _percentile(quiet_latencies, 0.99) * 1000,
        "quiet_max": (quiet_latencies[-1] * 1000) if quiet_latencies else float("nan"),
        "quiet_n": len(quiet_latencies), "quiet_share": max(0.0, quiet_time) / window,
        "sfu_stats": {k: stats1[k] - stats0.get(k, 0) for k in stats1},
        "keyframe_requests": kf_requests, "offers": offers, "sfu_info": sfu_info,
        "stalls": {name: _stall_summary(log, t0, t1) for name, log in stall_logs.items()},
        "udp": {k: udp1[k] - udp0[k] for k in ("RcvbufErrors", "SndbufErrors", "InErrors")
                if k in udp0 and k in udp1},
    }


def _print_table(results: list[dict[str, Any]], kbps: float, max_others: float) -> None:
    head = (f"{'server':<11}{'P':>3}{'streams':>8}{'SFU CPU':>9}{'gen CPU':>10}{'others':>8}"
            f"{'fwd fps':>9}{'expected':>9}{'delivered':>11}{'slowest':>9}"
            f"{'lat p50':>9}{'p99':>7}{'max':>7}{'quiet p99':>11}{'max':>7}{'quiet':>7}")
    print()
    print(f"video only: 640x360 VP8 {FPS} fps, {kbps:.0f} kbit/s per stream (pre-encoded, looped);"
          " CPU in % of one core; fps = frames/s; latency in ms")
    print(head)
    print("-" * len(head))
    for r in results:
        gen = "+".join(f"{v:.0f}" for v in r["gen_cpu"].values()) + "%"
        if r["mode"] != "baseline":
            lat = (f"{r['lat_p50']:>9.1f}{r['lat_p99']:>7.1f}{r['lat_max']:>7.0f}"
                   f"{r['quiet_p99']:>11.1f}{r['quiet_max']:>7.0f}{100 * r['quiet_share']:>6.0f}%"
                   ).replace("nan", " - ")
        else:
            lat = f"{'n/a':>9}{'n/a':>7}{'n/a':>7}{'n/a':>11}{'n/a':>7}{'':>7}"
        mark = "*" if r["other_cpu"] >= max_others else " "
        label = r["mode"] + ("+join" if r.get("late") else "")
        print(f"{label:<10}{mark}{r['P']:>3}{r['streams']:>8}{r['sfu_cpu']:>8.1f}%{gen:>10}"
              f"{r['other_cpu']:>7.0f}%{r['fwd_fps']:>9.0f}{r['expected_fps']:>9}"
              f"{100 * r['delivered']:>10.2f}%{r['slowest_fps']:>9.1f}{lat}")
    print()
    print("gen CPU: each load-generator process. others: CPU that processes outside this benchmark"
          f" used during the window (this machine has {os.cpu_count()} cores and may be shared;"
          f" * marks >= {max_others:g}%, i.e. measured under contention).")
    print("delivered: share of (frame, subscriber) pairs that arrived, for frames sent in the window."
          " slowest: the slowest of the P*(P-1) streams.")
    print("latency: publisher's track -> subscriber's assembler, all frames sent in the window;"
          f" quiet: only frames in flight while other processes used < {CONTENDED_CORES:g} core"
          f" (and not in the {CONTENTION_TAIL:g} s after); last column: share of the window that was quiet.")
    for r in results:
        s = r["sfu_stats"]
        label = r["mode"] + ("+join" if r.get("late") else "")
        print(f"  {label} P={r['P']}: attempt {r.get('attempts', 1)}, window {r['window']:.1f} s,"
              f" set-up {r['setup_s']:.1f} s ({r['flowing']}/{r['wanted']} streams flowing),"
              f" publishers sent {r['pub_fps']:.2f} fps each, SFU sent {r['sfu_out_fps']:.0f} fps,"
              f" UDP socket-buffer drops {r['udp'].get('RcvbufErrors', '?')} (machine-wide);"
              f" SFU CPU {r['sfu_cpu'] - r['sfu_sys']:.1f}% user + {r['sfu_sys']:.1f}% system"
              + (f"; --stress hogs used {r['hog_cpu']:.0f}%" if r.get("hog_cpu") else ""))
        if r["mode"] != "baseline":
            print(f"    SFU received {s['frames_in'] / r['window']:.0f} fps; down-track queue drops"
                  f" {s['dropped']}; assembler losses {s['assembler_lost']}; PLI/FIR from subscribers"
                  f" {s['keyframe_requests']}; latency samples {r['lat_n']} (unmatched {r['unmatched']})"
                  + (f"; presence analyses {s['analyses']} in the run" if r["mode"] == "presence" else ""))
        stalls = "; ".join(
            f"{name} {v['lag_n']} (max {v['lag_max']:.0f} ms), GC pauses >2 ms {v['gc_n']}"
            f" (max {v['gc_max']:.0f} ms)" for name, v in r["stalls"].items())
        print(f"    event-loop wake-ups >=10 ms late: {stalls}")
        info = r["sfu_info"]
        kinds = ", ".join(f"{name} {n}" for name, n in info["gc_types"])
        print(f"    SFU objects tracked by the garbage collector: {info['gc_tracked']}"
              f" (+{info['gc_frozen']} frozen); most: {kinds}; one full collection after the"
              f" window took {info['full_gc_ms']:.0f} ms; collections in the window (gen 0/1/2):"
              f" {s.get('gc0', '?')}/{s.get('gc1', '?')}/{s.get('gc2', '?')}")
        if r.get("slow") and not r.get("late"):
            print("    slow SFU callbacks in the window (s, ms, what): " + "; ".join(
                f"{t:.2f} {ms:.0f} {what}" for t, ms, what in sorted(r["slow"], key=lambda x: -x[1])[:8]))
        if r["mode"] != "baseline":
            print(f"    longest down-track queue seen (sampled every 100 ms): {info['queue_max']} frames")


def _join_report(results: list[dict[str, Any]]) -> None:
    for r in results:
        j = r.get("join")
        if not j:
            continue
        n = r["P"] - r["late"]
        sfu = j["stalls"]["sfu"]
        print()
        print(f"join test: P={r['P']}, participant {r['P']} joins in the middle of the window"
              f" (gikai+join row: the {n} others' {r['streams']} streams over the whole window).")
        print(f"  frames of those streams sent in the {JOIN_SPAN:g} s after the join: latency"
              f" p50 {j['p50']:.1f} / p99 {j['p99']:.1f} / max {j['max']:.0f} ms")
        print(f"  SFU in those {JOIN_SPAN:g} s: GC pauses >2 ms {sfu['gc_n']} (longest"
              f" {sfu['gc_max']:.0f} ms), event-loop wake-ups >=10 ms late {sfu['lag_n']}"
              f" (worst {sfu['lag_max']:.0f} ms, {sfu['lag_sum']:.0f} ms in all)")
        flowing = (f"all {j['newcomer_streams']} of the newcomer's streams (in and out) flowing"
                   f" {j['newcomer_s']:.2f} s after its join request"
                   if j["newcomer_flowing"] == j["newcomer_streams"] else
                   f"only {j['newcomer_flowing']} of the newcomer's {j['newcomer_streams']} streams flowed")
        print(f"  {flowing}")
        slow = [x for x in r.get("slow", []) if 0 <= x[0] - (r["window"] / 2) < JOIN_SPAN + 1]
        if slow:
            print("  slow SFU callbacks then (s after window start, ms, what): " + "; ".join(
                f"{t:.2f} {ms:.0f} {what}" for t, ms, what in sorted(slow, key=lambda x: -x[1])[:12]))


def _ratio(results: list[dict[str, Any]]) -> None:
    def per_stream(r: dict[str, Any]) -> float:
        # CPU per forwarded stream, counting only delivered frames (15 of them per second = 1 stream)
        return r["sfu_cpu"] / (r["fwd_fps"] / FPS) if r["fwd_fps"] else float("inf")

    gikai = [r for r in results if r["mode"] == "gikai" and not r.get("late")]
    for b in (r for r in results if r["mode"] == "baseline"):
        same = [g for g in gikai if g["P"] == b["P"]]
        largest = max(gikai, key=lambda g: g["P"], default=None)
        print()
        print(f"CPU per forwarded stream (% of one core per 15 delivered fps): baseline P={b['P']}"
              f" {per_stream(b):.2f}")
        for g in {id(x): x for x in same + ([largest] if largest else [])}.values():
            print(f"  gikai P={g['P']} {per_stream(g):.3f}  ->  baseline / gikai = "
                  f"{per_stream(b) / per_stream(g):.1f}x (target >= 15x)")


def _presence(results: list[dict[str, Any]]) -> None:
    off = {r["P"]: r for r in results if r["mode"] == "gikai" and not r.get("late")}
    for r in results:
        if r["mode"] != "presence" or r["P"] not in off:
            continue
        base = off[r["P"]]
        per_member = (r["sfu_cpu"] - base["sfu_cpu"]) / r["P"]
        print()
        print(f"presence analysis at P={r['P']} (analysis off / on): SFU CPU {base['sfu_cpu']:.1f}% / "
              f"{r['sfu_cpu']:.1f}% -> {per_member:.2f}% of one core per member (target <= 5%); "
              f"delivered {100 * base['delivered']:.2f}% / {100 * r['delivered']:.2f}% (target >= 99.5%); "
              f"latency p99 {base['lat_p99']:.1f} / {r['lat_p99']:.1f} ms")


def _targets(results: list[dict[str, Any]]) -> None:
    _presence(results)
    for r in results:
        if r["mode"] == "gikai" and r["P"] == 16 and not r.get("late"):
            checks = [
                ("delivered >= 99.5%", r["delivered"] >= 0.995, f"{100 * r['delivered']:.2f}%"),
                ("SFU <= 60% of one core", r["sfu_cpu"] <= 60, f"{r['sfu_cpu']:.1f}%"),
                ("latency p99 <= 30 ms", r["lat_p99"] <= 30,
                 f"{r['lat_p99']:.1f} ms (quiet-only {r['quiet_p99']:.1f} ms)"),
            ]
            print()
            print("targets at P=16: " + "; ".join(
                f"{name}: {value} {'met' if ok else 'MISSED'}" for name, ok, value in checks))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="4,8,16", help="participant counts for gikai (default 4,8,16)")
    parser.add_argument("--presence", action="store_true",
                        help="also run the largest size with presence analysis on every camera")
    parser.add_argument("--baseline-sizes", default="4",
                        help="participant counts for the decode/re-encode baseline ('' for none)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds after set-up before measuring")
    parser.add_argument("--measure", type=float, default=10.0, help="measurement window in seconds")
    parser.add_argument("--quick", action="store_true", help="short run: 2 s warm-up, 4 s window")
    parser.add_argument("--gen-procs", default="auto",
                        help="load-generator processes ('auto': 1 below P=16, 2 from P=16)")
    parser.add_argument("--bitrate", type=int, default=600_000, help="VP8 target bitrate")
    parser.add_argument("--audio", action="store_true",
                        help="also publish Opus (50 packets/s); statistics stay video-only")
    parser.add_argument("--join-interval", type=float, default=0.1, help="seconds between joins")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--py-spy", metavar="DIR",
                        help="profile every process during the window with py-spy (raw stacks into DIR)")
    parser.add_argument("--dump-raw", metavar="DIR", help="pickle raw send/arrival logs into DIR")
    parser.add_argument("--log-level", default="ERROR")
    parser.add_argument("--wait-idle", type=float, default=30.0, metavar="SECONDS",
                        help="before each scenario wait up to this long for the machine to be"
                             " quiet (busy < --max-others for 3 s); 0: do not wait")
    parser.add_argument("--max-others", type=float, default=15.0, metavar="PERCENT",
                        help="CPU (%% of one core) other processes may use during a window before"
                             " it counts as contended (default 15)")
    parser.add_argument("--join-test", action="store_true",
                        help="also run P=max(sizes) with the last participant joining mid-window")
    parser.add_argument("--slow-callbacks", type=float, default=0.0, metavar="MS",
                        help="list SFU event-loop callbacks that ran longer than MS (costs a little CPU)")
    parser.add_argument("--profile-join", metavar="FILE",
                        help="with --join-test: cProfile the SFU for 3 s from the join (pstats FILE)")
    parser.add_argument("--stress", type=int, default=0, metavar="N",
                        help="run N CPU-hog processes from warm-up to the end (a noisy neighbour)")
    parser.add_argument("--sfu-drain", action="store_true",
                        help="SFU process reads every waiting datagram per wake-up (asyncio reads one)")
    parser.add_argument("--gen-one-read", action="store_true",
                        help="generators keep asyncio's one-datagram-per-wake-up reads (default: drain)")
    parser.add_argument("--sfu-gc-freeze", action="store_true",
                        help="gc.freeze() in the SFU process after set-up (to test that remedy)")
    parser.add_argument("--retries", type=int, default=1,
                        help="re-run a contended scenario this many times, keep the least contended")
    args = parser.parse_args()

    def terminated(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt  # stop the children in run_scenario's finally

    signal.signal(signal.SIGTERM, terminated)
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:  # started in the background
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if args.quick:
        args.warmup, args.measure = 2.0, 4.0
    sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    baseline_sizes = [int(x) for x in args.baseline_sizes.split(",") if x.strip()]

    packets = encode_vp8(bitrate=args.bitrate, frames=10 * FPS)  # a 10 s loop
    if len(set(packets)) != len(packets):
        print("warning: repeated frames in the loop; latency matching is ambiguous", file=sys.stderr)
    kbps = sum(map(len, packets)) * 8 * FPS / len(packets) / 1000
    print(f"VP8 source: {len(packets)} frames, {kbps:.0f} kbit/s at {FPS} fps "
          f"(target {args.bitrate // 1000}), {sum(map(len, packets)) / len(packets):.0f} bytes/frame",
          file=sys.stderr, flush=True)

    def procs_for(size: int) -> int:
        return (2 if size >= 16 else 1) if args.gen_procs == "auto" else int(args.gen_procs)

    calibration = [_calibrate()]
    results = []
    plan = [("gikai", s, False) for s in sizes] + [("baseline", s, False) for s in baseline_sizes]
    if args.join_test and sizes:
        plan.append(("gikai", max(sizes), True))
    if args.presence and sizes:
        plan.append(("presence", max(sizes), False))  # the same load with presence analysis on
    try:
        for mode, size, late_join in plan:
            best = None
            for attempt in range(1 + max(0, args.retries)):
                if args.wait_idle > 0:
                    quiet, busy = _wait_for_quiet(args.max_others, args.wait_idle)
                    if not quiet:
                        print(f"  warning: machine still busy ({busy:.0f}% of one core) after"
                              f" {args.wait_idle:g} s; measuring anyway", file=sys.stderr, flush=True)
                r = run_scenario(mode, size, procs_for(size), packets, args, late_join)
                r["attempts"] = attempt + 1
                if best is None or r["other_cpu"] < best["other_cpu"]:
                    best = r
                if r["other_cpu"] < args.max_others:
                    break
                print(f"  [{mode} P={size}] other processes used {r['other_cpu']:.0f}% of one core"
                      " during the window: contended", file=sys.stderr, flush=True)
            results.append(best)
    except KeyboardInterrupt:
        print("interrupted; children stopped", file=sys.stderr)
        if not results:
            return 130
    except ChildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if not results:
            return 1
    _print_table(results, kbps, args.max_others)
    print(f"calibration: a fixed pure-Python loop took {calibration[0]:.1f} ms before and"
          f" {_calibrate():.1f} ms after the runs (CPU figures scale with it between runs).")
    _join_report(results)
    _ratio(results)
    _targets(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
