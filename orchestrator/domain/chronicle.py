"""A sitting read back from its record: what happened, when, and who was there.

The minutes (会議録) and the timeline are both drawn from a Chronicle, which is built from
the record's entries as exported (orchestrator/persistence/repository.py ``record()``), the
roster and a few facts about the sitting. Only the record counts: nothing is taken from the
live state, so the same export always gives the same minutes.

Times in the record are UTC without a zone; a Chronicle holds them as aware UTC datetimes
and names the zone the minutes are written in (Japan unless told). Unknown entries are
skipped, so this reader still reads a newer record; a sitting that never opened or was
never adjourned still reads: whatever is still open ends at the record's last entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

from gikai.orchestrator.domain.chronicle_parts import (
    MEMBER_ROLES,
    AttendanceSpan,
    AwaySpan,
    BallotRecord,
    ItemRecord,
    Note,
    Person,
    RecordingSegment,
    Span,
    Speech,
    parse_time,
)
from gikai.orchestrator.domain.chronicle_reader import HANDLERS, RecordReader
from gikai.orchestrator.domain.events import Entry
from gikai.orchestrator.domain.minutes_signatures import SigningState, signing_state

# The pieces are imported from here by the reports and the service layer.
__all__ = [
    "JST", "MEMBER_ROLES", "AttendanceSpan", "AwaySpan", "BallotRecord", "Chronicle", "ItemRecord", "Note",
    "Person", "RecordingSegment", "Span", "Speech", "build_chronicle", "parse_time",
]

JST = timezone(timedelta(hours=9), "JST")
_ROLE_ORDER = (*MEMBER_ROLES, "presenter", "expert", "clerk", "observer")


def _value(v: Any) -> Any:
    return getattr(v, "value", v)  # a str enum from the domain, or the plain string


def _field(obj: Any, key: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(key, default)
    return getattr(obj, key, default)


@dataclass
class Chronicle:
    meeting_id: str  # the sitting's id (the name is the record's and the API's)
    title: str
    body_name: str
    body_kind: str | None  # "plenary" | "committee" when known
    place: str
    scheduled_at: datetime | None  # local wall time, as the sitting was scheduled
    tz: tzinfo
    people: dict[str, Person]
    start: datetime  # the opening, or the first entry when the sitting never opened
    end: datetime  # the adjournment, or the last entry
    opened_at: datetime | None = None
    adjourned_at: datetime | None = None
    recesses: list[Span] = field(default_factory=list)
    items: list[ItemRecord] = field(default_factory=list)
    speeches: list[Speech] = field(default_factory=list)
    attendance: list[AttendanceSpan] = field(default_factory=list)
    away: list[AwaySpan] = field(default_factory=list)
    ballots: list[BallotRecord] = field(default_factory=list)
    recordings: list[RecordingSegment] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    chain_head: str | None = None  # the last entry's hash
    entry_count: int = 0
    # who signs the minutes and who has signed (minutes_signatures.py), as the record tells it
    signing: SigningState = field(default_factory=lambda: SigningState(None, None, ()))
    recorded: frozenset[str] = frozenset()  # the participants the opening put on the record (its context)

    def person(self, participant_id: str | None) -> Person:
        pid = participant_id or ""
        return self.people.get(pid) or Person(pid, pid or "?", role="observer")

    def members(self) -> list[Person]:
        return [p for p in self.people.values() if p.is_member]

    def others(self) -> list[Person]:
        return [p for p in self.people.values() if not p.is_member]

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.tz)

    def offset(self, at: datetime) -> float:
        """Seconds from the sitting's start (what a player seeks to)."""
        return (at - self.start).total_seconds()

    def attended(self, participant_id: str) -> list[AttendanceSpan]:
        """The participant's attendance within the sitting (start to end), in order."""
        spans = []
        for a in self.attendance:
            if a.participant_id != participant_id or a.end < self.start or a.start > self.end:
                continue
            start, end = max(a.start, self.start), min(a.end, self.end)
            open_ended = a.open_ended and a.end <= self.end
            spans.append(AttendanceSpan(a.participant_id, a.mode, start, end, open_ended, a.reason))
        return spans

    def present(self) -> list[Person]:
        return [p for p in self.people.values() if self.attended(p.id)]

    def absent_members(self) -> list[Person]:
        return [p for p in self.members() if not self.attended(p.id)]

    def modes(self) -> set[str]:
        """How members attended: {"in_room"}, {"remote"} or both (a hybrid sitting)."""
        return {a.mode for p in self.members() for a in self.attended(p.id)}

    def item(self, item_id: str | None) -> ItemRecord | None:
        return next((i for i in self.items if i.id == item_id), None)


def _segment_time(value: Any, origin: datetime) -> datetime | None:
    """ISO text; epoch seconds or milliseconds; or seconds on the sitting clock from ``origin``."""
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if value > 1e11:
                return datetime.fromtimestamp(value / 1000, UTC)
            if value > 1e9:
                return datetime.fromtimestamp(value, UTC)
            return origin + timedelta(seconds=value)
        return parse_time(value) if isinstance(value, (str, datetime)) and value else None
    except (ValueError, OverflowError, OSError):
        return None


