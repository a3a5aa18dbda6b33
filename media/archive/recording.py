"""Recording without re-encoding: each published track's encoded frames, muxed into WebM.

A :class:`Recorder` listens on up-tracks and writes the same VP8 pictures and Opus packets
the SFU forwards into WebM files with ``av``'s muxer; nothing is decoded or encoded. Each
track has a key (say participant id + kind) and a timeline of segment files under
``<directory>/<key>/``: ``<key>-0001.webm``, ``<key>-0002.webm``… plus ``manifest.jsonl``,
one line per finished segment. Timestamps are milliseconds on the sitting clock, so every
file of a sitting shares one time axis. A participant who leaves and comes back gets the
same key, so the timeline has a gap, not a second set of files.

Crash safety: an open segment is ``<name>.webm.part``. The muxer hands a cluster (at most
a second of media) to the operating system when it closes it, so a killed process loses at
most that much; :func:`recover` turns what is left into finished files. A finished segment
is closed, fsynced, hashed and renamed in a worker thread, never in the forwarding path.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import struct
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any, Union

import av

from gikai.media.sfu.forwarding import UpTrack
from gikai.media.sfu.frames import EncodedFrame, vp8_is_keyframe

logger = logging.getLogger(__name__)

SEGMENT_SECONDS = 300.0
MAX_SKEW_MS = 2000  # a frame this far from where its RTP time says: a discontinuity, re-anchor
IDLE_MS = 2000  # a segment past its end with no frame for this long is finished anyway
HOLD_MS = 500  # a new track's first frames wait this long: its first anchor is the best of them
TICK_SECONDS = 1.0
# A cluster (and with flush_packets, a write to the file) at least once a second: the most a
# killed process can lose. Without flush_packets FFmpeg's file buffer would hold 256 KiB.
CONTAINER_OPTIONS = {"cluster_time_limit": "1000", "flush_packets": "1"}
MILLISECOND = Fraction(1, 1000)
TICKS_PER_MS = {"video": 90, "audio": 48}
NOMINAL_STEP_MS = {"video": 67, "audio": 20}
# RFC 7845 identification header: version 1, 2 channels, no pre-skip, 48 kHz, no gain, family 0.
OPUS_HEAD = b"OpusHead" + struct.pack("<BBHIhB", 1, 2, 0, 48000, 0, 0)
KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
SUFFIX = ".webm"
PART = ".part"

Origin = Union[float, Callable[[], float]]


@dataclass(frozen=True)
class SegmentInfo:
    """A finished segment file; ``start``/``end`` are seconds on the sitting clock."""

    key: str
    kind: str
    index: int
    path: Path
    sha256: str
    start: float
    end: float
    packets: int
    payload_bytes: int  # encoded media bytes, as forwarded
    file_bytes: int
    recovered: bool = False

    def manifest_line(self) -> str:
        fields = asdict(self)
        fields["path"] = self.path.name
        return json.dumps(fields, sort_keys=True) + "\n"


def segment_path(directory: Path, key: str, index: int) -> Path:
    return directory / key / f"{key}-{index:04d}{SUFFIX}"


def vp8_dimensions(data: bytes) -> tuple[int, int] | None:
    """Width and height from a VP8 key frame's header (RFC 6386 section 9.1)."""
    if len(data) < 10 or not vp8_is_keyframe(data) or data[3:6] != b"\x9d\x01\x2a":
        return None
    width = int.from_bytes(data[6:8], "little") & 0x3FFF
    height = int.from_bytes(data[8:10], "little") & 0x3FFF
    return (width, height) if width and height else None


@lru_cache(maxsize=1)
def _opus_template() -> Any:
    """An Opus stream to copy parameters from: ``add_mux_stream`` cannot carry an OpusHead."""
    import io

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="webm") as container:
        stream = container.add_mux_stream("opus", rate=48000)
        packet = av.Packet(b"\xfc\xff\xfe")  # one 20 ms silent Opus frame
        packet.stream, packet.time_base, packet.pts, packet.dts = stream, MILLISECOND, 0, 0
        container.mux_one(packet)
    return av.open(io.BytesIO(buffer.getvalue())).streams.audio[0]


