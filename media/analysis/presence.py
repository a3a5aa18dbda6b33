"""What a published track shows: is the camera live, is there a face, is the microphone live.

Each analysed track gets a decoder of its own, fed from the same encoded frames the SFU
forwards (the forwarding path itself never decodes). Decoding and analysis run in a small
shared thread pool, one batch per track at a time; about two analyses per second per track.
Nothing is stored by this module: the last analysed picture of each camera stays in memory
until the next one replaces it (half a second later), so that a vote can keep a still of the
voter at the moment of casting (``PresenceMonitor.still``) — the only picture gikai keeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

import av
import numpy as np

from gikai.media.sfu.frames import EncodedFrame

logger = logging.getLogger(__name__)

ANALYSE_EVERY = 0.5  # seconds
RATE_WINDOW = 2.0  # seconds over which arrival rate is measured
MIN_LIVE_FPS = 3.0
DARK_MEAN, DARK_STD = 24.0, 6.0  # grey levels (0-255) below which a picture is black or covered
FROZEN_DIFF = 0.6  # mean absolute change between analysed pictures below which nothing moves
FROZEN_AFTER = 3  # analyses in a row without change
VOICE_LEVEL_DB = -45.0  # a 20 ms frame louder than this is "active"
TONAL_PEAK_SHARE = 0.9  # an active frame with this share of its energy in one spectral peak is a tone (speech: < 0.8)
STILL_WIDTH = 320  # evidence stills: enough to recognise a person, small enough to keep with each vote
STILL_MAX_AGE = 2.0  # seconds: an older picture is not "the moment of casting"
MAX_PENDING = 120  # encoded frames waiting for a busy decoder before it starts over at a keyframe


@dataclass(frozen=True)
class VideoObservation:
    at: float  # time.monotonic()
    fps: float
    live: bool  # frames arrive, the picture is neither dark nor frozen
    dark: bool
    frozen: bool
    faces: int


@dataclass(frozen=True)
class AudioObservation:
    at: float
    live: bool  # packets arrive
    active_fraction: float  # share of 20 ms frames above the level
    voice: bool  # activity that is not a steady tone


Observation = VideoObservation | AudioObservation


class FaceDetector:
    """OpenCV's bundled frontal-face Haar cascade, strict enough that a poster is rarely a face."""

    def __init__(self) -> None:
        import cv2
        import cv2.data  # the bundled cascades' folder (not in cv2's type stubs)

        cv2.setNumThreads(1)
        self._cv2 = cv2
        self._local = threading.local()
        self._path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"

    def count(self, gray: np.ndarray) -> int:
        cascade = getattr(self._local, "cascade", None)
        if cascade is None:
            cascade = self._local.cascade = self._cv2.CascadeClassifier(self._path)
        faces = cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(20, 20))
        return len(faces)


