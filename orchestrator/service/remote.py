"""Remote attendance by the chair's permission: the commands, and the record of an application
the rules refused (the domain is sitting_remote.py; each command runs as a sitting command)."""

from __future__ import annotations

from gikai.orchestrator.domain.errors import RemoteAlreadyApplied, RemoteDeadlinePassed
from gikai.orchestrator.domain.sitting import Event
from gikai.orchestrator.service.sittings import SittingService

# A member's act the rules refused goes on the record (once per member and code); a mistyped
# form (no reason given) does not.
RECORDED_REJECTIONS = (RemoteDeadlinePassed, RemoteAlreadyApplied)


async def apply_remote(sittings: SittingService, meeting_id: str, member_id: str, reason: str,
                       text: str) -> list[Event]:
    try:
        return await sittings.execute(meeting_id, lambda s, now: s.apply_remote(member_id, reason, text, now))
    except RECORDED_REJECTIONS as refused:
        code = refused.code
        await sittings.execute(meeting_id, lambda s, now: s.remote_rejected_entry(member_id, code, now))
        raise


async def permit_remote(sittings: SittingService, meeting_id: str, actor: str, application_id: str) -> list[Event]:
    return await sittings.execute(meeting_id, lambda s, now: s.permit_remote(actor, application_id, now))


async def refuse_remote(sittings: SittingService, meeting_id: str, actor: str, application_id: str,
                        reason: str) -> list[Event]:
    return await sittings.execute(meeting_id, lambda s, now: s.refuse_remote(actor, application_id, reason, now))
