"""The public gallery (傍聴席): anyone may watch a sitting live at /gallery/<meeting id>.

A viewer is not an attendee. Viewers are kept here, never in the hub, so they appear in no
roster, count for nothing and are told nothing but the gallery view. A viewer's media peer only
sends (media.sfu.viewer.Viewer): the floor holder's camera, or the presiding chair's while nobody
holds the floor (a shared screen before either), and the microphones the sitting's rules let be
heard. Both only while the sitting is open: before it opens, in recess and after adjournment
members may talk freely, off the record, so the gallery shows a notice and carries no media.

The seats are capped (``max_viewers``, all sittings together, and ``max_per_address`` for one client
address, so one machine cannot take every seat). A seat whose media has not started within
``claim_seconds`` of the watch is given back (gallery/viewer.py). The hooks below are event handlers
subscribed in signaling/app.py; a viewer that reads slowly skips to the newest view.

A chamber display (/display/<meeting id>: the monitor in the chamber, a stream's overlay) watches
without media: it takes no viewer's seat (a full gallery never blanks the chamber's monitor) and
has no media peer; displays are capped by their own count (``max_viewers`` too).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from typing import Any

from gikai.media import SFU, UpTrack
from gikai.orchestrator.domain.errors import NotFound
from gikai.orchestrator.domain.sitting import Event, Sitting
from gikai.orchestrator.domain.voting import Ballot, BallotState
from gikai.orchestrator.service.ballots import BallotService
from gikai.orchestrator.service.sittings import SittingService
from gikai.signaling.gallery.stage import Stage, Watcher, on_stage, result_view

SHUTDOWN = 1001
MEETING_ID = re.compile(r"[0-9a-f]{32}")  # orchestrator/domain/model.py new_id(): anything else is no sitting


class GalleryRefusal(Exception):
    """A gallery request refused, with its error code (see signaling/errors.py)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code
        self.detail = detail


