"""What a published track shows: is the camera live, is there a face, is the microphone live.

Two measures, kept apart so that a busy server is never taken for a camera that is off:

- **Liveness from frames arriving**, on the event loop, per frame, without decoding: the frame
  rate is counted in the publisher's own clock (the frames' timestamps), so frames the server
  reads late still count at the rate they were sent; a track is *silent* when no frame has
  arrived for ``SILENT_AFTER`` seconds of loop time during which the loop itself kept time.
- **Analysis at its own cadence**, in a worker process (worker.py): every 1.5 s the camera's next keyframe
  (asked of the publisher when none comes) is decoded and judged (dark, frozen, faces;
  media/analysis/judging.py), and every second the microphone's packets since the last batch
  are decoded and judged (voice). At most one analysis per track is in flight. A verdict that
  reaches the loop more than ``LATE_AFTER`` seconds after its frame was taken changes nothing:
  it is counted and logged as a server warning, and the member's presence stays as it was.

Observations reported: one per fresh verdict (with the frame rate of that moment), and one "not
live" every half second for a silent track. Nothing is stored by this module: the last judged
picture of each camera stays in memory until the next replaces it (1.5 s later), so that a
vote can keep a still of the voter at the moment of casting (``PresenceMonitor.still``).
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from gikai.media.analysis.judging import PictureVerdict, SoundVerdict
from gikai.media.analysis.worker import DEFAULT_FACES, AnalysisWorker
from gikai.media.sfu.frames import EncodedFrame

logger = logging.getLogger(__name__)

# Seconds between analyses of one track. A camera's costs ~12 ms (a 640x360 keyframe decoded,
# a face search), a microphone's ~7 ms per second of sound whatever the cadence.
ANALYSE_EVERY = {"video": 1.5, "audio": 1.0}
KEYFRAME_EARLY = 0.1  # a keyframe this much before the next analysis is due is taken
# Seconds from taking a frame to its verdict on the loop; a later verdict changes nothing. Well
# under the shortest grace period (camera off, 5 s), so no verdict this old decides one.
LATE_AFTER = 3.0
RATE_WINDOW = 2.0  # seconds of the publisher's clock over which the frame rate is measured
MIN_RATE_SPAN = 0.5  # seconds of frames needed before the rate says anything
MIN_LIVE_FPS = 3.0
SILENT_AFTER = 1.5  # seconds of loop time without a frame: the track is silent
WATCH_EVERY = 0.5  # seconds between the watchdog's looks at silence
LOOP_STALL = 0.25  # a watchdog tick this late: the loop was behind, arrivals say nothing for a while
WARN_EVERY = 10.0  # seconds between two warnings of one kind about one track
STILL_WIDTH = 320  # evidence stills: enough to recognise a person, small enough to keep with each vote
STILL_MAX_AGE = 3.0  # seconds: an older picture is not "the moment of casting" (judged every 1.5 s)
MAX_PENDING_AUDIO = 150  # Opus packets (3 s) kept for a busy pool; older ones are dropped


@dataclass(frozen=True)
class VideoObservation:
    at: float  # time.monotonic() when the judged frame was taken
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
Report = Callable[[Observation], None]
V = TypeVar("V", PictureVerdict, SoundVerdict)
_keys = itertools.count()


class FrameRate:
    """Frames per second in the publisher's clock, from the timestamps of the frames that arrived."""

    def __init__(self) -> None:
        self._times: deque[float] = deque()  # seconds of the publisher's clock
        self._start = 0.0  # where the current run of frames began

    def add(self, frame: EncodedFrame) -> None:
        t = float(frame.pts * frame.time_base)
        if self._times:
            last = self._times[-1]
            if t <= last - RATE_WINDOW or t > last + SILENT_AFTER:
                self._times.clear()  # a new source, or the track was silent: a new run
            elif t <= last:
                return  # a repeated or reordered frame adds nothing to the rate
        if not self._times:
            self._start = t
        self._times.append(t)
        while self._times[0] < t - RATE_WINDOW:
            self._times.popleft()

    def fps(self) -> float | None:
        """None until the run of frames is long enough to tell."""
        if not self._times:
            return None
        newest = self._times[-1]
        span = newest - self._times[0]
        if span >= MIN_RATE_SPAN:
            return (len(self._times) - 1) / span
        if newest - self._start >= RATE_WINDOW:  # a long run with few frames in the window: slow
            return (len(self._times) - 1) / RATE_WINDOW
        return None


