"""What a sitting holds, who presides, and the checks every command of the sitting makes.

The Sitting aggregate (sitting.py) is this state plus its commands, grouped by concept in
sitting_lifecycle.py, sitting_recording.py, sitting_floor.py, sitting_audio.py and
sitting_attendance.py. The rules themselves live in agenda.py, floor.py, attendance.py,
presence.py and rules.py; this module only ties them to one sitting.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gikai.orchestrator.domain.agenda import Agenda
from gikai.orchestrator.domain.amendments import ItemVotes, ProceduralMotion
from gikai.orchestrator.domain.attendance import Attendance, Mode, QuorumStatus, quorum_status
from gikai.orchestrator.domain.errors import (
    MeetingAdjourned,
    NotAllowed,
    NotChair,
    NotFound,
    QuorumNotMet,
    RemoteNotPermitted,
    WrongMeetingState,
)
from gikai.orchestrator.domain.events import Entry, Event, SpeechEnd
from gikai.orchestrator.domain.floor import Floor, SpeakerQueue
from gikai.orchestrator.domain.minutes_signatures import Signers
from gikai.orchestrator.domain.model import Body, BodyKind, Meeting, MeetingState, Participant, Role
from gikai.orchestrator.domain.presence import Presence, PresenceTracker
from gikai.orchestrator.domain.remote_permission import ApplicationState, RemoteApplications
from gikai.orchestrator.domain.rules import StandingRules
from gikai.orchestrator.domain.voting import Outcome

if TYPE_CHECKING:
    from gikai.orchestrator.domain.sitting_rollcall import RollCall


class AudioMode(str, enum.Enum):
    FLOOR = "floor"  # only the chair and the floor holder are heard
    OPEN = "open"  # open discussion: everyone not muted by the chair


@dataclass
class SittingState:
    meeting: Meeting  # the sitting's own facts and state ("meeting": the other layers' name)
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
    # Who signs the minutes, named by the chair (sitting_minutes.py; None: not named yet).
    minutes_signers: Signers | None = None
    # Each item's amendments and the outcomes of the ballots on them (sitting_amendments.py).
    item_votes: dict[str, ItemVotes] = field(default_factory=dict)
    # Procedural motions (動議) moved, and the outcomes of the ballots on them.
    motions: dict[str, ProceduralMotion] = field(default_factory=dict)
    motion_outcomes: dict[str, Outcome] = field(default_factory=dict)
    # The roll call of remote members (sitting_rollcall.py; None: none called yet).
    roll_call: RollCall | None = None
    # Remote attendance by the chair's permission (sitting_remote.py); None until the first
    # application. ``remote_rejected``: (member, code) of applications the rules refused, each
    # recorded once.
    remote_applications: RemoteApplications | None = None
    remote_rejected: set[tuple[str, str]] = field(default_factory=set)

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

    def reachable(self) -> set[str]:
        """Who is here to be heard: attending, or connected while the camera does not count
        them (camera off, away): a chair whose camera fails must still be heard."""
        here = set(self.attendance.present())
        if self.presence_by_camera:
            here |= {pid for pid, t in self.presence.items() if t.state is not Presence.DISCONNECTED}
        return here

    # -- the checks every command makes ----------------------------------------------
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

    def _event(self, name: Entry, at: datetime, actor: str | None, **data: Any) -> Event:
        """An entry about the item under deliberation, if any."""
        current = self.agenda.current
        return Event(name, at, actor, data, current.id if current else None)

    # -- quorum ----------------------------------------------------------------
    @property
    def plenary(self) -> bool:
        return self.body.kind is BodyKind.PLENARY

    def remote(self) -> RemoteApplications:
        """The applications to attend this sitting remotely."""
        return self.remote_applications or RemoteApplications(self.meeting.scheduled_at)

    def remote_permitted(self) -> frozenset[str] | None:
        """The members permitted to attend remotely; None where the rules require no permission."""
        if not self.rules.remote_requires_permission(self.plenary):
            return None
        return frozenset(a.member_id for a in self.remote().applications if a.state is ApplicationState.PERMITTED)

    def watch_only(self, participant_id: str) -> bool:
        """A member attending remotely (not checked in in the chamber) without the permission
        the rules require: they may watch, but are not counted and cannot speak or vote."""
        permitted = self.remote_permitted()
        p = self.participants.get(participant_id)
        return (permitted is not None and p is not None and p.role.is_member and participant_id not in permitted
                and self.attendance.present().get(participant_id) is not Mode.IN_ROOM)

    def require_remote_permission(self, participant_id: str) -> None:
        if self.watch_only(participant_id):
            raise RemoteNotPermitted()

    def quorum(self) -> QuorumStatus:
        return quorum_status(
            self.participants.values(), self.attendance.present(), self.body.fixed_membership,
            self.rules, self.plenary, self.remote_permitted(),
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
            "remote_requires_permission": r.remote_requires_permission(self.plenary),
            "participants": {p.id: {"name": p.name, "role": p.role.value, "member": p.role.is_member}
                             for p in sorted(self.participants.values(), key=lambda p: p.id)},
        }

    def _require_quorum(self) -> None:
        status = self.quorum()
        if not status.met:
            raise QuorumNotMet(f"{len(status.counted)} present, {status.needed} needed")

    # -- a speech ends (by the speaker, the chair, a recess, a removal) -----------------
    def _end_floor(self, now: datetime, actor: str | None, reason: SpeechEnd) -> list[Event]:
        if self.floor is None:
            return []
        f, self.floor = self.floor, None
        spoken = int((now - f.started_at).total_seconds())
        return [self._event(Entry.SPEECH_ENDED, now, actor, holder_id=f.holder_id, kind=f.kind.value,
                            seconds=spoken, reason=reason)]
