"""Who is connected to which meeting, and telling them what changed."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from gikai.orchestrator.domain.model import Participant
from gikai.signaling import wire

logger = logging.getLogger(__name__)

CLOSE_REMOVED = 4003

Send = Callable[[dict[str, Any]], Awaitable[None]]
SendText = Callable[[str], Awaitable[None]]


@dataclass
class Attendee:
    participant: Participant
    send: Send
    close: Callable[[int, str], Awaitable[None]]
    audio_muted: bool = False
    video_muted: bool = False
    send_text: SendText | None = None  # the same, already encoded (a broadcast encodes once)

    def state(self) -> dict[str, Any]:
        p = self.participant
        return {
            "id": p.id, "name": p.name, "reading": p.reading, "role": p.role.value,
            "seat": p.seat, "connected": True,
            "audio_muted": self.audio_muted, "video_muted": self.video_muted,
        }


@dataclass
class MeetingHub:
    """The live connections of one meeting."""

    meeting_id: str
    attendees: dict[str, Attendee] = field(default_factory=dict)

    def roster(self) -> list[dict[str, Any]]:
        return [a.state() for a in self.attendees.values()]

    async def broadcast(self, message: dict[str, Any], exclude: str | set[str] | None = None,
                        only: set[str] | None = None) -> None:
        left_out = {exclude} if isinstance(exclude, str) else (exclude or set())
        targets = [a for pid, a in self.attendees.items()
                   if pid not in left_out and (only is None or pid in only)]
        text = json.dumps(message)  # once, not once per socket (200 watchers of a vote)
        results = await asyncio.gather(*(a.send_text(text) if a.send_text else a.send(message) for a in targets),
                                       return_exceptions=True)
        for attendee, result in zip(targets, results, strict=True):
            if isinstance(result, Exception):
                logger.debug("could not tell %s: %s", attendee.participant.id, result)


class Hub:
    def __init__(self) -> None:
        self.meetings: dict[str, MeetingHub] = {}

    def meeting(self, meeting_id: str) -> MeetingHub:
        hub = self.meetings.get(meeting_id)
        if hub is None:
            hub = self.meetings[meeting_id] = MeetingHub(meeting_id)
        return hub

    def find(self, meeting_id: str, participant_id: str) -> Attendee | None:
        hub = self.meetings.get(meeting_id)
        return hub.attendees.get(participant_id) if hub else None

    def remove(self, meeting_id: str, participant_id: str, attendee: Attendee) -> bool:
        """Remove ``attendee`` if it is still the registered one; True if removed."""
        hub = self.meetings.get(meeting_id)
        if hub is None or hub.attendees.get(participant_id) is not attendee:
            return False
        del hub.attendees[participant_id]
        if not hub.attendees:
            del self.meetings[meeting_id]
        return True

    async def expel(self, meeting_id: str, participant_id: str) -> None:
        """The chair removed the participant: tell their socket why, and close it."""
        attendee = self.find(meeting_id, participant_id)
        if attendee is not None:
            await attendee.send(wire.error("removed"))
            await attendee.close(CLOSE_REMOVED, "removed")
