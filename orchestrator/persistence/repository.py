"""Repositories: domain objects in, domain objects out."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from gikai.orchestrator.domain.agenda import Agenda, AgendaItem, Document, ItemKind, ItemState
from gikai.orchestrator.domain.attendance import Attendance, AttendanceInterval, Mode
from gikai.orchestrator.domain.floor import FloorRequest, SpeakerQueue
from gikai.orchestrator.domain.ledger import GENESIS, canonical, entry_hash
from gikai.orchestrator.domain.model import (
    Body,
    BodyKind,
    Meeting,
    MeetingState,
    Member,
    Participant,
    Role,
)
from gikai.orchestrator.domain.rules import SpeechKind
from gikai.orchestrator.domain.sitting import AudioMode, Event, Sitting
from gikai.orchestrator.persistence.mapping import (
    floor_from_json,
    floor_to_json,
    rules_from_json,
    rules_to_json,
)
from gikai.orchestrator.persistence.rows import (
    AgendaItemRow,
    AttendanceRow,
    BodyRow,
    DocumentRow,
    EventRow,
    FloorRequestRow,
    MeetingRow,
    MemberRow,
    ParticipantRow,
)


def _body(row: BodyRow) -> Body:
    return Body(row.name, BodyKind(row.kind), row.fixed_membership, row.id, row.rehearsal,
                rules_from_json(row.rules))


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
                    fixed_membership=body.fixed_membership, rehearsal=body.rehearsal,
                    rules=rules_to_json(body.rules))
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

    async def body(self, body_id: str) -> Body | None:
        row = await self.session.get(BodyRow, body_id)
        return _body(row) if row else None

    async def meeting(self, meeting_id: str) -> Meeting | None:
        row = await self.session.get(MeetingRow, meeting_id)
        return _meeting(row) if row else None

    async def participant(self, participant_id: str) -> Participant | None:
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

    def add_agenda_item(self, item: AgendaItem) -> None:
        self.session.add(
            AgendaItemRow(id=item.id, meeting_id=item.meeting_id, position=item.position, title=item.title,
                          kind=item.kind.value, state=item.state.value, result=item.result)
        )

    # -- a whole sitting ------------------------------------------------------------
    async def load_sitting(self, meeting_id: str) -> Sitting | None:
        row = await self.session.get(MeetingRow, meeting_id)
        if row is None:
            return None
        body = await self.body(row.body_id)
        assert body is not None
        participants = {p.id: p for p in await self.participants(meeting_id)}
        items = (await self.session.scalars(
            select(AgendaItemRow).where(AgendaItemRow.meeting_id == meeting_id).order_by(AgendaItemRow.position)
        )).all()
        docs = (await self.session.scalars(
            select(DocumentRow).where(DocumentRow.agenda_item_id.in_([i.id for i in items]))
        )).all() if items else []
        agenda = Agenda([
            AgendaItem(meeting_id, i.position, i.title, ItemKind(i.kind), ItemState(i.state), i.result,
                       [Document(d.name, d.sha256, d.size, d.media_type) for d in docs if d.agenda_item_id == i.id],
                       i.id)
            for i in items
        ])
        requests = (await self.session.scalars(
            select(FloorRequestRow).where(FloorRequestRow.meeting_id == meeting_id).order_by(FloorRequestRow.position)
        )).all()
        queue = SpeakerQueue(
            [FloorRequest(r.participant_id, SpeechKind(r.kind), r.requested_at, r.id) for r in requests],
            row.queue_version,
        )
        intervals = (await self.session.scalars(
            select(AttendanceRow).where(AttendanceRow.meeting_id == meeting_id).order_by(AttendanceRow.start)
        )).all()
        attendance = Attendance([
            AttendanceInterval(a.participant_id, Mode(a.mode), a.start, a.end, a.id) for a in intervals
        ])
        sitting = Sitting(
            _meeting(row), body, body.rules, participants, agenda, queue, floor_from_json(row.floor),
            AudioMode(row.audio_mode), set(row.muted), set(row.removed), attendance,
        )
        # The recording clock and the chair's switch are in the record itself.
        marks = await self.session.execute(
            select(EventRow.name, EventRow.at, EventRow.data).where(
                EventRow.meeting_id == meeting_id, EventRow.name.in_(("meeting_opened", "recording_switched")))
            .order_by(EventRow.seq))
        for name, at, data in marks:
            if name == "meeting_opened" and sitting.started_at is None:
                sitting.started_at = at
            elif name == "recording_switched":
                sitting.recording_switch = bool(data.get("on"))
        return sitting

    async def save_sitting(self, sitting: Sitting, events: list[Event], sign: Callable[[str], str]) -> None:
        """Write the sitting's state and append its events, in the caller's transaction."""
        meeting_id = sitting.meeting.id
        row = await self.session.get(MeetingRow, meeting_id)
        assert row is not None
        row.state = sitting.meeting.state.value
        row.audio_mode = sitting.audio_mode.value
        row.muted = sorted(sitting.muted)
        row.removed = sorted(sitting.removed)
        row.floor = floor_to_json(sitting.floor)
        row.queue_version = sitting.queue.version
        for item in sitting.agenda.items:
            item_row = await self.session.get(AgendaItemRow, item.id)
            if item_row is not None:
                item_row.state, item_row.result, item_row.position = item.state.value, item.result, item.position
        await self.session.execute(delete(FloorRequestRow).where(FloorRequestRow.meeting_id == meeting_id))
        for position, r in enumerate(sitting.queue.requests):
            self.session.add(FloorRequestRow(id=r.id, meeting_id=meeting_id, participant_id=r.participant_id,
                                             kind=r.kind.value, requested_at=r.requested_at, position=position))
        for interval in sitting.attendance.intervals:
            a = await self.session.get(AttendanceRow, interval.id)
            if a is None:
                self.session.add(AttendanceRow(id=interval.id, meeting_id=meeting_id,
                                               participant_id=interval.participant_id, mode=interval.mode.value,
                                               start=interval.start, end=interval.end))
            else:
                a.end = interval.end
        await self.append_events(meeting_id, events, sign)

    async def append_events(self, meeting_id: str, events: list[Event],
                            sign: Callable[[str], str]) -> list[tuple[int, str]]:
        """Append events to the sitting's hash chain, each signed, in the caller's transaction.

        Returns each entry's (seq, hash). Callers hold the meeting's lock (one writer per chain)."""
        appended: list[tuple[int, str]] = []
        last = (await self.session.execute(
            select(EventRow.seq, EventRow.hash).where(EventRow.meeting_id == meeting_id)
            .order_by(EventRow.seq.desc()).limit(1)
        )).first()
        seq, prev = (last[0], last[1]) if last else (0, GENESIS)
        for e in events:
            seq += 1
            data = json.loads(canonical(e.data))  # exactly what the JSON column gives back
            digest = entry_hash(meeting_id, seq, e.at.isoformat(), e.name, e.actor_id, e.agenda_item_id, data, prev)
            self.session.add(EventRow(meeting_id=meeting_id, at=e.at, actor_id=e.actor_id, name=e.name,
                                      agenda_item_id=e.agenda_item_id, data=data, seq=seq, prev_hash=prev,
                                      hash=digest, signature=sign(digest)))
            appended.append((seq, digest))
            prev = digest
        return appended

    async def events(self, meeting_id: str) -> list[Event]:
        rows = await self.session.scalars(
            select(EventRow).where(EventRow.meeting_id == meeting_id).order_by(EventRow.seq)
        )
        return [Event(r.name, r.at, r.actor_id, dict(r.data), r.agenda_item_id) for r in rows]

    async def record(self, meeting_id: str) -> list[dict[str, Any]]:
        """The sitting's chained, signed record, as exported for anyone to check."""
        rows = await self.session.scalars(
            select(EventRow).where(EventRow.meeting_id == meeting_id).order_by(EventRow.seq)
        )
        return [
            {"seq": r.seq, "at": r.at.isoformat(), "name": r.name, "actor_id": r.actor_id,
             "agenda_item_id": r.agenda_item_id, "data": r.data, "prev_hash": r.prev_hash,
             "hash": r.hash, "signature": r.signature}
            for r in rows
        ]
