"""Remote attendance by the chair's permission (遠隔出席の申出と許可).

Where the body's rules require it for the kind of sitting, a member who wants to attend
remotely applies for one sitting with a reason, before the deadline the rules set; the chair
(or the clerk on the chair's behalf) permits or refuses, giving a reason on refusal. Without
permission a remote member may watch, but is not counted, cannot speak and cannot vote.

The state is an immutable ``RemoteApplications`` value: each command returns the new value and
the events to record (small dataclasses below; ``entry`` is the record name they will get).
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, ClassVar

from gikai.orchestrator.domain.errors import (
    NotChairOrClerk,
    NotFound,
    RemoteAlreadyApplied,
    RemoteDeadlinePassed,
    RemoteNotPending,
    RemoteReasonTextRequired,
    RemoteReasonUnknown,
    RemoteRefusalReasonRequired,
)
from gikai.orchestrator.domain.model import new_id
from gikai.orchestrator.domain.rules import StandingRules

REASON_TEXT_MAX = 500


class RemoteReason(str, enum.Enum):
    CHILDCARE = "childcare"  # 育児
    NURSING_CARE = "nursing_care"  # 介護
    ILLNESS = "illness"  # 疾病
    CHILDBIRTH = "childbirth"  # 出産
    DISASTER = "disaster"  # 災害
    INFECTION = "infection"  # 感染症
    OTHER = "other"  # その他 (its text is required)


class ApplicationState(str, enum.Enum):
    PENDING = "pending"  # 申出中
    PERMITTED = "permitted"  # 許可
    REFUSED = "refused"  # 不許可


@dataclass(frozen=True)
class RemoteApplication:
    member_id: str
    reason: RemoteReason
    reason_text: str
    applied_at: datetime
    state: ApplicationState = ApplicationState.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    on_behalf_of_chair: bool = False  # decided by the clerk for the chair
    refusal_reason: str = ""
    id: str = field(default_factory=new_id)


# -- the events (wired into the record catalogue under ``entry`` later) -----------------
@dataclass(frozen=True)
class RemoteAttendanceApplied:
    entry: ClassVar[str] = "remote_attendance_applied"
    application_id: str
    member_id: str
    reason: RemoteReason
    reason_text: str
    at: datetime

    def data(self) -> dict[str, Any]:
        return {"application_id": self.application_id, "member_id": self.member_id,
                "reason": self.reason.value, "reason_text": self.reason_text}


@dataclass(frozen=True)
class RemoteAttendancePermitted:
    entry: ClassVar[str] = "remote_attendance_permitted"
    application_id: str
    member_id: str
    decided_by: str
    on_behalf_of_chair: bool
    at: datetime

    def data(self) -> dict[str, Any]:
        return {"application_id": self.application_id, "member_id": self.member_id,
                "on_behalf_of_chair": self.on_behalf_of_chair}


@dataclass(frozen=True)
class RemoteAttendanceRefused:
    entry: ClassVar[str] = "remote_attendance_refused"
    application_id: str
    member_id: str
    decided_by: str
    on_behalf_of_chair: bool
    reason: str
    at: datetime

    def data(self) -> dict[str, Any]:
        return {"application_id": self.application_id, "member_id": self.member_id,
                "on_behalf_of_chair": self.on_behalf_of_chair, "reason": self.reason}


RemoteEvent = RemoteAttendanceApplied | RemoteAttendancePermitted | RemoteAttendanceRefused


def application_deadline(scheduled_at: datetime, rules: StandingRules) -> datetime | None:
    """The last moment to apply; None when the rules allow applications until the opening."""
    hours = rules.remote_application_deadline_hours
    return scheduled_at - timedelta(hours=hours) if hours > 0 else None


def parse_reason(reason: str | RemoteReason, text: str) -> tuple[RemoteReason, str]:
    """A reason as it comes from the edge: one of the list, and text when it is 'other'."""
    try:
        kind = RemoteReason(reason)
    except ValueError:
        raise RemoteReasonUnknown(f"no remote attendance reason {reason!r}") from None
    text = text.strip()[:REASON_TEXT_MAX]
    if kind is RemoteReason.OTHER and not text:
        raise RemoteReasonTextRequired()
    return kind, text


@dataclass(frozen=True)
class RemoteApplications:
    """The applications to attend one sitting remotely, one per member at most."""

    scheduled_at: datetime
    applications: tuple[RemoteApplication, ...] = ()

    def of(self, member_id: str) -> RemoteApplication | None:
        return next((a for a in self.applications if a.member_id == member_id), None)

    def find(self, application_id: str) -> RemoteApplication:
        for a in self.applications:
            if a.id == application_id:
                return a
        raise NotFound(f"remote attendance application {application_id}")

    def apply(self, member_id: str, reason: str | RemoteReason, reason_text: str, now: datetime,
              rules: StandingRules, opened_at: datetime | None = None,
              ) -> tuple[RemoteApplications, list[RemoteEvent]]:
        """A member applies; ``opened_at`` is when the sitting opened (None: not yet).

        Accepted up to and including the deadline; never once the sitting has opened. One
        application per member and sitting: a second one, pending or decided, is refused.
        """
        kind, text = parse_reason(reason, reason_text)
        if self.of(member_id) is not None:
            raise RemoteAlreadyApplied()
        deadline = application_deadline(self.scheduled_at, rules)
        if deadline is not None and now > deadline:
            raise RemoteDeadlinePassed(f"the deadline was {deadline.isoformat()}")
        if opened_at is not None and now >= opened_at:
            raise RemoteDeadlinePassed("the sitting has opened")
        application = RemoteApplication(member_id, kind, text, now)
        event = RemoteAttendanceApplied(application.id, member_id, kind, text, now)
        return replace(self, applications=(*self.applications, application)), [event]

    def permit(self, actor_id: str, application_id: str, now: datetime, chair_id: str | None,
               clerk_ids: Collection[str]) -> tuple[RemoteApplications, list[RemoteEvent]]:
        behalf = _decider(actor_id, chair_id, clerk_ids)
        application = self._pending(application_id)
        decided = replace(application, state=ApplicationState.PERMITTED, decided_by=actor_id, decided_at=now,
                          on_behalf_of_chair=behalf)
        event = RemoteAttendancePermitted(application.id, application.member_id, actor_id, behalf, now)
        return self._with(decided), [event]

    def refuse(self, actor_id: str, application_id: str, reason: str, now: datetime, chair_id: str | None,
               clerk_ids: Collection[str]) -> tuple[RemoteApplications, list[RemoteEvent]]:
        behalf = _decider(actor_id, chair_id, clerk_ids)
        application = self._pending(application_id)
        reason = reason.strip()[:REASON_TEXT_MAX]
        if not reason:
            raise RemoteRefusalReasonRequired()
        decided = replace(application, state=ApplicationState.REFUSED, decided_by=actor_id, decided_at=now,
                          on_behalf_of_chair=behalf, refusal_reason=reason)
        event = RemoteAttendanceRefused(application.id, application.member_id, actor_id, behalf, reason, now)
        return self._with(decided), [event]

    def _pending(self, application_id: str) -> RemoteApplication:
        application = self.find(application_id)
        if application.state is not ApplicationState.PENDING:
            raise RemoteNotPending(f"the application is {application.state.value}")
        return application

    def _with(self, changed: RemoteApplication) -> RemoteApplications:
        return replace(self, applications=tuple(changed if a.id == changed.id else a for a in self.applications))


def _decider(actor_id: str, chair_id: str | None, clerk_ids: Collection[str]) -> bool:
    """Whether the actor decides on the chair's behalf; refused unless chair or clerk."""
    if chair_id is not None and actor_id == chair_id:
        return False
    if actor_id in clerk_ids:
        return True
    raise NotChairOrClerk()


def may_attend_remotely(applications: RemoteApplications, member_id: str, rules: StandingRules,
                        plenary: bool) -> bool:
    """Whether a member attending remotely attends (is counted, may speak and vote as the rules
    allow remote members); if not, they may only watch."""
    if not rules.remote_requires_permission(plenary):
        return True
    application = applications.of(member_id)
    return application is not None and application.state is ApplicationState.PERMITTED
