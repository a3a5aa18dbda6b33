"""Members who attend over a plain WebSocket from Python: cheap extra attendees for quorum.

Attendance counts socket joins, so a handful of these make a quorum without a browser
each. They answer the server's offers with every m-line inactive (no media flows, but
the media connection comes up, so the server does not drop them for not answering),
and can send sitting commands like any client.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
from collections.abc import Callable
from typing import Any

import aiohttp
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcconfiguration import RTCBundlePolicy

from gikai.media.sfu.ice import set_host_addresses
from tests.support.client import upload_slots
from tests.support.waiting import BROWSER_BOUND

REJOIN_PAUSE = 1.0  # seconds before a dropped publisher joins again


class _Member:
    def __init__(self, ws_url: str, token: str) -> None:
        self.ws_url = ws_url
        self.token = token
        self.http: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.pc: RTCPeerConnection | None = None
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.reader: asyncio.Task[None] | None = None
        self.answers: set[asyncio.Task[None]] = set()
        self.id = ""
        self.last_sitting: dict[str, Any] = {}
        self.captions: list[dict[str, Any]] = []  # live captions pushed to this member, in order

    async def start(self) -> str:
        self.http = aiohttp.ClientSession()
        self.ws = await self.http.ws_connect(self.ws_url)
        self.reader = asyncio.ensure_future(self._read())
        reply = await self.request("join", token=self.token)
        if reply["type"] != "reply":
            raise RuntimeError(f"join refused: {reply}")
        self.id = reply["data"]["participant"]["id"]
        self.last_sitting = reply["data"]["sitting"]
        return self.id

    async def request(self, message_type: str, **fields: Any) -> dict[str, Any]:
        assert self.ws is not None
        rid = next(self.ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[rid] = future
        await self.ws.send_json({"v": 1, "id": rid, "type": message_type, **fields})
        # A server on a loaded machine has taken more than 15 s to reply to a join.
        return await asyncio.wait_for(future, BROWSER_BOUND)

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            if data.get("type") in ("reply", "error") and data.get("re") in self.pending:
                self.pending.pop(data["re"]).set_result(data)
            elif data.get("type") == "offer":
                task = asyncio.ensure_future(self._answer(data))
                self.answers.add(task)  # kept until done: a task nobody holds may vanish
                task.add_done_callback(self.answers.discard)
            elif data.get("type") == "sitting":
                self.last_sitting = data["sitting"]
            elif data.get("type") == "caption":
                self.captions.append(data["caption"])
        for future in self.pending.values():  # the socket closed: nobody will answer these
            if not future.done():
                future.set_exception(ConnectionError("socket closed"))
        self.pending.clear()

    async def _answer(self, offer: dict[str, Any]) -> None:
        if self.pc is None:
            self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type="offer"))
        for transceiver in self.pc.getTransceivers():
            transceiver.direction = "inactive"
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        with contextlib.suppress(TimeoutError, ConnectionError, RuntimeError):  # the socket is gone (a restart): nothing to answer any more
            await self.request("answer", sdp=self.pc.localDescription.sdp, revision=offer["revision"])

    async def close(self) -> None:
        if self.ws is not None and not self.ws.closed:
            await self.ws.close()
        if self.reader is not None:
            await asyncio.gather(self.reader, return_exceptions=True)
        if self.pc is not None:
            await self.pc.close()
        if self.http is not None:
            await self.http.close()


class _Publisher(_Member):
    """A member who publishes ``sources`` (upload slot -> track) and receives nothing: every m-line
    that carries someone else's media, and an upload slot without a source, is answered inactive
    (the others' media would cost the test's two cores and prove nothing)."""

    def __init__(self, ws_url: str, token: str, sources: dict[str, Any]) -> None:
        super().__init__(ws_url, token)
        self.sources = sources
        self.closing = False
        self.rejoins = 0
        self._keeper: asyncio.Task[None] | None = None

    async def start(self) -> str:
        participant_id = await super().start()
        if self._keeper is None:
            self._keeper = asyncio.ensure_future(self._keep_joined())
        return participant_id

    async def _keep_joined(self) -> None:
        """Join again when the server ends the media connection and closes the socket, as the
        browser client does: on a starved machine the server's ICE consent to this process can
        expire (it then drops the peer), and a member who never came back would fail a test
        about something else."""
        while not self.closing:
            assert self.reader is not None
            await asyncio.gather(self.reader, return_exceptions=True)
            if self.closing:
                return
            await self._drop()
            while not self.closing:
                await asyncio.sleep(REJOIN_PAUSE)
                try:
                    await super().start()
                except Exception:
                    await self._drop()
                    continue
                self.rejoins += 1
                break

    async def _drop(self) -> None:
        """Forget the old connection: a new socket, session and peer connection come with the next join."""
        pc, http = self.pc, self.http
        self.pc = self.http = self.ws = None
        for closing in (pc, http):
            if closing is not None:
                with contextlib.suppress(Exception):
                    await closing.close()

    async def close(self) -> None:
        self.closing = True
        if self._keeper is not None:
            self._keeper.cancel()
            await asyncio.gather(self._keeper, return_exceptions=True)
        await super().close()

    def keyframe_requested(self) -> None:
        """What a source does when a receiver asks for a keyframe (nothing, unless overridden)."""

    async def _answer(self, offer: dict[str, Any]) -> None:
        if self.pc is None:
            self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type="offer"))
        for t, slot in upload_slots(self.pc, offer["streams"]):
            source = self.sources.get(slot) if slot is not None else None
            if source is None:
                t.direction = "inactive"
                continue
            if t.sender.track is None:
                t.sender.replaceTrack(source)
                t.sender._send_keyframe = self.keyframe_requested
            t.direction = "sendonly"
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        with contextlib.suppress(TimeoutError, ConnectionError, RuntimeError):  # the socket is gone: nothing to answer any more
            await self.request("answer", sdp=self.pc.localDescription.sdp, revision=offer["revision"])


class SocketMembers:
    """A background event loop holding any number of socket-only members. Subclasses hold members
    of their own kind (``cameramembers.py``, ``speakers.py``) and may wait longer for them."""

    THREAD = "socket-members"
    RUN_BOUND = 2 * BROWSER_BOUND

    def __init__(self, base_url: str) -> None:
        self.ws_url = base_url.rstrip("/") + "/ws"
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=self.THREAD, daemon=True)
        self.thread.start()
        self.members: list[Any] = []
        set_host_addresses(["127.0.0.1"])  # aioice leaves loopback out unless told

    def _run(self, coro: Any, timeout: float | None = None) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout or self.RUN_BOUND)

    def _add(self, make: Callable[[str], _Member], link: str) -> str:
        """Make a member with the link's token on the members' loop (their tracks belong to it),
        join; returns the participant id."""
        async def start() -> str:
            member = make(link.split("#", 1)[1])
            self.members.append(member)
            return await member.start()
        return str(self._run(start()))

    def join(self, link: str) -> str:
        """Join with a rehearsal link; returns the participant id."""
        return self._add(lambda token: _Member(self.ws_url, token), link)

    def command(self, index: int, name: str, **fields: Any) -> dict[str, Any]:
        return self._run(self.members[index].request("command", name=name, **fields))

    def request(self, index: int, message_type: str, **fields: Any) -> dict[str, Any]:
        """Any request (e.g. the chair's ``ballot``); returns the reply or error message."""
        return self._run(self.members[index].request(message_type, **fields))

    def sitting(self, index: int = 0) -> dict[str, Any]:
        return self.members[index].last_sitting

    def captions(self, index: int = 0) -> list[dict[str, Any]]:
        return list(self.members[index].captions)

    async def _close_all(self) -> None:
        await asyncio.gather(*(m.close() for m in self.members), return_exceptions=True)

    def close(self) -> None:
        try:
            self._run(self._close_all())
        finally:
            self.members.clear()
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            self.loop.close()
            set_host_addresses(None)
