"""An aiortc participant of a Janus VideoRoom over Janus's HTTP API: the benchmarks' client
for Janus, measured like gikai's (tests.support.client.MediaClient): it publishes a
pre-encoded VP8 track without encoding and reassembles what it receives into encoded frames
without decoding (gikai's receiver tap and FrameAssembler).

One Janus session per participant, kept alive by its long poll (``GET /janus/<session>``,
which also carries every asynchronous event). Two handles on ``janus.plugin.videoroom``:

* the publisher: ``join`` (ptype publisher, display = the participant's name), then
  ``publish`` with aiortc's offer (one send-only VP8 m-line) and Janus's answer;
* one multistream subscriber (Janus 1.x): ``join`` (ptype subscriber) with every feed
  published so far, later ``subscribe`` for each newcomer; each time Janus offers the whole
  set of streams and the client answers with ``start``. Updates run one at a time. This is
  the same shape as gikai's (one peer connection receives every other participant), so
  neither side pays for extra connections; Janus only needs a second one for publishing.

aiortc does not trickle: every description carries its candidates (``trickle: false``).
The caller chooses the host candidate (gikai.media.sfu.ice.set_host_addresses): Janus runs
in its own network namespace (bench/janus_server.py). Imported as ``bench.janus_client`` by
the test and as ``janus_client`` by the benchmark: no imports from bench/.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import aiohttp
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription

from gikai.media.sfu.assembler import FrameAssembler
from gikai.media.sfu.frames import EncodedFrame
from gikai.media.sfu.peer import tap_receiver
from tests.support.encoded import EncodedSourceTrack

PLUGIN = "janus.plugin.videoroom"
TIMEOUT = 30.0  # seconds for one request's answer (generous: the machine is shared)


class JanusError(RuntimeError):
    pass


class JanusSession:
    """A Janus session: requests by POST, events by long poll, routed to handles."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http = http
        self.url = url
        self.id = 0
        self.handles: dict[int, JanusHandle] = {}
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._poller: asyncio.Task[None] | None = None

    async def post(self, path: str, body: dict[str, Any],
                   waiter: asyncio.Future[dict[str, Any]] | None = None) -> dict[str, Any]:
        transaction = secrets.token_hex(8)
        if waiter is not None:  # the event may come back on the long poll before this POST returns
            self._waiting[transaction] = waiter
        async with self.http.post(self.url + path, json={**body, "transaction": transaction},
                                  timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as response:
            answer: dict[str, Any] = await response.json(content_type=None)
        if answer.get("janus") == "error":
            self._waiting.pop(transaction, None)
            raise JanusError(f"{body.get('janus')}: {answer['error']}")
        if waiter is not None and answer.get("janus") != "ack":
            self._waiting.pop(transaction, None)
        return answer

    async def create(self) -> None:
        self.id = (await self.post("", {"janus": "create"}))["data"]["id"]
        self._poller = asyncio.ensure_future(self._poll())

    async def attach(self) -> JanusHandle:
        answer = await self.post(f"/{self.id}", {"janus": "attach", "plugin": PLUGIN})
        handle = JanusHandle(self, answer["data"]["id"])
        self.handles[handle.id] = handle
        return handle

    async def _poll(self) -> None:
        while True:
            try:
                async with self.http.get(f"{self.url}/{self.id}?maxev=20",
                                         timeout=aiohttp.ClientTimeout(total=TIMEOUT + 35)) as response:
                    events = await response.json(content_type=None)
            except (TimeoutError, aiohttp.ClientError):
                if self.http.closed:
                    return
                await asyncio.sleep(0.2)
                continue
            for event in events if isinstance(events, list) else [events]:
                self._dispatch(event)

    def _dispatch(self, event: dict[str, Any]) -> None:
        waiter = self._waiting.pop(event.get("transaction", ""), None)
        if waiter is not None and event.get("janus") in ("event", "success", "error"):
            if not waiter.done():
                waiter.set_result(event)
            return
        handle = self.handles.get(event.get("sender", 0))
        if handle is not None and handle.on_event is not None:
            handle.on_event(event)

    async def destroy(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
        if self.id:
            with contextlib.suppress(Exception):
                await self.post(f"/{self.id}", {"janus": "destroy"})


class JanusHandle:
    def __init__(self, session: JanusSession, handle_id: int) -> None:
        self.session = session
        self.id = handle_id
        self.on_event: Callable[[dict[str, Any]], None] | None = None

    async def message(self, body: dict[str, Any], jsep: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a plugin request; return its answer (synchronous) or its event (asynchronous)."""
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        request = {"janus": "message", "body": body, **({"jsep": jsep} if jsep else {})}
        answer = await self.session.post(f"/{self.session.id}/{self.id}", request, waiter)
        if answer.get("janus") == "ack":
            answer = await asyncio.wait_for(waiter, TIMEOUT)
        data = answer.get("plugindata", {}).get("data", {})
        if "error" in data or answer.get("janus") == "error":
            raise JanusError(f"{body.get('request')}: {data.get('error') or answer.get('error')}")
        return answer


def _vp8_only(transceiver: Any) -> None:
    codecs = RTCRtpSender.getCapabilities("video").codecs
    transceiver.setCodecPreferences([c for c in codecs if c.mimeType in ("video/VP8", "video/rtx")])


class JanusParticipant:
    """Publishes ``video`` into ``room`` as ``name`` and receives every other publisher.

    ``frame_counts[(publisher, "video")]`` counts complete frames received per publisher
    (as MediaClient's), ``on_frame(publisher, frame)`` sees each of them."""

    def __init__(self, name: str, http: aiohttp.ClientSession, url: str, room: int,
                 video: EncodedSourceTrack,
                 on_frame: Callable[[str, EncodedFrame], None] | None = None) -> None:
        self.name = name
        self.room = room
        self.video = video
        self.on_frame = on_frame
        self.session = JanusSession(http, url)
        self.frame_counts: dict[tuple[str, str], int] = defaultdict(int)
        self.offers = 0  # offers Janus made to this subscriber
        self.feed_id = 0
        self.streams: dict[str, str] = {}  # subscriber mid -> publisher's name
        self._config = RTCConfiguration(iceServers=[])
        self._pub_pc = RTCPeerConnection(self._config)
        self._sub_pc: RTCPeerConnection | None = None
        self._sub: JanusHandle | None = None
        self._known: set[int] = set()
        self._pending: dict[int, str] = {}
        self._tapped: set[int] = set()
        self._subscriber: asyncio.Task[None] | None = None
        self.errors: list[BaseException] = []

    async def join(self) -> None:
        """Join and publish; subscriptions follow in the background as feeds appear."""
        await self.session.create()
        publisher = await self.session.attach()
        publisher.on_event = self._publisher_event
        joined = await publisher.message({"request": "join", "ptype": "publisher",
                                          "room": self.room, "display": self.name})
        data = joined["plugindata"]["data"]
        self.feed_id = data["id"]
        transceiver = self._pub_pc.addTransceiver(self.video, direction="sendonly")
        _vp8_only(transceiver)
        transceiver.sender._send_keyframe = self.video.request_keyframe  # Janus's PLI: jump to a keyframe
        await self._pub_pc.setLocalDescription(await self._pub_pc.createOffer())
        offer = self._pub_pc.localDescription
        answer = await publisher.message({"request": "publish", "audio": False, "video": True},
                                         {"type": "offer", "sdp": offer.sdp, "trickle": False})
        await self._pub_pc.setRemoteDescription(
            RTCSessionDescription(sdp=answer["jsep"]["sdp"], type=answer["jsep"]["type"]))
        self._want(data.get("publishers", []))

    def _publisher_event(self, event: dict[str, Any]) -> None:
        data = event.get("plugindata", {}).get("data", {})
        if data.get("publishers"):
            self._want(data["publishers"])

    def _want(self, publishers: list[dict[str, Any]]) -> None:
        for p in publishers:
            if p["id"] != self.feed_id and p["id"] not in self._known:
                self._known.add(p["id"])
                self._pending[p["id"]] = p.get("display", str(p["id"]))
        if self._pending and (self._subscriber is None or self._subscriber.done()):
            self._subscriber = asyncio.ensure_future(self._subscribe())

    async def _subscribe(self) -> None:
        """One subscription change at a time: request, Janus's offer, our answer, started."""
        try:
            while self._pending:
                feeds = [{"feed": feed} for feed in self._pending]
                self._pending.clear()
                if self._sub is None:
                    self._sub = await self.session.attach()
                    self._sub_pc = RTCPeerConnection(self._config)
                    event = await self._sub.message({"request": "join", "ptype": "subscriber",
                                                     "room": self.room, "streams": feeds})
                else:
                    event = await self._sub.message({"request": "subscribe", "streams": feeds})
                await self._answer(event)
        except Exception as exc:  # kept for the caller: a background task has nobody to raise to
            self.errors.append(exc)
            logging.getLogger("bench.janus").error("%s: subscription failed: %r", self.name, exc)

    async def _answer(self, event: dict[str, Any]) -> None:
        assert self._sub is not None and self._sub_pc is not None
        data = event["plugindata"]["data"]
        self.streams = {s["mid"]: s.get("feed_display", str(s.get("feed_id")))
                        for s in data.get("streams", []) if s.get("type") == "video" and "feed_id" in s}
        jsep = event.get("jsep")
        if not jsep:
            return
        self.offers += 1
        pc = self._sub_pc
        await pc.setRemoteDescription(RTCSessionDescription(sdp=jsep["sdp"], type=jsep["type"]))
        for t in pc.getTransceivers():
            if t.mid in self.streams and id(t.receiver) not in self._tapped:
                self._tapped.add(id(t.receiver))
                t.direction = "recvonly"
                tap_receiver(t.receiver, FrameAssembler(t.kind, self._sink(t.mid)))
        await pc.setLocalDescription(await pc.createAnswer())
        await self._sub.message({"request": "start"},
                                {"type": "answer", "sdp": pc.localDescription.sdp, "trickle": False})

    def _sink(self, mid: str) -> Callable[[EncodedFrame], None]:
        def sink(frame: EncodedFrame) -> None:
            publisher = self.streams.get(mid)
            if publisher is None:
                return
            self.frame_counts[(publisher, "video")] += 1
            if self.on_frame is not None:
                self.on_frame(publisher, frame)
        return sink

    async def close(self) -> None:
        if self._subscriber is not None:
            self._subscriber.cancel()
        await self.session.destroy()
        await self._pub_pc.close()
        if self._sub_pc is not None:
            await self._sub_pc.close()
