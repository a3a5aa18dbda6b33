"""A subscriber on a weak link, run as its own process inside a network namespace:

    ip netns exec NS python -m tests.media.weak_subscriber ADDRESS

It gathers ICE on ADDRESS only and talks to the test over stdin and stdout, one JSON object a
line. In: ``{"type": "offer", "sdp", "revision", "streams"}`` (the SFU's offer; it answers
``{"type": "answer", "sdp", "revision"}``), ``{"type": "report"}`` (it answers
``{"type": "report", "video": [...], "audio": n}``: the monotonic time at which each remote
video frame came out of the decoder, and how many audio frames), ``{"type": "stop"}``.

Unlike tests.support.client it decodes the video it receives (libvpx through ``av``): a frame
counts only if it decoded, which is what a thinned-out stream must allow. Frames are completed
by gikai's FrameAssembler, which gives a frame up after a few newer ones and asks for a
keyframe, as a browser does; aiortc's own jitter buffer waits for a lost packet until 512 newer
ones arrived, half a minute at 7.5 fps, which no browser does.
The clock is CLOCK_MONOTONIC, the same in every namespace, so the test compares the times.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcconfiguration import RTCBundlePolicy

from gikai.media.sfu.assembler import FrameAssembler
from gikai.media.sfu.frames import EncodedFrame
from gikai.media.sfu.ice import set_host_addresses
from gikai.media.sfu.peer import tap_receiver


class Subscriber:
    def __init__(self) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
        self.video: list[float] = []  # when each video frame was decoded
        self.decode_errors = 0
        self.audio = 0
        self._decoder = av.CodecContext.create("libvpx", "r")
        self._tapped: set[str] = set()

    def on_video(self, frame: EncodedFrame) -> None:
        try:
            pictures = self._decoder.decode(av.Packet(frame.data))
        except av.FFmpegError:
            self.decode_errors += 1
            return
        self.video += [time.monotonic()] * len(pictures)

    def on_audio(self, frame: EncodedFrame) -> None:
        self.audio += 1

    async def answer(self, sdp: str, streams: dict[str, object]) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        for t in self.pc.getTransceivers():
            # Receive what the SFU sends; publish nothing (this member's uplink is not the test).
            t.direction = "recvonly" if t.mid in streams else "inactive"
            if t.mid in streams and t.mid not in self._tapped:
                self._tapped.add(t.mid)
                sink = self.on_video if t.kind == "video" else self.on_audio
                tap_receiver(t.receiver, FrameAssembler(t.kind, sink))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return self.pc.localDescription.sdp


def say(message: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def main(address: str) -> None:
    set_host_addresses([address])
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 22)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    subscriber = Subscriber()
    try:
        while line := await reader.readline():
            message = json.loads(line)
            if message["type"] == "offer":
                sdp = await subscriber.answer(message["sdp"], message["streams"])
                say({"type": "answer", "sdp": sdp, "revision": message["revision"]})
            elif message["type"] == "report":
                say({"type": "report", "video": subscriber.video, "audio": subscriber.audio,
                     "decode_errors": subscriber.decode_errors})
            elif message["type"] == "stop":
                break
    finally:
        await subscriber.pc.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