class _SegmentFile:
    """One segment being written: a single-stream WebM; packets are muxed as they come."""

    def __init__(self, key: str, kind: str, index: int, path: Path,
                 dimensions: tuple[int, int] | None, part: Path | None = None) -> None:
        self.key, self.kind, self.index, self.path = key, kind, index, path
        self.part = part or path.with_name(path.name + PART)
        self.dimensions = dimensions
        self.packets = self.payload_bytes = 0
        self.first_ms: int | None = None
        self.last_ms = 0
        self.step_ms = NOMINAL_STEP_MS[kind]
        self.boundary_ms = 0  # set by the owner: where this segment should end
        self.arrived_ms = 0  # sitting time of the last frame's arrival
        self.container: Any = av.open(str(self.part), "w", format="webm", options=CONTAINER_OPTIONS)
        try:
            if kind == "video":
                width, height = dimensions or (0, 0)
                self.stream = self.container.add_mux_stream("vp8", width=width, height=height)
            else:
                self.stream = self.container.add_stream_from_template(_opus_template())
                self.stream.codec_context.extradata = OPUS_HEAD
            self.container.metadata["title"] = f"{key} {index:04d}"
        except BaseException:
            self.container.close()
            raise

    def write(self, data: bytes, ms: int, keyframe: bool) -> None:
        packet = av.Packet(data)
        packet.stream = self.stream
        packet.time_base = MILLISECOND
        packet.pts = packet.dts = ms
        packet.is_keyframe = keyframe
        self.container.mux_one(packet)
        if self.first_ms is None:
            self.first_ms = ms
        elif ms > self.last_ms:
            self.step_ms = min(1000, ms - self.last_ms)
        self.last_ms = ms
        self.packets += 1
        self.payload_bytes += len(data)

    def finish(self, end_ms: int, recovered: bool = False) -> SegmentInfo:
        """Close, fsync, hash, rename, and append to the manifest (blocking: a worker thread)."""
        self.container.close()
        digest = hashlib.sha256()
        with open(self.part, "rb") as f:
            os.fsync(f.fileno())
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        os.replace(self.part, self.path)
        assert self.first_ms is not None
        info = SegmentInfo(self.key, self.kind, self.index, self.path, digest.hexdigest(),
                           self.first_ms / 1000, max(end_ms, self.last_ms + 1) / 1000,
                           self.packets, self.payload_bytes, self.path.stat().st_size, recovered)
        _append_manifest(info)
        return info

    def abandon(self) -> None:
        """Stop writing after an error; what reached the disk stays as ``.part`` for recover()."""
        try:
            self.container.close()
        except Exception:
            logger.debug("closing abandoned segment %s failed", self.part, exc_info=True)


