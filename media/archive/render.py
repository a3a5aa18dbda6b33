"""A publishable video of a sitting: one MP4 (H.264 + AAC) that follows the floor, captioned.

Offline. The caller (who knows the meeting) says in a :class:`RenderPlan` whose picture to show
when, whose sound was audible when, and which caption lines to print; this module knows only
files, tracks and times. Sources are the recorder's WebM segments (``media/recording.py``): a
file is placed on the sitting clock by its own first timestamp, anchored at the start the caller
gives (the manifest's), so files timed from 0 and files timed on the sitting clock both work.

Only what is shown is decoded: the current shot's track, from the last keyframe before the shot
(found by a demux-only scan of the file) onwards; of the decoded frames only those shown are
scaled. Pictures are composed in YUV 4:2:0, no RGB round trip: the caption band is drawn once
per caption with Pillow and blended into the planes. Audio is the audible spans' Opus, resampled
to 48 kHz stereo and summed.

Output: 15 fps by default, the cameras' own rate (aiortc publishers send 15 fps): 25 would only
repeat frames and cost ~1.7x the encoding. libx264 ``veryfast``, CRF 23 capped at 1.5 Mbit/s, a
keyframe every 2 s (players seek), ``+faststart`` (the index first, so a web player starts before
the file has loaded); AAC 128 kbit/s. Written to ``<out>.part``, renamed when whole.
"""

from __future__ import annotations

import bisect
import json
import logging
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import av
import numpy as np

from gikai.media.errors import MediaError

logger = logging.getLogger(__name__)

__all__ = [
    "AudioSpan", "Caption", "CaptionFontMissing", "RenderCancelled", "RenderError", "RenderPlan",
    "RenderResult", "Shot", "SourceFile", "SourceProblem", "find_caption_font", "render",
    "sources_from_manifest",
]

SAMPLE_RATE = 48000
AUDIO_CHUNK = 1024  # samples per AAC frame
RAMP = 0.01  # seconds of fade where an audible span starts or ends: no click at a cut
MAX_HOLD = 1.0  # a track that sends nothing (camera off) keeps its last picture this long
SEEK_GAP = 2.0  # further ahead than this: seek instead of decoding the way there
PREROLL = 0.1  # Opus converges within 80 ms of a seek
PROGRESS_INTERVAL = 0.25  # seconds between progress reports
SLATE_RGB = (40, 44, 52)  # the neutral picture shown when nobody's picture is
BAND_ALPHA = 0.65  # the caption band darkens what is under it this much
FONT_ENV = "GIKAI_CAPTION_FONT"
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/ipafont-gothic/ipagp.ttf",
    "/System/Library/Fonts/ヒラギノ角ゴシック W3.ttc",
)


class RenderError(MediaError):
    code = "render_failed"


class RenderCancelled(RenderError):
    """The caller cancelled; nothing was left at the output path."""

    code = "render_cancelled"


class CaptionFontMissing(RenderError):
    code = "caption_font_missing"


class Shot(NamedTuple):
    start: float
    end: float
    key: str | None  # None: the slate


class AudioSpan(NamedTuple):
    start: float
    end: float
    key: str


class Caption(NamedTuple):
    start: float
    end: float
    lines: tuple[str, ...]


class SourceFile(NamedTuple):
    path: Path
    start: float  # seconds on the sitting clock where the file's first frame plays
    end: float


@dataclass(frozen=True)
class SourceProblem:
    key: str
    path: Path | None
    reason: str

    def __str__(self) -> str:
        return f"{self.key}: {self.path or '-'}: {self.reason}"


@dataclass
class RenderPlan:
    """What to render. Times are seconds on the sitting clock from 0 to ``duration``.

    ``shots`` and ``captions`` must not overlap among themselves; audio spans of one key
    neither. Plain tuples are accepted, sorted by start; empty spans are dropped.
    """

    duration: float
    shots: Sequence[Shot] = ()
    audio: Sequence[AudioSpan] = ()
    captions: Sequence[Caption] = ()
    sources: Mapping[str, Sequence[SourceFile]] = field(default_factory=dict)
    width: int = 640
    height: int = 360
    fps: int = 15

    def __post_init__(self) -> None:
        if not self.duration > 0:
            raise ValueError("duration must be positive")
        if self.width < 16 or self.height < 16 or self.width % 2 or self.height % 2:
            raise ValueError("width and height must be even and at least 16")
        if not 1 <= self.fps <= 60:
            raise ValueError("fps must be between 1 and 60")
        self.shots = _spans(Shot, self.shots, "shots")
        self.audio = _spans(AudioSpan, self.audio, None)
        self.captions = _spans(Caption, [(s, e, (lines,) if isinstance(lines, str) else tuple(lines))
                                          for s, e, lines in self.captions], "captions")
        for key in {span.key for span in self.audio}:
            _spans(AudioSpan, [s for s in self.audio if s.key == key], f"audio spans of {key}")
        self.sources = {key: sorted(SourceFile(Path(p), float(s), float(e)) for p, s, e in files)
                        for key, files in self.sources.items()}


