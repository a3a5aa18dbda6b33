"""An aiortc client that behaves like gikai's browser client, for media tests.

It answers the server's offers, publishes on the receive-only m-lines the server made
for it, and reassembles what it receives into encoded frames without decoding, so
tests can compare bytes with what each publisher sent.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Optional

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcconfiguration import RTCBundlePolicy

from media.assembler import FrameAssembler
from media.frames import EncodedFrame
from media.peer import Offer, tap_receiver

from .encoded import EncodedSourceTrack, encode_opus, encode_vp8


class MediaClient:
    def __init__(self, name: str, video: Optional[EncodedSourceTrack] = None,
                 audio: Optional[EncodedSourceTrack] = None, keep_frames: bool = True) -> None:
        self.name = name
        self.pc = RTCPeerConnection(
            # BALANCED would leave a second same-kind m-line of a first offer unbundled (aiortc).
            RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        )
        self.video = video or EncodedSourceTrack("video", encode_vp8(), 15)
        self.audio = audio or EncodedSourceTrack("audio", encode_opus(), 50)
        self.streams: dict[str, dict[str, str]] = {}
        # publisher id -> kind -> [(frame, monotonic arrival)]
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
            key = (info["participant"], kind)
            self.frame_counts[key] += 1
            if self._keep:
                self.received[info["participant"]][kind].append((frame, time.monotonic()))
        return sink

    async def handle_offer(self, offer: Offer) -> str:
        self.offers += 1
        self.streams = dict(offer.streams)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer.sdp, type="offer"))
        for t in self.pc.getTransceivers():
            if t.mid in offer.streams:
                t.direction = "recvonly"
                if id(t.receiver) not in self._tapped:
                    self._tapped.add(id(t.receiver))
                    tap_receiver(t.receiver, FrameAssembler(t.kind, self._sink_for(t.mid, t.kind)))
            elif t.sender.track is None and t.kind in ("audio", "video"):
                source = self.video if t.kind == "video" else self.audio
                t.sender.replaceTrack(source)
                t.sender._send_keyframe = source.request_keyframe
                t.direction = "sendonly"
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return self.pc.localDescription.sdp

    def frames_from(self, publisher: str, kind: str = "video") -> list[EncodedFrame]:
        return [f for f, _ in self.received[publisher][kind]]

    async def close(self) -> None:
        await self.pc.close()
