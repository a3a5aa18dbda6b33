"""A sitting as one aggregate: lifecycle, agenda, speaking order, attendance, who is heard.

Every command checks who asks and in which state, changes the state, and returns the
events that happened (which the service layer records before anyone is told). The state
and the checks are in sitting_state.py; the commands are grouped by concept in the
``sitting_*`` modules and joined here; the agenda's and the presentations' are below.
"""

from __future__ import annotations

from datetime import datetime

from gikai.orchestrator.domain.errors import NotAllowed
from gikai.orchestrator.domain.events import Entry, Event
from gikai.orchestrator.domain.sitting_amendments import SittingAmendments
from gikai.orchestrator.domain.sitting_attendance import SittingAttendance
from gikai.orchestrator.domain.sitting_audio import SittingAudio
from gikai.orchestrator.domain.sitting_floor import SittingFloor
from gikai.orchestrator.domain.sitting_lifecycle import SittingLifecycle
from gikai.orchestrator.domain.sitting_minutes import SittingMinutes
from gikai.orchestrator.domain.sitting_recording import SittingRecording
from gikai.orchestrator.domain.sitting_remote import SittingRemote
from gikai.orchestrator.domain.sitting_rollcall import SittingRollCall
from gikai.orchestrator.domain.sitting_state import AudioMode

# Event and AudioMode are imported from here by the other layers.
__all__ = ["AudioMode", "Event", "Sitting"]


class Sitting(SittingLifecycle, SittingRecording, SittingFloor, SittingAudio, SittingAttendance, SittingMinutes,
              SittingAmendments, SittingRollCall, SittingRemote):
    """The sitting (会議) and everything said and decided in it, as commands that return events."""

    # -- agenda ----------------------------------------------------------------
    def take_up(self, actor: str, item_id: str, now: datetime) -> list[Event]:
        self._require_open()
        self._require_chair(actor)
        if self.agenda.current is not None and self.agenda.current.id == item_id:
            return []
        item = self.agenda.take_up(item_id)
        return [Event(Entry.ITEM_TAKEN_UP, now, actor, {"title": item.title}, item.id)]

    def decide(self, actor: str, item_id: str, result: str, now: datetime) -> list[Event]:
        self._require_open()
        self._require_chair(actor)
        item = self.agenda.decide(item_id, result)
        return [Event(Entry.ITEM_DECIDED, now, actor, {"result": item.result}, item.id)]

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
            return [self._event(Entry.PRESENTATION_STARTED, now, actor, document_id=document_id,
                                presenter_id=presenter_id)]
        if actor is not None and actor != presenter_id:
            self._require_chair(actor)
        return [self._event(Entry.PRESENTATION_ENDED, now, actor, document_id=document_id,
                            presenter_id=presenter_id, reason=reason or "stopped")]

    def screen_share(self, actor: str | None, started: bool, presenter_id: str, now: datetime,
                     reason: str = "") -> list[Event]:
        """A screen share starts (by the presenter, who may present) or ends (by the presenter,
        the chair, or the server: ``actor`` None, when the presenter lost the floor or left)."""
        if started:
            self._require_not_adjourned()
            if actor != presenter_id or not self.may_present(presenter_id):
                raise NotAllowed("only the chair or whoever has the floor can share a screen")
            return [self._event(Entry.SCREEN_SHARE_STARTED, now, actor, presenter_id=presenter_id)]
        if actor is not None and actor != presenter_id:
            self._require_chair(actor)
        return [self._event(Entry.SCREEN_SHARE_ENDED, now, actor, presenter_id=presenter_id,
                            reason=reason or "stopped")]
