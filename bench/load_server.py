"""sfu_load.py's server process: gikai's SFU or aiortc's decode/relay/re-encode baseline,
with a WebSocket per load generator for offers and answers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp
from aiohttp import web
from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtcconfiguration import RTCBundlePolicy
from load_common import (
    LOOPBACK,
    ROOM,
    _child_setup,
    _command_queue,
    _Stalls,
    _vp8_only,
    _watch_slow_callbacks,
)

from gikai.media import SFU
from gikai.media.analysis.presence import PresenceMonitor
from gikai.media.sfu.ice import set_host_addresses
from gikai.media.sfu.peer import Offer


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
