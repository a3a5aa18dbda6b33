"""From what the SFU's analysers see to the orchestrator's presence: one observation at a time."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from gikai.media.analysis.presence import (
    AudioObservation,
    Observation,
    PresenceMonitor,
    VideoObservation,
)
from gikai.orchestrator.domain.presence import Seen
from gikai.orchestrator.service.sittings import SittingService
from gikai.signaling.tasks import Spawn

logger = logging.getLogger(__name__)

LINK_WINDOW = 6.0  # seconds without a newly decoded frame of the chamber before the link counts as lost


@dataclass
class _Watched:
    meeting_id: str
    video: VideoObservation | None = None
    audio: AudioObservation | None = None
    decoded: int | None = None  # the client's last report of frames it decoded
    decoded_changed_at: float = 0.0
    busy: bool = False


class PresenceBridge:
    def __init__(self, sittings: SittingService, spawn: Spawn) -> None:
        self.sittings = sittings
        self.spawn = spawn
        self.monitor = PresenceMonitor(self._report)
        self._watched: dict[str, _Watched] = {}

    def watch(self, meeting_id: str, participant_id: str, ups: dict) -> None:  # type: ignore[type-arg]
        self._watched[participant_id] = _Watched(meeting_id)
        self.monitor.watch(participant_id, ups)

    def unwatch(self, participant_id: str) -> None:
        self._watched.pop(participant_id, None)
        self.monitor.unwatch(participant_id)

    async def still(self, participant_id: str) -> bytes | None:
        """A JPEG of the participant's camera now (for a vote's evidence), or None."""
        try:
            return await self.monitor.still(participant_id)
        except Exception:
            logger.exception("could not take an evidence still")
            return None

    def reception(self, participant_id: str, frames_decoded: int) -> None:
        """The client's report of how many remote video frames it has decoded so far."""
        w = self._watched.get(participant_id)
        if w is None:
            return
        if w.decoded is None or frames_decoded != w.decoded:
            w.decoded_changed_at = time.monotonic()
        w.decoded = frames_decoded

    def link_ok(self, w: _Watched, others_publishing: bool) -> bool:
        if w.decoded is None or not others_publishing:
            return True  # nothing to receive yet, or a client that does not report: cannot tell
        return time.monotonic() - w.decoded_changed_at < LINK_WINDOW

    def _report(self, participant_id: str, observation: Observation) -> None:
        w = self._watched.get(participant_id)
        if w is None:
            return
        if isinstance(observation, AudioObservation):
            w.audio = observation
            return
        w.video = observation
        if w.busy:
            return  # the previous observation is still being applied: this one adds nothing new
        others = any(o.video is not None and o.video.live for pid, o in self._watched.items()
                     if pid != participant_id and o.meeting_id == w.meeting_id)
        seen = Seen(
            connected=True, video_live=observation.live, faces=observation.faces,
            link_ok=self.link_ok(w, others), voice=bool(w.audio and w.audio.voice),
        )
        w.busy = True
        self.spawn(self._apply(participant_id, w, seen))

    async def _apply(self, participant_id: str, w: _Watched, seen: Seen) -> None:
        try:
            await self.sittings.observe(w.meeting_id, participant_id, seen)
        except Exception:
            logger.exception("could not apply a presence observation")
        finally:
            w.busy = False

    async def close(self) -> None:
        await self.monitor.close()
