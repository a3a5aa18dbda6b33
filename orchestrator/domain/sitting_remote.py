"""Remote attendance by the chair's permission, for one sitting: a member applies before the
sitting opens (and before the rules' deadline), the chair or the clerk on the chair's behalf
permits or refuses. The applications themselves are remote_permission.py's immutable value;
this module ties them to the sitting (who presides, who is clerk, whether it has opened) and
turns their events into record entries. The effect (not counted, no floor, no vote) is in
sitting_state.py's ``watch_only``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from gikai.orchestrator.domain.errors import NotAMember, RemotePermissionNotRequired
from gikai.orchestrator.domain.events import Entry, Event
from gikai.orchestrator.domain.model import Role
from gikai.orchestrator.domain.remote_permission import (
    ApplicationState,
    RemoteApplication,
    RemoteApplications,
    RemoteEvent,
    RemoteReason,
)
from gikai.orchestrator.domain.sitting_state import SittingState

REMOTE_ENTRIES = (Entry.REMOTE_ATTENDANCE_APPLIED, Entry.REMOTE_ATTENDANCE_PERMITTED,
                  Entry.REMOTE_ATTENDANCE_REFUSED, Entry.REMOTE_APPLICATION_REJECTED)


class SittingRemote(SittingState):
    def apply_remote(self, actor: str, reason: str, text: str, now: datetime) -> list[Event]:
        """A member applies to attend this sitting remotely, with a reason."""
        self._require_not_adjourned()
        if not self.participant(actor).role.is_member:
            raise NotAMember()
        if not self.rules.remote_requires_permission(self.plenary):
            raise RemotePermissionNotRequired()
        applications, events = self.remote().apply(actor, reason, text, now, self.rules, self.started_at)
        return self._remote_recorded(applications, events)

    def permit_remote(self, actor: str, application_id: str, now: datetime) -> list[Event]:
        self._require_not_adjourned()
        applications, events = self.remote().permit(actor, application_id, now, self.acting_chair_id(),
                                                     self._clerk_ids())
        return self._remote_recorded(applications, events)

    def refuse_remote(self, actor: str, application_id: str, reason: str, now: datetime) -> list[Event]:
        self._require_not_adjourned()
        applications, events = self.remote().refuse(actor, application_id, reason, now, self.acting_chair_id(),
                                                     self._clerk_ids())
        return self._remote_recorded(applications, events)

    def remote_rejected_entry(self, member_id: str, code: str, now: datetime) -> list[Event]:
        """A member's application the rules refused (``code``), on the record once per member and code."""
        if (member_id, code) in self.remote_rejected:
            return []
        self.remote_rejected.add((member_id, code))
        return [Event(Entry.REMOTE_APPLICATION_REJECTED, now, member_id, {"member_id": member_id, "code": code})]

    def _clerk_ids(self) -> set[str]:
        return {p.id for p in self.participants.values() if p.role is Role.CLERK}

    def _remote_recorded(self, applications: RemoteApplications, events: list[RemoteEvent]) -> list[Event]:
        self.remote_applications = applications
        out = []
        for e in events:
            actor = getattr(e, "decided_by", None) or e.member_id
            out.append(Event(Entry(e.entry), e.at, actor, e.data()))
        return out


def rebuild_remote(sitting: SittingState, entries: Iterable[tuple[str, datetime, str | None, Mapping[str, Any]]],
                   ) -> None:
    """The applications as the record tells them (name, at, actor, data), oldest first: what a
    restart loads."""
    by_id: dict[str, RemoteApplication] = {}
    for name, at, actor, d in entries:
        if name == Entry.REMOTE_APPLICATION_REJECTED:
            sitting.remote_rejected.add((str(d.get("member_id")), str(d.get("code"))))
        elif name == Entry.REMOTE_ATTENDANCE_APPLIED:
            a = RemoteApplication(str(d["member_id"]), RemoteReason(d["reason"]), str(d.get("reason_text", "")), at,
                                  id=str(d["application_id"]))
            by_id[a.id] = a
        elif name in (Entry.REMOTE_ATTENDANCE_PERMITTED, Entry.REMOTE_ATTENDANCE_REFUSED):
            a = by_id[str(d["application_id"])]
            permitted = name == Entry.REMOTE_ATTENDANCE_PERMITTED
            by_id[a.id] = RemoteApplication(
                a.member_id, a.reason, a.reason_text, a.applied_at,
                ApplicationState.PERMITTED if permitted else ApplicationState.REFUSED, actor, at,
                bool(d.get("on_behalf_of_chair")), "" if permitted else str(d.get("reason", "")), a.id)
    if by_id:
        sitting.remote_applications = RemoteApplications(sitting.meeting.scheduled_at, tuple(by_id.values()))
