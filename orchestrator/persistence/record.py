"""The sitting's record: a hash chain of signed entries, appended to and never changed."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gikai.orchestrator.domain.ledger import GENESIS, canonical, entry_hash
from gikai.orchestrator.domain.sitting import Event
from gikai.orchestrator.persistence.rows import EventRow


class RecordRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def append(self, meeting_id: str, events: list[Event],
                     sign: Callable[[str], str]) -> list[tuple[int, str]]:
        """Append events to the sitting's hash chain, each signed, in this unit's transaction.

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

    async def entries(self, meeting_id: str) -> list[dict[str, Any]]:
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

    async def seq_of(self, meeting_id: str, digest: str) -> int | None:
        """The position of the sitting's entry with this hash (a receipt), None when there is none."""
        return await self.session.scalar(select(EventRow.seq).where(EventRow.meeting_id == meeting_id,
                                                                   EventRow.hash == digest))

    async def named_entries(self, meeting_id: str,
                            names: Iterable[str]) -> list[tuple[str, datetime, dict[str, Any]]]:
        """The sitting's entries with these names, in order: (name, at, data)."""
        rows = await self.session.execute(
            select(EventRow.name, EventRow.at, EventRow.data)
            .where(EventRow.meeting_id == meeting_id, EventRow.name.in_(tuple(names))).order_by(EventRow.seq))
        return [(name, at, data) for name, at, data in rows]

    async def item_entries(self, meeting_id: str, names: Iterable[str],
                           ) -> list[tuple[str, datetime, dict[str, Any], str | None]]:
        """As ``named_entries``, with each entry's agenda item: (name, at, data, agenda item id)."""
        rows = await self.session.execute(
            select(EventRow.name, EventRow.at, EventRow.data, EventRow.agenda_item_id)
            .where(EventRow.meeting_id == meeting_id, EventRow.name.in_(tuple(names))).order_by(EventRow.seq))
        return [(name, at, data, item) for name, at, data, item in rows]

    async def named_entries_with_actor(self, meeting_id: str, names: Iterable[str],
                                       ) -> list[tuple[str, datetime, str | None, dict[str, Any]]]:
        """The sitting's entries with these names, in order: (name, at, actor, data)."""
        rows = await self.session.execute(
            select(EventRow.name, EventRow.at, EventRow.actor_id, EventRow.data)
            .where(EventRow.meeting_id == meeting_id, EventRow.name.in_(tuple(names))).order_by(EventRow.seq))
        return [(name, at, actor, data or {}) for name, at, actor, data in rows]

    async def entries_named_everywhere(self, names: Iterable[str]) -> list[tuple[str, str, dict[str, Any]]]:
        """Every sitting's entries with these names, by sitting and in order: (meeting id, name, data)."""
        rows = await self.session.execute(
            select(EventRow.meeting_id, EventRow.name, EventRow.data)
            .where(EventRow.name.in_(tuple(names))).order_by(EventRow.meeting_id, EventRow.seq))
        return [(meeting_id, name, data) for meeting_id, name, data in rows]
