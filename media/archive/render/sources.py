"""Decoding the sources: a key's segment files, opened one at a time, and the picture showing
at a time.

Only what is shown is decoded: the current shot's track, from the last keyframe before the shot
(found by a demux-only scan of the file) onwards; of the decoded frames only those shown are
scaled. A file that is missing or cannot be decoded is reported once and skipped.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import av
import numpy as np

from gikai.media.archive.render.canvas import Canvas
from gikai.media.archive.render.plan import SourceFile, SourceProblem

logger = logging.getLogger(__name__)

MAX_HOLD = 1.0  # a track that sends nothing (camera off) keeps its last picture this long
SEEK_GAP = 2.0  # further ahead than this: seek instead of decoding the way there


class Problems:
    """What went wrong with which file, each reported (and logged) once."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, Path | None], SourceProblem] = {}

    def add(self, key: str, path: Path | None, reason: str) -> None:
        if (key, path) not in self.items:
            logger.warning("render: %s: %s: %s", key, path, reason)
            self.items[key, path] = SourceProblem(key, path, reason)


class Reader:
    """One open source file: its decoded frames in order, each with its sitting time."""

    def __init__(self, key: str, source: SourceFile, kind: str, problems: Problems) -> None:
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
                times.extend(self.anchor + float(p.pts * self.tb) for p in container.demux(stream)
                             if p.size and p.pts is not None and p.is_keyframe)
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


class SourceTrack:
    """A key's segment files; opens the one covering a time; skips files that failed."""

    def __init__(self, key: str, files: Sequence[SourceFile], kind: str, problems: Problems) -> None:
        self.key, self.files, self.kind, self.problems = key, list(files), kind, problems
        self.starts = [f.start for f in self.files]
        self.reader: Reader | None = None
        self.skip: set[int] = set()
        if not self.files:
            problems.add(key, None, "no source files")

    def file_at(self, t: float) -> int | None:
        i = bisect.bisect_right(self.starts, t) - 1
        return i if i >= 0 and t < self.files[i].end and i not in self.skip else None

    def open(self, i: int) -> Reader | None:
        if self.reader is not None and self.reader.source == self.files[i]:
            return self.reader
        self.close()
        try:
            self.reader = Reader(self.key, self.files[i], self.kind, self.problems)
        except (av.FFmpegError, OSError, IndexError) as exc:
            self.skip.add(i)
            reason = "no such file" if isinstance(exc, FileNotFoundError) else f"cannot open: {exc}"
            self.problems.add(self.key, self.files[i].path, reason)
        return self.reader

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None


class PictureTrack(SourceTrack):
    """A video track: ``at(t)`` is the frame showing at ``t``, scaled, or None (slate)."""

    def __init__(self, key: str, files: Sequence[SourceFile], canvas: Canvas,
                 problems: Problems, tolerance: float) -> None:
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

