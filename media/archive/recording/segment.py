"""A segment file: one track's encoded frames muxed into a single-stream WebM, as they come.

Timestamps are milliseconds on the sitting clock. An open segment is ``<name>.webm.part``; the
muxer hands a cluster (at most a second of media) to the operating system when it closes it, so a
killed process loses at most that much. A finished segment is closed, fsynced, hashed, renamed and
appended to its folder's ``manifest.jsonl`` (blocking: the recorder does it in a worker thread).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import struct
from dataclasses import asdict, dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

import av

from gikai.media.sfu.frames import vp8_is_keyframe

logger = logging.getLogger(__name__)

# A cluster (and with flush_packets, a write to the file) at least once a second: the most a
# killed process can lose. Without flush_packets FFmpeg's file buffer would hold 256 KiB.
CONTAINER_OPTIONS = {"cluster_time_limit": "1000", "flush_packets": "1"}
MILLISECOND = Fraction(1, 1000)
TICKS_PER_MS = {"video": 90, "audio": 48}
NOMINAL_STEP_MS = {"video": 67, "audio": 20}
# RFC 7845 identification header: version 1, 2 channels, no pre-skip, 48 kHz, no gain, family 0.
OPUS_HEAD = b"OpusHead" + struct.pack("<BBHIhB", 1, 2, 0, 48000, 0, 0)
SUFFIX = ".webm"
PART = ".part"
# A segment's file name, finished, being written, or being recovered.
SEGMENT_NAME = re.compile(r"(?P<key>.+)-(?P<index>\d{4,})\.webm(?:\.part|\.tmp)?")


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


class SegmentFile:
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



def next_free_index(directory: Path, key: str) -> int:
    """1 + the highest segment number already in the key's folder (a restarted server)."""
    highest = 0
    folder = directory / key
    if folder.is_dir():
        for path in folder.iterdir():
            match = SEGMENT_NAME.fullmatch(path.name)
            if match and match["key"] == key:
                highest = max(highest, int(match["index"]))
    return highest + 1

