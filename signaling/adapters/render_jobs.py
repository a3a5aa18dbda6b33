"""The publishable video: one render job per sitting, in a worker thread, with progress and
cancel. The job lives in the server (a page reload finds it again); the file is
``<data>/renders/<meeting id>.mp4``. A server restart forgets a running job (the partial file
is removed by the renderer's own ``.part`` handling); it can be started again.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gikai.media.archive.render import (
    AudioSpan,
    Caption,
    RenderCancelled,
    RenderPlan,
    Shot,
    SourceFile,
    render,
)
from gikai.orchestrator.service.archive import (
    ArchiveService,
    Programme,
    Track,
    programme,
    tracks_of,
)

logger = logging.getLogger(__name__)


def render_plan(p: Programme, tracks: list[Track], root: Path) -> RenderPlan:
    """The orchestrator's programme in the renderer's terms: participant ids become track keys."""
    sources = {t.key: [SourceFile(root / s["path"], s["start"], s["end"] if s["end"] is not None else p.duration)
                       for s in t.segments] for t in tracks}
    shots = [Shot(a, b, f"{who}-video" if who and f"{who}-video" in sources else None) for a, b, who in p.shots]
    audio = [(a, b, f"{who}-audio") for a, b, who in p.audio if f"{who}-audio" in sources]
    captions = [Caption(a, b, tuple(lines)) for a, b, lines in p.captions]
    return RenderPlan(max(p.duration, 0.1), shots, [AudioSpan(*span) for span in _merge(audio)], captions, sources)


def _merge(spans: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """Join touching or overlapping spans of the same key (the renderer refuses overlaps)."""
    out: list[tuple[float, float, str]] = []
    for key in sorted({k for _, _, k in spans}):
        mine = sorted((a, b) for a, b, k in spans if k == key)
        for a, b in mine:
            if out and out[-1][2] == key and a <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], b), key)
            else:
                out.append((a, b, key))
    return out


@dataclass
class Job:
    meeting_id: str
    path: Path
    state: str = "running"  # running, done, failed, cancelled
    progress: float = 0.0
    started: float = field(default_factory=time.time)
    error: str | None = None
    speed: float | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    task: asyncio.Future[Any] | None = None

    def view(self) -> dict[str, Any]:
        return {"state": self.state, "progress": round(self.progress, 3), "error": self.error,
                "speed": self.speed, "ready": self.state == "done" and self.path.is_file()}


class RenderJobs:
    def __init__(self, archive: ArchiveService, folder: Path) -> None:
        self.archive = archive
        self.folder = folder
        self.jobs: dict[str, Job] = {}

    def output(self, meeting_id: str) -> Path:
        return self.folder / f"{meeting_id}.mp4"

    def status(self, meeting_id: str) -> dict[str, Any]:
        job = self.jobs.get(meeting_id)
        if job is not None:
            return job.view()
        ready = self.output(meeting_id).is_file()
        return {"state": "done" if ready else "none", "progress": 1.0 if ready else 0.0, "error": None,
                "speed": None, "ready": ready}

    async def start(self, meeting_id: str, lang: str = "ja") -> dict[str, Any]:
        job = self.jobs.get(meeting_id)
        if job is not None and job.state == "running":
            return job.view()  # a second click: the same job
        c = await self.archive.chronicle(meeting_id)
        plan = render_plan(programme(c, lang), tracks_of(c), self.archive.recordings_root / meeting_id)
        self.folder.mkdir(parents=True, exist_ok=True)
        job = self.jobs[meeting_id] = Job(meeting_id, self.output(meeting_id))

        def progress(fraction: float) -> None:
            job.progress = fraction

        def work() -> None:
            try:
                result = render(plan, job.path, progress=progress, cancel=job.cancel)
                job.state, job.progress, job.speed = "done", 1.0, round(result.speed, 2)
            except RenderCancelled:
                job.state = "cancelled"
            except Exception as exc:  # a broken source is reported by render itself; this is worse
                logger.exception("rendering %s failed", meeting_id)
                job.state, job.error = "failed", str(exc)[:300]

        job.task = asyncio.get_running_loop().run_in_executor(None, work)
        return job.view()

    def cancel(self, meeting_id: str) -> dict[str, Any]:
        job = self.jobs.get(meeting_id)
        if job is not None and job.state == "running":
            job.cancel.set()
        return self.status(meeting_id)

    async def close(self) -> None:
        for job in self.jobs.values():
            job.cancel.set()
        tasks = [j.task for j in self.jobs.values() if j.task is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