class Gallery:
    def __init__(self, sfu: SFU, sittings: SittingService, ballots: BallotService, max_viewers: int,
                 max_per_address: int = 10, claim_seconds: float = 30.0) -> None:
        self.sfu = sfu
        self.sittings = sittings
        self.ballots = ballots
        self.max_viewers = max_viewers
        self.max_per_address = max_per_address
        self.claim_seconds = claim_seconds
        self.stages: dict[str, Stage] = {}
        self.sockets: set[Watcher] = set()  # every open gallery socket, watching or not
        self._seats: set[Watcher] = set()  # watching or about to: what the cap counts
        self._displays: set[Watcher] = set()  # watching without media (chamber displays)
        self._published: dict[str, dict[str, Any]] = {}

    @property
    def viewers(self) -> int:
        return len(self._seats)

    def sockets_from(self, remote: str) -> int:
        return sum(1 for s in self.sockets if s.remote == remote)

    async def watch(self, viewer: Watcher, meeting_id: str, media: bool = True) -> dict[str, Any]:
        if not MEETING_ID.fullmatch(meeting_id):
            raise GalleryRefusal("not_found", "no such meeting")  # refused without a database read
        seats = self._seats if media else self._displays
        if len(seats) >= self.max_viewers:
            raise GalleryRefusal("gallery_full", f"{self.max_viewers} viewers")
        if sum(1 for s in seats if s.remote == viewer.remote) >= self.max_per_address:
            raise GalleryRefusal("gallery_address_full", f"{self.max_per_address} viewers from {viewer.remote}")
        seats.add(viewer)  # before any await: the cap holds under concurrent watches
        try:
            stage = await self._stage(meeting_id)
        except NotFound:
            seats.discard(viewer)
            raise GalleryRefusal("not_found", "no such meeting") from None
        except BaseException:
            seats.discard(viewer)
            raise
        if viewer.closed:
            seats.discard(viewer)
            raise GalleryRefusal("not_watching", "the socket closed")
        viewer.stage = stage
        if media:
            viewer.peer = self.sfu.viewer(viewer.id, viewer.send_offer, on_failed=viewer.media_failed)
        stage.viewers.add(viewer)
        self._show(stage, [viewer])
        return stage.view()

    async def _stage(self, meeting_id: str) -> Stage:
        stage = self.stages.get(meeting_id)
        if stage is not None:
            return stage
        latest = await self.ballots.latest(meeting_id)
        # The last await before the stage exists: every later change reaches it by the hooks.
        sitting = await self.sittings.get(meeting_id)
        if latest is not None and latest.state is BallotState.PUBLISHED:
            self._published[meeting_id] = result_view(sitting, latest)
        stage = self.stages.get(meeting_id)  # another viewer may have made it meanwhile
        if stage is None:
            stage = Stage(meeting_id, {}, None, None, set(), self._published.get(meeting_id))
            stage.take(sitting)
            self.stages[meeting_id] = stage
            self._rebind(stage, post=False)
            stage.text = stage.push_text()
        return stage

    async def leave(self, viewer: Watcher) -> None:
        self._seats.discard(viewer)
        self._displays.discard(viewer)
        stage, peer = viewer.stage, viewer.peer
        viewer.stage = viewer.peer = None
        if stage is not None:
            stage.viewers.discard(viewer)
            if not stage.viewers and self.stages.get(stage.meeting_id) is stage:
                del self.stages[stage.meeting_id]
        if peer is not None:
            await peer.close()

    # -- event handlers (subscribed in signaling/app.py) -----------------------------------
    def sitting_changed(self, sitting: Sitting, events: Iterable[Event] = ()) -> None:
        stage = self.stages.get(sitting.meeting.id)
        if stage is not None:
            stage.take(sitting)
            self._rebind(stage)

    def ballot_changed(self, sitting: Sitting, ballot: Ballot) -> None:
        if ballot.state is not BallotState.PUBLISHED:
            return  # an open or closed ballot's tally is not public
        result = self._published[sitting.meeting.id] = result_view(sitting, ballot)
        stage = self.stages.get(sitting.meeting.id)
        if stage is not None:
            stage.result = result
            self._post(stage)

    def set_audible(self, meeting_id: str, participant_ids: set[str]) -> None:
        """The SFU's forwarding changed. A microphone that may no longer be heard is cut at once;
        one that may now be heard waits for ``sitting_changed``, which always follows with the
        sitting's state (before opening or in recess the SFU forwards everyone to the members,
        but the gallery carries nothing)."""
        stage = self.stages.get(meeting_id)
        if stage is not None and not stage.audible <= participant_ids:
            stage.audible &= participant_ids
            self._rebind(stage)

    def peers_changed(self, room_id: str) -> None:
        stage = self.stages.get(room_id)
        if stage is not None:
            self._rebind(stage)

    # -- media and pushes -----------------------------------------------------------------
    def _sources(self, stage: Stage) -> tuple[str | None, list[UpTrack], list[UpTrack]]:
        return on_stage(self.sfu.rooms.get(stage.meeting_id), stage)

    def _show(self, stage: Stage, viewers: Iterable[Watcher]) -> None:
        _, video, audio = self._sources(stage)
        for viewer in viewers:
            if viewer.peer is not None:
                viewer.peer.show("video", video)
                viewer.peer.show("audio", audio)

    def _rebind(self, stage: Stage, post: bool = True) -> None:
        stage.on_screen = self._sources(stage)[0]
        room = self.sfu.rooms.get(stage.meeting_id)
        sharer = room.screen if room is not None and stage.on_screen == "screen" else None
        stage.screen_of = None if sharer is None else "speaker" if sharer == stage.speaker_id else "chair"
        self._show(stage, stage.viewers)
        if post:
            self._post(stage)

    def _post(self, stage: Stage) -> None:
        text = stage.push_text()
        if text == stage.text:
            return  # attendance, presence, the queue: nothing the gallery shows
        stage.text = text
        for viewer in stage.viewers:
            viewer.post(text)

    async def close(self) -> None:
        sockets, self.sockets = list(self.sockets), set()
        await asyncio.gather(*(v.close(SHUTDOWN, "server stopping") for v in sockets), return_exceptions=True)
        await asyncio.gather(*(self.leave(v) for v in sockets), return_exceptions=True)
