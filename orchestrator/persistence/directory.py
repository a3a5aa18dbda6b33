"""Bodies, their members, sittings and who takes part in them, and agenda items: the clerk's set-up."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gikai.orchestrator.domain.agenda import AgendaItem, ItemKind, ItemState
from gikai.orchestrator.domain.model import (
    Body,
    BodyKind,
    Meeting,
    MeetingState,
    Member,
    Participant,
    Role,
)
from gikai.orchestrator.domain.rules import StandingRules
from gikai.orchestrator.persistence.mapping import rules_from_json, rules_to_json
from gikai.orchestrator.persistence.rows import AgendaItemRow, BodyRow, MeetingRow, MemberRow, ParticipantRow


def body_of(row: BodyRow) -> Body:
    return Body(row.name, BodyKind(row.kind), row.fixed_membership, row.id, row.rehearsal,
                rules_from_json(row.rules), [str(t) for t in row.vocabulary or []])


def meeting_of(row: MeetingRow) -> Meeting:
    return Meeting(row.body_id, row.title, row.scheduled_at, row.place, MeetingState(row.state), row.id)


def participant_of(row: ParticipantRow) -> Participant:
    return Participant(
        row.meeting_id, row.name, row.reading, Role(row.role), row.seat, row.member_id, row.id
    )


def member_of(row: MemberRow) -> Member:
    return Member(row.body_id, row.name, row.reading, row.seat, Role(row.role), row.id)


def agenda_item_of(row: AgendaItemRow) -> AgendaItem:
    return AgendaItem(row.meeting_id, row.position, row.title, ItemKind(row.kind), ItemState(row.state),
                      row.result, [], row.id)


def in_seating_order(participants: list[Participant]) -> list[Participant]:
    """Seated members by seat, then the others by role and name."""
    order = {r: i for i, r in enumerate(Role)}
    return sorted(participants, key=lambda p: (p.seat is None, p.seat or 0, order[p.role], p.name))


class DirectoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- adding ----------------------------------------------------------------------
    def add_body(self, body: Body) -> None:
        self.session.add(
            BodyRow(id=body.id, name=body.name, kind=body.kind.value,
                    fixed_membership=body.fixed_membership, rehearsal=body.rehearsal,
                    rules=rules_to_json(body.rules), vocabulary=list(body.vocabulary))
        )

    def add_member(self, member: Member) -> None:
        self.session.add(
            MemberRow(id=member.id, body_id=member.body_id, name=member.name,
                      reading=member.reading, seat=member.seat, role=member.role.value)
        )

    def add_participant(self, p: Participant) -> None:
        self.session.add(
            ParticipantRow(id=p.id, meeting_id=p.meeting_id, member_id=p.member_id, name=p.name,
                           reading=p.reading, role=p.role.value, seat=p.seat)
        )

    def add_agenda_item(self, item: AgendaItem) -> None:
        self.session.add(
            AgendaItemRow(id=item.id, meeting_id=item.meeting_id, position=item.position, title=item.title,
                          kind=item.kind.value, state=item.state.value, result=item.result)
        )

    async def add_meeting(self, meeting: Meeting, participants: list[Participant]) -> None:
        """A sitting and who takes part (the sitting's row goes first: they refer to it)."""
        self.session.add(
            MeetingRow(id=meeting.id, body_id=meeting.body_id, title=meeting.title,
                       scheduled_at=meeting.scheduled_at, place=meeting.place,
                       state=meeting.state.value)
        )
        await self.session.flush()
        for p in participants:
            self.add_participant(p)

    async def add_committee(self, body: Body, members: list[Member], meeting: Meeting,
                            participants: list[Participant], agenda: list[AgendaItem]) -> None:
        """A whole body with its roster and one sitting with its agenda (the rehearsal)."""
        self.add_body(body)
        await self.session.flush()
        for m in members:
            self.add_member(m)
        await self.add_meeting(meeting, participants)
        for item in agenda:
            self.add_agenda_item(item)

    async def set_vocabulary(self, body_id: str, terms: list[str]) -> bool:
        """Replace the body's vocabulary; False when there is no such body."""
        row = await self.session.get(BodyRow, body_id)
        if row is None:
            return False
        row.vocabulary = list(terms)
        return True

    async def set_rules(self, body_id: str, rules: StandingRules) -> bool:
        """Replace the body's standing rules; False when there is no such body."""
        row = await self.session.get(BodyRow, body_id)
        if row is None:
            return False
        row.rules = rules_to_json(rules)
        return True

    # -- finding ---------------------------------------------------------------------
    async def count_meetings(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(MeetingRow)) or 0)

    async def body(self, body_id: str) -> Body | None:
        row = await self.session.get(BodyRow, body_id)
        return body_of(row) if row else None

    async def body_exists(self, body_id: str) -> bool:
        return await self.session.get(BodyRow, body_id) is not None

    async def bodies(self) -> list[Body]:
        """Every body, by name."""
        return [body_of(r) for r in (await self.session.scalars(select(BodyRow).order_by(BodyRow.name))).all()]

    async def body_of_meeting(self, meeting_id: str) -> Body | None:
        meeting = await self.session.get(MeetingRow, meeting_id)
        return await self.body(meeting.body_id) if meeting else None

    async def member(self, member_id: str) -> Member | None:
        row = await self.session.get(MemberRow, member_id)
        return member_of(row) if row else None

    async def members(self, body_id: str | None = None) -> list[Member]:
        """A body's members (every body's when None), by seat."""
        query = select(MemberRow).order_by(MemberRow.seat)
        if body_id is not None:
            query = query.where(MemberRow.body_id == body_id)
        return [member_of(r) for r in (await self.session.scalars(query)).all()]

    async def seats_taken(self, body_id: str) -> set[int]:
        return set((await self.session.scalars(select(MemberRow.seat).where(MemberRow.body_id == body_id))).all())

    async def meeting(self, meeting_id: str) -> Meeting | None:
        row = await self.session.get(MeetingRow, meeting_id)
        return meeting_of(row) if row else None

    async def meeting_exists(self, meeting_id: str) -> bool:
        return await self.session.get(MeetingRow, meeting_id) is not None

    async def meetings(self, body_id: str | None = None) -> list[Meeting]:
        """A body's sittings (every body's when None), newest first."""
        query = select(MeetingRow).order_by(MeetingRow.scheduled_at.desc())
        if body_id is not None:
            query = query.where(MeetingRow.body_id == body_id)
        return [meeting_of(r) for r in (await self.session.scalars(query)).all()]

    async def rehearsal_meetings(self) -> list[Meeting]:
        rows = await self.session.scalars(
            select(MeetingRow).join(BodyRow, MeetingRow.body_id == BodyRow.id)
            .where(BodyRow.rehearsal.is_(True)).order_by(MeetingRow.scheduled_at)
        )
        return [meeting_of(r) for r in rows]

    async def participant(self, participant_id: str) -> Participant | None:
        row = await self.session.get(ParticipantRow, participant_id)
        return participant_of(row) if row else None

    async def participants(self, meeting_id: str) -> list[Participant]:
        rows = await self.session.scalars(
            select(ParticipantRow).where(ParticipantRow.meeting_id == meeting_id)
        )
        return in_seating_order([participant_of(r) for r in rows])

    async def participants_without_seat(self) -> list[Participant]:
        """Every sitting's participants who are not members of the body (clerk, presenters…), by name."""
        rows = await self.session.scalars(select(ParticipantRow).where(ParticipantRow.member_id.is_(None))
                                          .order_by(ParticipantRow.name))
        return [participant_of(r) for r in rows]

    async def agenda(self, meeting_id: str | None = None) -> list[AgendaItem]:
        """A sitting's agenda items (every sitting's when None) in order, without their documents."""
        query = select(AgendaItemRow).order_by(AgendaItemRow.position)
        if meeting_id is not None:
            query = query.where(AgendaItemRow.meeting_id == meeting_id)
        return [agenda_item_of(r) for r in (await self.session.scalars(query)).all()]

    async def last_agenda_position(self, meeting_id: str) -> int:
        """The highest position on the sitting's agenda, 0 when it has none."""
        found = await self.session.scalar(select(func.max(AgendaItemRow.position))
                                          .where(AgendaItemRow.meeting_id == meeting_id))
        return int(found or 0)

    async def meeting_of_agenda_item(self, item_id: str) -> str | None:
        item = await self.session.get(AgendaItemRow, item_id)
        return item.meeting_id if item else None

    async def retention_years(self) -> dict[str, int]:
        """Each body's years of keeping recordings, by body id."""
        return {b.id: b.rules.retention_years for b in await self.bodies()}
