"""The roll call of remote members with identity confirmation (遠隔出席者の本人確認), at the opening.

The chair calls the members attending remotely one by one, in seat order: the called member's
picture is shown large on every screen, the member answers, and the chair confirms that it is
them (本人確認) — or records that it could not be confirmed. The record keeps each confirmation
with the member's presence at that moment (what the camera analysis saw, and whether they were
counted). The roll call is replayed from the record after a restart (``roll_call_of``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gikai.orchestrator.domain.attendance import Mode
from gikai.orchestrator.domain.errors import InvalidArgument, NotAllowed
from gikai.orchestrator.domain.events import Entry, Event
from gikai.orchestrator.domain.sitting_state import SittingState


@dataclass
class RollCall:
    order: tuple[str, ...]
    answered: set[str] = field(default_factory=set)
    confirmed: dict[str, bool] = field(default_factory=dict)  # called so far: confirmed or not
    ended: bool = False

    def all_called(self) -> bool:
        return all(pid in self.confirmed for pid in self.order)

    @property
    def current(self) -> str | None:
        if self.ended:
            return None
        return next((pid for pid in self.order if pid not in self.confirmed), None)


class SittingRollCall(SittingState):
    def start_roll_call(self, actor: str, now: datetime) -> list[Event]:
        self._require_open()
        self._require_chair(actor)
        if self.roll_call is not None and not self.roll_call.ended:
            return []  # a repeated tap
        present = self.attendance.present()
        remote = [p for p in sorted(self.participants.values(), key=lambda p: (p.seat is None, p.seat or 0))
                  if p.role.is_member and p.id != actor and present.get(p.id) is Mode.REMOTE
                  and not self.watch_only(p.id)]  # without the permission the rules require: watching only
        if not remote:
            raise InvalidArgument("no member attends remotely")
        self.roll_call = RollCall(tuple(p.id for p in remote))
        return [Event(Entry.ROLL_CALL_STARTED, now, actor, {"order": list(self.roll_call.order)})]

    def answer_roll_call(self, actor: str, now: datetime) -> list[Event]:
        """The called member answers 「はい」; only the member called now."""
        self._require_open()
        call = self.roll_call
        if call is None or call.current != actor:
            raise NotAllowed("you are not being called now")
        if actor in call.answered:
            return []
        call.answered.add(actor)
        return [Event(Entry.ROLL_CALL_ANSWERED, now, actor, {"participant_id": actor})]

    def confirm_identity(self, actor: str, participant_id: str, confirmed: bool, now: datetime) -> list[Event]:
        """The chair confirms it is the member (or records that it could not be confirmed)."""
        self._require_open()
        self._require_chair(actor)
        call = self.roll_call
        if call is None or call.current != participant_id:
            raise InvalidArgument("that member is not being called now")
        tracker = self.presence.get(participant_id)
        call.confirmed[participant_id] = confirmed
        events = [Event(Entry.IDENTITY_CONFIRMED, now, actor, {
            "participant_id": participant_id, "confirmed": confirmed, "answered": participant_id in call.answered,
            "presence": tracker.state.value if self.presence_by_camera and tracker else "connected",
            "counted": participant_id in self.quorum().counted})]
        if call.all_called():
            call.ended = True
            events.append(Event(Entry.ROLL_CALL_ENDED, now, actor, {"unconfirmed": []}))
        return events

    def end_roll_call(self, actor: str, now: datetime) -> list[Event]:
        self._require_open()
        self._require_chair(actor)
        call = self.roll_call
        if call is None or call.ended:
            return []
        call.ended = True
        return [Event(Entry.ROLL_CALL_ENDED, now, actor,
                      {"unconfirmed": [pid for pid in call.order if pid not in call.confirmed]})]


def roll_call_of(entries: Iterable[tuple[str, datetime, Mapping[str, Any]]]) -> RollCall | None:
    """The latest roll call as the record tells it."""
    call: RollCall | None = None
    for name, _, d in entries:
        if name == Entry.ROLL_CALL_STARTED:
            call = RollCall(tuple(d.get("order", ())))
        elif call is not None and name == Entry.ROLL_CALL_ANSWERED:
            call.answered.add(str(d.get("participant_id")))
        elif call is not None and name == Entry.IDENTITY_CONFIRMED:
            call.confirmed[str(d.get("participant_id"))] = bool(d.get("confirmed"))
        elif call is not None and name == Entry.ROLL_CALL_ENDED:
            call.ended = True
    return call


ROLL_CALL_ENTRIES = (Entry.ROLL_CALL_STARTED, Entry.ROLL_CALL_ANSWERED, Entry.IDENTITY_CONFIRMED,
                     Entry.ROLL_CALL_ENDED)
