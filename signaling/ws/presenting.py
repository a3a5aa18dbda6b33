"""Presenting a document: the chair or the floor holder shows one of the sitting's documents,
turns its pages and points at it; everyone in the meeting follows. The same people may share
their screen instead: the SFU then sends that participant's screen slot to everyone.

One presentation per meeting, in memory. Its start and end are on the sitting's signed record
(``presentation_started`` / ``presentation_ended``); page turns and pointer moves are only pushed,
pointer moves at most ``POINTER_PER_SECOND`` times a second per meeting (the last one always
arrives). When the presenter may no longer present (the floor ended, the chair changed, the
document was removed), the server ends the presentation and says so on the record. A screen
share works the same way (``screen_share_started`` / ``screen_share_ended``), and also ends when
the sharer's media connection goes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from gikai.orchestrator.domain.errors import DomainError, NotFound
from gikai.orchestrator.domain.sitting import Event, Sitting
from gikai.orchestrator.service.documents import DocumentService
from gikai.signaling.services import Services
from gikai.signaling.ws.protocol import Present

logger = logging.getLogger(__name__)

POINTER_PER_SECOND = 10


class CannotPresent(DomainError):
    code = "cannot_present"
    ja = "資料の説明は、委員長(議長)か発言中の方だけが行えます。"
    en = "Only the chair or whoever has the floor can present a document."


class NotPresenter(DomainError):
    code = "not_presenter"
    ja = "資料を説明している方だけがページを変えられます。"
    en = "Only the presenter can turn pages or point."


class NoPresentation(DomainError):
    code = "no_presentation"
    ja = "いま説明中の資料はありません。"
    en = "No document is being presented."


class NoMediaConnection(DomainError):
    code = "no_media_connection"
    ja = "映像の接続がまだありません。少し待ってから、もう一度押してください。"
    en = "Your video connection is not ready yet. Wait a moment and press again."


class PageOutOfRange(DomainError):
    code = "page_out_of_range"
    ja = "そのページはありません。"
    en = "There is no such page."


@dataclass
class Presentation:
    document_id: str
    title: str
    page: int
    pages: int
    presenter_id: str
    pointer: tuple[float, float] | None = None

    def view(self) -> dict[str, Any]:
        return {"document_id": self.document_id, "title": self.title, "page": self.page, "pages": self.pages,
                "presenter_id": self.presenter_id,
                "pointer": {"x": self.pointer[0], "y": self.pointer[1]} if self.pointer else None}


class Presenting:
    """The presentations of every meeting on this server."""

    def __init__(self, services: Services, documents: DocumentService | None = None) -> None:
        self.s = services
        self.documents = documents
        self.now: dict[str, Presentation] = {}
        self.screens: dict[str, str] = {}  # meeting id -> whose screen everyone is shown
        self._pointer_at: dict[str, float] = {}
        self._pointer_due: set[str] = set()
        self._locks: dict[str, asyncio.Lock] = {}  # starts and ends of one meeting, one at a time
        # The app also tells it of every sitting change (HubNotifier.presenting), and it sets
        # ``documents`` once the document service is up.
        services.sfu.peer_listeners.append(self._peers_changed)

    def current(self, meeting_id: str) -> dict[str, Any] | None:
        shown = self.now.get(meeting_id)
        return shown.view() if shown else None

    def screen(self, meeting_id: str) -> dict[str, Any] | None:
        sharer = self.screens.get(meeting_id)
        return {"presenter_id": sharer} if sharer else None

    # -- requests ------------------------------------------------------------------------
    async def handle(self, meeting_id: str, actor: str, r: Present) -> dict[str, Any]:
        if r.action in ("share_screen", "stop_screen"):
            async with self._locks.setdefault(meeting_id, asyncio.Lock()):
                if r.action == "share_screen":
                    await self._share(meeting_id, actor)
                else:
                    await self._unshare(meeting_id, actor)
            return {"screen": self.screen(meeting_id)}
        if r.action in ("start", "stop"):
            async with self._locks.setdefault(meeting_id, asyncio.Lock()):
                if r.action == "start":
                    await self._start(meeting_id, actor, r.document_id, r.page)
                else:
                    await self._stop(meeting_id, actor)
        else:
            shown = self._presenter_only(meeting_id, actor)
            if r.action == "page":
                if not 1 <= r.page <= shown.pages:
                    raise PageOutOfRange(f"page {r.page} of {shown.pages}")
                if r.page != shown.page:
                    shown.page, shown.pointer = r.page, None
                    await self._push(meeting_id)
            else:
                shown.pointer = (r.x, r.y)
                await self._push_pointer(meeting_id)
        return {"presentation": self.current(meeting_id)}

    async def _start(self, meeting_id: str, actor: str, document_id: str, page: int) -> None:
        if self.documents is None:
            raise NotFound("documents are not served here")
        doc = await self.documents.get(document_id)
        if doc.meeting_id != meeting_id:
            raise NotFound(f"document {document_id} in this sitting")
        if not 1 <= page <= doc.pages:
            raise PageOutOfRange(f"page {page} of {doc.pages}")
        sitting = await self.s.sittings.get(meeting_id)
        if not sitting.may_present(actor):
            raise CannotPresent()
        previous = self.now.get(meeting_id)
        if previous is not None and previous.presenter_id != actor:
            if sitting.acting_chair_id() != actor:
                raise NotPresenter("someone else is presenting")
        if previous is not None and previous.document_id == document_id and previous.presenter_id == actor:
            previous.page, previous.pointer = page, None  # a second tap on the same document
            await self._push(meeting_id)
            return
        if previous is not None:
            await self._end(meeting_id, actor, "replaced")
        await self.s.sittings.execute(meeting_id, lambda s, now: s.presentation(
            actor, True, document_id, actor, now))
        self.now[meeting_id] = Presentation(document_id, doc.title, page, doc.pages, actor)
        await self._push(meeting_id)

    async def _stop(self, meeting_id: str, actor: str) -> None:
        shown = self.now.get(meeting_id)
        if shown is None:
            return
        if actor != shown.presenter_id:
            sitting = await self.s.sittings.get(meeting_id)
            if sitting.acting_chair_id() != actor:
                raise NotPresenter()
        await self._end(meeting_id, actor, "stopped")

    def _presenter_only(self, meeting_id: str, actor: str) -> Presentation:
        shown = self.now.get(meeting_id)
        if shown is None:
            raise NoPresentation()
        if shown.presenter_id != actor:
            raise NotPresenter()
        return shown

    async def _end(self, meeting_id: str, actor: str | None, reason: str) -> None:
        shown = self.now.get(meeting_id)
        if shown is None:
            return
        await self.s.sittings.execute(meeting_id, lambda s, now: s.presentation(
            actor, False, shown.document_id, shown.presenter_id, now, reason))
        if self.now.get(meeting_id) is shown:
            del self.now[meeting_id]
            await self._push(meeting_id)

    # -- screens -----------------------------------------------------------------------------
    async def _share(self, meeting_id: str, actor: str) -> None:
        sitting = await self.s.sittings.get(meeting_id)
        if not sitting.may_present(actor):
            raise CannotPresent()
        previous = self.screens.get(meeting_id)
        if previous == actor:
            return  # a second tap: already shown
        if previous is not None and sitting.acting_chair_id() != actor:
            raise NotPresenter("someone else is sharing a screen")
        room = self.s.sfu.rooms.get(meeting_id)
        if room is None or actor not in room.peers:
            raise NoMediaConnection()
        if previous is not None:
            await self._end_screen(meeting_id, actor, "replaced")
        await self.s.sittings.execute(meeting_id, lambda s, now: s.screen_share(actor, True, actor, now))
        room = self.s.sfu.rooms.get(meeting_id)
        if room is None or not room.share_screen(actor):  # gone while the record was written
            await self._end_screen(meeting_id, None, "left", sharer=actor)
            raise NoMediaConnection()
        self.screens[meeting_id] = actor
        await self._push_screen(meeting_id)

    async def _unshare(self, meeting_id: str, actor: str) -> None:
        sharer = self.screens.get(meeting_id)
        if sharer is None:
            return
        if actor != sharer:
            sitting = await self.s.sittings.get(meeting_id)
            if sitting.acting_chair_id() != actor:
                raise NotPresenter()
        await self._end_screen(meeting_id, actor, "stopped")

    async def _end_screen(self, meeting_id: str, actor: str | None, reason: str,
                          sharer: str | None = None) -> None:
        sharer = sharer or self.screens.get(meeting_id)
        if sharer is None:
            return
        if self.screens.get(meeting_id) == sharer:
            del self.screens[meeting_id]
            room = self.s.sfu.rooms.get(meeting_id)
            if room is not None and room.screen == sharer:
                room.share_screen(None)
            await self._push_screen(meeting_id)
        await self.s.sittings.execute(meeting_id, lambda s, now: s.screen_share(actor, False, sharer, now, reason))

    def _peers_changed(self, meeting_id: str) -> None:
        """A peer joined or left the meeting's room: if the sharer's media connection went (they
        left, reloaded, lost the network), the room no longer sends their screen; end the share."""
        sharer = self.screens.get(meeting_id)
        room = self.s.sfu.rooms.get(meeting_id)
        if sharer is not None and (room is None or room.screen != sharer):
            self.s.spawn(self._end_screen_quietly(meeting_id, sharer, "left"))

    async def _end_screen_quietly(self, meeting_id: str, sharer: str, reason: str) -> None:
        try:
            async with self._locks.setdefault(meeting_id, asyncio.Lock()):
                if self.screens.get(meeting_id) == sharer:
                    await self._end_screen(meeting_id, None, reason)
        except Exception:
            logger.exception("could not end the screen share in %s", meeting_id)

    async def _push_screen(self, meeting_id: str) -> None:
        hub = self.s.hub.meetings.get(meeting_id)
        if hub is not None:
            await hub.broadcast({"type": "screen", "screen": self.screen(meeting_id)})

    # -- telling everyone ----------------------------------------------------------------------
    async def _push(self, meeting_id: str) -> None:
        hub = self.s.hub.meetings.get(meeting_id)
        if hub is not None:
            await hub.broadcast({"type": "presentation", "presentation": self.current(meeting_id)})

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

        self.s.spawn(later())

    # -- the sitting changed --------------------------------------------------------------------
    def sitting_changed(self, sitting: Sitting, events: list[Event]) -> None:
        meeting_id = sitting.meeting.id
        sharer = self.screens.get(meeting_id)
        if sharer is not None and not sitting.may_present(sharer):
            self.s.spawn(self._end_screen_quietly(meeting_id, sharer, "floor_lost"))
        shown = self.now.get(meeting_id)
        if shown is None:
            return
        removed = any(e.name == "document_removed" and e.data.get("document_id") == shown.document_id
                      for e in events)
        if removed or not sitting.may_present(shown.presenter_id):
            reason = "document_removed" if removed else "floor_lost"
            self.s.spawn(self._end_quietly(meeting_id, shown, reason))

    async def _end_quietly(self, meeting_id: str, shown: Presentation, reason: str) -> None:
        try:
            async with self._locks.setdefault(meeting_id, asyncio.Lock()):
                if self.now.get(meeting_id) is shown:
                    await self._end(meeting_id, None, reason)
        except Exception:
            logger.exception("could not end the presentation in %s", meeting_id)
