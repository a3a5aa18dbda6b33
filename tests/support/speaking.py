"""A microphone from Python that is silent until told to say something: a synthesised sentence as
20 ms Opus packets (encoded before the test runs), sent at the real rate. Tests then know exactly
what was said and when the speech ended."""

from __future__ import annotations

import asyncio
import collections
import time
import wave
from pathlib import Path

import av
import numpy as np
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from gikai.media.sfu.frames import AUDIO_TIME_BASE, EncodedFrame

FRAME = 960  # 20 ms at 48 kHz
RATE = 48000


def _encode(pcm: np.ndarray) -> list[bytes]:
    """Mono int16 samples at 48 kHz as 20 ms Opus packets."""
    codec = av.CodecContext.create("libopus", "w")
    codec.sample_rate = RATE
    codec.layout = "stereo"
    codec.format = "s16"
    codec.bit_rate = 48000
    codec.time_base = AUDIO_TIME_BASE
    stereo = np.repeat(pcm.astype(np.int16), 2)
    packets: list[bytes] = []
    for start in range(0, len(pcm) - FRAME + 1, FRAME):
        chunk = stereo[start * 2:(start + FRAME) * 2].reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="s16", layout="stereo")
        frame.sample_rate = RATE
        frame.pts = start
        packets += [bytes(p) for p in codec.encode(frame)]
    return packets


def opus_speech(wav: Path) -> list[bytes]:
    """A WAV file (any rate, mono) as 20 ms Opus packets at 48 kHz, with half a second of silence after."""
    with wave.open(str(wav)) as w:
        rate, data = w.getframerate(), w.readframes(w.getnframes())
        assert w.getsampwidth() == 2, "16-bit WAV expected"
        channels = w.getnchannels()
    pcm = np.frombuffer(data, np.int16).reshape(-1, channels)[:, 0].astype(np.float64)
    resampled = np.interp(np.arange(0, len(pcm), rate / RATE), np.arange(len(pcm)), pcm)
    return _encode(np.concatenate([resampled, np.zeros(RATE // 2)]))


SILENCE = tuple(_encode(np.zeros(RATE // 5)))  # 0.2 s, looped between sentences


class SpeakingTrack(MediaStreamTrack):
    """A microphone at the real rate: silence, or the packets queued by ``say``."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._queue: collections.deque[bytes] = collections.deque()
        self._count = 0
        self._start: float | None = None

    def request_keyframe(self) -> None:
        """A microphone has no keyframes (the SFU asks every source when a subscriber joins)."""

    def say(self, packets: list[bytes]) -> float:
        """Queue a sentence; returns the wall-clock time (time.time()) at which its speech ends."""
        ahead = len(self._queue) * 0.02
        self._queue.extend(packets)
        return time.time() + ahead + (len(packets) - RATE // 2 // FRAME) * 0.02

    async def recv(self) -> EncodedFrame:  # type: ignore[override]
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        delay = self._start + self._count * 0.02 - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        data = self._queue.popleft() if self._queue else SILENCE[self._count % len(SILENCE)]
        pts = self._count * FRAME
        self._count += 1
        return EncodedFrame(data, pts, AUDIO_TIME_BASE, True)
