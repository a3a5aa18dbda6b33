"""A member over the member socket, from Python: joins with a rehearsal token, sends requests,
keeps the latest sitting, and answers the server's offers with its media (a MediaClient) or,
without one, with every m-line inactive (the media connection comes up, nothing flows).
Used by the end-to-end gallery test and bench/gallery_load.py."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import aiohttp
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcconfiguration import RTCBundlePolicy

from gikai.media.sfu.peer import Offer

from .client import MediaClient


class SocketMember:
    def __init__(self, ws_url: str, token: str, media: MediaClient | None = None,
                 session: aiohttp.ClientSession | None = None, timeout: float = 30.0) -> None:
        self.ws_url, self.token, self.media, self.timeout = ws_url, token, media, timeout
        self.http = session
        self._own_http = session is None
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.silent: RTCPeerConnection | None = None
        self.sitting: dict[str, Any] = {}
        self.answers: set[asyncio.Task[None]] = set()

    async def start(self) -> dict[str, Any]:
        """Join; the join reply's data."""
        if self.http is None:
            self.http = aiohttp.ClientSession()
        self.ws = await self.http.ws_connect(self.ws_url)
        self.reader = asyncio.ensure_future(self._read())
        reply = await self.request("join", token=self.token)
        assert reply["type"] == "reply", reply
        self.sitting = reply["data"]["sitting"]
        return reply["data"]

    async def request(self, type_: str, **fields: Any) -> dict[str, Any]:
        rid = next(self.ids)
        self.pending[rid] = asyncio.get_running_loop().create_future()
        await self.ws.send_json({"v": 1, "id": rid, "type": type_, **fields})
        return await asyncio.wait_for(self.pending[rid], self.timeout)

    async def _read(self) -> None:
        async for msg in self.ws:
            data = json.loads(msg.data)
            if data.get("type") in ("reply", "error") and data.get("re") in self.pending:
                self.pending.pop(data["re"]).set_result(data)
            elif data.get("type") == "offer":
                task = asyncio.ensure_future(self._answer(data))
                self.answers.add(task)  # kept until done: a task nobody holds may vanish
                task.add_done_callback(self.answers.discard)
            elif data.get("type") == "sitting":
                self.sitting = data["sitting"]

    async def _answer(self, data: dict[str, Any]) -> None:
        if self.media is not None:
            sdp = await self.media.handle_offer(Offer(data["sdp"], data["revision"], data["streams"]))
        else:
            if self.silent is None:
                self.silent = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
            await self.silent.setRemoteDescription(RTCSessionDescription(sdp=data["sdp"], type="offer"))
            for transceiver in self.silent.getTransceivers():
                transceiver.direction = "inactive"
            await self.silent.setLocalDescription(await self.silent.createAnswer())
            sdp = self.silent.localDescription.sdp
        await self.request("answer", sdp=sdp, revision=data["revision"])

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.gather(self.reader, return_exceptions=True)
        for pc in (self.media, self.silent):
            if pc is not None:
                await pc.close()
        if self._own_http and self.http is not None:
            await self.http.close()