class _Track(abc.ABC, Generic[V]):
    """One track: arrivals counted on the loop, one analysis at a time in the worker process."""

    kind = ""

    def __init__(self, monitor: PresenceMonitor, peer_id: str, report: Report) -> None:
        self.monitor = monitor
        self.peer_id = peer_id
        self._report = report
        self.key = f"{peer_id}/{self.kind}/{next(_keys)}"  # the judge's name in the worker process
        self.rate = FrameRate()
        self.last_arrival = time.monotonic()  # watching starts the clock: silent if nothing comes
        self._taken = float("-inf")  # when the frame of the last analysis was taken
        self._in_flight: float | None = None  # when the analysis in flight took its frame
        self._warned_overdue = False
        self._closed = False
        self.analyses = 0

    def arrive(self, frame: EncodedFrame) -> float:
        now = time.monotonic()
        self.last_arrival = now
        self.rate.add(frame)
        return now

    def due(self, now: float, early: float = 0.0) -> bool:
        return self._in_flight is None and not self._closed and now - self._taken >= ANALYSE_EVERY[self.kind] - early

    def submit(self, now: float, payload: Any) -> None:
        self._taken = self._in_flight = now
        self._warned_overdue = False
        try:
            future: Future[V | None] = self.monitor.worker.submit(self.kind, self.key, payload)
        except RuntimeError:  # the worker has closed: the monitor is closing
            self._in_flight = None
            return
        loop = self.monitor.loop
        future.add_done_callback(lambda f: _call_soon(loop, self._done, now, f))

    def _done(self, taken: float, future: Future[V | None]) -> None:
        self._in_flight = None
        if self._closed:
            return
        try:
            verdict = future.result()
        except Exception as exc:
            self.monitor.warn(self, "failed", "presence analysis of %s's %s failed: %s; presence left "
                              "unchanged", self.peer_id, self.kind, exc)
            return
        if verdict is None:
            return
        # A frame taken while the worker process was still starting waited for its start, not
        # for a server that is behind.
        age = time.monotonic() - max(taken, self.monitor.worker.ready_at)
        if age > self.monitor.late_after:
            self.monitor.count_late()
            self.monitor.warn(self, "late", "presence analysis of %s's %s came %.1f s after its frame "
                              "(bound %.1f s): the server is behind; presence left unchanged",
                              self.peer_id, self.kind, age, self.monitor.late_after)
            return
        fps = self.rate.fps()
        if fps is None:
            return  # too few frames yet to say whether the track is live: wait for the next verdict
        self.analyses += 1
        self.deliver(taken, fps, verdict)

    @abc.abstractmethod
    def deliver(self, taken: float, fps: float, verdict: V) -> None:
        """Report a verdict that came in time (the camera's and the microphone's own kind)."""

    def check(self, now: float, steady_since: float) -> None:
        """The watchdog's look: report a silent track, warn of an analysis held up in the worker."""
        ready = self.monitor.worker.ready_at  # 0 while the analysis process is starting
        waited = now - max(self._in_flight, ready) if self._in_flight is not None and ready else 0.0
        if waited > self.monitor.late_after and not self._warned_overdue:
            self._warned_overdue = True
            self.monitor.warn(self, "overdue", "presence analysis of %s's %s has waited %.1f s for the "
                              "analysis process: the server is behind; presence left unchanged",
                              self.peer_id, self.kind, waited)
        if now - max(self.last_arrival, steady_since) >= SILENT_AFTER:
            self._report(self.silent(now))

    @abc.abstractmethod
    def silent(self, now: float) -> Observation:
        """What to report for a track from which nothing has arrived."""

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(RuntimeError):
            self.monitor.worker.submit("forget", self.key, None)


class _Camera(_Track[PictureVerdict]):
    kind = "video"

    def __init__(self, monitor: PresenceMonitor, peer_id: str, report: Report,
                 request_keyframe: Callable[[], None]) -> None:
        super().__init__(monitor, peer_id, report)
        self._request_keyframe = request_keyframe
        self.latest_at: float | None = None  # when the frame of the last verdict in time was taken

    def push(self, frame: EncodedFrame) -> None:
        now = self.arrive(frame)
        if not self.due(now, KEYFRAME_EARLY):
            return
        if frame.keyframe:
            self.submit(now, frame.data)
        elif self.due(now):
            self._request_keyframe()  # rate-limited by the up-track

    def deliver(self, taken: float, fps: float, verdict: PictureVerdict) -> None:
        self.latest_at = taken
        live = fps >= MIN_LIVE_FPS and not verdict.dark and not verdict.frozen
        self._report(VideoObservation(taken, fps, live, verdict.dark, verdict.frozen, verdict.faces))

    def silent(self, now: float) -> Observation:
        return VideoObservation(now, 0.0, False, False, False, 0)


class _Microphone(_Track[SoundVerdict]):
    kind = "audio"

    def __init__(self, monitor: PresenceMonitor, peer_id: str, report: Report) -> None:
        super().__init__(monitor, peer_id, report)
        self._pending: deque[tuple[float, bytes]] = deque(maxlen=MAX_PENDING_AUDIO)

    def push(self, frame: EncodedFrame) -> None:
        now = self.arrive(frame)
        self._pending.append((now, frame.data))
        if self.due(now):
            batch = list(self._pending)
            self._pending.clear()
            self.submit(now, batch)

    def deliver(self, taken: float, fps: float, verdict: SoundVerdict) -> None:
        live = fps >= MIN_LIVE_FPS
        self._report(AudioObservation(taken, live, verdict.active_fraction, verdict.voice and live))

    def silent(self, now: float) -> Observation:
        return AudioObservation(now, False, 0.0, False)


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[..., None], *args: Any) -> None:
    with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits for the verdict
        loop.call_soon_threadsafe(callback, *args)


