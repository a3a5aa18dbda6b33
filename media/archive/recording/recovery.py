"""Crash recovery: what a killed recorder left as ``.part`` files, turned into finished segments."""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path

import av

from gikai.media.archive.recording.segment import (
    PART,
    SEGMENT_NAME,
    SUFFIX,
    TICKS_PER_MS,
    SegmentFile,
    SegmentInfo,
)

logger = logging.getLogger(__name__)


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
            if path.name not in listed and SEGMENT_NAME.fullmatch(path.name):
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
    if SEGMENT_NAME.fullmatch(final.name) is None:
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
    match = SEGMENT_NAME.fullmatch(final.name)
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
        if stream.time_base is None:
            raise ValueError(f"{source_path} has no time base")
        kind = stream.type
        video = stream.codec_context if isinstance(stream, av.VideoStream) else None
        dimensions = (video.width, video.height) if video is not None else None
        scale = stream.time_base * 1000
        target = SegmentFile(key, kind, index, final, dimensions, part=final.with_name(final.name + ".tmp"))
        with contextlib.suppress(av.FFmpegError):  # the torn tail of the last cluster
            for packet in source.demux(stream):
                if packet.size == 0 or packet.pts is None or packet.is_corrupt:
                    continue
                target.write(bytes(packet), int(packet.pts * scale), packet.is_keyframe)
    if target.packets == 0:
        target.abandon()
        target.part.unlink(missing_ok=True)
        return None
    return target.finish(target.last_ms + target.step_ms, recovered=recovered)

