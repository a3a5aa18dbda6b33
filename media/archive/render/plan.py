"""What to render, and what came of it: the plan the caller (who knows the sitting) gives, its
spans and source files, the result, and the errors a render raises.

This module knows only files, tracks and times. Sources are the recorder's WebM segments
(``gikai.media.archive.recording``): a file is placed on the sitting clock by its own first
timestamp, anchored at the start the caller gives (the manifest's), so files timed from 0 and
files timed on the sitting clock both work.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, NamedTuple

from gikai.media.errors import MediaError


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
        self.captions = _spans(Caption, [(s, e, _lines(lines)) for s, e, lines in self.captions], "captions")
        for key in {span.key for span in self.audio}:
            _spans(AudioSpan, [s for s in self.audio if s.key == key], f"audio spans of {key}")
        self.sources = {key: sorted(SourceFile(Path(p), float(s), float(e)) for p, s, e in files)
                        for key, files in self.sources.items()}


def _lines(lines: str | Sequence[str]) -> tuple[str, ...]:
    """A caption's lines: a plain string is one line."""
    return (lines,) if isinstance(lines, str) else tuple(lines)


def _spans(kind: Any, spans: Sequence[Any], no_overlap: str | None) -> list[Any]:
    out = sorted((kind(float(s), float(e), *rest) for s, e, *rest in spans), key=lambda x: x[:2])
    for span in out:
        if span.end < span.start:
            raise ValueError(f"a span must not end before it starts: {span}")
    out = [span for span in out if span.end > span.start]  # an empty one shows nothing
    if no_overlap:
        for before, after in pairwise(out):
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