def _recordings(found: list[tuple[datetime, Mapping[str, Any]]], start: datetime) -> list[RecordingSegment]:
    segments = []
    for at, d in found:
        origin = _segment_time(d.get("origin"), start) or start
        begin = _segment_time(d.get("start"), origin) or at
        segments.append(RecordingSegment(str(d.get("key", "")), begin, _segment_time(d.get("end"), origin),
                                         str(d.get("sha256", "")), str(d.get("path", "")), str(d.get("kind", ""))))
    return sorted(segments, key=lambda r: (r.start, r.key))


def _people(participants: Iterable[Any], context: Mapping[str, Any]) -> dict[str, Person]:
    found = []
    for p in participants:
        seat = _field(p, "seat")
        found.append(Person(str(_field(p, "id")), str(_field(p, "name", "")), str(_field(p, "reading", "") or ""),
                            str(_value(_field(p, "role", "observer"))), int(seat) if seat is not None else None))
    known = {p.id for p in found}
    recorded = context.get("participants")
    if isinstance(recorded, Mapping):  # whoever the roster given lacks, as the record names them
        for pid, info in recorded.items():
            if str(pid) not in known and isinstance(info, Mapping):
                found.append(Person(str(pid), str(info.get("name", pid)), role=str(info.get("role", "observer"))))
    rank = {r: i for i, r in enumerate(_ROLE_ORDER)}
    found.sort(key=lambda p: (not p.is_member, p.seat is None, p.seat or 0, rank.get(p.role, 99), p.reading, p.name))
    return {p.id: p for p in found}


def build_chronicle(
    entries: Sequence[Mapping[str, Any]], participants: Iterable[Any], *, meeting_id: str = "", title: str = "",
    body_name: str = "", body_kind: str | None = None, place: str = "", scheduled_at: Any = None,
    agenda: Iterable[Any] = (), tz: tzinfo = JST,
) -> Chronicle:
    """Read a sitting's record.

    ``entries``: the record's entries as exported (seq, at, name, actor_id, agenda_item_id,
    data, hash…). ``participants``: the roster, as dicts or objects with id, name, reading,
    role and seat. ``agenda``: optional items (id, position, title, kind), so items never
    taken up still appear. ``scheduled_at`` is the sitting's local wall time. Whoever the
    roster lacks, and the body's name and kind when not given, come from the context the
    opening entry records. A ``recording_segment`` entry's start and end are ISO times, epoch
    seconds, or seconds on the sitting clock from its ``origin`` (an ISO time) or else from
    the sitting's start.
    """
    ordered = sorted(entries, key=lambda e: (e.get("seq") or 0))
    reader = RecordReader()
    for e in ordered:
        handler = HANDLERS.get(str(e.get("name")))
        if handler is not None:
            data = e.get("data") or {}
            handler(reader, parse_time(e["at"]), e, data if isinstance(data, Mapping) else {})
    scheduled = None
    if scheduled_at is not None:
        scheduled = scheduled_at if isinstance(scheduled_at, datetime) else datetime.fromisoformat(str(scheduled_at))
        scheduled = scheduled.replace(tzinfo=tz) if scheduled.tzinfo is None else scheduled
    fallback = scheduled.astimezone(UTC) if scheduled else datetime(1970, 1, 1, tzinfo=UTC)
    first = parse_time(ordered[0]["at"]) if ordered else fallback
    last = parse_time(ordered[-1]["at"]) if ordered else fallback
    reader.finish(last)

    items = _agenda(agenda, reader.items)
    start = reader.opened_at or first
    end = reader.adjourned_at or max(last, start)
    context = reader.context
    if body_kind is None and isinstance(context.get("plenary"), bool):
        body_kind = "plenary" if context["plenary"] else "committee"
    return Chronicle(
        meeting_id=meeting_id, title=title, body_name=body_name or str(context.get("body", "")),
        body_kind=_value(body_kind), place=place, scheduled_at=scheduled, tz=tz,
        people=_people(participants, context), start=start, end=end,
        opened_at=reader.opened_at, adjourned_at=reader.adjourned_at, recesses=reader.recesses, items=items,
        speeches=reader.speeches, attendance=sorted(reader.attendance, key=lambda a: a.start),
        away=sorted(reader.away, key=lambda a: a.start),
        ballots=sorted(reader.ballots.values(), key=lambda b: b.opened_at or b.closed_at or last),
        recordings=_recordings(reader.recordings, start), notes=reader.notes,
        chain_head=str(ordered[-1].get("hash")) if ordered and ordered[-1].get("hash") else None,
        entry_count=len(ordered),
        signing=signing_state((str(e.get("name")), parse_time(e["at"]), e.get("data") or {})
                              for e in ordered if e.get("name") in _SIGNING),
        recorded=frozenset(str(pid) for pid in context.get("participants") or ()),
    )


_SIGNING = (Entry.MINUTES_SIGNERS_NAMED, Entry.MINUTES_FINALISED, Entry.MINUTES_SIGNED)


def _agenda(agenda: Iterable[Any], seen: dict[str, ItemRecord]) -> list[ItemRecord]:
    """The agenda's items in its order, then any item the record names that the agenda does not."""
    items: list[ItemRecord] = []
    for a in agenda:
        item_id = str(_field(a, "id"))
        item = seen.pop(item_id, None) or ItemRecord(item_id, "")
        item.title = str(_field(a, "title", "") or item.title)
        item.position, item.kind = _field(a, "position"), _value(_field(a, "kind"))
        items.append(item)
    never = datetime.max.replace(tzinfo=UTC)
    rest = sorted(seen.values(), key=lambda i: i.taken_up_at or i.decided_at or never)
    return items + rest
