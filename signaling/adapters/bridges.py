"""The orchestrator's ports, implemented over the SFU and the connected sockets."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING

from gikai.media import SFU
from gikai.orchestrator.domain.model import Role
from gikai.orchestrator.domain.sitting import Event, Sitting
from gikai.orchestrator.domain.voting import Ballot, BallotState
from gikai.orchestrator.service.sittings import utcnow
from gikai.signaling.adapters.recordings import Recordings
from gikai.signaling.ws.hub import Hub
from gikai.signaling.ws.views import ballot_view, event_view, sitting_view

if TYPE_CHECKING:
    from gikai.signaling.gallery.socket import Gallery
    from gikai.signaling.ws.presenting import Presenting

logger = logging.getLogger(__name__)

CLOSE_REMOVED = 4003


class SfuMediaControl:
    """Forwards a participant's microphone only while the sitting's rules say they may be heard,
    and records the sitting while its rules say so."""

    def __init__(self, sfu: SFU, hub: Hub, recordings: Recordings | None = None) -> None:
        self.sfu = sfu
        self.hub = hub
        self.recordings = recordings
        self.gallery: Gallery | None = None
        self._audible: dict[str, set[str]] = {}

    def set_recording(self, meeting_id: str, on: bool, started_at: datetime | None) -> None:
        if self.recordings is not None:
            self.recordings.set_recording(meeting_id, on, started_at)

    def may_be_heard(self, meeting_id: str, participant_id: str) -> bool:
        return participant_id in self._audible.get(meeting_id, set())

    def set_audible(self, meeting_id: str, participant_ids: set[str]) -> None:
        self._audible[meeting_id] = set(participant_ids)
        if self.gallery is not None:
            self.gallery.set_audible(meeting_id, self._audible[meeting_id])
        room = self.sfu.rooms.get(meeting_id)
        if room is None:
            return
        for peer_id in room.peers:
            room.set_forwarding(peer_id, "audio", peer_id in participant_ids)

    async def remove(self, meeting_id: str, participant_id: str) -> None:
        from gikai.signaling.ws import protocol

        attendee = self.hub.find(meeting_id, participant_id)
        if attendee is not None:
            await attendee.send(protocol.error("removed"))
            await attendee.close(CLOSE_REMOVED, "removed")


class _BallotPushes:
    """One meeting's ballot pushes, coalesced: while one is being written to every socket, the
    changes that come meanwhile wait, and the votes of one open ballot go out together as its
    newest state (a burst of 16 votes is two or three pushes to 200 watchers, not 16). Other
    changes (opened, closed, decided, published) each go out in order. Every caller returns once
    a push carrying its change, or a newer state of it, is out."""

    def __init__(self) -> None:
        self.pending: list[tuple[Sitting, Ballot, list[asyncio.Future[None]]]] = []
        self.task: asyncio.Task[None] | None = None

    def add(self, sitting: Sitting, ballot: Ballot) -> asyncio.Future[None]:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        last = self.pending[-1] if self.pending else None
        if last is not None and last[1].id == ballot.id and last[1].state is ballot.state is BallotState.OPEN:
            newest = ballot if len(ballot.voters) >= len(last[1].voters) else last[1]
            self.pending[-1] = (sitting, newest, last[2] + [done])
        else:
            self.pending.append((sitting, ballot, [done]))
        return done


class HubNotifier:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.gallery: Gallery | None = None
        self.presenting: Presenting | None = None
        self._ballot_pushes: dict[str, _BallotPushes] = {}

    async def sitting_changed(self, sitting: Sitting, events: list[Event]) -> None:
        if self.gallery is not None:
            self.gallery.sitting_changed(sitting)
        hub = self.hub.meetings.get(sitting.meeting.id)
        if hub is not None:
            await hub.broadcast({
                "type": "sitting",
                "sitting": sitting_view(sitting, utcnow()),
                "events": [event_view(e) for e in events],
            })
        if self.presenting is not None:  # after the push: a presentation it ends is pushed later
            self.presenting.sitting_changed(sitting, events)

    async def ballot_changed(self, sitting: Sitting, ballot: Ballot) -> None:
        """Everyone sees who has voted; between closing and publication only the chair and
        the clerk see the tally (the chair announces it)."""
        if self.gallery is not None:
            self.gallery.ballot_changed(sitting, ballot)  # published results only
        meeting_id = sitting.meeting.id
        pushes = self._ballot_pushes.setdefault(meeting_id, _BallotPushes())
        done = pushes.add(sitting, ballot)
        if pushes.task is None:
            pushes.task = asyncio.ensure_future(self._send_ballots(meeting_id, pushes))
        await done

    async def _send_ballots(self, meeting_id: str, pushes: _BallotPushes) -> None:
        try:
            while pushes.pending:
                sitting, ballot, waiters = pushes.pending.pop(0)
                try:
                    await self._push_ballot(sitting, ballot)
                except Exception:
                    logger.exception("could not push the ballot of %s", meeting_id)
                finally:
                    for waiter in waiters:
                        if not waiter.done():
                            waiter.set_result(None)
        finally:
            pushes.task = None
            if not pushes.pending and self._ballot_pushes.get(meeting_id) is pushes:
                del self._ballot_pushes[meeting_id]

    async def _push_ballot(self, sitting: Sitting, ballot: Ballot) -> None:
        hub = self.hub.meetings.get(sitting.meeting.id)
        if hub is None:
            return
        public = {"type": "ballot", "ballot": ballot_view(ballot, with_tally=False)}
        if ballot.state is not BallotState.CLOSED:
            await hub.broadcast(public)
            return
        chair = sitting.acting_chair_id()
        insiders = {pid for pid, a in hub.attendees.items() if pid == chair or a.participant.role is Role.CLERK}
        full = {"type": "ballot", "ballot": ballot_view(ballot, with_tally=True)}
        await hub.broadcast(public, exclude=insiders)
        await hub.broadcast(full, only=insiders)
