"""The render job: frame by frame, the shot's picture (or the slate) with its caption, and the
mixed sound up to that frame, encoded and muxed into one MP4.

Output: 15 fps by default, the cameras' own rate (aiortc publishers send 15 fps): 25 would only
repeat frames and cost ~1.7x the encoding. libx264 ``veryfast``, CRF 23 capped at 1.5 Mbit/s, a
keyframe every 2 s (players seek), ``+faststart`` (the index first, so a web player starts before
the file has loaded); AAC 128 kbit/s. Written to ``<out>.part``, renamed when whole.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from gikai.media.archive.render.audio import SAMPLE_RATE, Mixer, SoundTrack
from gikai.media.archive.render.canvas import Canvas
from gikai.media.archive.render.captions import find_caption_font, has_japanese
from gikai.media.archive.render.plan import CaptionFontMissing, RenderCancelled, RenderPlan, RenderResult
from gikai.media.archive.render.sources import PictureTrack, Problems

PROGRESS_INTERVAL = 0.25  # seconds between progress reports


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
    if font is not None and not has_japanese(str(font)):
        raise CaptionFontMissing(f"{font} cannot be read or has no Japanese glyphs")
    if plan.captions:
        font_path = Path(font) if font is not None else find_caption_font()
    problems = Problems()
    canvas = Canvas(plan.width, plan.height, font_path)
    tolerance = 0.5 / plan.fps
    pictures = {key: PictureTrack(key, plan.sources.get(key, ()), canvas, problems, tolerance)
                for key in sorted({s.key for s in plan.shots if s.key is not None})}
    sounds = {key: SoundTrack(key, plan.sources.get(key, ()), problems)
              for key in sorted({s.key for s in plan.audio})}
    frames = max(1, round(plan.duration * plan.fps))
    mixer = Mixer(plan.audio, sounds, round(frames / plan.fps * SAMPLE_RATE))
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
        with contextlib.suppress(av.FFmpegError, OSError):
            container.close()
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
