"""An aiortc client that behaves like gikai's browser client, for media tests.

It answers the server's offers, publishes on the receive-only m-lines the server made
for it (the first of each kind is the camera or microphone, the second video one the screen
share, which stays empty unless a ``screen`` source is given), and reassembles what it receives into encoded frames without decoding, so
tests can compare bytes with what each publisher sent.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcconfiguration import RTCBundlePolicy

from gikai.media.sfu.assembler import FrameAssembler
from gikai.media.sfu.frames import EncodedFrame
from gikai.media.sfu.peer import Offer, tap_receiver

from .encoded import EncodedSourceTrack, encode_opus, encode_vp8


def upload_slots(pc: RTCPeerConnection, streams: dict[str, Any]) -> list[tuple[Any, str | None]]:
    """Every transceiver of an applied offer with what the client does on it: None to receive
    (the m-line is in ``streams``), else its upload slot: the first unnamed audio m-line is the
    microphone ("audio"), the first video one the camera ("video"), the second video one the
    screen share ("screen"), as the browser client does (web/js/peer.js)."""
    out: list[tuple[Any, str | None]] = []
    seen: dict[str, int] = {}
    for t in pc.getTransceivers():
        if t.mid in streams:
            out.append((t, None))
        elif t.kind in ("audio", "video"):
            n = seen[t.kind] = seen.get(t.kind, 0) + 1
            out.append((t, t.kind if n == 1 else "screen" if t.kind == "video" and n == 2 else "extra"))
    return out


class MediaClient:
    def __init__(self, name: str, video: EncodedSourceTrack | None = None,
                 audio: EncodedSourceTrack | None = None, keep_frames: bool = True,
                 screen: EncodedSourceTrack | None = None) -> None:
        self.name = name
        self.pc = RTCPeerConnection(
            # BALANCED would leave a second same-kind m-line of a first offer unbundled (aiortc).
            RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        )
        self.video = video or EncodedSourceTrack("video", encode_vp8(), 15)
        self.audio = audio or EncodedSourceTrack("audio", encode_opus(), 50)
        self.screen = screen
        self.streams: dict[str, dict[str, str]] = {}
        # publisher id -> slot ("audio", "video", "screen") -> [(frame, monotonic arrival)]
        self.received: dict[str, dict[str, list[tuple[EncodedFrame, float]]]] = defaultdict(lambda: defaultdict(list))
        self.frame_counts: dict[tuple[str, str], int] = defaultdict(int)
        self.latencies: list[float] = []
        self.offers = 0
        self._keep = keep_frames
        self._tapped: set[int] = set()

    def _sink_for(self, mid: str, kind: str):
        def sink(frame: EncodedFrame) -> None:
            info = self.streams.get(mid)
            if info is None:
                return
            slot = info.get("slot", kind)
            self.frame_counts[(info["participant"], slot)] += 1
            if self._keep:
                self.received[info["participant"]][slot].append((frame, time.monotonic()))
        return sink

    async def handle_offer(self, offer: Offer) -> str:
        self.offers += 1
        self.streams = dict(offer.streams)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer.sdp, type="offer"))
        for t, slot in upload_slots(self.pc, offer.streams):
            if slot is None:
                t.direction = "recvonly"
                if id(t.receiver) not in self._tapped:
                    self._tapped.add(id(t.receiver))
                    tap_receiver(t.receiver, FrameAssembler(t.kind, self._sink_for(t.mid, t.kind)))
                continue
            source = {"video": self.video, "audio": self.audio, "screen": self.screen}.get(slot)
            if source is None:
                t.direction = "inactive"
            elif t.sender.track is None:
                t.sender.replaceTrack(source)
                t.sender._send_keyframe = source.request_keyframe
                t.direction = "sendonly"
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return self.pc.localDescription.sdp

    def frames_from(self, publisher: str, kind: str = "video") -> list[EncodedFrame]:
        return [f for f, _ in self.received[publisher][kind]]

    async def close(self) -> None:
        await self.pc.close()
