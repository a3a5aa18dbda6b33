"""Recording a sitting for the archive: the chair's switch, and what the recorder reports.

The recorder itself is media; here is only the rule of when a sitting is recorded and how
its reports go on the record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gikai.orchestrator.domain.events import Entry, Event
from gikai.orchestrator.domain.model import MeetingState
from gikai.orchestrator.domain.sitting_state import SittingState


class SittingRecording(SittingState):
    def recording(self) -> bool:
        """Whether the sitting is being recorded now: the chair's switch (or the body's rule),
        while open, and in recess only where the rules say so."""
        wanted = self.rules.record_sittings if self.recording_switch is None else self.recording_switch
        states = (MeetingState.OPEN, MeetingState.RECESSED) if self.rules.record_recess else (MeetingState.OPEN,)
        return wanted and self.started_at is not None and self.meeting.state in states

    def switch_recording(self, actor: str, on: bool, now: datetime) -> list[Event]:
        self._require_not_adjourned()
        self._require_chair(actor)
        current = self.rules.record_sittings if self.recording_switch is None else self.recording_switch
        if current == on:
            return []
        self.recording_switch = on
        return [self._event(Entry.RECORDING_SWITCHED, now, actor, on=on)]

    def recording_event(self, name: str, now: datetime, data: dict[str, Any]) -> list[Event]:
        """What the recorder reports (a finished segment, a recovery): on the record as it is.
        The name must be one of the catalogue's (events.py): nothing else goes on the record."""
        return [self._event(Entry(name), now, None, **data)]

    def recording_failed(self, now: datetime, data: dict[str, Any]) -> list[Event]:
        """Recording stopped by itself (a full disk, a write error): the switch goes off so that
        it does not restart behind the chair's back; the sitting goes on."""
        self.recording_switch = False
        return [self._event(Entry.RECORDING_FAILED, now, None, **data)]
