"""Presenting a document or a screen: the chair or the floor holder shows one of the sitting's
documents, turns its pages and points at it, or shares their screen; everyone in the sitting follows.

What is shown lives in memory, one :class:`Showing` per sitting. Starts and ends go on the
sitting's signed record (``presentation_started`` / ``presentation_ended``, ``screen_share_started``
/ ``screen_share_ended``); page turns and pointer moves are only pushed, pointer moves at most
``POINTER_PER_SECOND`` times a second per sitting (the last one always arrives). The rules are in
orchestrator/domain/presenting.py; two event handlers end a presentation or share when a committed
change takes the right to present away (:meth:`sitting_changed`) or the sharer's media connection
goes (:meth:`media_changed`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from gikai.orchestrator.domain.errors import NotFound
from gikai.orchestrator.domain.presenting import (
    POINTER_PER_SECOND,
    NoMediaConnection,
    Presentation,
    Showing,
    check_may_end,
    check_may_present,
    check_may_take_over,
    check_page,
    presentation_ended_by,
    presenter_only,
    share_ended_by,
)
from gikai.orchestrator.domain.sitting import Event, Sitting
from gikai.orchestrator.service.ports import DocumentShelf, ScreenControl, ShowingNotifier
from gikai.orchestrator.service.sittings import SittingService

logger = logging.getLogger(__name__)

Spawn = Callable[[Coroutine[Any, Any, None]], "asyncio.Task[None]"]


class PresentingService:
    """The presentations and screen shares of every sitting on this server."""

    def __init__(self, sittings: SittingService, documents: DocumentShelf, screens: ScreenControl,
                 notifier: ShowingNotifier, spawn: Spawn) -> None:
        self.sittings = sittings
        self.documents = documents
        self.screens = screens
        self.notifier = notifier
        self.spawn = spawn
        self.showing: dict[str, Showing] = {}
        self._pointer_at: dict[str, float] = {}
        self._pointer_due: set[str] = set()
        self._locks: dict[str, asyncio.Lock] = {}  # starts and ends of one sitting, one at a time

    def _shown(self, meeting_id: str) -> Showing:
        return self.showing.setdefault(meeting_id, Showing())

    def _lock(self, meeting_id: str) -> asyncio.Lock:
        return self._locks.setdefault(meeting_id, asyncio.Lock())

    def current(self, meeting_id: str) -> Presentation | None:
        return self._shown(meeting_id).presentation

    def sharer(self, meeting_id: str) -> str | None:
        return self._shown(meeting_id).sharer

    # -- documents ----------------------------------------------------------------------------
    async def start(self, meeting_id: str, actor: str, document_id: str, page: int) -> None:
        async with self._lock(meeting_id):
            doc = await self.documents.get(document_id)
            if doc.meeting_id != meeting_id:
                raise NotFound(f"document {document_id} in this sitting")
            check_page(page, doc.pages)
            sitting = await self.sittings.get(meeting_id)
            check_may_present(sitting, actor)
            shown = self._shown(meeting_id)
            previous = shown.presentation
            check_may_take_over(sitting, actor, previous.presenter_id if previous else None, "presenting")
            if previous is not None and previous.document_id == document_id and previous.presenter_id == actor:
                previous.page, previous.pointer = page, None  # a second tap on the same document
                await self._push(meeting_id)
                return
            if previous is not None:
                await self._end(meeting_id, actor, "replaced")
            await self.sittings.execute(meeting_id, lambda s, now: s.presentation(
                actor, True, document_id, actor, now))
            shown.presentation = Presentation(document_id, doc.title, page, doc.pages, actor)
            await self._push(meeting_id)

    async def stop(self, meeting_id: str, actor: str) -> None:
        async with self._lock(meeting_id):
            shown = self._shown(meeting_id).presentation
            if shown is None:
                return
            if actor != shown.presenter_id:
                check_may_end(await self.sittings.get(meeting_id), actor, shown.presenter_id)
            await self._end(meeting_id, actor, "stopped")

    async def turn_page(self, meeting_id: str, actor: str, page: int) -> None:
        shown = presenter_only(self._shown(meeting_id).presentation, actor)
        if shown.turn_to(page):
            await self._push(meeting_id)

    async def point(self, meeting_id: str, actor: str, x: float, y: float) -> None:
        presenter_only(self._shown(meeting_id).presentation, actor).pointer = (x, y)
        await self._push_pointer(meeting_id)

    async def _end(self, meeting_id: str, actor: str | None, reason: str) -> None:
        showing = self._shown(meeting_id)
        shown = showing.presentation
        if shown is None:
            return
        await self.sittings.execute(meeting_id, lambda s, now: s.presentation(
            actor, False, shown.document_id, shown.presenter_id, now, reason))
        if showing.presentation is shown:
            showing.presentation = None
            await self._push(meeting_id)

    # -- screens ------------------------------------------------------------------------------
    async def share_screen(self, meeting_id: str, actor: str) -> None:
        async with self._lock(meeting_id):
            sitting = await self.sittings.get(meeting_id)
            check_may_present(sitting, actor)
            previous = self._shown(meeting_id).sharer
            if previous == actor:
                return  # a second tap: already shown
            check_may_take_over(sitting, actor, previous, "sharing a screen")
            if not self.screens.connected(meeting_id, actor):
                raise NoMediaConnection()
            if previous is not None:
                await self._end_screen(meeting_id, actor, "replaced")
            await self.sittings.execute(meeting_id, lambda s, now: s.screen_share(actor, True, actor, now))
            if not self.screens.share_screen(meeting_id, actor):  # gone while the record was written
                await self._end_screen(meeting_id, None, "left", sharer=actor)
                raise NoMediaConnection()
            self._shown(meeting_id).sharer = actor
            await self.notifier.screen_changed(meeting_id, actor)

    async def stop_screen(self, meeting_id: str, actor: str) -> None:
        async with self._lock(meeting_id):
            sharer = self._shown(meeting_id).sharer
            if sharer is None:
                return
            if actor != sharer:
                check_may_end(await self.sittings.get(meeting_id), actor, sharer)
            await self._end_screen(meeting_id, actor, "stopped")

    async def _end_screen(self, meeting_id: str, actor: str | None, reason: str,
                          sharer: str | None = None) -> None:
        showing = self._shown(meeting_id)
        sharer = sharer or showing.sharer
        if sharer is None:
            return
        if showing.sharer == sharer:
            showing.sharer = None
            if self.screens.screen(meeting_id) == sharer:
                self.screens.share_screen(meeting_id, None)
            await self.notifier.screen_changed(meeting_id, None)
        await self.sittings.execute(meeting_id, lambda s, now: s.screen_share(actor, False, sharer, now, reason))

    # -- event handlers -------------------------------------------------------------------------
    def media_changed(self, meeting_id: str) -> None:
        """A peer joined or left the sitting's room: if the sharer's media connection went (they
        left, reloaded, lost the network), the room no longer sends their screen; end the share."""
        sharer = self._shown(meeting_id).sharer
        if sharer is not None and self.screens.screen(meeting_id) != sharer:
            self.spawn(self._end_screen_quietly(meeting_id, sharer, "left"))

    def sitting_changed(self, sitting: Sitting, events: Sequence[Event]) -> None:
        """After a committed change: end what its presenter may no longer show."""
        meeting_id = sitting.meeting.id
        showing = self._shown(meeting_id)
        if showing.sharer is not None:
            reason = share_ended_by(sitting, showing.sharer)
            if reason is not None:
                self.spawn(self._end_screen_quietly(meeting_id, showing.sharer, reason))
        shown = showing.presentation
        if shown is not None:
            reason = presentation_ended_by(sitting, events, shown)
            if reason is not None:
                self.spawn(self._end_quietly(meeting_id, shown, reason))

    async def _end_screen_quietly(self, meeting_id: str, sharer: str, reason: str) -> None:
        try:
            async with self._lock(meeting_id):
                if self._shown(meeting_id).sharer == sharer:
                    await self._end_screen(meeting_id, None, reason)
        except Exception:
            logger.exception("could not end the screen share in %s", meeting_id)

    async def _end_quietly(self, meeting_id: str, shown: Presentation, reason: str) -> None:
        try:
            async with self._lock(meeting_id):
                if self._shown(meeting_id).presentation is shown:
                    await self._end(meeting_id, None, reason)
        except Exception:
            logger.exception("could not end the presentation in %s", meeting_id)

    # -- telling everyone -----------------------------------------------------------------------
    async def _push(self, meeting_id: str) -> None:
        await self.notifier.presentation_changed(meeting_id, self.current(meeting_id))

    async def _push_pointer(self, meeting_id: str) -> None:
        """At most POINTER_PER_SECOND pushes; a move in between is sent at the next slot."""
        if meeting_id in self._pointer_due:
            return
        wait = self._pointer_at.get(meeting_id, 0.0) + 1.0 / POINTER_PER_SECOND - time.monotonic()
        if wait <= 0:
            self._pointer_at[meeting_id] = time.monotonic()
            await self._push(meeting_id)
            return
        self._pointer_due.add(meeting_id)

        async def later() -> None:
            await asyncio.sleep(wait)
            self._pointer_due.discard(meeting_id)
            self._pointer_at[meeting_id] = time.monotonic()
            await self._push(meeting_id)

        self.spawn(later())
