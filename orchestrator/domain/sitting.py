"""A sitting as one aggregate: lifecycle, agenda, speaking order, attendance, who is heard.

Every command checks who asks and in which state, changes the state, and returns the
events that happened (which the service layer records before anyone is told).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gikai.orchestrator.domain import floor as floor_rules
from gikai.orchestrator.domain.agenda import Agenda
from gikai.orchestrator.domain.attendance import Attendance, Mode, QuorumStatus, quorum_status
from gikai.orchestrator.domain.errors import (
    FloorTaken,
    MeetingAdjourned,
    NotAllowed,
    NotAMember,
    NotChair,
    NotFound,
    QuorumNotMet,
    WrongMeetingState,
)
from gikai.orchestrator.domain.floor import Floor, FloorRequest, SpeakerQueue
from gikai.orchestrator.domain.model import (
    Body,
    BodyKind,
    Meeting,
    MeetingState,
    Participant,
    Role,
)
from gikai.orchestrator.domain.presence import Presence, PresenceTracker, Seen
from gikai.orchestrator.domain.rules import SpeechKind, StandingRules


class AudioMode(str, enum.Enum):
    FLOOR = "floor"  # only the chair and the floor holder are heard
    OPEN = "open"  # open discussion: everyone not muted by the chair


@dataclass(frozen=True)
class Event:
    name: str
    at: datetime
    actor_id: str | None
    data: dict[str, Any] = field(default_factory=dict)
    agenda_item_id: str | None = None


@dataclass
class Sitting:
    meeting: Meeting
    body: Body
    rules: StandingRules
    participants: dict[str, Participant]
    agenda: Agenda = field(default_factory=Agenda)
    queue: SpeakerQueue = field(default_factory=SpeakerQueue)
    floor: Floor | None = None
    audio_mode: AudioMode = AudioMode.FLOOR
    muted: set[str] = field(default_factory=set)  # muted by the chair
    removed: set[str] = field(default_factory=set)
    attendance: Attendance = field(default_factory=Attendance)
    # When true, a remote member attends while seen on camera (see presence.py); when false
    # (no analysis available), while connected.
    presence_by_camera: bool = False
    presence: dict[str, PresenceTracker] = field(default_factory=dict)
    # The archive: when the sitting first opened (the recordings' clock starts there) and the
    # chair's recording switch (None: the body's rule decides).
    started_at: datetime | None = None
    recording_switch: bool | None = None

    # -- who is who ----------------------------------------------------------------
    def participant(self, participant_id: str) -> Participant:
        p = self.participants.get(participant_id)
        if p is None:
            raise NotFound(f"participant {participant_id}")
        return p

    def acting_chair_id(self) -> str | None:
        """The chair presides; when the chair is absent, the vice-chair does."""
        present = self.reachable()  # a chair whose camera falters still presides
        chairs = [p.id for p in self.participants.values() if p.role is Role.CHAIR]
        vices = [p.id for p in self.participants.values() if p.role is Role.VICE_CHAIR]
        for pid in chairs + vices:
            if pid in present:
                return pid
        return chairs[0] if chairs else None

    def _require_chair(self, actor_id: str) -> None:
        if actor_id != self.acting_chair_id():
            raise NotChair()

    def _require_clerk_or_chair(self, actor_id: str) -> None:
        role = self.participant(actor_id).role
        if role is not Role.CLERK and actor_id != self.acting_chair_id():
            raise NotAllowed("only the clerk or the chair can do this")

    def _require_not_adjourned(self) -> None:
        if self.meeting.state is MeetingState.ADJOURNED:
            raise MeetingAdjourned()

    def _require_open(self) -> None:
        self._require_not_adjourned()
        if self.meeting.state is not MeetingState.OPEN:
            raise WrongMeetingState("the sitting is not open")

    def _event(self, name: str, at: datetime, actor: str | None, **data: Any) -> Event:
        current = self.agenda.current
        return Event(name, at, actor, data, current.id if current else None)

    # -- quorum ----------------------------------------------------------------
    @property
    def plenary(self) -> bool:
        return self.body.kind is BodyKind.PLENARY

    def quorum(self) -> QuorumStatus:
        return quorum_status(
            self.participants.values(), self.attendance.present(), self.body.fixed_membership,
            self.rules, self.plenary,
        )

    def quorum_record(self) -> dict[str, Any]:
        """A quorum decision as the record keeps it, so that ``gikai verify`` can recompute it."""
        status = self.quorum()
        return {"counted": sorted(status.counted), "needed": status.needed, "met": status.met}

    def record_context(self) -> dict[str, Any]:
        """What an auditor needs to recompute quorum and entitlement from the record alone."""
        r = self.rules
        return {
            "body": self.body.name, "plenary": self.plenary, "fixed_membership": self.body.fixed_membership,
            "quorum_fraction": f"{r.quorum_fraction.numerator}/{r.quorum_fraction.denominator}",
            "remote_counts": r.remote_counts(self.plenary), "remote_votes": r.remote_votes(self.plenary),
            "chair_votes_only_on_tie": r.chair_votes_only_on_tie,
            "participants": {p.id: {"name": p.name, "role": p.role.value, "member": p.role.is_member}
                             for p in sorted(self.participants.values(), key=lambda p: p.id)},
        }

    def _require_quorum(self) -> None:
        status = self.quorum()
        if not status.met:
            raise QuorumNotMet(f"{len(status.counted)} present, {status.needed} needed")

    # -- lifecycle ------------------------------------------------------------
    def _transition(self, actor: str, now: datetime, allowed: tuple[MeetingState, ...],
                    target: MeetingState, name: str, need_quorum: bool) -> list[Event]:
        self._require_not_adjourned()
        self._require_chair(actor)
        if self.meeting.state is target:
            return []  # a repeated click: nothing more happens
        if self.meeting.state not in allowed:
            raise WrongMeetingState(f"cannot go from {self.meeting.state.value} to {target.value}")
        if need_quorum:
            self._require_quorum()
        events = self._end_floor(now, actor, "interrupted") if target is not MeetingState.OPEN else []
        self.meeting.state = target
        extra: dict[str, Any] = {}
        if need_quorum:
            extra["quorum"] = self.quorum_record()
        if name == "meeting_opened":
            extra["context"] = self.record_context()
        return events + [self._event(name, now, actor, state=target.value, **extra)]

    def open(self, actor: str, now: datetime) -> list[Event]:
        events = self._transition(actor, now, (MeetingState.SCHEDULED,), MeetingState.OPEN, "meeting_opened", True)
        if events and self.started_at is None:
            self.started_at = now
        return events

    def recess(self, actor: str, now: datetime) -> list[Event]:
        return self._transition(actor, now, (MeetingState.OPEN,), MeetingState.RECESSED, "meeting_recessed", False)

    def resume(self, actor: str, now: datetime) -> list[Event]:
        return self._transition(actor, now, (MeetingState.RECESSED,), MeetingState.OPEN, "meeting_resumed", True)

    def adjourn(self, actor: str, now: datetime) -> list[Event]:
        events = self._transition(actor, now, (MeetingState.OPEN, MeetingState.RECESSED),
                                  MeetingState.ADJOURNED, "meeting_adjourned", False)
        self.queue.requests.clear()
        self.queue.version += 1
        return events

    # -- recording ------------------------------------------------------------
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
        return [self._event("recording_switched", now, actor, on=on)]

    def recording_event(self, name: str, now: datetime, data: dict[str, Any]) -> list[Event]:
        """What the recorder reports (a finished segment, a recovery): on the record as it is."""
        return [self._event(name, now, None, **data)]

    def recording_failed(self, now: datetime, data: dict[str, Any]) -> list[Event]:
        """Recording stopped by itself (a full disk, a write error): the switch goes off so that
        it does not restart behind the chair's back; the sitting goes on."""
        self.recording_switch = False
        return [self._event("recording_failed", now, None, **data)]

    # -- agenda ----------------------------------------------------------------
    def take_up(self, actor: str, item_id: str, now: datetime) -> list[Event]:
        self._require_open()
        self._require_chair(actor)
        if self.agenda.current is not None and self.agenda.current.id == item_id:
            return []
        item = self.agenda.take_up(item_id)
        return [Event("item_taken_up", now, actor, {"title": item.title}, item.id)]

    def decide(self, actor: str, item_id: str, result: str, now: datetime) -> list[Event]:
        self._require_open()
        self._require_chair(actor)
        item = self.agenda.decide(item_id, result)
        return [Event("item_decided", now, actor, {"result": item.result}, item.id)]

    # -- the speaking order ----------------------------------------------------------
    def request_floor(self, actor: str, kind: SpeechKind, now: datetime) -> list[Event]:
        self._require_open()
        if actor in self.removed:
            raise NotAllowed("removed from this sitting")
        if not self.participant(actor).role.is_member:
            raise NotAMember()
        if kind is SpeechKind.EXPLANATION:
            raise NotAllowed("explanations are given when the chair calls a presenter")
        if self.floor is not None and self.floor.holder_id == actor:
            raise FloorTaken("you already have the floor")
        request = FloorRequest(actor, kind, now)
        self.queue.add(request)
        return [self._event("floor_requested", now, actor, request_id=request.id, kind=kind.value)]

    def withdraw_request(self, actor: str, request_id: str, now: datetime) -> list[Event]:
        self._require_not_adjourned()
        request = self.queue.find(request_id)
        if request.participant_id != actor:
            raise NotAllowed("only your own request can be withdrawn")
        self.queue.remove(request_id)
        return [self._event("floor_request_withdrawn", now, actor, request_id=request_id)]

    def deny(self, actor: str, request_id: str, now: datetime) -> list[Event]:
        self._require_not_adjourned()
        self._require_chair(actor)
        request = self.queue.remove(request_id)
        return [self._event("floor_denied", now, actor, request_id=request_id, participant_id=request.participant_id)]

    def reorder(self, actor: str, order: list[str], version: int, now: datetime) -> list[Event]:
        self._require_not_adjourned()
        self._require_chair(actor)
        self.queue.reorder(order, version)
        return [self._event("queue_reordered", now, actor, order=list(order))]

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
        return [self._floor_event("floor_granted", now, actor)]

    def call_presenter(self, actor: str, participant_id: str, now: datetime) -> list[Event]:
        """The chair gives the floor to a presenter, expert or any participant directly."""
        self._require_open()
        self._require_chair(actor)
        if participant_id in self.removed:
            raise NotAllowed("removed from this sitting")
        target = self.participant(participant_id)
        if self.floor is not None:
            if self.floor.holder_id == participant_id:
                return []
            raise FloorTaken("end the current speech first")
        kind = SpeechKind.SPEECH if target.role.is_member else SpeechKind.EXPLANATION
        request = FloorRequest(participant_id, kind, now)
        self.floor = floor_rules.start_speech(request, now, self.rules)
        return [self._floor_event("floor_granted", now, actor)]

    def end_speech(self, actor: str, now: datetime) -> list[Event]:
        self._require_not_adjourned()
        if self.floor is None:
            return []
        if actor != self.floor.holder_id:
            self._require_chair(actor)
        reason = "finished" if actor == self.floor.holder_id else "ended_by_chair"
        return self._end_floor(now, actor, reason)

    def extend(self, actor: str, seconds: int, now: datetime) -> list[Event]:
        self._require_open()
        self._require_chair(actor)
        if self.floor is None:
            raise WrongMeetingState("no one has the floor")
        self.floor = floor_rules.extend(self.floor, seconds)
        return [self._floor_event("speech_extended", now, actor)]

    def _floor_event(self, name: str, now: datetime, actor: str) -> Event:
        f = self.floor
        assert f is not None
        return self._event(name, now, actor, holder_id=f.holder_id, kind=f.kind.value,
                           limit_seconds=f.limit_seconds + f.extended_seconds, request_id=f.request_id)

    def _end_floor(self, now: datetime, actor: str | None, reason: str) -> list[Event]:
        if self.floor is None:
            return []
        f, self.floor = self.floor, None
        spoken = int((now - f.started_at).total_seconds())
        return [self._event("speech_ended", now, actor, holder_id=f.holder_id, kind=f.kind.value,
                            seconds=spoken, reason=reason)]

    # -- presenting a document ---------------------------------------------------------
    def may_present(self, participant_id: str) -> bool:
        """The acting chair and whoever holds the floor may show a document to everyone."""
        holder = self.floor.holder_id if self.floor is not None else None
        return participant_id not in self.removed and participant_id in (self.acting_chair_id(), holder)

    def presentation(self, actor: str | None, started: bool, document_id: str, presenter_id: str,
                     now: datetime, reason: str = "") -> list[Event]:
        """A presentation starts (by the presenter) or ends (by the presenter, the chair, or the
        server when the presenter lost the floor: ``actor`` None). Page turns are not recorded."""
        if started:
            self._require_not_adjourned()
            if actor != presenter_id or not self.may_present(presenter_id):
                raise NotAllowed("only the chair or whoever has the floor can present a document")
            return [self._event("presentation_started", now, actor, document_id=document_id,
                                presenter_id=presenter_id)]
        if actor is not None and actor != presenter_id:
            self._require_chair(actor)
        return [self._event("presentation_ended", now, actor, document_id=document_id,
                            presenter_id=presenter_id, reason=reason or "stopped")]

    def screen_share(self, actor: str | None, started: bool, presenter_id: str, now: datetime,
                     reason: str = "") -> list[Event]:
        """A screen share starts (by the presenter, who may present) or ends (by the presenter,
        the chair, or the server: ``actor`` None, when the presenter lost the floor or left)."""
        if started:
            self._require_not_adjourned()
            if actor != presenter_id or not self.may_present(presenter_id):
                raise NotAllowed("only the chair or whoever has the floor can share a screen")
            return [self._event("screen_share_started", now, actor, presenter_id=presenter_id)]
        if actor is not None and actor != presenter_id:
            self._require_chair(actor)
        return [self._event("screen_share_ended", now, actor, presenter_id=presenter_id, reason=reason or "stopped")]

    # -- microphones ---------------------------------------------------------------
    def set_audio_mode(self, actor: str, mode: AudioMode, now: datetime) -> list[Event]:
        self._require_not_adjourned()
        self._require_chair(actor)
        if mode is self.audio_mode:
            return []
        self.audio_mode = mode
        return [self._event("audio_mode_changed", now, actor, mode=mode.value)]

    def mute(self, actor: str, participant_id: str, muted: bool, now: datetime) -> list[Event]:
        self._require_not_adjourned()
        self._require_chair(actor)
        self.participant(participant_id)
        if (participant_id in self.muted) == muted:
            return []
        (self.muted.add if muted else self.muted.discard)(participant_id)
        return [self._event("participant_muted" if muted else "participant_unmuted", now, actor,
                            participant_id=participant_id)]

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
            events += self._end_floor(now, actor, "removed")
        pending = self.queue.pending_for(participant_id)
        if pending is not None:
            self.queue.remove(pending.id)
        interval = self.attendance.depart(participant_id, now)
        events.append(self._event("participant_removed", now, actor, participant_id=participant_id))
        if interval is not None:
            events.append(self._event("attendance_ended", now, None, participant_id=participant_id,
                                      mode=interval.mode.value))
        return events

    def reachable(self) -> set[str]:
        """Who is here to be heard: attending, or connected while the camera does not count
        them (camera off, away): a chair whose camera fails must still be heard."""
        here = set(self.attendance.present())
        if self.presence_by_camera:
            here |= {pid for pid, t in self.presence.items() if t.state is not Presence.DISCONNECTED}
        return here

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

    # -- attendance ----------------------------------------------------------------
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
                events.append(self._event("presence_changed", now, None, participant_id=participant_id,
                                          state=change.value))
        present = self.attendance.present()
        if present.get(participant_id) is not Mode.REMOTE:
            return events
        self.attendance.depart(participant_id, now)
        return events + [self._event("attendance_ended", now, None, participant_id=participant_id, mode="remote")]

    def observe(self, participant_id: str, seen: Seen, now: datetime) -> Presence | None:
        """Feed one observation to the participant's tracker (in memory; nothing recorded)."""
        self.participant(participant_id)
        return self.tracker(participant_id).observe(seen, now, self.rules)

    def presence_changed(self, participant_id: str, state: Presence, now: datetime) -> list[Event]:
        """Record a presence change and what follows for attendance."""
        events = [self._event("presence_changed", now, None, participant_id=participant_id, state=state.value)]
        if participant_id in self.removed or self.meeting.state is MeetingState.ADJOURNED:
            return events
        mode = self.attendance.present().get(participant_id)
        if state is Presence.PRESENT:
            return events + self._arrive(participant_id, Mode.REMOTE, now, None)
        if mode is Mode.REMOTE:
            self.attendance.depart(participant_id, now)
            events.append(self._event("attendance_ended", now, None, participant_id=participant_id,
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
        return [self._event("attendance_ended", now, actor, participant_id=participant_id, mode="in_room")]

    def _arrive(self, participant_id: str, mode: Mode, now: datetime, actor: str | None) -> list[Event]:
        self.participant(participant_id)
        if participant_id in self.removed or self.meeting.state is MeetingState.ADJOURNED:
            return []
        if self.attendance.arrive(participant_id, mode, now) is None:
            return []
        return [self._event("attendance_started", now, actor, participant_id=participant_id, mode=mode.value)]