class PresenceMonitor:
    """Analyses published tracks and reports observations as ``report(peer_id, observation)``.

    ``faces`` names the face counter the worker process uses ("module:Class", OpenCV's detector
    by default; ``detect_faces=False``: none); ``late_after`` bounds how old a verdict may be
    when it reaches the loop.
    ``late`` counts verdicts dropped for lateness, ``stalls`` the loop stalls the watchdog saw.
    """

    def __init__(self, report: Callable[[str, Observation], None], detect_faces: bool = True,
                 faces: str = DEFAULT_FACES, late_after: float = LATE_AFTER) -> None:
        self._report = report
        self.worker = AnalysisWorker(faces if detect_faces else None)
        self.late_after = late_after
        self.late = 0
        self.stalls = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tracks: dict[tuple[str, str], _Camera | _Microphone] = {}
        self._taps: dict[tuple[str, str], tuple[Any, Callable[[EncodedFrame], None]]] = {}
        self._watchdog: asyncio.Task[None] | None = None
        self._warned: dict[tuple[str, str, str], float] = {}

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        assert self._loop is not None, "watch() sets the loop"
        return self._loop

    def watch(self, peer_id: str, ups: dict[str, Any]) -> None:
        """Start analysing a peer's microphone and camera (``ups["audio"]``, ``ups["video"]``;
        a shared screen says nothing of who sits in front of it)."""
        self._loop = asyncio.get_running_loop()
        for kind, up in ((k, ups[k]) for k in ("audio", "video") if k in ups):
            report: Report = partial(self._report, peer_id)
            track: _Camera | _Microphone = (_Camera(self, peer_id, report, up.request_keyframe)
                                            if kind == "video" else _Microphone(self, peer_id, report))
            self._untap(peer_id, kind)
            self._tracks[(peer_id, kind)] = track
            self._taps[(peer_id, kind)] = (up, track.push)
            up.listeners.append(track.push)
            # A camera may send a keyframe rarely: ask for the first one now.
            up.request_keyframe()
        if self._watchdog is None:
            self._watchdog = asyncio.ensure_future(self._watch())

    def unwatch(self, peer_id: str) -> None:
        for kind in ("audio", "video"):
            self._untap(peer_id, kind)

    def _untap(self, peer_id: str, kind: str) -> None:
        track = self._tracks.pop((peer_id, kind), None)
        if track is not None:
            track.close()
        tap = self._taps.pop((peer_id, kind), None)
        if tap is not None and tap[1] in tap[0].listeners:
            tap[0].listeners.remove(tap[1])

    def analyses(self) -> int:
        """Verdicts delivered in time (and reported) by the tracks watched now."""
        return sum(t.analyses for t in self._tracks.values())

    def count_late(self) -> None:
        self.late += 1

    def warn(self, track: _Track[Any] | None, what: str, message: str, *args: Any) -> None:
        """A server warning, at most one of a kind per track (or for the loop) every ``WARN_EVERY``
        seconds: a server that is behind must not also flood its log."""
        key = (track.peer_id, track.kind, what) if track is not None else ("", "", what)
        now = time.monotonic()
        if now - self._warned.get(key, float("-inf")) >= WARN_EVERY:
            self._warned[key] = now
            logger.warning(message, *args)

    async def still(self, peer_id: str) -> bytes | None:
        """A JPEG of the peer's camera as last judged (at most ``STILL_MAX_AGE`` old), or None."""
        camera = self._tracks.get((peer_id, "video"))
        taken = camera.latest_at if isinstance(camera, _Camera) else None
        if camera is None or taken is None or time.monotonic() - taken > STILL_MAX_AGE:
            return None
        answer: bytes | None = await asyncio.wrap_future(self.worker.submit("still", camera.key, STILL_WIDTH))
        return answer

    async def _watch(self) -> None:
        """Reports silent tracks; a silence only counts while the loop keeps time, since a loop
        that was behind has not yet read the frames that arrived meanwhile."""
        last = steady_since = time.monotonic()
        while True:
            await asyncio.sleep(WATCH_EVERY)
            now = time.monotonic()
            lag, last = now - last - WATCH_EVERY, now
            if lag > LOOP_STALL:
                steady_since = now
                self.stalls += 1
                self.warn(None, "stall", "the event loop was %.2f s late (%d stalls so far): presence "
                          "judges no silence until it keeps time again", lag, self.stalls)
                continue
            for track in list(self._tracks.values()):
                track.check(now, steady_since)

    async def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
            self._watchdog = None
        for key in list(self._tracks):
            self._untap(*key)
        await self.worker.close()
