"""Who is heard in a sitting: the audio mode, the chair's mute, removing someone from the
sitting, and the rule that tells the SFU whose microphone to forward."""

from __future__ import annotations

from datetime import datetime

from gikai.orchestrator.domain.errors import NotAllowed
from gikai.orchestrator.domain.events import Entry, Event, SpeechEnd
from gikai.orchestrator.domain.model import MeetingState, Role
from gikai.orchestrator.domain.sitting_state import AudioMode, SittingState


class SittingAudio(SittingState):
    def set_audio_mode(self, actor: str, mode: AudioMode, now: datetime) -> list[Event]:
        self._require_not_adjourned()
        self._require_chair(actor)
        if mode is self.audio_mode:
            return []
        self.audio_mode = mode
        return [self._event(Entry.AUDIO_MODE_CHANGED, now, actor, mode=mode.value)]

    def mute(self, actor: str, participant_id: str, muted: bool, now: datetime) -> list[Event]:
        self._require_not_adjourned()
        self._require_chair(actor)
        self.participant(participant_id)
        if (participant_id in self.muted) == muted:
            return []
        (self.muted.add if muted else self.muted.discard)(participant_id)
        name = Entry.PARTICIPANT_MUTED if muted else Entry.PARTICIPANT_UNMUTED
        return [self._event(name, now, actor, participant_id=participant_id)]

    def remove(self, actor: str, participant_id: str, now: datetime) -> list[Event]:
        self._require_not_adjourned()
        self._require_chair(actor)
        if participant_id == actor:
            raise NotAllowed("the chair cannot remove themselves")
        self.participant(participant_id)
        if participant_id in self.removed:
            return []
        self.removed.add(participant_id)
        events = []
        if self.floor is not None and self.floor.holder_id == participant_id:
            events += self._end_floor(now, actor, SpeechEnd.REMOVED)
        pending = self.queue.pending_for(participant_id)
        if pending is not None:
            self.queue.remove(pending.id)
        interval = self.attendance.depart(participant_id, now)
        events.append(self._event(Entry.PARTICIPANT_REMOVED, now, actor, participant_id=participant_id))
        if interval is not None:
            events.append(self._event(Entry.ATTENDANCE_ENDED, now, None, participant_id=participant_id,
                                      mode=interval.mode.value))
        return events

    def audible(self) -> set[str]:
        """Whose microphone the SFU forwards: the rule of who may be heard now."""
        present = self.reachable()
        # Before opening, in recess and after adjournment nothing is on the record and
        # people may talk freely; the floor rules apply while the sitting is open.
        if self.audio_mode is AudioMode.OPEN or self.meeting.state is not MeetingState.OPEN:
            return present - self.muted - self.removed
        heard = {p.id for p in self.participants.values() if p.role is Role.CHAIR}
        acting = self.acting_chair_id()
        if acting is not None:
            heard.add(acting)
        if self.floor is not None:
            heard.add(self.floor.holder_id)
        return (heard & present) - self.removed - self.muted
