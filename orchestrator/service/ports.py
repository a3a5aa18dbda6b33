"""What the orchestrator needs from the outside, as small protocols (ports)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

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