def _append_manifest(info: SegmentInfo) -> None:
    with open(info.path.parent / "manifest.jsonl", "a", encoding="utf-8") as f:
        f.write(info.manifest_line())
        f.flush()
        os.fsync(f.fileno())


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
        self.segment: _SegmentFile | None = None
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
        segment, old, crossed = self.segment, None, 0
        if segment is not None and self.anchor_ms + media_ms >= segment.boundary_ms:
            if self.kind == "audio" or frame.keyframe:
                segment, old, crossed = None, segment, segment.boundary_ms
            else:
                self.up.request_keyframe()  # rate-limited by the up-track
        elif segment is not None and frame.keyframe and self.kind == "video":
            if vp8_dimensions(frame.data) not in (None, segment.dimensions):
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
            self.anchor_ms, self.min_offset_ms = self.min_offset_ms, now_ms - media_ms
            start_ms = max(self.anchor_ms + media_ms, self.last_ms + 1)
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
              dimensions: tuple[int, int] | None) -> _SegmentFile:
        """A new segment for ``track``, ending at the first grid line after ``from_ms``."""
        index = self._next_index.get(track.key) or _next_free_index(self.directory, track.key)
        self._next_index[track.key] = index + 1
        segment = _SegmentFile(track.key, track.kind, index,
                               segment_path(self.directory, track.key, index), dimensions)
        segment.boundary_ms = (from_ms // self.segment_ms + 1) * self.segment_ms
        return segment

    def _finish(self, segment: _SegmentFile, end_ms: int) -> None:
        future = self._pool.submit(segment.finish, end_ms)
        self._pending.add(future)
        future.add_done_callback(lambda f: self._finished(segment, f))

    def _finished(self, segment: _SegmentFile, future: Future[SegmentInfo]) -> None:
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


_NAME = re.compile(r"(?P<key>.+)-(?P<index>\d{4,})\.webm(?:\.part|\.tmp)?")


def _next_free_index(directory: Path, key: str) -> int:
    """1 + the highest segment number already in the key's folder (a restarted server)."""
    highest = 0
    folder = directory / key
    if folder.is_dir():
        for path in folder.iterdir():
            match = _NAME.fullmatch(path.name)
            if match and match["key"] == key:
                highest = max(highest, int(match["index"]))
    return highest + 1


def recover(directory: str | os.PathLike[str]) -> list[SegmentInfo]:
    """After a crash: turn every ``.part`` under ``directory`` into a finished segment.

    The packets that can still be read are remuxed into ``<name>.webm`` and added to the
    manifest, marked ``recovered``; a ``.part`` with nothing readable is deleted. A finished
    file that a crash kept out of the manifest is added too. Call it before recording into
    the directory again, never while a Recorder writes there.
    """
    root = Path(directory)
    recovered = []
    for stale in root.rglob(f"*{SUFFIX}.tmp"):  # a recovery that was itself interrupted
        stale.unlink()
    for part in sorted(root.rglob(f"*{SUFFIX}{PART}")):
        try:
            info = _recover_part(part)
        except Exception:
            logger.exception("could not recover %s", part)
            continue
        if info is not None:
            recovered.append(info)
    for manifest_dir in sorted({p.parent for p in root.rglob(f"*{SUFFIX}")}):
        listed = _manifest_names(manifest_dir)
        for path in sorted(manifest_dir.glob(f"*{SUFFIX}")):
            if path.name not in listed and _NAME.fullmatch(path.name):
                try:
                    info = _remux(path, path, recovered=True)
                except Exception:
                    logger.exception("could not describe %s", path)
                    continue
                if info is not None:
                    recovered.append(info)
    return recovered


def _manifest_names(folder: Path) -> set[str]:
    try:
        lines = (folder / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return set()
    names = set()
    for line in lines:
        try:
            names.add(json.loads(line)["path"])
        except (ValueError, KeyError, TypeError):
            continue  # a line torn by the crash
    return names


def _recover_part(part: Path) -> SegmentInfo | None:
    final = part.with_name(part.name[: -len(PART)])
    if _NAME.fullmatch(final.name) is None:
        return None
    if final.exists():  # renamed before the crash: the .part is a stale copy
        part.unlink()
        return None
    info = _remux(part, final, recovered=True)
    part.unlink()
    if info is None:
        logger.warning("nothing readable in %s; deleted it", part)
    return info


def _remux(source_path: Path, final: Path, recovered: bool) -> SegmentInfo | None:
    """Copy every readable packet of ``source_path`` into a finished ``final`` (via .tmp)."""
    match = _NAME.fullmatch(final.name)
    assert match is not None
    key, index = final.parent.name, int(match["index"])
    try:
        source = av.open(str(source_path))
    except av.FFmpegError:
        return None
    with source:
        if len(source.streams) != 1 or source.streams[0].type not in TICKS_PER_MS:
            raise ValueError(f"{source_path} is not a gikai segment")
        stream = source.streams[0]
        kind = stream.type
        context = stream.codec_context
        dimensions = (context.width, context.height) if kind == "video" else None
        scale = stream.time_base * 1000
        target = _SegmentFile(key, kind, index, final, dimensions,
                              part=final.with_name(final.name + ".tmp"))
        try:
            for packet in source.demux(stream):
                if packet.size == 0 or packet.pts is None or packet.is_corrupt:
                    continue
                target.write(bytes(packet), int(packet.pts * scale), packet.is_keyframe)
        except av.FFmpegError:
            pass  # the torn tail of the last cluster
    if target.packets == 0:
        target.abandon()
        target.part.unlink(missing_ok=True)
        return None
    return target.finish(target.last_ms + target.step_ms, recovered=recovered)
