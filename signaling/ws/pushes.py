"""What the members' sockets are told after a change is committed: the sitting, the ballot (its
pushes coalesced), the presented document and the shared screen. Pushing only: the reactions to a
change are registered in signaling/app.py."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from gikai.orchestrator.domain.model import Role
from gikai.orchestrator.domain.presenting import Presentation
from gikai.orchestrator.domain.sitting import Event, Sitting
from gikai.orchestrator.domain.voting import Ballot, BallotState
from gikai.orchestrator.service.sittings import utcnow
from gikai.signaling.ws.hub import Hub
from gikai.signaling.ws.views import ballot_view, event_view, presentation_view, screen_view, sitting_view

logger = logging.getLogger(__name__)


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
            self.pending[-1] = (sitting, newest, [*last[2], done])
        else:
            self.pending.append((sitting, ballot, [done]))
        return done


class MemberPushes:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._ballot_pushes: dict[str, _BallotPushes] = {}

    async def sitting_changed(self, sitting: Sitting, events: Sequence[Event]) -> None:
        hub = self.hub.meetings.get(sitting.meeting.id)
        if hub is not None:
            await hub.broadcast({
                "type": "sitting",
                "sitting": sitting_view(sitting, utcnow()),
                "events": [event_view(e) for e in events],
            })

    async def presentation_changed(self, meeting_id: str, presentation: Presentation | None) -> None:
        hub = self.hub.meetings.get(meeting_id)
        if hub is not None:
            await hub.broadcast({"type": "presentation", "presentation": presentation_view(presentation)})

    async def screen_changed(self, meeting_id: str, sharer: str | None) -> None:
        hub = self.hub.meetings.get(meeting_id)
        if hub is not None:
            await hub.broadcast({"type": "screen", "screen": screen_view(sharer)})

    async def ballot_changed(self, sitting: Sitting, ballot: Ballot) -> None:
        """Everyone sees who has voted; between closing and publication only the chair and
        the clerk see the tally (the chair announces it)."""
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
