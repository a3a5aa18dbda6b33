"""The pixel and sound work of presence analysis, done in the analysis process (worker.py), one
call per track at a time.

A :class:`PictureJudge` decodes one VP8 keyframe (it needs no earlier frame) and says whether
the picture is dark, unchanged since the last one, and how many faces it shows. A
:class:`SoundJudge` decodes a batch of Opus packets and says how much of the last two seconds
was voice. Measured here (2 cores, busy): a 640x360 keyframe's decode takes ~2.4 ms and the face
search at 160x90 ~8.7 ms. Both release the GIL, but the numpy and Python around them do not,
which is why this runs in a process of its own and not in threads beside the event loop.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

import av
import numpy as np

DARK_MEAN, DARK_STD = 24.0, 6.0  # grey levels (0-255) below which a picture is black or covered
# Mean absolute change between judged pictures (4x4 means of 160x90 grey) below which nothing
# moves. Two keyframes of one still picture differ by their quantisation alone: 0.27-0.45 here
# (VP8 at 600 kbit/s, 640x360 and 320x180); a face moving a little 1.2 and more, an empty room's
# shimmer about 2.
FROZEN_DIFF = 0.6
FROZEN_AFTER = 3  # analyses in a row without change
VOICE_LEVEL_DB = -45.0  # a 20 ms frame louder than this is "active"
TONAL_PEAK_SHARE = 0.9  # an active frame with this share of its energy in one spectral peak is a tone (speech: < 0.8)
SOUND_WINDOW = 2.0  # seconds of sound a verdict is about


class FaceCounter(Protocol):
    def count(self, gray: np.ndarray) -> int:
        """How many faces a grey picture shows (called from worker threads)."""
        ...


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


@dataclass(frozen=True)
class PictureVerdict:
    dark: bool
    frozen: bool
    faces: int


class PictureJudge:
    """One camera's keyframes, judged one at a time (the caller never overlaps two calls)."""

    def __init__(self, faces: FaceCounter | None) -> None:
        self._faces = faces
        self._decoder: Any = None
        self._previous: np.ndarray | None = None  # 22x40 means of the last picture
        self._unchanged = 0
        self.latest: av.VideoFrame | None = None  # the last picture judged, for a vote's evidence still

    def judge(self, keyframe: bytes) -> PictureVerdict | None:
        """None when the frame does not decode (the next keyframe will)."""
        if self._decoder is None:
            self._decoder = av.CodecContext.create("libvpx", "r")
        try:
            pictures = self._decoder.decode(av.Packet(keyframe))
        except av.FFmpegError:
            self._decoder = None  # start the next keyframe on a fresh decoder
            return None
        if not pictures:
            return None
        picture = self.latest = pictures[-1]
        # 160x90 is enough for a member in front of a tablet (the face is a fifth of the
        # height or more) and keeps the face search to a few milliseconds.
        gray = picture.reformat(width=160, height=90, format="gray").to_ndarray()
        mean, std = float(gray.mean()), float(gray.std())
        dark = mean < DARK_MEAN or std < DARK_STD
        small = gray[:88].reshape(22, 4, 40, 4).mean(axis=(1, 3))
        if self._previous is not None and float(np.abs(small - self._previous).mean()) < FROZEN_DIFF:
            self._unchanged += 1
        else:
            self._unchanged = 0
        self._previous = small
        faces = 0 if dark or self._faces is None else self._faces.count(gray)
        return PictureVerdict(dark, self._unchanged >= FROZEN_AFTER, faces)


@dataclass(frozen=True)
class SoundVerdict:
    active_fraction: float  # share of 20 ms frames above the level
    voice: bool  # activity that is not a steady tone


class SoundJudge:
    """One microphone's packets, decoded in batches (the caller never overlaps two calls)."""

    def __init__(self) -> None:
        self._decoder: Any = None
        self._levels: deque[tuple[float, bool, bool]] = deque()  # (arrival, active, tonal) per frame

    def judge(self, packets: list[tuple[float, bytes]]) -> SoundVerdict:
        """``packets``: (arrival time, Opus packet) in order; the verdict covers the last two
        seconds of arrivals."""
        if self._decoder is None:
            self._decoder = av.CodecContext.create("libopus", "r")
        arrivals: list[float] = []
        raw: list[tuple[np.ndarray, bool, int]] = []  # samples, 16-bit, channels
        for arrival, data in packets:
            try:
                decoded = self._decoder.decode(av.Packet(data))
            except av.FFmpegError:
                continue  # one bad packet: the next one decodes on its own
            for samples in decoded:
                arrivals.append(arrival)
                raw.append((samples.to_ndarray(), samples.format.name.startswith("s16"), len(samples.layout.channels)))
        for arrival, (active, tonal) in zip(arrivals, _levels(raw), strict=True):
            self._levels.append((arrival, active, tonal))
        if packets:
            newest = packets[-1][0]
            while self._levels and self._levels[0][0] < newest - SOUND_WINDOW:
                self._levels.popleft()
        frames = list(self._levels)
        active_frames = [f for f in frames if f[1]]
        fraction = len(active_frames) / len(frames) if frames else 0.0
        tonal_share = sum(1 for f in active_frames if f[2]) / len(active_frames) if active_frames else 0.0
        return SoundVerdict(fraction, fraction >= 0.1 and tonal_share < 0.5)


def _levels(raw: list[tuple[np.ndarray, bool, int]]) -> list[tuple[bool, bool]]:
    """For each decoded frame: is it active, and is its activity one steady tone? Frames of one
    shape (Opus: 20 ms) are judged together, a few array operations for all of them."""
    out: list[tuple[bool, bool]] = [(False, False)] * len(raw)
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, (samples, s16, channels) in enumerate(raw):
        groups.setdefault((samples.shape, samples.dtype.str, s16, channels), []).append(i)
    for (_, _, s16, channels), rows in groups.items():
        block = np.stack([raw[i][0] for i in rows]).astype(np.float32).reshape(len(rows), -1)
        if s16:
            block /= 32768.0
        if channels > 1:
            block = block.reshape(len(rows), -1, channels).mean(axis=2)
        length = block.shape[1]
        energy = np.mean(block * block, axis=1) + 1e-12
        active = 10 * np.log10(energy) > VOICE_LEVEL_DB
        tonal = np.zeros(len(rows), dtype=bool)
        if active.any():
            spectrum = np.abs(np.fft.rfft(block[active] * np.hanning(length), axis=1)) ** 2
            peak = np.argmax(spectrum, axis=1)
            total = np.cumsum(spectrum, axis=1)
            at = np.arange(len(peak))
            upper = total[at, np.minimum(peak + 2, spectrum.shape[1] - 1)]
            lower = np.where(peak >= 3, total[at, np.maximum(peak - 3, 0)], 0.0)
            tonal[active] = (upper - lower) / (total[:, -1] + 1e-12) > TONAL_PEAK_SHARE
        for k, i in enumerate(rows):
            out[i] = (bool(active[k]), bool(tonal[k]))
    return out


def jpeg(picture: av.VideoFrame, width: int) -> bytes | None:
    """The picture as a JPEG ``width`` pixels wide (a vote's evidence still)."""
    import cv2

    height = max(2, round(picture.height * width / max(1, picture.width)) // 2 * 2)
    pixels = picture.reformat(width=width, height=height, format="bgr24").to_ndarray()
    ok, encoded = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return bytes(encoded) if ok else None
