"""The recorder: up-tracks of one room, each written as it is forwarded into its key's segment files.

Each track has a key (say participant id + kind) and a timeline of segment files under
``<directory>/<key>/``. A participant who leaves and comes back gets the same key, so the
timeline has a gap, not a second set of files. Frames are placed on the sitting clock here; files
are opened in the forwarding path (a WebM header) but finished in a worker thread, never there.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import av

from gikai.media.archive.recording.segment import (
    TICKS_PER_MS,
    SegmentFile,
    SegmentInfo,
    next_free_index,
    segment_path,
    vp8_dimensions,
)
from gikai.media.sfu.forwarding import UpTrack
from gikai.media.sfu.frames import EncodedFrame

logger = logging.getLogger(__name__)

SEGMENT_SECONDS = 300.0
MAX_SKEW_MS = 2000  # a frame this far from where its RTP time says: a discontinuity, re-anchor
IDLE_MS = 2000  # a segment past its end with no frame for this long is finished anyway
HOLD_MS = 500  # a new track's first frames wait this long: its first anchor is the best of them
TICK_SECONDS = 1.0
KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")

Origin = float | Callable[[], float]


class _Track:
    """One key's recording state; ``on_frame`` is the up-track listener.

    Timing: sitting ms = anchor + the frame's RTP time in ms. The anchor is the smallest
    arrival-minus-RTP offset seen (the least-delayed frame: a big keyframe that took long to
    arrive must not shift a segment), renewed at each segment so that clock drift between
    publisher and server stays within one segment. A new track's first frames are held for
    HOLD_MS so that its first anchor, too, is the least-delayed of several.
    """

    def __init__(self, recorder: Recorder, key: str, kind: str, up: UpTrack) -> None:
        self.recorder, self.key, self.kind, self.up = recorder, key, kind, up
        self.segment: SegmentFile | None = None
        self.anchor_ms: int | None = None  # None until the held frames are placed
        self.min_offset_ms: int | None = None
        self.held: list[tuple[EncodedFrame, int]] = []
        self.last_ms = -1
        self.dropped = 0  # video frames dropped while waiting for a keyframe
        self.failed = False
        self._ticks = TICKS_PER_MS[kind]

    def on_frame(self, frame: EncodedFrame) -> None:
        if self.failed:
            return
        if self.kind == "audio" and not self.up.forwarding:
            return  # a microphone the floor rules keep closed is not heard, so not recorded
        try:
            self._write(frame, int(self.recorder.clock() * 1000))
        except Exception as exc:  # the forwarding path must never see it
            self.failed = True
            try:
                self.recorder._fail(self, exc)
            except Exception:
                logger.exception("stopping the recording of %s failed", self.key)

    def _write(self, frame: EncodedFrame, now_ms: int) -> None:
        offset = now_ms - frame.pts // self._ticks
        if self.anchor_ms is not None and abs(self.anchor_ms - offset) > MAX_SKEW_MS:
            self.anchor_ms = self.min_offset_ms = offset  # the publisher's timestamps jumped
        elif self.min_offset_ms is None or offset < self.min_offset_ms:
            self.min_offset_ms = offset
        if self.anchor_ms is not None:
            self._place(frame, now_ms)
        elif not self.held and self.kind == "video" and vp8_dimensions(frame.data) is None:
            self.dropped += 1  # a segment plays on its own only from a keyframe
            self.up.request_keyframe()
        else:
            self.held.append((frame, now_ms))
            if now_ms - self.held[0][1] >= HOLD_MS:
                self._place_held()

    def _place_held(self) -> None:
        self.anchor_ms = self.min_offset_ms
        held, self.held = self.held, []
        for frame, arrived in held:
            self._place(frame, arrived)

    def _place(self, frame: EncodedFrame, now_ms: int) -> None:
        assert self.anchor_ms is not None
        media_ms = frame.pts // self._ticks
        segment, crossed = self.segment, 0
        old: SegmentFile | None = None
        if segment is not None and self.anchor_ms + media_ms >= segment.boundary_ms:
            if self.kind == "audio" or frame.keyframe:
                old, crossed, segment = segment, segment.boundary_ms, None
            else:
                self.up.request_keyframe()  # rate-limited by the up-track
        elif (segment is not None and frame.keyframe and self.kind == "video"
              and vp8_dimensions(frame.data) not in (None, segment.dimensions)):
            segment, old = None, segment  # a new picture size starts a new file
        if segment is None:
            dimensions = vp8_dimensions(frame.data) if self.kind == "video" else None
            if self.kind == "video" and dimensions is None:
                self.dropped += 1
                self.up.request_keyframe()
                if old is not None:
                    self.segment = None
                    self.recorder._finish(old, self.anchor_ms + media_ms)
                return
            anchor = self.min_offset_ms
            assert anchor is not None  # _write sets it before any frame is placed
            self.anchor_ms, self.min_offset_ms = anchor, now_ms - media_ms
            start_ms = max(anchor + media_ms, self.last_ms + 1)
            # Re-anchoring may put the first frame a few ms before the line just crossed.
            segment = self.segment = self.recorder._open(self, max(start_ms, crossed), dimensions)
        ms = max(self.anchor_ms + media_ms, self.last_ms + 1)
        if old is not None:
            self.recorder._finish(old, ms)
        segment.write(frame.data, ms, frame.keyframe)
        segment.arrived_ms = now_ms
        self.last_ms = ms

    def flush(self) -> bool:
        """Place held frames now (the track was removed or went quiet); False if that failed."""
        if not self.held or self.failed:
            return not self.failed
        try:
            self._place_held()
            return True
        except Exception as exc:
            self.failed = True
            self.recorder._fail(self, exc)
            return False

    def close(self) -> None:
        if not self.flush():
            return
        segment, self.segment = self.segment, None
        if segment is not None:
            self.recorder._finish(segment, segment.last_ms + segment.step_ms)


class Recorder:
    """Records up-tracks of one room into ``directory`` until :meth:`stop`.

    ``origin`` is the sitting clock: a ``time.monotonic()`` value at which the sitting
    started, or a callable returning seconds since then. ``on_segment`` and ``on_error``
    are called on the event loop's thread; neither is ever called from inside the
    forwarding path.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        origin: Origin,
        segment_seconds: float = SEGMENT_SECONDS,
        on_segment: Callable[[SegmentInfo], None] | None = None,
        on_error: Callable[[str, BaseException], None] | None = None,
    ) -> None:
        if segment_seconds <= 0:
            raise ValueError("segment_seconds must be positive")
        if not hasattr(av.container.OutputContainer, "add_mux_stream"):
            raise RuntimeError(f"recording needs av >= 17 (add_mux_stream); this is {av.__version__}")
        self.directory = Path(directory)
        if callable(origin):
            self.clock: Callable[[], float] = origin
        else:
            start = float(origin)
            self.clock = lambda: time.monotonic() - start
        self.segment_ms = max(1, int(segment_seconds * 1000))
        self.segments: list[SegmentInfo] = []  # every finished segment, in completion order
        self._on_segment = on_segment
        self._on_error = on_error
        self._tracks: dict[str, _Track] = {}
        self._next_index: dict[str, int] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recording")
        self._pending: set[Future[SegmentInfo]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tick: asyncio.TimerHandle | None = None
        self._stopped = False

    @property
    def keys(self) -> list[str]:
        return list(self._tracks)

    def add_track(self, key: str, kind: str, up: UpTrack) -> None:
        """Record ``up`` as ``key``; a key seen before continues its own timeline."""
        if self._stopped:
            raise RuntimeError("this recorder has stopped")
        if not KEY_PATTERN.fullmatch(key) or ".." in key:
            raise ValueError(f"a track key must be a plain file name: {key!r}")
        if kind not in TICKS_PER_MS or kind != up.kind:
            raise ValueError(f"kind {kind!r} does not match the {up.kind} up-track")
        self._loop = asyncio.get_running_loop()
        self.remove_track(key)
        (self.directory / key).mkdir(parents=True, exist_ok=True)
        track = self._tracks[key] = _Track(self, key, kind, up)
        up.listeners.append(track.on_frame)
        up.request_keyframe()
        if self._tick is None:
            self._tick = self._loop.call_later(TICK_SECONDS, self._on_tick)

    def remove_track(self, key: str) -> None:
        """Stop recording ``key`` and finish its open segment."""
        track = self._tracks.pop(key, None)
        if track is None:
            return
        self._detach(track)
        track.close()

    async def stop(self) -> None:
        """Finish every open segment; returns once all are on disk and reported."""
        if self._stopped:
            return
        for key in list(self._tracks):
            self.remove_track(key)
        self._stopped = True
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None
        pending = [asyncio.wrap_future(f) for f in list(self._pending)]
        await asyncio.gather(*pending, return_exceptions=True)
        await asyncio.sleep(0)  # the reports were queued before the futures resolved
        self._pool.shutdown(wait=True)

    # -- inside ------------------------------------------------------------------------
    @staticmethod
    def _detach(track: _Track) -> None:
        # A new list, not remove(): this may run inside UpTrack.push's loop over the old one.
        track.up.listeners = [f for f in track.up.listeners if f != track.on_frame]

    def _open(self, track: _Track, from_ms: int,
              dimensions: tuple[int, int] | None) -> SegmentFile:
        """A new segment for ``track``, ending at the first grid line after ``from_ms``."""
        index = self._next_index.get(track.key) or next_free_index(self.directory, track.key)
        self._next_index[track.key] = index + 1
        segment = SegmentFile(track.key, track.kind, index,
                               segment_path(self.directory, track.key, index), dimensions)
        segment.boundary_ms = (from_ms // self.segment_ms + 1) * self.segment_ms
        return segment

    def _finish(self, segment: SegmentFile, end_ms: int) -> None:
        future = self._pool.submit(segment.finish, end_ms)
        self._pending.add(future)
        future.add_done_callback(lambda f: self._finished(segment, f))

    def _finished(self, segment: SegmentFile, future: Future[SegmentInfo]) -> None:
        """In the worker thread: report on the loop's thread."""
        self._pending.discard(future)
        exc = future.exception()
        if exc is None:
            self._call_soon(self._report_segment, future.result())
        else:
            segment.abandon()
            self._call_soon(self._report_error, segment.key, exc)

    def _fail(self, track: _Track, exc: BaseException) -> None:
        logger.error("recording of %s stopped: %s", track.key, exc)
        track.failed = True
        if self._tracks.get(track.key) is track:
            del self._tracks[track.key]
        self._detach(track)
        segment, track.segment = track.segment, None
        if segment is not None:
            self._pool.submit(segment.abandon)
        self._call_soon(self._report_error, track.key, exc)

    def _call_soon(self, callback: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        try:
            if loop is not None:
                loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # the loop has closed: nobody is left to tell
            logger.warning("recording report dropped: the event loop is closed")

    def _report_segment(self, info: SegmentInfo) -> None:
        self.segments.append(info)
        if self._on_segment is not None:
            try:
                self._on_segment(info)
            except Exception:
                logger.exception("on_segment callback failed")

    def _report_error(self, key: str, exc: BaseException) -> None:
        if self._on_error is not None:
            try:
                self._on_error(key, exc)
            except Exception:
                logger.exception("on_error callback failed")

    def _on_tick(self) -> None:
        """Finish segments of tracks that went quiet past their end (camera off, muted)."""
        self._tick = None
        if self._stopped or self._loop is None:
            return
        now_ms = int(self.clock() * 1000)
        for track in list(self._tracks.values()):
            if track.held and now_ms - track.held[0][1] >= HOLD_MS:
                track.flush()  # frames stopped (a microphone closed) within HOLD_MS of the start
            segment = track.segment
            if (segment is not None and now_ms >= segment.boundary_ms + IDLE_MS
                    and now_ms - segment.arrived_ms >= IDLE_MS):
                track.close()
        self._tick = self._loop.call_later(TICK_SECONDS, self._on_tick)

