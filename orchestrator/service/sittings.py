"""Running commands on a sitting: one at a time per meeting, committed before anyone is told."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from gikai.orchestrator.domain.errors import NotFound
from gikai.orchestrator.domain.model import MeetingState
from gikai.orchestrator.domain.presence import Presence, Seen
from gikai.orchestrator.domain.sitting import Event, Sitting
from gikai.orchestrator.service.ports import MediaControl, Notifier
from gikai.orchestrator.service.signing import Signer
from gikai.orchestrator.service.unit_of_work import UnitOfWorkFactory

Command = Callable[[Sitting, datetime], list[Event]]


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def quorum_change(before: Sitting, after: Sitting, now: datetime) -> list[Event]:
    """A sitting in session that loses or regains its quorum: an event of its own."""
    if after.meeting.state is not MeetingState.OPEN or before.meeting.state is not MeetingState.OPEN:
        return []
    was, now_met = before.quorum(), after.quorum()
    if was.met == now_met.met:
        return []
    name = "quorum_restored" if now_met.met else "quorum_lost"
    return [Event(name, now, None, after.quorum_record())]


class SittingService:
    """Keeps each live sitting in memory, written through to the database.

    A command runs on a copy; only when the copy and its events are committed does the
    copy replace the live sitting, so a refused command or a failed commit changes nothing.
    """

    def __init__(self, units: UnitOfWorkFactory, media: MediaControl, notifier: Notifier,
                 clock: Callable[[], datetime] = utcnow, presence_by_camera: bool = False,
                 signer: Signer | None = None) -> None:
        self._units = units
        self.signer = signer or Signer.ephemeral()
        self.presence_by_camera = presence_by_camera
        self.media = media
        self.notifier = notifier
        self.clock = clock
        self._live: dict[str, Sitting] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def _lock(self, meeting_id: str) -> asyncio.Lock:
        return self._locks.setdefault(meeting_id, asyncio.Lock())

    async def _load(self, meeting_id: str) -> Sitting:
        sitting = self._live.get(meeting_id)
        if sitting is None:
            async with self._units() as uow:
                sitting = await uow.sittings.load(meeting_id)
            if sitting is None:
                raise NotFound(f"meeting {meeting_id}")
            sitting.presence_by_camera = self.presence_by_camera
            self._live[meeting_id] = sitting
        return sitting

    def live(self) -> list[Sitting]:
        """The sittings held in memory now (read by the metrics; not to be changed)."""
        return list(self._live.values())

    async def get(self, meeting_id: str) -> Sitting:
        async with self._lock(meeting_id):
            return await self._load(meeting_id)

    @asynccontextmanager
    async def hold(self, meeting_id: str) -> AsyncIterator[Sitting]:
        """The live sitting under the meeting's lock: for writers of the same record (ballots)."""
        async with self._lock(meeting_id):
            yield await self._load(meeting_id)

    def adopt(self, meeting_id: str, committed: Sitting) -> None:
        """A copy changed and committed by a holder of the lock (the ballot service deciding an
        item from its ballots) replaces the live sitting."""
        self._live[meeting_id] = committed

    async def execute(self, meeting_id: str, command: Command) -> list[Event]:
        async with self._lock(meeting_id):
            live = await self._load(meeting_id)
            draft = copy.deepcopy(live)
            now = self.clock()
            events = command(draft, now)
            if not events:
                return []
            events += quorum_change(live, draft, now)
            async with self._units() as uow:
                await uow.sittings.save(draft, events, self.signer.sign)
                await uow.commit()
            self._live[meeting_id] = draft
            self.media.set_audible(meeting_id, draft.audible())
            self.media.set_recording(meeting_id, draft.recording(), draft.started_at)
            removed = [e.data["participant_id"] for e in events if e.name == "participant_removed"]
        for participant_id in removed:
            await self.media.remove(meeting_id, participant_id)
        await self.notifier.sitting_changed(draft, events)
        return events

    async def observe(self, meeting_id: str, participant_id: str, seen: Seen) -> Presence | None:
        """An observation of a remote participant; only a change of presence is recorded."""
        async with self._lock(meeting_id):
            live = await self._load(meeting_id)
            if participant_id not in live.participants:
                return None
            change = live.observe(participant_id, seen, self.clock())
        if change is not None:
            found = change
            await self.execute(meeting_id, lambda s, now: s.presence_changed(participant_id, found, now))
        return change

    async def export_record(self, meeting_id: str) -> dict[str, Any]:
        async with self._units() as uow:
            meeting = await uow.directory.meeting(meeting_id)
            if meeting is None:
                raise NotFound(f"meeting {meeting_id}")
            entries = await uow.record.entries(meeting_id)
        return {"format": "gikai-record/1", "meeting_id": meeting_id, "title": meeting.title,
                "public_key": self.signer.public_pem(), "entries": entries}

    async def events(self, meeting_id: str) -> list[Event]:
        async with self._units() as uow:
            return await uow.record.events(meeting_id)

    async def recover_after_restart(self) -> int:
        """Close remote attendance left open by a server that stopped; clients reconnecting
        open new intervals, so the record shows the gap. Returns how many were closed."""
        async with self._units() as uow:
            stale = await uow.sittings.open_remote_attendance()
        for meeting_id, participant_id in stale:
            await self.execute(meeting_id, _disconnect(participant_id))
        return len(stale)

    async def end_presenting_after_restart(self) -> int:
        """A presentation or screen share still going on the record when the server stopped ended
        with it (they live in memory): say so on the record, reason ``server_restarted``."""
        names = ("presentation_started", "presentation_ended", "screen_share_started", "screen_share_ended")
        async with self._units() as uow:
            rows = await uow.record.entries_named_everywhere(names)
        going: dict[tuple[str, str], dict[str, Any]] = {}
        for meeting_id, name, data in rows:
            what = name.rsplit("_", 1)[0]  # "presentation" or "screen_share"
            if name.endswith("_started"):
                going[(meeting_id, what)] = dict(data or {})
            else:
                going.pop((meeting_id, what), None)
        for (meeting_id, what), d in going.items():
            await self.execute(meeting_id, _end_after_restart(what, d))
        return len(going)

    def forget(self, meeting_id: str) -> None:
        """Drop the in-memory copy (the next command reloads it from the database)."""
        self._live.pop(meeting_id, None)


def _disconnect(participant_id: str) -> Command:
    return lambda s, now: s.disconnected(participant_id, now)


def _end_after_restart(what: str, d: dict[str, Any]) -> Command:
    """The command that ends a presentation or screen share the server's restart ended."""
    if what == "presentation":
        return lambda s, now: s.presentation(
            None, False, str(d.get("document_id")), str(d.get("presenter_id")), now, "server_restarted")
    return lambda s, now: s.screen_share(None, False, str(d.get("presenter_id")), now, "server_restarted")
