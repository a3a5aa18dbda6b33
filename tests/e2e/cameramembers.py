"""Members who attend from Python with a camera: aiortc clients that publish a pre-encoded
scene (tests/support/scenes.py) so that the server's presence detection sees a face.

Cheaper than a Chromium each: nothing is encoded while the test runs, and they receive
nothing (every m-line that carries someone else's media is answered inactive). They send
no `reception` reports, which the server takes as "cannot tell" rather than a lost link.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcconfiguration import RTCBundlePolicy

from gikai.media.sfu.ice import set_host_addresses
from tests.support import scenes
from tests.support.client import upload_slots
from tests.support.encoded import EncodedSourceTrack
from tests.support.waiting import BROWSER_BOUND

from .socketmembers import _Member


class _CameraMember(_Member):
    def __init__(self, ws_url: str, token: str, scene: str) -> None:
        super().__init__(ws_url, token)
        # 320x180: the server analyses 160x90; the browsers and the server decode it four times
        # cheaper than 640x360 (six cameras, three browsers, two cores).
        # 7.5 frames a second, half the clip's rate: the face moves more slowly, which presence
        # detection cannot tell from a calmer person, and the server decodes half as much.
        self.video = EncodedSourceTrack("video", scenes.video(scene, 320, 180), 7.5, record=False)
        self.audio = EncodedSourceTrack("audio", scenes.audio("speech"), 50, record=False)
        self.keyframe_requests = 0

    def keyframe_requested(self) -> None:
        """A camera answers a keyframe request with a keyframe of what it sees now; a looped clip
        could only jump to its next keyframe, and with the browsers' frequent requests it would
        show the same few pictures over and over, which the server rightly takes for a frozen
        camera. The clip has a keyframe every second: a receiver recovers by then."""
        self.keyframe_requests += 1

    async def _answer(self, offer: dict[str, Any]) -> None:
        if self.pc is None:
            self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type="offer"))
        for t, slot in upload_slots(self.pc, offer["streams"]):
            if slot not in ("audio", "video"):
                # Publish only: the others' media would cost the test's two cores and prove
                # nothing; no screen share either.
                t.direction = "inactive"
            else:
                source = self.video if slot == "video" else self.audio
                if t.sender.track is None:
                    t.sender.replaceTrack(source)
                    t.sender._send_keyframe = self.keyframe_requested
                t.direction = "sendonly"
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        with contextlib.suppress(TimeoutError, ConnectionError, RuntimeError):  # the socket is gone: nothing to answer any more
            await self.request("answer", sdp=self.pc.localDescription.sdp, revision=offer["revision"])


class CameraMembers:
    """A background event loop holding members who publish a camera scene."""

    def __init__(self, base_url: str) -> None:
        self.ws_url = base_url.rstrip("/") + "/ws"
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="camera-members", daemon=True)
        self.thread.start()
        self.members: list[_CameraMember] = []
        set_host_addresses(["127.0.0.1"])  # aioice leaves loopback out unless told

    def _run(self, coro: Any, timeout: float = 3 * BROWSER_BOUND) -> Any:
        # A join (socket, offer, answer, ICE) on a loaded machine took more than 60 s.
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def join(self, link: str, scene: str = "face") -> str:
        """Join with a rehearsal link, publishing ``scene``; returns the participant id."""
        async def start() -> str:
            member = _CameraMember(self.ws_url, link.split("#", 1)[1], scene)
            self.members.append(member)
            return await member.start()
        return self._run(start())

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
