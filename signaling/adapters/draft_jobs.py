"""The 会議録 draft as a background job: after a sitting is adjourned (and on the clerk's request),
every speech not yet corrected is recognised from its speaker's recorded microphone with the
body's vocabulary. One job per sitting at a time; its state is shown on the archive page.

The job waits until the sitting's recorder has stopped and the last segments are on the record,
so the last speech is drafted from all of its sound.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gikai.orchestrator.domain.events import Entry
from gikai.orchestrator.domain.sitting import Event, Sitting
from gikai.orchestrator.service.ports import SpeechDrafter
from gikai.orchestrator.service.transcripts import TranscriptService
from gikai.signaling.adapters.recordings import Recordings
from gikai.signaling.tasks import Tasks

logger = logging.getLogger(__name__)

SETTLE_BOUND = 120.0  # seconds to wait for the recorder to finish its last segments


@dataclass
class DraftJob:
    meeting_id: str
    state: str = "waiting"  # waiting (for the recorder), running, done, failed
    drafted: int = 0
    error: str | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None
    task: asyncio.Task[None] | None = None

    def view(self) -> dict[str, Any]:
        return {"state": self.state, "drafted": self.drafted, "error": self.error,
                "seconds": round((self.finished or time.time()) - self.started, 1)}


class DraftJobs:
    def __init__(self, transcripts: TranscriptService, drafter: SpeechDrafter | None, recordings: Recordings,
                 tasks: Tasks, model: str = "", on_adjourn: bool = True) -> None:
        self.transcripts = transcripts
        self.drafter = drafter
        self.recordings = recordings
        self.tasks = tasks
        self.model = model
        self.on_adjourn = on_adjourn
        self.jobs: dict[str, DraftJob] = {}

    @property
    def enabled(self) -> bool:
        return self.drafter is not None

    def status(self, meeting_id: str) -> dict[str, Any]:
        job = self.jobs.get(meeting_id)
        if self.drafter is None:
            return {"state": "off", "drafted": 0, "error": None, "seconds": 0.0}
        return job.view() if job is not None else {"state": "none", "drafted": 0, "error": None, "seconds": 0.0}

    def start(self, meeting_id: str) -> dict[str, Any]:
        job = self.jobs.get(meeting_id)
        if self.drafter is None or (job is not None and job.state in ("waiting", "running")):
            return self.status(meeting_id)  # no recogniser, or a second click: the same job
        job = self.jobs[meeting_id] = DraftJob(meeting_id)
        job.task = self.tasks.spawn(self._run(job, self.drafter))
        return job.view()

    def sitting_changed(self, sitting: Sitting, events: Sequence[Event]) -> None:
        """Draft a sitting's minutes when it is adjourned."""
        if self.on_adjourn and any(e.name == Entry.SITTING_ADJOURNED for e in events):
            self.start(sitting.meeting.id)

    async def _run(self, job: DraftJob, drafter: SpeechDrafter) -> None:
        try:
            await self._settled(job.meeting_id)
            job.state = "running"
            job.drafted = await self.transcripts.draft_minutes(job.meeting_id, drafter, self.model)
            job.state = "done"
        except asyncio.CancelledError:
            job.state, job.error = "failed", "the server stopped"
            raise
        except Exception as exc:
            logger.exception("drafting the minutes of %s failed", job.meeting_id)
            job.state, job.error = "failed", str(exc)[:300]
        finally:
            job.finished = time.time()

    async def _settled(self, meeting_id: str) -> None:
        """The recorder has stopped and what it reported (record entries written by background
        tasks started before now) is written."""
        deadline = time.monotonic() + SETTLE_BOUND
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.recordings.settle(meeting_id), SETTLE_BOUND)
        mine = {j.task for j in self.jobs.values()}
        pending = [t for t in self.tasks.running if t not in mine]
        if pending:
            await asyncio.wait(pending, timeout=max(1.0, deadline - time.monotonic()))

    async def close(self) -> None:
        for job in self.jobs.values():
            if job.task is not None and not job.task.done():
                job.task.cancel()