class _TrackAnalyser:
    """Receives one track's encoded frames on the event loop; decodes and analyses in the pool."""

    def __init__(self, kind: str, report: Callable[[Observation], None], pool: ThreadPoolExecutor,
                 loop: asyncio.AbstractEventLoop, faces: FaceDetector | None,
                 request_keyframe: Callable[[], None] = lambda: None) -> None:
        self.kind = kind
        self._request_keyframe = request_keyframe
        self._report = report
        self._pool = pool
        self._loop = loop
        self._faces = faces
        self._pending: deque[EncodedFrame] = deque()
        self._busy = False
        self._closed = False
        self._arrivals: deque[float] = deque()
        self._decoder: Any = None
        self._need_keyframe = kind == "video"
        self._last_analysis = 0.0
        self._previous: np.ndarray | None = None
        self._unchanged = 0
        self._levels: deque[tuple[float, bool, bool]] = deque()  # (time, active, tonal) per 20 ms
        self.analyses = 0
        self.latest: tuple[float, av.VideoFrame] | None = None  # the last analysed picture

    def push(self, frame: EncodedFrame) -> None:
        now = time.monotonic()
        self._arrivals.append(now)
        if self._need_keyframe and not frame.keyframe:
            self._request_keyframe()  # rate-limited by the up-track
        if len(self._pending) >= MAX_PENDING:
            self._pending.clear()  # the pool is behind: start again from a keyframe
            self._need_keyframe = self.kind == "video"
            self._request_keyframe()
        self._pending.append(frame)
        if not self._busy and not self._closed:
            self._busy = True
            self._pool.submit(self._drain)

    def _fps(self, now: float) -> float:
        while self._arrivals and self._arrivals[0] < now - RATE_WINDOW:
            self._arrivals.popleft()
        return len(self._arrivals) / RATE_WINDOW

    def _drain(self) -> None:
        try:
            while True:
                try:
                    frame = self._pending.popleft()
                except IndexError:
                    break
                self._decode(frame)
        except Exception:
            logger.exception("presence analysis failed")
        finally:
            self._busy = False
            if self._pending and not self._closed:
                self._busy = True
                self._pool.submit(self._drain)

    def _decode(self, frame: EncodedFrame) -> None:
        if self._need_keyframe:
            if not frame.keyframe:
                return
            self._need_keyframe = False
        if self._decoder is None:
            self._decoder = av.CodecContext.create("libvpx" if self.kind == "video" else "libopus", "r")
        try:
            decoded = self._decoder.decode(av.Packet(frame.data))
        except av.FFmpegError:
            if self.kind == "video":
                self._need_keyframe = True
                self._loop.call_soon_threadsafe(self._request_keyframe)
            return
        for picture in decoded:
            if self.kind == "video":
                self._maybe_analyse_video(picture)
            else:
                self._measure_audio(picture)
        if self.kind == "audio":
            self._maybe_report_audio()

    def _maybe_analyse_video(self, picture: av.VideoFrame) -> None:
        now = time.monotonic()
        if now - self._last_analysis < ANALYSE_EVERY:
            return
        self._last_analysis = now
        self.latest = (now, picture)
        # 160x90 is enough for a member in front of a tablet (the face is a fifth of the
        # height or more) and keeps the face search to a few milliseconds.
        gray = picture.reformat(width=160, height=90, format="gray").to_ndarray()
        mean, std = float(gray.mean()), float(gray.std())
        dark = mean < DARK_MEAN or std < DARK_STD
        small = gray[::2, ::2].astype(np.int16)
        if self._previous is not None and float(np.abs(small - self._previous).mean()) < FROZEN_DIFF:
            self._unchanged += 1
        else:
            self._unchanged = 0
        self._previous = small
        frozen = self._unchanged >= FROZEN_AFTER
        faces = 0 if dark or self._faces is None else self._faces.count(gray)
        self.analyses += 1
        self._send_video(now, dark, frozen, faces)

    def _send_video(self, now: float, dark: bool, frozen: bool, faces: int) -> None:
        def deliver() -> None:
            fps = self._fps(time.monotonic())
            live = fps >= MIN_LIVE_FPS and not dark and not frozen
            self._report(VideoObservation(now, fps, live, dark, frozen, faces))

        self._loop.call_soon_threadsafe(deliver)

    def _measure_audio(self, samples: av.AudioFrame) -> None:
        pcm = samples.to_ndarray().astype(np.float32).reshape(-1)
        if samples.format.name.startswith("s16"):
            pcm /= 32768.0
        channels = len(samples.layout.channels)
        mono = pcm.reshape(-1, channels).mean(axis=1) if channels > 1 else pcm
        energy = float(np.mean(mono * mono)) + 1e-12
        level = 10 * np.log10(energy)
        active = level > VOICE_LEVEL_DB
        tonal = False
        if active:
            spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono)))) ** 2
            peak = int(np.argmax(spectrum))
            band = spectrum[max(0, peak - 2): peak + 3].sum()
            tonal = band / (spectrum.sum() + 1e-12) > TONAL_PEAK_SHARE
        self._levels.append((time.monotonic(), active, tonal))

    def _maybe_report_audio(self) -> None:
        now = time.monotonic()
        while self._levels and self._levels[0][0] < now - RATE_WINDOW:
            self._levels.popleft()
        if now - self._last_analysis < ANALYSE_EVERY:
            return
        self._last_analysis = now
        frames = list(self._levels)
        active = [f for f in frames if f[1]]
        fraction = len(active) / len(frames) if frames else 0.0
        tonal_share = sum(1 for f in active if f[2]) / len(active) if active else 0.0
        voice = fraction >= 0.1 and tonal_share < 0.5
        self.analyses += 1

        def deliver() -> None:
            live = self._fps(time.monotonic()) >= MIN_LIVE_FPS
            self._report(AudioObservation(now, live, fraction, voice and live))

        self._loop.call_soon_threadsafe(deliver)

    def silence(self) -> Observation | None:
        """What to report when no frame has arrived for a while (the decoder cannot say)."""
        now = time.monotonic()
        if self._fps(now) >= MIN_LIVE_FPS:
            return None
        if self.kind == "video":
            return VideoObservation(now, self._fps(now), False, False, False, 0)
        return AudioObservation(now, False, 0.0, False)

    def close(self) -> None:
        self._closed = True
        self._pending.clear()


