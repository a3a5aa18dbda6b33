"""The speaking order of a sitting: members ask for the floor, the chair grants, denies,
reorders, calls a presenter, extends a speech or ends it.

The queue and the floor themselves (and their timing rules) are in floor.py.
"""

from __future__ import annotations

from datetime import datetime

from gikai.orchestrator.domain import floor as floor_rules
from gikai.orchestrator.domain.attendance import Mode
from gikai.orchestrator.domain.errors import FloorTaken, NotAllowed, NotAMember, WrongMeetingState
from gikai.orchestrator.domain.events import Entry, Event, SpeechEnd
from gikai.orchestrator.domain.floor import FloorRequest
from gikai.orchestrator.domain.model import Role
from gikai.orchestrator.domain.remote_rules import check_remote_floor
from gikai.orchestrator.domain.rules import SpeechKind
from gikai.orchestrator.domain.sitting_state import SittingState


class SittingFloor(SittingState):
    def request_floor(self, actor: str, kind: SpeechKind, now: datetime) -> list[Event]:
        self._require_open()
        if actor in self.removed:
            raise NotAllowed("removed from this sitting")
        if not self.participant(actor).role.is_member:
            raise NotAMember()
        self.require_remote_permission(actor)
        if kind is SpeechKind.EXPLANATION:
            raise NotAllowed("explanations are given when the chair calls a presenter")
        if kind is SpeechKind.GENERAL_QUESTION and not self.plenary:
            raise NotAllowed("a general question (一般質問) is asked in plenary")
        if self.attendance.present().get(actor) is not Mode.IN_ROOM:
            # not checked in in the chamber: attending remotely, as the body's rules allow
            check_remote_floor(self.rules, self.plenary, kind)
        if self.floor is not None and self.floor.holder_id == actor:
            raise FloorTaken("you already have the floor")
        request = FloorRequest(actor, kind, now)
        self.queue.add(request)
        return [self._event(Entry.FLOOR_REQUESTED, now, actor, request_id=request.id, kind=kind.value)]

    def withdraw_request(self, actor: str, request_id: str, now: datetime) -> list[Event]:
        self._require_not_adjourned()
        request = self.queue.find(request_id)
        if request.participant_id != actor:
            raise NotAllowed("only your own request can be withdrawn")
        self.queue.remove(request_id)
        return [self._event(Entry.FLOOR_REQUEST_WITHDRAWN, now, actor, request_id=request_id)]

    def deny(self, actor: str, request_id: str, now: datetime) -> list[Event]:
        self._require_not_adjourned()
        self._require_chair(actor)
        request = self.queue.remove(request_id)
        return [self._event(Entry.FLOOR_DENIED, now, actor, request_id=request_id,
                            participant_id=request.participant_id)]

    def reorder(self, actor: str, order: list[str], version: int, now: datetime) -> list[Event]:
        self._require_not_adjourned()
        self._require_chair(actor)
        self.queue.reorder(order, version)
        return [self._event(Entry.QUEUE_REORDERED, now, actor, order=list(order))]

    def grant(self, actor: str, request_id: str, now: datetime) -> list[Event]:
        self._require_open()
        self._require_chair(actor)
        if self.floor is not None and self.floor.request_id == request_id:
            return []  # a double-clicked grant
        request = self.queue.find(request_id)
        if self.floor is not None:
            raise FloorTaken("end the current speech first")
        self.queue.remove(request_id)
        self.floor = floor_rules.start_speech(request, now, self.rules)
        return [self._floor_event(Entry.FLOOR_GRANTED, now, actor)]

    def call_presenter(self, actor: str, participant_id: str, now: datetime) -> list[Event]:
        """The chair gives the floor to a presenter, expert or any participant directly."""
        self._require_open()
        self._require_chair(actor)
        if participant_id in self.removed:
            raise NotAllowed("removed from this sitting")
        target = self.participant(participant_id)
        self.require_remote_permission(participant_id)
        if self.floor is not None:
            if self.floor.holder_id == participant_id:
                return []
            raise FloorTaken("end the current speech first")
        kind = SpeechKind.SPEECH if target.role.is_member else SpeechKind.EXPLANATION
        request = FloorRequest(participant_id, kind, now)
        self.floor = floor_rules.start_speech(request, now, self.rules)
        return [self._floor_event(Entry.FLOOR_GRANTED, now, actor)]

    def end_speech(self, actor: str, now: datetime) -> list[Event]:
        self._require_not_adjourned()
        if self.floor is None:
            # a speaker's second tap after the chair ended the speech changes nothing; someone
            # who can never hold the floor (the clerk, an observer) is refused all the same
            if actor != self.acting_chair_id() and self.participant(actor).role in (Role.CLERK, Role.OBSERVER):
                raise NotAllowed("only the speaker or the chair can end a speech")
            return []
        if actor != self.floor.holder_id:
            self._require_chair(actor)
        reason = SpeechEnd.FINISHED if actor == self.floor.holder_id else SpeechEnd.ENDED_BY_CHAIR
        return self._end_floor(now, actor, reason)

    def extend(self, actor: str, seconds: int, now: datetime) -> list[Event]:
        self._require_open()
        self._require_chair(actor)
        if self.floor is None:
            raise WrongMeetingState("no one has the floor")
        self.floor = floor_rules.extend(self.floor, seconds)
        return [self._floor_event(Entry.SPEECH_EXTENDED, now, actor)]

    def _floor_event(self, name: Entry, now: datetime, actor: str) -> Event:
        f = self.floor
        assert f is not None
        return self._event(name, now, actor, holder_id=f.holder_id, kind=f.kind.value,
                           limit_seconds=f.limit_seconds + f.extended_seconds, request_id=f.request_id)