def _spans(kind: Any, spans: Sequence[Any], no_overlap: str | None) -> list[Any]:
    out = sorted((kind(float(s), float(e), *rest) for s, e, *rest in spans), key=lambda x: x[:2])
    for span in out:
        if span.end < span.start:
            raise ValueError(f"a span must not end before it starts: {span}")
    out = [span for span in out if span.end > span.start]  # an empty one shows nothing
    if no_overlap:
        for before, after in zip(out, out[1:]):
            if after.start < before.end:
                raise ValueError(f"{no_overlap} overlap: {before} and {after}")
    return out


@dataclass(frozen=True)
class RenderResult:
    path: Path
    frames: int  # video frames written
    duration: float  # seconds of video
    seconds: float  # wall time taken
    problems: tuple[SourceProblem, ...] = ()

    @property
    def speed(self) -> float:
        """How many times faster than real time."""
        return self.duration / self.seconds if self.seconds > 0 else float("inf")


def sources_from_manifest(folder: str | os.PathLike[str]) -> list[SourceFile]:
    """A track's segment files from its recorder ``manifest.jsonl`` (torn lines skipped)."""
    folder = Path(folder)
    out = []
    for line in (folder / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
            out.append(SourceFile(folder / entry["path"], float(entry["start"]), float(entry["end"])))
        except (ValueError, KeyError, TypeError):
            continue
    return sorted(out)


# -- captions ------------------------------------------------------------------------------

def find_caption_font() -> Path:
    """A font with Japanese glyphs: $GIKAI_CAPTION_FONT, then known paths, then fc-match."""
    tried: list[str] = []
    candidates = [os.environ.get(FONT_ENV, ""), *FONT_CANDIDATES]
    for candidate in candidates:
        if candidate and candidate not in tried:
            tried.append(candidate)
            if _has_japanese(candidate):
                return Path(candidate)
    if shutil.which("fc-match"):
        try:
            found = subprocess.run(["fc-match", "-f", "%{file}", ":lang=ja"], capture_output=True,
                                   text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            found = ""
        if found and _has_japanese(found):
            return Path(found)
        tried.append(f"fc-match :lang=ja ({found or 'nothing'})")
    raise CaptionFontMissing(
        "no font with Japanese glyphs for the captions; tried " + ", ".join(tried)
        + f". Install fonts-ipafont-gothic or name a font file in ${FONT_ENV}.")


@lru_cache(maxsize=16)
def _has_japanese(path: str) -> bool:
    from PIL import Image, ImageDraw, ImageFont

    try:
        font = ImageFont.truetype(path, 24)
    except (OSError, ValueError):
        return False

    def drawn(text: str) -> bytes:
        image = Image.new("L", (32, 32))
        ImageDraw.Draw(image).text((2, 2), text, font=font, fill=255)
        return image.tobytes()

    # A missing glyph draws as the font's .notdef box, as an unassigned code point does.
    return drawn("議") not in (bytes(32 * 32), drawn("\U000f0000"))


class _Band:
    """A caption band, pre-multiplied in YUV 4:2:0, to blend over the bottom of a picture."""

    def __init__(self, lines: Sequence[str], width: int, height: int, font_path: Path) -> None:
        from PIL import Image, ImageDraw, ImageFont

        sizes = [round(height * (0.065 if i == 0 else 0.05)) for i in range(len(lines))]
        pad, left = round(height * 0.025), round(width * 0.04)
        steps = [round(size * 1.3) for size in sizes]
        band_height = min(height, (2 * pad + sum(steps) + 1) // 2 * 2)
        image = Image.new("RGBA", (width, band_height), (0, 0, 0, round(255 * BAND_ALPHA)))
        draw = ImageDraw.Draw(image)
        y = pad
        for line, size, step in zip(lines, sizes, steps):
            font = ImageFont.truetype(str(font_path), size)
            draw.text((left, y + (step - size) // 2), _fit(line, font, width - 2 * left),
                      font=font, fill=(255, 255, 255, 255))
            y += step
        rgba = np.asarray(image, dtype=np.float32)
        alpha = rgba[..., 3] / 255
        planes = _yuv(rgba[..., 0], rgba[..., 1], rgba[..., 2])
        half_alpha = _halve(alpha)
        self.keep = (1 - alpha, 1 - half_alpha, 1 - half_alpha)
        self.add = (planes[0] * alpha + 0.5, _halve(planes[1] * alpha) + 0.5,
                    _halve(planes[2] * alpha) + 0.5)

    def apply(self, planes: Sequence[np.ndarray]) -> None:
        for plane, keep, add in zip(planes, self.keep, self.add):
            region = plane[plane.shape[0] - keep.shape[0]:]
            region[:] = region * keep + add


def _yuv(r: Any, g: Any, b: Any) -> tuple[Any, Any, Any]:
    """BT.601 limited range, as swscale converts yuv420p (and players show it) by default."""
    return (16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255,
            128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255,
            128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255)


def _halve(a: np.ndarray) -> np.ndarray:
    return np.asarray((a[0::2, 0::2] + a[1::2, 0::2] + a[0::2, 1::2] + a[1::2, 1::2]) / 4)


def _fit(text: str, font: Any, width: int) -> str:
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


# -- pictures ------------------------------------------------------------------------------

class _Canvas:
    """Output-sized YUV 4:2:0 pictures: the slate, letterboxed frames, captions."""

    def __init__(self, width: int, height: int, font: Path | None) -> None:
        self.width, self.height, self.font = width, height, font
        self.band: tuple[tuple[str, ...], _Band] | None = None  # the current caption only
        y, u, v = _yuv(*SLATE_RGB)
        self.slate = self.blank((round(y), round(u), round(v)))

    def blank(self, yuv: tuple[int, int, int] = (16, 128, 128)) -> np.ndarray:
        w, h = self.width, self.height
        flat = np.empty(w * h * 3 // 2, dtype=np.uint8)
        flat[:w * h], flat[w * h:w * h * 5 // 4], flat[w * h * 5 // 4:] = yuv
        return flat

    def planes(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        w, h = self.width, self.height
        return (flat[:w * h].reshape(h, w), flat[w * h:w * h * 5 // 4].reshape(h // 2, w // 2),
                flat[w * h * 5 // 4:].reshape(h // 2, w // 2))

    def picture(self, frame: av.VideoFrame) -> np.ndarray:
        """The frame scaled to fit, keeping its aspect, centred on black."""
        scale = min(self.width / frame.width, self.height / frame.height)
        w = min(self.width, max(2, round(frame.width * scale / 2) * 2))
        h = min(self.height, max(2, round(frame.height * scale / 2) * 2))
        image = frame.reformat(width=w, height=h, format="yuv420p")
        if (w, h) == (self.width, self.height):
            return image.to_ndarray().reshape(-1)
        flat = self.blank()
        x, y = (self.width - w) // 4 * 2, (self.height - h) // 4 * 2
        for plane, source, d in zip(self.planes(flat), _planes(image), (1, 2, 2)):
            plane[y // d:(y + h) // d, x // d:(x + w) // d] = source
        return flat

    def with_caption(self, flat: np.ndarray, lines: tuple[str, ...]) -> np.ndarray:
        if self.band is None or self.band[0] != lines:
            assert self.font is not None
            self.band = (lines, _Band(lines, self.width, self.height, self.font))
        flat = flat.copy()
        self.band[1].apply(self.planes(flat))
        return flat


def _planes(frame: av.VideoFrame) -> list[np.ndarray]:
    out = []
    for plane, d in zip(frame.planes, (1, 2, 2)):
        rows = np.frombuffer(memoryview(plane), dtype=np.uint8).reshape(-1, plane.line_size)
        out.append(rows[:frame.height // d, :frame.width // d])
    return out


class _Problems:
    def __init__(self) -> None:
        self.items: dict[tuple[str, Path | None], SourceProblem] = {}

    def add(self, key: str, path: Path | None, reason: str) -> None:
        if (key, path) not in self.items:
            logger.warning("render: %s: %s: %s", key, path, reason)
            self.items[key, path] = SourceProblem(key, path, reason)


class _Reader:
    """One open source file: its decoded frames in order, each with its sitting time."""

    def __init__(self, key: str, source: SourceFile, kind: str, problems: _Problems) -> None:
        self.key, self.source, self.problems = key, source, problems
        self.container: Any = av.open(str(source.path))
        try:
            self.stream = getattr(self.container.streams, kind)[0]
            self.tb = self.stream.time_base
            start = self.stream.start_time
            self.anchor = source.start - float((start or 0) * self.tb)
            self.frames = self._decode()
        except BaseException:
            self.container.close()
            raise

    def seek(self, t: float) -> None:
        target = int((t - self.anchor) / self.tb)
        try:
            self.container.seek(target, stream=self.stream, backward=True)
        except av.FFmpegError as exc:
            self.problems.add(self.key, self.source.path, f"cannot seek: {exc}")
            self.frames = iter(())
            return
        self.stream.codec_context.flush_buffers()
        self.frames = self._decode()

    def keyframe_times(self) -> list[float]:
        """Every keyframe's sitting time: the whole file demuxed (not decoded) separately."""
        times: list[float] = []
        try:
            with av.open(str(self.source.path)) as container:
                stream = container.streams.video[0]
                for p in container.demux(stream):
                    if p.size and p.pts is not None and p.is_keyframe:
                        times.append(self.anchor + float(p.pts * self.tb))
        except av.FFmpegError:
            pass  # a torn tail: decoding will say so
        return times

    def _decode(self) -> Iterator[tuple[float, Any]]:
        context = self.stream.codec_context
        try:
            for packet in self.container.demux(self.stream):
                try:
                    frames = context.decode(packet)
                except av.FFmpegError as exc:
                    self.problems.add(self.key, self.source.path, f"undecodable data: {exc}")
                    continue
                for frame in frames:
                    if frame.pts is not None:
                        yield self.anchor + float(frame.pts * self.tb), frame
        except av.FFmpegError as exc:  # a torn file: what came before it still plays
            self.problems.add(self.key, self.source.path, f"unreadable after a point: {exc}")

    def close(self) -> None:
        self.container.close()


class _Track:
    """A key's segment files; opens the one covering a time; skips files that failed."""

    def __init__(self, key: str, files: Sequence[SourceFile], kind: str, problems: _Problems) -> None:
        self.key, self.files, self.kind, self.problems = key, list(files), kind, problems
        self.starts = [f.start for f in self.files]
        self.reader: _Reader | None = None
        self.skip: set[int] = set()
        if not self.files:
            problems.add(key, None, "no source files")

    def file_at(self, t: float) -> int | None:
        i = bisect.bisect_right(self.starts, t) - 1
        return i if i >= 0 and t < self.files[i].end and i not in self.skip else None

    def open(self, i: int) -> _Reader | None:
        if self.reader is not None and self.reader.source == self.files[i]:
            return self.reader
        self.close()
        try:
            self.reader = _Reader(self.key, self.files[i], self.kind, self.problems)
        except (av.FFmpegError, OSError, IndexError) as exc:
            self.skip.add(i)
            reason = "no such file" if isinstance(exc, FileNotFoundError) else f"cannot open: {exc}"
            self.problems.add(self.key, self.files[i].path, reason)
        return self.reader

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None


class _Picture(_Track):
    """A video track: ``at(t)`` is the frame showing at ``t``, scaled, or None (slate)."""

    def __init__(self, key: str, files: Sequence[SourceFile], canvas: _Canvas,
                 problems: _Problems, tolerance: float) -> None:
        super().__init__(key, files, "video", problems)
        self.canvas, self.tolerance = canvas, tolerance
        self.keyframes: list[float] = []
        self.shown: tuple[float, Any] | None = None
        self.ahead: tuple[float, Any] | None = None
        self.image: np.ndarray | None = None  # self.shown, scaled

    def at(self, t: float) -> np.ndarray | None:
        i = self.file_at(t)
        if i is None:
            return None
        if self.reader is None or self.reader.source != self.files[i]:
            if self.open(i) is None:
                return None
            assert self.reader is not None
            self.keyframes = self.reader.keyframe_times()
            self._restart()
        reader = self.reader
        assert reader is not None
        current = self.shown or self.ahead
        if current is None:
            return None  # nothing (more) decodable in this file
        k = bisect.bisect_right(self.keyframes, t + self.tolerance) - 1
        position = current[0]
        backwards = self.shown is not None and t + self.tolerance < position
        far = k >= 0 and self.keyframes[k] > position + self.tolerance and t - position > SEEK_GAP
        if backwards or far:
            reader.seek(self.keyframes[max(k, 0)])
            self._restart()
        while self.ahead is not None and self.ahead[0] <= t + self.tolerance:
            self.shown, self.image = self.ahead, None
            self.ahead = next(reader.frames, None)
        if self.shown is None or t - self.shown[0] > MAX_HOLD:
            return None
        if self.image is None:
            self.image = self.canvas.picture(self.shown[1])
        return self.image

    def _restart(self) -> None:
        assert self.reader is not None
        self.shown, self.image = None, None
        self.ahead = next(self.reader.frames, None)


class _Sound(_Track):
    """An audio track: ``read(s0, s1)`` gives samples [s0, s1) of the sitting at 48 kHz."""

    def __init__(self, key: str, files: Sequence[SourceFile], problems: _Problems) -> None:
        super().__init__(key, files, "audio", problems)
        self.chunks: list[tuple[int, np.ndarray]] = []  # (first sample, 2 x n float32)
        self.until = 0  # decoded up to this sample
        self.resampler: Any = None
        # In whole samples, so that every pass of _fill moves ``until`` on or skips a file.
        self.spans = [(round(f.start * SAMPLE_RATE), round(f.end * SAMPLE_RATE)) for f in self.files]

    def read(self, s0: int, s1: int) -> np.ndarray:
        self._fill(s0, s1)
        out = np.zeros((2, s1 - s0), dtype=np.float32)
        for start, data in self.chunks:
            a, b = max(s0, start), min(s1, start + data.shape[1])
            if a < b:
                out[:, a - s0:b - s0] = data[:, a - start:b - start]
        self.chunks = [c for c in self.chunks if c[0] + c[1].shape[1] > s1 - SAMPLE_RATE // 10]
        return out

    def _fill(self, s0: int, s1: int) -> None:
        spans = self.spans
        while self.until < s1:
            pos = max(s0, self.until)
            i = next((j for j, (a, b) in enumerate(spans) if a <= pos < b and j not in self.skip), None)
            if i is None:
                later = [a for a, _ in spans if a > pos]
                if not later or later[0] >= s1:
                    return
                self.until = later[0]
                continue
            fresh = self.reader is None or self.reader.source != self.files[i]
            reader = self.open(i)
            if reader is None:
                continue
            if (fresh and pos > spans[i][0] + PREROLL * SAMPLE_RATE) or (
                    pos - self.until > SEEK_GAP * SAMPLE_RATE):
                reader.seek(pos / SAMPLE_RATE - PREROLL)
                self.until = pos
            if fresh:
                self.resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
            decoded = next(reader.frames, None)
            if decoded is None:  # this file is done; reading only goes forward
                self.skip.add(i)
                self.until = max(self.until, spans[i][1])
                self.close()
                continue
            start = round(decoded[0] * SAMPLE_RATE)
            for frame in self.resampler.resample(decoded[1]):
                data = frame.to_ndarray()
                self.chunks.append((start, data))
                start += data.shape[1]
            self.until = max(self.until, start)


class _Mixer:
    """The audible spans summed, in AAC-sized frames of ``fltp`` stereo."""

    def __init__(self, spans: Sequence[AudioSpan], sounds: Mapping[str, _Sound], total: int) -> None:
        self.spans, self.sounds, self.total, self.done = spans, sounds, total, 0

    def frames_until(self, target: int) -> Iterator[av.AudioFrame]:
        target = min(target, self.total)
        while self.done < target:
            s0, s1 = self.done, min(self.done + AUDIO_CHUNK, target)
            if s1 - s0 < AUDIO_CHUNK and target < self.total:
                return  # only whole frames until the end
            mix = np.zeros((2, s1 - s0), dtype=np.float32)
            times = np.arange(s0, s1, dtype=np.float64) / SAMPLE_RATE
            for span in self.spans:
                if span.start * SAMPLE_RATE < s1 and span.end * SAMPLE_RATE > s0:
                    gain = np.clip(np.minimum(times - span.start, span.end - times) / RAMP, 0, 1)
                    mix += self.sounds[span.key].read(s0, s1) * gain.astype(np.float32)
            frame = av.AudioFrame.from_ndarray(np.clip(mix, -1, 1), format="fltp", layout="stereo")
            frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, s0, Fraction(1, SAMPLE_RATE)
            self.done = s1
            yield frame


# -- the job -------------------------------------------------------------------------------

def render(plan: RenderPlan, out_path: str | os.PathLike[str],
           progress: Callable[[float], None] | None = None,
           cancel: threading.Event | None = None, *,
           font: str | os.PathLike[str] | None = None) -> RenderResult:
    """Render ``plan`` into the MP4 ``out_path``; blocking (run it in a worker thread).

    Raises :class:`RenderCancelled` soon after ``cancel`` is set (no file is left) and
    :class:`CaptionFontMissing` before any work when captions need a font that is not there.
    A source that is missing or cannot be decoded shows the slate (or silence) instead and
    is listed in the result's ``problems``.
    """
    began = time.monotonic()
    out = Path(out_path)
    part = out.with_name(out.name + ".part")
    font_path = None
    if font is not None and not _has_japanese(str(font)):
        raise CaptionFontMissing(f"{font} cannot be read or has no Japanese glyphs")
    if plan.captions:
        font_path = Path(font) if font is not None else find_caption_font()
    problems = _Problems()
    canvas = _Canvas(plan.width, plan.height, font_path)
    tolerance = 0.5 / plan.fps
    pictures = {key: _Picture(key, plan.sources.get(key, ()), canvas, problems, tolerance)
                for key in sorted({s.key for s in plan.shots if s.key is not None})}
    sounds = {key: _Sound(key, plan.sources.get(key, ()), problems)
              for key in sorted({s.key for s in plan.audio})}
    frames = max(1, round(plan.duration * plan.fps))
    mixer = _Mixer(plan.audio, sounds, round(frames / plan.fps * SAMPLE_RATE))
    shot_at, caption_at = _lookup(plan.shots), _lookup(plan.captions)
    report = _Reporter(progress)
    container = av.open(str(part), "w", format="mp4", options={"movflags": "+faststart"})
    try:
        video, audio = _add_streams(container, plan)
        for i in range(frames):
            if cancel is not None and cancel.is_set():
                raise RenderCancelled(f"rendering {out.name} was cancelled at {i / plan.fps:.1f} s")
            t = i / plan.fps
            shot, caption = shot_at(t), caption_at(t)
            image = pictures[shot.key].at(t) if shot is not None and shot.key is not None else None
            if image is None:
                image = canvas.slate
            if caption is not None and caption.lines:
                image = canvas.with_caption(image, caption.lines)
            frame = av.VideoFrame.from_ndarray(image.reshape(-1, plan.width), format="yuv420p")
            frame.pts, frame.time_base = i, video.codec_context.time_base
            container.mux(video.encode(frame))
            for sound in mixer.frames_until(round((i + 1) / plan.fps * SAMPLE_RATE)):
                container.mux(audio.encode(sound))
            report(i + 1, frames)
        container.mux(video.encode(None))
        container.mux(audio.encode(None))
        container.close()
        os.replace(part, out)
    except BaseException:
        # Unlinked first, so closing does not spend time moving the index of a file nobody
        # wants (faststart reopens it by name, fails at once, and the descriptor is closed).
        part.unlink(missing_ok=True)
        try:
            container.close()
        except (av.FFmpegError, OSError):
            pass
        raise
    finally:
        for track in [*pictures.values(), *sounds.values()]:
            track.close()
    if progress is not None:
        progress(1.0)
    return RenderResult(out, frames, frames / plan.fps, time.monotonic() - began,
                        tuple(problems.items.values()))


def _add_streams(container: Any, plan: RenderPlan) -> tuple[Any, Any]:
    video = container.add_stream("libx264", rate=plan.fps, options={
        "preset": "veryfast", "crf": "23", "maxrate": "1500k", "bufsize": "3000k"})
    video.width, video.height, video.pix_fmt = plan.width, plan.height, "yuv420p"
    video.codec_context.gop_size = 2 * plan.fps
    video.codec_context.time_base = Fraction(1, plan.fps)
    audio = container.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
    audio.bit_rate = 128000
    return video, audio


def _lookup(spans: Sequence[Any]) -> Callable[[float], Any]:
    """The span covering t (spans sorted, not overlapping), for t that only grows."""
    starts = [s.start for s in spans]

    def at(t: float) -> Any:
        i = bisect.bisect_right(starts, t) - 1
        return spans[i] if i >= 0 and t < spans[i].end else None

    return at


class _Reporter:
    def __init__(self, progress: Callable[[float], None] | None) -> None:
        self.progress, self.last = progress, time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.progress is not None and done < total and now - self.last >= PROGRESS_INTERVAL:
            self.last = now
            self.progress(done / total)
