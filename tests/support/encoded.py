"""Pre-encoded test media: VP8 and Opus packets made once with ``av``, played as tracks.

The publisher's sender packetizes these packets without encoding (see media.frames),
so a test can compare what a subscriber reassembles with exactly what was published.
"""

from __future__ import annotations

import asyncio
import fractions
import time
from functools import lru_cache

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from gikai.media.sfu.frames import AUDIO_TIME_BASE, VIDEO_TIME_BASE, EncodedFrame, vp8_is_keyframe


@lru_cache(maxsize=8)
def encode_vp8(
    width: int = 640,
    height: int = 360,
    fps: int = 15,
    frames: int = 60,
    bitrate: int = 600_000,
    gop: int = 15,
    colour: tuple[int, int, int] = (128, 64, 200),
) -> tuple[bytes, ...]:
    """A moving test picture encoded as VP8; a keyframe every ``gop`` frames."""
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height = width, height
    codec.pix_fmt = "yuv420p"
    codec.time_base = fractions.Fraction(1, fps)
    codec.framerate = fractions.Fraction(fps, 1)
    codec.bit_rate = bitrate
    codec.gop_size = gop
    codec.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    y, x = np.mgrid[0:height, 0:width]
    packets: list[bytes] = []
    for i in range(frames):
        img = np.empty((height, width, 3), dtype=np.uint8)
        img[..., 0] = (x + i * 7 + colour[0]) % 256
        img[..., 1] = (y + i * 3 + colour[1]) % 256
        img[..., 2] = colour[2]
        box = (i * 11) % (width - 80)
        img[100:180, box : box + 80] = 255
        frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        frame.pict_type = av.video.frame.PictureType.I if i % gop == 0 else av.video.frame.PictureType.NONE
        packets += [bytes(p) for p in codec.encode(frame)]
    packets += [bytes(p) for p in codec.encode(None)]
    assert vp8_is_keyframe(packets[0])
    return tuple(packets)


@lru_cache(maxsize=8)
def encode_solid_vp8(colour: tuple[int, int, int], width: int = 320, height: int = 180, fps: int = 15,
                     frames: int = 30, gop: int = 15) -> tuple[bytes, ...]:
    """One flat colour (with a small moving white block, so frames differ) as VP8: a picture
    whose colour says whose camera it is after any scaling and re-encoding."""
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.time_base, codec.framerate = fractions.Fraction(1, fps), fractions.Fraction(fps, 1)
    codec.bit_rate, codec.gop_size = 300_000, gop
    codec.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    packets: list[bytes] = []
    for i in range(frames):
        img = np.empty((height, width, 3), dtype=np.uint8)
        img[:] = colour
        x = (i * 4) % (width - 8)
        img[height - 12:height - 4, x:x + 8] = 255
        frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        frame.pict_type = av.video.frame.PictureType.I if i % gop == 0 else av.video.frame.PictureType.NONE
        packets += [bytes(p) for p in codec.encode(frame)]
    packets += [bytes(p) for p in codec.encode(None)]
    return tuple(packets)


@lru_cache(maxsize=4)
def encode_opus(seconds: float = 2.0, hz: float = 440.0) -> tuple[bytes, ...]:
    """A tone encoded as 20 ms Opus packets."""
    codec = av.CodecContext.create("libopus", "w")
    codec.sample_rate = 48000
    codec.layout = "stereo"
    codec.format = "s16"
    codec.bit_rate = 64000
    codec.time_base = AUDIO_TIME_BASE
    samples = int(48000 * seconds)
    t = np.arange(samples) / 48000
    pcm = (np.sin(2 * np.pi * hz * t) * 8000).astype(np.int16)
    stereo = np.repeat(pcm, 2).reshape(1, -1)
    packets: list[bytes] = []
    for start in range(0, samples - 960 + 1, 960):
        chunk = stereo[:, start * 2 : (start + 960) * 2]
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="s16", layout="stereo")
        frame.sample_rate = 48000
        frame.pts = start
        packets += [bytes(p) for p in codec.encode(frame)]
    return tuple(packets)


class EncodedSourceTrack(MediaStreamTrack):
    """Plays pre-encoded frames in a loop at their real rate, like a camera or mic would.

    ``request_keyframe`` (wired to the sender's PLI handling) jumps to the next keyframe;
    ``sent`` records (pts, data, monotonic send time) of every frame handed out.
    """

    def __init__(self, kind: str, packets: tuple[bytes, ...], fps: float, record: bool = True) -> None:
        super().__init__()
        self.kind = kind
        self._packets = packets
        self._interval = 1.0 / fps
        self._step = round((90000 if kind == "video" else 48000) / fps)
        self._index = 0
        self._count = 0
        self._start: float | None = None
        self._record = record
        self.keyframe_requests = 0
        self.sent: list[tuple[int, bytes, float]] = []

    def request_keyframe(self) -> None:
        self.keyframe_requests += 1
        if self.kind != "video":
            return
        for ahead in range(len(self._packets)):
            i = (self._index + ahead) % len(self._packets)
            if vp8_is_keyframe(self._packets[i]):
                self._index = i
                return

    async def recv(self) -> EncodedFrame:  # type: ignore[override]
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self._count * self._interval
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        data = self._packets[self._index]
        self._index = (self._index + 1) % len(self._packets)
        pts = self._count * self._step
        self._count += 1
        if self._record:
            self.sent.append((pts, data, time.monotonic()))
        time_base = VIDEO_TIME_BASE if self.kind == "video" else AUDIO_TIME_BASE
        return EncodedFrame(data, pts, time_base, self.kind == "audio" or vp8_is_keyframe(data))
