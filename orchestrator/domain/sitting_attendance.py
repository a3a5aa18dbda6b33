"""Who attends a sitting: remote members by connection or, where cameras are analysed, by
being seen (presence.py); members in the chamber by the clerk's check-in and check-out.

Intervals and quorum arithmetic are in attendance.py; this module turns connections,
observations and the clerk's clicks into attendance entries.
"""

from __future__ import annotations

from datetime import datetime

from gikai.orchestrator.domain.attendance import Mode
from gikai.orchestrator.domain.events import Entry, Event
from gikai.orchestrator.domain.model import MeetingState
from gikai.orchestrator.domain.presence import Presence, PresenceTracker, Seen
from gikai.orchestrator.domain.sitting_state import SittingState


class SittingAttendance(SittingState):
    def tracker(self, participant_id: str) -> PresenceTracker:
        return self.presence.setdefault(participant_id, PresenceTracker())

    def connected(self, participant_id: str, now: datetime) -> list[Event]:
        """A remote participant's connection came up."""
        if not self.presence_by_camera:
            return self._arrive(participant_id, Mode.REMOTE, now, None)
        change = self.observe(participant_id, Seen(connected=True), now)
        return self.presence_changed(participant_id, change, now) if change else []

    def disconnected(self, participant_id: str, now: datetime) -> list[Event]:
        events: list[Event] = []
        if self.presence_by_camera:
            change = self.observe(participant_id, Seen(connected=False), now)
            if change is not None:
                events.append(self._event(Entry.PRESENCE_CHANGED, now, None, participant_id=participant_id,
                                          state=change.value))
        present = self.attendance.present()
        if present.get(participant_id) is not Mode.REMOTE:
            return events
        self.attendance.depart(participant_id, now)
        events.append(self._event(Entry.ATTENDANCE_ENDED, now, None, participant_id=participant_id, mode="remote"))
        return events

    def observe(self, participant_id: str, seen: Seen, now: datetime) -> Presence | None:
        """Feed one observation to the participant's tracker (in memory; nothing recorded)."""
        self.participant(participant_id)
        return self.tracker(participant_id).observe(seen, now, self.rules)

    def presence_changed(self, participant_id: str, state: Presence, now: datetime) -> list[Event]:
        """Record a presence change and what follows for attendance."""
        events = [self._event(Entry.PRESENCE_CHANGED, now, None, participant_id=participant_id, state=state.value)]
        if participant_id in self.removed or self.meeting.state is MeetingState.ADJOURNED:
            return events
        mode = self.attendance.present().get(participant_id)
        if state is Presence.PRESENT or (state is Presence.NOT_ALONE and not self.rules.third_person_stops_counting):
            return events + self._arrive(participant_id, Mode.REMOTE, now, None)
        if mode is Mode.REMOTE:
            self.attendance.depart(participant_id, now)
            events.append(self._event(Entry.ATTENDANCE_ENDED, now, None, participant_id=participant_id,
                                      mode="remote", reason=state.value))
        return events

    def check_in(self, actor: str, participant_id: str, now: datetime) -> list[Event]:
        """The clerk records a member sitting in the chamber."""
        self._require_not_adjourned()
        self._require_clerk_or_chair(actor)
        return self._arrive(participant_id, Mode.IN_ROOM, now, actor)

    def check_out(self, actor: str, participant_id: str, now: datetime) -> list[Event]:
        self._require_not_adjourned()
        self._require_clerk_or_chair(actor)
        if self.attendance.depart(participant_id, now) is None:
            return []
        return [self._event(Entry.ATTENDANCE_ENDED, now, actor, participant_id=participant_id, mode="in_room")]

    def _arrive(self, participant_id: str, mode: Mode, now: datetime, actor: str | None) -> list[Event]:
        self.participant(participant_id)
        if participant_id in self.removed or self.meeting.state is MeetingState.ADJOURNED:
            return []
        if self.attendance.arrive(participant_id, mode, now) is None:
            return []
        return [self._event(Entry.ATTENDANCE_STARTED, now, actor, participant_id=participant_id, mode=mode.value)]
