"""The orchestrator's ports over this server: the SFU as ``MediaControl`` and ``ScreenControl``, and
``Notifier`` as a list of subscribers. Neither does any business: what happens after a committed
change is decided by the handlers subscribed in signaling/app.py, in the order given there."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from gikai.media import SFU
from gikai.orchestrator.domain.sitting import Event, Sitting
from gikai.orchestrator.domain.voting import Ballot
from gikai.signaling.adapters.recordings import Recordings

SittingHandler = Callable[[Sitting, Sequence[Event]], Awaitable[None] | None]
BallotHandler = Callable[[Sitting, Ballot], Awaitable[None] | None]
AudibleHandler = Callable[[str, set[str]], None]
Expel = Callable[[str, str], Awaitable[None]]


class Subscribers:
    """The ``Notifier`` port: every committed change goes to the handlers subscribed to it, one
    after the other, in the order they subscribed (a handler's error reaches the committer)."""

    def __init__(self) -> None:
        self._sitting: list[SittingHandler] = []
        self._ballot: list[BallotHandler] = []
        self._audible: list[AudibleHandler] = []

    def on_sitting(self, handler: SittingHandler) -> None:
        self._sitting.append(handler)

    def on_ballot(self, handler: BallotHandler) -> None:
        self._ballot.append(handler)

    def on_audible(self, handler: AudibleHandler) -> None:
        self._audible.append(handler)

    async def sitting_changed(self, sitting: Sitting, events: list[Event]) -> None:
        for handler in self._sitting:
            done = handler(sitting, events)
            if inspect.isawaitable(done):
                await done

    async def ballot_changed(self, sitting: Sitting, ballot: Ballot) -> None:
        for handler in self._ballot:
            done = handler(sitting, ballot)
            if inspect.isawaitable(done):
                await done

    def audible_changed(self, meeting_id: str, participant_ids: set[str]) -> None:
        """Whose microphones may be heard, before the SFU forwards accordingly (synchronous: it
        runs under the sitting's lock, so a microphone is cut everywhere before anything else)."""
        for handler in self._audible:
            handler(meeting_id, participant_ids)


class SfuMediaControl:
    """Forwards a participant's microphone only while the sitting's rules say they may be heard,
    records the sitting while its rules say so, and sends the one shared screen."""

    def __init__(self, sfu: SFU, recordings: Recordings, expel: Expel,
                 audible_changed: AudibleHandler) -> None:
        self.sfu = sfu
        self.recordings = recordings
        self._expel = expel
        self._audible_changed = audible_changed
        self._audible: dict[str, set[str]] = {}

    # -- MediaControl ------------------------------------------------------------------------
    def set_recording(self, meeting_id: str, on: bool, started_at: datetime | None) -> None:
        self.recordings.set_recording(meeting_id, on, started_at)

    def may_be_heard(self, meeting_id: str, participant_id: str) -> bool:
        return participant_id in self._audible.get(meeting_id, set())

    def set_audible(self, meeting_id: str, participant_ids: set[str]) -> None:
        self._audible[meeting_id] = set(participant_ids)
        self._audible_changed(meeting_id, self._audible[meeting_id])
        room = self.sfu.rooms.get(meeting_id)
        if room is None:
            return
        for peer_id in room.peers:
            room.set_forwarding(peer_id, "audio", peer_id in participant_ids)

    async def remove(self, meeting_id: str, participant_id: str) -> None:
        await self._expel(meeting_id, participant_id)

    # -- ScreenControl -----------------------------------------------------------------------
    def connected(self, meeting_id: str, participant_id: str) -> bool:
        room = self.sfu.rooms.get(meeting_id)
        return room is not None and participant_id in room.peers

    def share_screen(self, meeting_id: str, participant_id: str | None) -> bool:
        room = self.sfu.rooms.get(meeting_id)
        return room is not None and room.share_screen(participant_id)

    def screen(self, meeting_id: str) -> str | None:
        room = self.sfu.rooms.get(meeting_id)
        return room.screen if room is not None else None
