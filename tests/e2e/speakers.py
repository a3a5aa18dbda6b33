"""Members who speak from Python: aiortc clients that publish only a microphone
(tests/support/speaking.py), silent until the test makes them say something."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcconfiguration import RTCBundlePolicy

from gikai.media.sfu.ice import set_host_addresses
from tests.support.client import upload_slots
from tests.support.speaking import SpeakingTrack, opus_speech
from tests.support.waiting import BROWSER_BOUND

from .socketmembers import _Member

__all__ = ["Speakers", "opus_speech"]

class _Speaker(_Member):
    def __init__(self, ws_url: str, token: str) -> None:
        super().__init__(ws_url, token)
        self.microphone = SpeakingTrack()

    async def _answer(self, offer: dict[str, Any]) -> None:
        if self.pc is None:
            self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type="offer"))
        for t, slot in upload_slots(self.pc, offer["streams"]):
            if slot != "audio":
                t.direction = "inactive"  # a microphone only: nothing else is needed, or decoded
            else:
                if t.sender.track is None:
                    t.sender.replaceTrack(self.microphone)
                t.direction = "sendonly"
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        with contextlib.suppress(TimeoutError, ConnectionError, RuntimeError):
            await self.request("answer", sdp=self.pc.localDescription.sdp, revision=offer["revision"])


class Speakers:
    """A background event loop holding members who speak when told."""

    def __init__(self, base_url: str) -> None:
        self.ws_url = base_url.rstrip("/") + "/ws"
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="speakers", daemon=True)
        self.thread.start()
        self.members: list[_Speaker] = []
        set_host_addresses(["127.0.0.1"])

    def _run(self, coro: Any, timeout: float = 3 * BROWSER_BOUND) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def join(self, link: str) -> str:
        async def start() -> str:
            member = _Speaker(self.ws_url, link.split("#", 1)[1])
            self.members.append(member)
            return await member.start()
        return self._run(start())

    def media_up(self, index: int) -> bool:
        pc = self.members[index].pc
        return pc is not None and pc.connectionState == "connected"

    def say(self, index: int, packets: list[bytes]) -> float:
        async def queue() -> float:
            return self.members[index].microphone.say(packets)
        return float(self._run(queue()))

    def command(self, index: int, name: str, **fields: Any) -> dict[str, Any]:
        return self._run(self.members[index].request("command", name=name, **fields))

    def close(self) -> None:
        async def close_all() -> None:
            await asyncio.gather(*(m.close() for m in self.members), return_exceptions=True)
        try:
            self._run(close_all())
        finally:
            self.members.clear()
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            self.loop.close()
            set_host_addresses(None)