def _jpeg(picture: av.VideoFrame) -> bytes | None:
    import cv2

    height = max(2, round(picture.height * STILL_WIDTH / max(1, picture.width)) // 2 * 2)
    pixels = picture.reformat(width=STILL_WIDTH, height=height, format="bgr24").to_ndarray()
    ok, encoded = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return bytes(encoded) if ok else None


class PresenceMonitor:
    """Analyses published tracks and reports observations as ``report(peer_id, observation)``.

    A track that stops sending is reported as not live once a second by a watchdog, since
    no frame means no decoder call.
    """

    def __init__(self, report: Callable[[str, Observation], None], workers: int = 2,
                 detect_faces: bool = True) -> None:
        self._report = report
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="presence")
        self._faces = FaceDetector() if detect_faces else None
        self._tracks: dict[tuple[str, str], _TrackAnalyser] = {}
        self._taps: dict[tuple[str, str], tuple[Any, Callable[[EncodedFrame], None]]] = {}
        self._watchdog: asyncio.Task[None] | None = None

    def watch(self, peer_id: str, ups: dict[str, Any]) -> None:
        """Start analysing a peer's microphone and camera (``ups["audio"]``, ``ups["video"]``;
        a shared screen says nothing of who sits in front of it)."""
        loop = asyncio.get_running_loop()
        for kind, up in ((k, ups[k]) for k in ("audio", "video") if k in ups):
            analyser = _TrackAnalyser(kind, partial(self._report, peer_id), self._pool, loop,
                                      self._faces if kind == "video" else None, up.request_keyframe)
            self._untap(peer_id, kind)
            self._tracks[(peer_id, kind)] = analyser
            self._taps[(peer_id, kind)] = (up, analyser.push)
            up.listeners.append(analyser.push)
            # The decoder can only start on a keyframe, and a camera may send one rarely.
            up.request_keyframe()
        if self._watchdog is None:
            self._watchdog = asyncio.ensure_future(self._watch_silence())

    def unwatch(self, peer_id: str) -> None:
        for kind in ("audio", "video"):
            self._untap(peer_id, kind)

    def _untap(self, peer_id: str, kind: str) -> None:
        analyser = self._tracks.pop((peer_id, kind), None)
        if analyser is not None:
            analyser.close()
        tap = self._taps.pop((peer_id, kind), None)
        if tap is not None and tap[1] in tap[0].listeners:
            tap[0].listeners.remove(tap[1])

    def analyses(self) -> int:
        return sum(a.analyses for a in self._tracks.values())

    async def still(self, peer_id: str) -> bytes | None:
        """A JPEG of the peer's camera as last analysed (at most two seconds old), or None."""
        analyser = self._tracks.get((peer_id, "video"))
        latest = analyser.latest if analyser is not None else None
        if latest is None or time.monotonic() - latest[0] > STILL_MAX_AGE:
            return None
        return await asyncio.get_running_loop().run_in_executor(self._pool, _jpeg, latest[1])

    async def _watch_silence(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            for (peer_id, _), analyser in list(self._tracks.items()):
                observation = analyser.silence()
                if observation is not None:
                    self._report(peer_id, observation)

    async def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
            self._watchdog = None
        for key in list(self._tracks):
            self._untap(*key)
        self._pool.shutdown(wait=True)  # the queues are empty: the workers end at once
