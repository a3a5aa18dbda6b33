"""What the archive lists: sittings that have begun, with their body's name and agenda titles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gikai.orchestrator.domain.model import MeetingState
from gikai.orchestrator.persistence.rows import AgendaItemRow, BodyRow, MeetingRow


@dataclass(frozen=True)
class ListedSitting:
    id: str
    title: str
    body_name: str
    state: str
    scheduled_at: datetime
    place: str
    agenda: list[str] = field(default_factory=list)  # the items' titles


class ArchiveRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def held_sittings(self) -> list[ListedSitting]:
        """Every sitting that is no longer only scheduled, newest first, with its agenda's titles."""
        rows = (await self.session.execute(
            select(MeetingRow, BodyRow.name).join(BodyRow, MeetingRow.body_id == BodyRow.id)
            .where(MeetingRow.state != MeetingState.SCHEDULED.value)
            .order_by(MeetingRow.scheduled_at.desc()))).all()
        items = (await self.session.execute(select(AgendaItemRow.meeting_id, AgendaItemRow.title))).all()
        agenda: dict[str, list[str]] = {}
        for meeting_id, title in items:
            agenda.setdefault(meeting_id, []).append(title)
        return [ListedSitting(m.id, m.title, body_name, m.state, m.scheduled_at, m.place, agenda.get(m.id, []))
                for m, body_name in rows]

    async def adjourned_sittings(self) -> list[tuple[str, str, datetime]]:
        """(meeting id, body id, scheduled at) of every sitting that has ended."""
        rows = (await self.session.execute(select(MeetingRow.id, MeetingRow.body_id, MeetingRow.scheduled_at)
                                           .where(MeetingRow.state == MeetingState.ADJOURNED.value))).all()
        return [(meeting_id, body_id, at) for meeting_id, body_id, at in rows]
