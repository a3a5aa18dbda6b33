"""What the orchestrator needs from the outside, as small protocols (ports)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from gikai.orchestrator.domain.presenting import Presentation
from gikai.orchestrator.domain.sitting import Event, Sitting
from gikai.orchestrator.domain.voting import Ballot


class MediaControl(Protocol):
    """The SFU as the orchestrator sees it: whose microphone is forwarded, who is removed."""

    def set_audible(self, meeting_id: str, participant_ids: set[str]) -> None: ...

    async def remove(self, meeting_id: str, participant_id: str) -> None: ...

    def set_recording(self, meeting_id: str, on: bool, started_at: datetime | None) -> None: ...


class Notifier(Protocol):
    """Tells connected clients what changed, after it has been committed."""

    async def sitting_changed(self, sitting: Sitting, events: list[Event]) -> None: ...

    async def ballot_changed(self, sitting: Sitting, ballot: Ballot) -> None: ...


class LiveSittings(Protocol):
    """The live sittings (the sitting service), for services that write to a sitting's record:
    one writer per record chain, so they write while holding the sitting."""

    def hold(self, meeting_id: str) -> AbstractAsyncContextManager[Sitting]:
        """The live sitting under its lock, for as long as the ``async with`` lasts."""
        ...

    async def get(self, meeting_id: str) -> Sitting:
        """The live sitting as it is now (not held)."""
        ...

    def adopt(self, meeting_id: str, committed: Sitting) -> None:
        """A changed copy of the held sitting, committed with its entries by the holder, becomes
        the live sitting (called under the lock ``hold`` gives)."""
        ...


class PresentableDocument(Protocol):
    """A sitting's document as presenting needs it."""

    @property
    def meeting_id(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def pages(self) -> int: ...


class DocumentShelf(Protocol):
    """Where presenting finds a document (raises NotFound for an unknown id)."""

    async def get(self, document_id: str) -> PresentableDocument: ...


class ScreenControl(Protocol):
    """The SFU's one shared screen per sitting."""

    def connected(self, meeting_id: str, participant_id: str) -> bool:
        """Whether the participant has a media connection (a screen can be shared only then)."""
        ...

    def share_screen(self, meeting_id: str, participant_id: str | None) -> bool:
        """Send that participant's screen to everyone (None: nobody's); False if they have no media."""
        ...

    def screen(self, meeting_id: str) -> str | None:
        """Whose screen the SFU sends now."""
        ...


class ShowingNotifier(Protocol):
    """Tells the sitting's clients what is shown: the presentation (page, pointer), the shared screen."""

    async def presentation_changed(self, meeting_id: str, presentation: Presentation | None) -> None: ...

    async def screen_changed(self, meeting_id: str, sharer: str | None) -> None: ...


class SpeechDrafter(Protocol):
    """The speech recogniser as the minutes need it (implemented at the edge, on media's recogniser)."""

    async def draft(self, meeting_id: str, track_key: str, start: float, end: float,
                    prompt: str) -> list[tuple[float, float, str]]:
        """The words on the recorded audio track ``track_key`` (archive.py ``Track.key``, e.g.
        "<participant id>-audio") between ``start`` and ``end`` seconds of the sitting, as sentences
        (start, end, text) with times in seconds of the sitting; ``prompt`` is the vocabulary."""
        ...
