"""Recording a sitting: one media.Recorder per recorded meeting, driven by the sitting's rules.

The orchestrator says whether a meeting is recorded now (``set_recording``); this bridge starts
and stops the recorder, adds every connected participant's camera and microphone (keys
``<participant id>-video`` / ``-audio``, and ``-screen`` for a shared screen), and reports each
finished segment, a failure or a disk running full back to the orchestrator, which puts it on the
record. Files live under ``<data>/recordings/<meeting id>/``; see docs/recording.md.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from gikai.media import SFU
from gikai.media.archive.recording import Recorder, SegmentInfo, recover
from gikai.orchestrator.domain.events import Entry

logger = logging.getLogger(__name__)

Report = Callable[[str, str, dict[str, Any]], None]  # (meeting id, event name, data)

DISK_CHECK_SECONDS = 5.0
RECORDING_MARKER = ".recording"
DEFAULT_MIN_FREE_BYTES = 1 << 30  # stop recording below 1 GiB free


def segment_data(info: SegmentInfo, root: Path) -> dict[str, Any]:
    data = asdict(info)
    data["path"] = info.path.relative_to(root).as_posix()
    data["start"], data["end"] = round(info.start, 3), round(info.end, 3)
    return data


class Recordings:
    def __init__(self, sfu: SFU, root: Path, report: Report, segment_seconds: float = 300.0,
                 min_free_bytes: int = DEFAULT_MIN_FREE_BYTES) -> None:
        self.sfu = sfu
        self.root = root
        self.report = report
        self.segment_seconds = segment_seconds
        self.min_free_bytes = min_free_bytes
        self.active: dict[str, Recorder] = {}
        self.bytes_written = 0  # in finished segments since the start (/metrics)
        self._stopping: set[asyncio.Task[None]] = set()
        self._stopping_of: dict[str, asyncio.Task[None]] = {}  # the latest stop of each sitting
        self._disk_watch: asyncio.Task[None] | None = None

    def folder(self, meeting_id: str) -> Path:
        return self.root / meeting_id

    # -- what the orchestrator asks --------------------------------------------------
    def set_recording(self, meeting_id: str, on: bool, started_at: datetime | None) -> None:
        recorder = self.active.get(meeting_id)
        if on and recorder is None and started_at is not None:
            if not self._enough_space():
                self._report_disk_full(meeting_id)
                return
            origin = started_at.replace(tzinfo=UTC).timestamp()
            recorder = Recorder(self.folder(meeting_id), partial(_since, origin), self.segment_seconds,
                                on_segment=partial(self._segment, meeting_id),
                                on_error=partial(self._failed, meeting_id))
            self.active[meeting_id] = recorder
            self._marker(meeting_id).parent.mkdir(parents=True, exist_ok=True)
            self._marker(meeting_id).touch()  # removed on a clean stop: its presence means a crash
            room = self.sfu.rooms.get(meeting_id)
            for peer_id, peer in (room.peers.items() if room else []):
                self.track_peer(meeting_id, peer_id, peer.ups)
            if self._disk_watch is None:
                self._disk_watch = asyncio.ensure_future(self._watch_disk())
        elif not on and recorder is not None:
            self._stop(meeting_id)

    def track_peer(self, meeting_id: str, peer_id: str, ups: dict[str, Any]) -> None:
        recorder = self.active.get(meeting_id)
        if recorder is None:
            return
        for slot, up in ups.items():  # "audio", "video" (the camera), "screen" (a video too)
            try:
                recorder.add_track(f"{peer_id}-{slot}", up.kind, up)
            except (ValueError, RuntimeError, OSError) as exc:
                logger.warning("could not record %s %s: %s", peer_id, slot, exc)

    def untrack_peer(self, meeting_id: str, peer_id: str) -> None:
        recorder = self.active.get(meeting_id)
        if recorder is not None:
            for slot in ("video", "audio", "screen"):
                recorder.remove_track(f"{peer_id}-{slot}")

    async def settle(self, meeting_id: str) -> None:
        """Wait until the sitting's recorder, stopped, has finished its last segments (and reported
        them); at once when it is not being recorded or stopping."""
        task = self._stopping_of.get(meeting_id)
        if task is not None:
            await asyncio.wait([task])
            if self._stopping_of.get(meeting_id) is task:
                del self._stopping_of[meeting_id]

    def _marker(self, meeting_id: str) -> Path:
        return self.folder(meeting_id) / RECORDING_MARKER

    def _stop(self, meeting_id: str) -> None:
        recorder = self.active.pop(meeting_id)

        async def stop() -> None:
            await recorder.stop()
            if meeting_id not in self.active:
                self._marker(meeting_id).unlink(missing_ok=True)

        task = asyncio.ensure_future(stop())
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)
        self._stopping_of[meeting_id] = task

    async def close(self) -> None:
        for meeting_id in list(self.active):
            self._stop(meeting_id)
        if self._stopping:
            await asyncio.gather(*list(self._stopping), return_exceptions=True)
        if self._disk_watch is not None:
            self._disk_watch.cancel()

    # -- what the recorder tells -----------------------------------------------------
    def _segment(self, meeting_id: str, info: SegmentInfo) -> None:
        self.bytes_written += info.file_bytes
        self.report(meeting_id, Entry.RECORDING_SEGMENT, segment_data(info, self.folder(meeting_id)))

    def _failed(self, meeting_id: str, key: str, exc: BaseException) -> None:
        logger.error("recording of %s in %s failed: %s", key, meeting_id, exc)
        self.report(meeting_id, Entry.RECORDING_FAILED, {"key": key, "reason": "write_error", "detail": str(exc)[:200]})

    def _enough_space(self) -> bool:
        self.root.mkdir(parents=True, exist_ok=True)
        return shutil.disk_usage(self.root).free >= self.min_free_bytes

    def _report_disk_full(self, meeting_id: str) -> None:
        free = shutil.disk_usage(self.root).free
        self.report(meeting_id, Entry.RECORDING_FAILED, {"key": None, "reason": "disk_full", "free_bytes": free})

    async def _watch_disk(self) -> None:
        while True:
            await asyncio.sleep(DISK_CHECK_SECONDS)
            if self.active and not self._enough_space():
                for meeting_id in list(self.active):
                    self._stop(meeting_id)
                    self._report_disk_full(meeting_id)

    # -- after a crash -----------------------------------------------------------------
    def recover_all(self) -> dict[str, tuple[list[dict[str, Any]], float]]:
        """After a server that was recording stopped without finishing: finish the segments it
        left open. Per such meeting: the recovered segments and where recording stopped
        (seconds on the sitting clock: the end of the last segment on disk)."""
        found: dict[str, tuple[list[dict[str, Any]], float]] = {}
        if not self.root.is_dir():
            return found
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir()):
            marker = folder / RECORDING_MARKER
            if not marker.exists():
                continue
            try:
                infos = recover(folder)
            except Exception:
                logger.exception("could not recover recordings in %s", folder)
                continue
            found[folder.name] = ([segment_data(i, folder) for i in infos], _last_end(folder))
            marker.unlink()
        return found


def _since(origin: float) -> float:
    """Seconds on the sitting clock: since ``origin`` (a wall-clock time)."""
    return time.time() - origin


def _last_end(folder: Path) -> float:
    end = 0.0
    for manifest in folder.glob("*/manifest.jsonl"):
        for line in manifest.read_text(encoding="utf-8").splitlines():
            try:
                end = max(end, float(json.loads(line)["end"]))
            except (ValueError, KeyError, TypeError):
                continue
    return round(end, 3)
