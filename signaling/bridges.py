"""The orchestrator's ports, implemented over the SFU and the connected sockets."""

from __future__ import annotations

from orchestrator.domain.sitting import Event, Sitting
from orchestrator.service.sittings import utcnow
from media import SFU

from .hub import Hub
from .views import event_view, sitting_view

CLOSE_REMOVED = 4003


class SfuMediaControl:
    """Forwards a participant's microphone only while the sitting's rules say they may be heard."""

    def __init__(self, sfu: SFU, hub: Hub) -> None:
        self.sfu = sfu
        self.hub = hub
        self._audible: dict[str, set[str]] = {}

    def may_be_heard(self, meeting_id: str, participant_id: str) -> bool:
        return participant_id in self._audible.get(meeting_id, set())

    def set_audible(self, meeting_id: str, participant_ids: set[str]) -> None:
        self._audible[meeting_id] = set(participant_ids)
        room = self.sfu.rooms.get(meeting_id)
        if room is None:
            return
        for peer_id in room.peers:
            room.set_forwarding(peer_id, "audio", peer_id in participant_ids)

    async def remove(self, meeting_id: str, participant_id: str) -> None:
        from . import protocol

        attendee = self.hub.find(meeting_id, participant_id)
        if attendee is not None:
            await attendee.send(protocol.error("removed"))
            await attendee.close(CLOSE_REMOVED, "removed")


class HubNotifier:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def sitting_changed(self, sitting: Sitting, events: list[Event]) -> None:
        hub = self.hub.meetings.get(sitting.meeting.id)
        if hub is None:
            return
        await hub.broadcast({
            "type": "sitting",
            "sitting": sitting_view(sitting, utcnow()),
            "events": [event_view(e) for e in events],
        })
