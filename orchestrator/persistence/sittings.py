"""A whole sitting (its agenda, speakers' queue, floor, attendance) loaded and saved as one."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from gikai.orchestrator.domain.agenda import Agenda, AgendaItem, Document, ItemKind, ItemState
from gikai.orchestrator.domain.attendance import Attendance, AttendanceInterval, Mode
from gikai.orchestrator.domain.events import Entry
from gikai.orchestrator.domain.floor import FloorRequest, SpeakerQueue
from gikai.orchestrator.domain.minutes_signatures import Signers
from gikai.orchestrator.domain.rules import SpeechKind
from gikai.orchestrator.domain.sitting import AudioMode, Event, Sitting
from gikai.orchestrator.domain.sitting_amendments import (
    AMENDMENT_ENTRIES,
    MOTION_ENTRIES,
    item_votes_of,
    motions_of,
)
from gikai.orchestrator.domain.sitting_remote import REMOTE_ENTRIES, rebuild_remote
from gikai.orchestrator.domain.sitting_rollcall import ROLL_CALL_ENTRIES, roll_call_of
from gikai.orchestrator.persistence.directory import DirectoryRepository, meeting_of
from gikai.orchestrator.persistence.mapping import floor_from_json, floor_to_json
from gikai.orchestrator.persistence.record import RecordRepository
from gikai.orchestrator.persistence.rows import (
    AgendaItemRow,
    AttendanceRow,
    DocumentRow,
    FloorRequestRow,
    MeetingRow,
)


class SittingRepository:
    def __init__(self, session: AsyncSession, directory: DirectoryRepository, record: RecordRepository) -> None:
        self.session = session
        self._directory = directory
        self._record = record

    async def load(self, meeting_id: str) -> Sitting | None:
        row = await self.session.get(MeetingRow, meeting_id)
        if row is None:
            return None
        body = await self._directory.body(row.body_id)
        assert body is not None
        participants = {p.id: p for p in await self._directory.participants(meeting_id)}
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
            meeting_of(row), body, body.rules, participants, agenda, queue, floor_from_json(row.floor),
            AudioMode(row.audio_mode), set(row.muted), set(row.removed), attendance,
        )
        # The recording clock, the chair's switch and who signs the minutes are in the record itself.
        marks = (Entry.SITTING_OPENED, Entry.RECORDING_SWITCHED, Entry.MINUTES_SIGNERS_NAMED)
        for name, at, data in await self._record.named_entries(meeting_id, marks):
            if name == Entry.SITTING_OPENED and sitting.started_at is None:
                sitting.started_at = at
            elif name == Entry.RECORDING_SWITCHED:
                sitting.recording_switch = bool(data.get("on"))
            elif name == Entry.MINUTES_SIGNERS_NAMED:
                sitting.minutes_signers = Signers(tuple(data.get("presiding", ())), tuple(data.get("named", ())))
        sitting.item_votes = item_votes_of(await self._record.item_entries(meeting_id, AMENDMENT_ENTRIES))
        sitting.motions, sitting.motion_outcomes = motions_of(await self._record.named_entries(meeting_id,
                                                                                               MOTION_ENTRIES))
        sitting.roll_call = roll_call_of(await self._record.named_entries(meeting_id, ROLL_CALL_ENTRIES))
        # Remote attendance applications and decisions: the record is their only store.
        rebuild_remote(sitting, await self._record.named_entries_with_actor(meeting_id, REMOTE_ENTRIES))
        return sitting

    async def save(self, sitting: Sitting, events: list[Event], sign: Callable[[str], str]) -> None:
        """Write the sitting's state and append its events, in this unit's transaction."""
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
        await self._record.append(meeting_id, events, sign)

    async def open_remote_attendance(self) -> list[tuple[str, str]]:
        """Remote attendance intervals that never ended, in every sitting: (meeting id, participant id)."""
        rows = await self.session.execute(
            select(AttendanceRow.meeting_id, AttendanceRow.participant_id)
            .where(AttendanceRow.end.is_(None), AttendanceRow.mode == Mode.REMOTE.value)
        )
        return [(meeting_id, participant_id) for meeting_id, participant_id in rows]
