"""Repositories: domain objects in, domain objects out."""

from __future__ import annotations

from typing import Optional

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.model import Body, BodyKind, Meeting, MeetingState, Member, Participant, Role
from .rows import BodyRow, MeetingRow, MemberRow, ParticipantRow


def _body(row: BodyRow) -> Body:
    return Body(row.name, BodyKind(row.kind), row.fixed_membership, row.id, row.rehearsal)


def _meeting(row: MeetingRow) -> Meeting:
    return Meeting(row.body_id, row.title, row.scheduled_at, row.place, MeetingState(row.state), row.id)


def _participant(row: ParticipantRow) -> Participant:
    return Participant(
        row.meeting_id, row.name, row.reading, Role(row.role), row.seat, row.member_id, row.id
    )


class Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add_body(self, body: Body) -> None:
        self.session.add(
            BodyRow(id=body.id, name=body.name, kind=body.kind.value,
                    fixed_membership=body.fixed_membership, rehearsal=body.rehearsal)
        )

    def add_member(self, member: Member) -> None:
        self.session.add(
            MemberRow(id=member.id, body_id=member.body_id, name=member.name,
                      reading=member.reading, seat=member.seat, role=member.role.value)
        )

    def add_meeting(self, meeting: Meeting) -> None:
        self.session.add(
            MeetingRow(id=meeting.id, body_id=meeting.body_id, title=meeting.title,
                       scheduled_at=meeting.scheduled_at, place=meeting.place,
                       state=meeting.state.value)
        )

    def add_participant(self, p: Participant) -> None:
        self.session.add(
            ParticipantRow(id=p.id, meeting_id=p.meeting_id, member_id=p.member_id, name=p.name,
                           reading=p.reading, role=p.role.value, seat=p.seat)
        )

    async def count_meetings(self) -> int:
        rows = await self.session.scalars(select(MeetingRow.id))
        return len(rows.all())

    async def body(self, body_id: str) -> Optional[Body]:
        row = await self.session.get(BodyRow, body_id)
        return _body(row) if row else None

    async def meeting(self, meeting_id: str) -> Optional[Meeting]:
        row = await self.session.get(MeetingRow, meeting_id)
        return _meeting(row) if row else None

    async def participant(self, participant_id: str) -> Optional[Participant]:
        row = await self.session.get(ParticipantRow, participant_id)
        return _participant(row) if row else None

    async def participants(self, meeting_id: str) -> list[Participant]:
        rows = await self.session.scalars(
            select(ParticipantRow).where(ParticipantRow.meeting_id == meeting_id)
        )
        order = {r: i for i, r in enumerate(Role)}
        found = [_participant(r) for r in rows]
        return sorted(found, key=lambda p: (p.seat is None, p.seat or 0, order[p.role], p.name))

    async def rehearsal_meetings(self) -> list[Meeting]:
        rows = await self.session.scalars(
            select(MeetingRow).join(BodyRow, MeetingRow.body_id == BodyRow.id)
            .where(BodyRow.rehearsal.is_(True)).order_by(MeetingRow.scheduled_at)
        )
        return [_meeting(r) for r in rows]
