"""Presenting in a sitting: the rules of who may show a document or their screen to everyone, and
what is being shown now.

The acting chair and whoever holds the floor may present (``Sitting.may_present``). One
presentation and one screen share per sitting; someone else's may be taken over only by the
acting chair, and ended by its presenter or the acting chair. A presentation or share ends by
itself when its presenter may no longer present (the floor moved, the chair changed) or its
document was removed: :func:`ended_by` says which and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gikai.orchestrator.domain.errors import DomainError
from gikai.orchestrator.domain.sitting import Event, Sitting

POINTER_PER_SECOND = 10  # pointer moves pushed per sitting, at most (the last one always arrives)


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
    """A document shown to everyone: its page, and where its presenter points (fractions of the page)."""

    document_id: str
    title: str
    page: int
    pages: int
    presenter_id: str
    pointer: tuple[float, float] | None = None

    def turn_to(self, page: int) -> bool:
        """Go to ``page``; True if that changed what is shown (the pointer goes with the old page)."""
        check_page(page, self.pages)
        if page == self.page:
            return False
        self.page, self.pointer = page, None
        return True


@dataclass
class Showing:
    """What one sitting is shown besides the cameras: a presented document, a shared screen."""

    presentation: Presentation | None = None
    sharer: str | None = None  # whose screen everyone is shown


def check_page(page: int, pages: int) -> None:
    if not 1 <= page <= pages:
        raise PageOutOfRange(f"page {page} of {pages}")


def check_may_present(sitting: Sitting, actor: str) -> None:
    if not sitting.may_present(actor):
        raise CannotPresent()


def check_may_take_over(sitting: Sitting, actor: str, holder: str | None, what: str) -> None:
    """Someone else's presentation or share is taken over by the acting chair only."""
    if holder is not None and holder != actor and sitting.acting_chair_id() != actor:
        raise NotPresenter(f"someone else is {what}")


def check_may_end(sitting: Sitting, actor: str, holder: str) -> None:
    """A presentation or share is ended by its presenter or the acting chair."""
    if actor != holder and sitting.acting_chair_id() != actor:
        raise NotPresenter()


def presenter_only(shown: Presentation | None, actor: str) -> Presentation:
    """The presentation ``actor`` may turn the pages of and point at."""
    if shown is None:
        raise NoPresentation()
    if shown.presenter_id != actor:
        raise NotPresenter()
    return shown


def presentation_ended_by(sitting: Sitting, events: Sequence[Event], shown: Presentation) -> str | None:
    """Why a committed change ends the presentation (``document_removed``, ``floor_lost``), or None."""
    removed = any(e.name == "document_removed" and e.data.get("document_id") == shown.document_id for e in events)
    if removed:
        return "document_removed"
    if not sitting.may_present(shown.presenter_id):
        return "floor_lost"
    return None


def share_ended_by(sitting: Sitting, sharer: str) -> str | None:
    """Why a committed change ends the screen share (``floor_lost``), or None."""
    return None if sitting.may_present(sharer) else "floor_lost"
