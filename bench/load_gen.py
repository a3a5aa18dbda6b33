"""sfu_load.py's load generators: aiortc clients that publish a pre-encoded VP8 track, receive
without decoding and log every send and arrival for the orchestrator."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp
from aiortc import (
    RTCSessionDescription,
)
from load_common import FPS, LOOPBACK, _child_setup, _command_queue, _Stalls

from gikai.media.sfu.assembler import FrameAssembler
from gikai.media.sfu.ice import set_host_addresses
from gikai.media.sfu.peer import Offer, tap_receiver
from tests.support.client import MediaClient, upload_slots
from tests.support.encoded import EncodedSourceTrack, encode_opus


# ---------------------------------------------------------------------------------
# load generator process: aiortc clients that publish and count, never decode
# ---------------------------------------------------------------------------------
class _Recorder:
    def __init__(self) -> None:
        self.on = False
        self.sends: list[tuple[str, int, float]] = []  # publisher, frame index, time
        self.arrivals: list[tuple[str, str, int, float]] = []  # publisher, subscriber, index, time


def recording_source(name: str, packets: tuple[bytes, ...], index_of: dict[bytes, int],
                     rec: _Recorder) -> EncodedSourceTrack:
    """The pre-encoded VP8 loop, logging when each frame is handed to the sender."""

    class RecordingSource(EncodedSourceTrack):
        async def recv(self) -> Any:  # type: ignore[override]
            frame = await super().recv()
            if rec.on:
                rec.sends.append((name, index_of[frame.data], time.monotonic()))
            return frame

    return RecordingSource("video", packets, FPS, record=False)


def _make_client(name: str, packets: tuple[bytes, ...], index_of: dict[bytes, int],
                 rec: _Recorder, audio: bool) -> MediaClient:
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

    video = recording_source(name, packets, index_of, rec)
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

    async def join(name: str) -> None:
        await send({"t": "join", "peer": name})

    try:
        await drive(conn, commands, clients, rec, join, names, everyone, late, join_interval)
    finally:
        reader.cancel()
        await asyncio.gather(*(asyncio.wait_for(c.close(), 5) for c in clients.values()),
                             return_exceptions=True)
        await ws.close()
        await session.close()


async def drive(conn: Any, commands: asyncio.Queue[dict[str, Any]], clients: dict[str, Any],
                rec: _Recorder, join: Callable[[str], Awaitable[None]], names: list[str],
                everyone: list[str], late: list[str], join_interval: float) -> None:
    """A generator's life after connecting, the same for every server: join ``names`` (those in
    ``late`` only on "join_late"), report when every stream flows, then obey the orchestrator.
    ``clients`` have ``frame_counts``, ``video`` (the recording source) and ``offers``."""
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
            await join(n)
            await asyncio.sleep(join_interval)
        wanted = len(early) * (len(early_everyone) - 1)
        ready_timeout = 30 + 3 * len(everyone)
        # Bounded by ready_timeout; the counts grow in the clients' receivers, which set no event.
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
                    await join(n)
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
