"""A sitting's lifecycle: opened (with quorum), in recess, resumed (with quorum), adjourned.

Only the presiding chair moves it; a repeated click changes nothing. Leaving the open state
ends the speech in progress; adjournment also drops every pending request for the floor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gikai.orchestrator.domain.errors import WrongMeetingState
from gikai.orchestrator.domain.events import Entry, Event, SpeechEnd
from gikai.orchestrator.domain.model import MeetingState
from gikai.orchestrator.domain.sitting_state import SittingState


class SittingLifecycle(SittingState):
    def _transition(self, actor: str, now: datetime, allowed: tuple[MeetingState, ...],
                    target: MeetingState, name: Entry, need_quorum: bool) -> list[Event]:
        self._require_not_adjourned()
        self._require_chair(actor)
        if self.meeting.state is target:
            return []  # a repeated click: nothing more happens
        if self.meeting.state not in allowed:
            raise WrongMeetingState(f"cannot go from {self.meeting.state.value} to {target.value}")
        if need_quorum:
            self._require_quorum()
        events = self._end_floor(now, actor, SpeechEnd.INTERRUPTED) if target is not MeetingState.OPEN else []
        self.meeting.state = target
        extra: dict[str, Any] = {}
        if need_quorum:
            extra["quorum"] = self.quorum_record()
        if name is Entry.SITTING_OPENED:
            extra["context"] = self.record_context()
        return [*events, self._event(name, now, actor, state=target.value, **extra)]

    def open(self, actor: str, now: datetime) -> list[Event]:
        events = self._transition(actor, now, (MeetingState.SCHEDULED,), MeetingState.OPEN,
                                  Entry.SITTING_OPENED, True)
        if events and self.started_at is None:
            self.started_at = now
        return events

    def recess(self, actor: str, now: datetime) -> list[Event]:
        return self._transition(actor, now, (MeetingState.OPEN,), MeetingState.RECESSED,
                                Entry.SITTING_RECESSED, False)

    def resume(self, actor: str, now: datetime) -> list[Event]:
        return self._transition(actor, now, (MeetingState.RECESSED,), MeetingState.OPEN,
                                Entry.SITTING_RESUMED, True)

    def adjourn(self, actor: str, now: datetime) -> list[Event]:
        events = self._transition(actor, now, (MeetingState.OPEN, MeetingState.RECESSED),
                                  MeetingState.ADJOURNED, Entry.SITTING_ADJOURNED, False)
        self.queue.requests.clear()
        self.queue.version += 1
        return events
