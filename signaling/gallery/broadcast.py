"""The public broadcast (issue 19): what the gallery shows, encoded once per sitting into HLS in
``<data>/broadcast/<meeting id>/`` (``media.archive.broadcast``), served at
``/broadcast/<meeting id>/index.m3u8`` for the gallery page's fallback player, any HTTP server or
a CDN.

With ``--broadcast`` each sitting is broadcast from its opening to its adjournment: the floor
holder's camera (a shared screen before it, the presiding chair's while nobody holds the floor,
the slate when none of them has a camera), the microphones the gallery plays, and a caption band
with the name and the agenda item, as in the publishable video. In recess the slate says 休憩中
and nothing is heard, as the gallery carries nothing then. The same event handlers as the
gallery's (subscribed in signaling/app.py) keep it following the sitting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from gikai.media import SFU
from gikai.media.archive.broadcast import LiveBroadcast
from gikai.orchestrator.domain.model import MeetingState
from gikai.orchestrator.domain.sitting import Event, Sitting
from gikai.orchestrator.reports.words import role_word
from gikai.signaling.gallery.stage import Stage, on_stage
from gikai.signaling.tasks import Spawn

logger = logging.getLogger(__name__)

BROADCAST_STATES = (MeetingState.OPEN, MeetingState.RECESSED)
Start = Callable[[Path], LiveBroadcast]


def caption_lines(sitting: Sitting) -> tuple[str, ...]:
    """The caption band: who is seen (the floor holder, else the presiding chair) with their role,
    and the agenda item; 休憩中 in recess."""
    title = sitting.meeting.title
    if sitting.meeting.state is MeetingState.RECESSED:
        return ("休憩中", title)
    pid = sitting.floor.holder_id if sitting.floor else sitting.acting_chair_id()
    person = sitting.participants.get(pid) if pid else None
    item = sitting.agenda.current.title if sitting.agenda.current else title
    if person is None:
        return (item,)
    return (f"{person.name} {role_word(person.role.value, sitting.plenary, 'ja')}".strip(), item)


class Broadcasts:
    """One live broadcast per sitting being broadcast; nothing at all when not ``enabled``."""

    def __init__(self, sfu: SFU, folder: Path, spawn: Spawn, enabled: bool = False,
                 start: Start = LiveBroadcast) -> None:
        self.sfu, self.folder, self.spawn, self.enabled, self.start = sfu, folder, spawn, enabled, start
        self.live: dict[str, LiveBroadcast] = {}
        self.stages: dict[str, Stage] = {}
        self.lines: dict[str, tuple[str, ...]] = {}

    def folder_of(self, meeting_id: str) -> Path:
        return self.folder / meeting_id

    # -- event handlers (subscribed in signaling/app.py) -----------------------------------
    def sitting_changed(self, sitting: Sitting, events: Iterable[Event] = ()) -> None:
        meeting_id = sitting.meeting.id
        if not self.enabled:
            return
        if sitting.meeting.state not in BROADCAST_STATES:
            self._stop(meeting_id)
            return
        stage = self.stages.get(meeting_id)
        if stage is None:
            try:
                live = self.start(self.folder_of(meeting_id))
            except OSError:
                logger.exception("the broadcast of %s could not start", meeting_id)
                return
            logger.info("broadcasting %s into %s", meeting_id, self.folder_of(meeting_id))
            self.live[meeting_id] = live
            stage = self.stages[meeting_id] = Stage(meeting_id, {}, None, None, set())
        stage.take(sitting)
        self.lines[meeting_id] = caption_lines(sitting)
        self._show(meeting_id)

    def set_audible(self, meeting_id: str, participant_ids: set[str]) -> None:
        """As the gallery: a microphone that may no longer be heard is cut at once."""
        stage = self.stages.get(meeting_id)
        if stage is not None and not stage.audible <= participant_ids:
            stage.audible &= participant_ids
            self._show(meeting_id)

    def peers_changed(self, room_id: str) -> None:
        if room_id in self.stages:
            self._show(room_id)

    # -- media -------------------------------------------------------------------------------
    def _show(self, meeting_id: str) -> None:
        _, video, audio = on_stage(self.sfu.rooms.get(meeting_id), self.stages[meeting_id])
        self.live[meeting_id].show(video[0] if video else None, audio, self.lines[meeting_id])

    def _stop(self, meeting_id: str) -> None:
        live = self.live.pop(meeting_id, None)
        self.stages.pop(meeting_id, None)
        self.lines.pop(meeting_id, None)
        if live is not None:
            logger.info("the broadcast of %s ends", meeting_id)
            self.spawn(live.close())

    async def close(self) -> None:
        lives = list(self.live.values())
        self.live.clear()
        self.stages.clear()
        await asyncio.gather(*(live.close() for live in lives), return_exceptions=True)
