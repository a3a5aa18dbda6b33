"""A sitting read back from its record: what happened, when, and who was there.

The minutes (会議録) and the timeline are both drawn from a Chronicle, which is built from
the record's entries as exported (orchestrator/persistence/repository.py ``record()``), the
roster and a few facts about the meeting. Only the record counts: nothing is taken from the
live state, so the same export always gives the same minutes.

Times in the record are UTC without a zone; a Chronicle holds them as aware UTC datetimes
and names the zone the minutes are written in (Japan unless told). Unknown entries are
skipped, so this reader still reads a newer record; a sitting that never opened or was
never adjourned still reads: whatever is still open ends at the record's last entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

JST = timezone(timedelta(hours=9), "JST")
MEMBER_ROLES = ("chair", "vice_chair", "member")
_ROLE_ORDER = MEMBER_ROLES + ("presenter", "expert", "clerk", "observer")
_NOT_COUNTED = ("camera_off", "away", "link_lost")  # connected, but not counted present


def _value(v: Any) -> Any:
    return getattr(v, "value", v)  # a str enum from the domain, or the plain string


def _field(obj: Any, key: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(key, default)
    return getattr(obj, key, default)


def parse_time(value: Any) -> datetime:
    """A record time (ISO text or datetime, naive meaning UTC) as an aware UTC datetime."""
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    reading: str = ""
    role: str = "member"
    seat: int | None = None

    @property
    def is_member(self) -> bool:
        return self.role in MEMBER_ROLES


class _Timed:
    start: datetime
    end: datetime

    @property
    def seconds(self) -> int:
        return max(0, int((self.end - self.start).total_seconds()))


@dataclass(frozen=True)
class Span(_Timed):
    start: datetime
    end: datetime
    open_ended: bool = False  # still open when the record ends


@dataclass(frozen=True)
class AttendanceSpan(_Timed):
    participant_id: str
    mode: str  # "remote" | "in_room"
    start: datetime
    end: datetime
    open_ended: bool = False
    reason: str | None = None  # why it ended, when the record says (away, camera_off…)


@dataclass(frozen=True)
class AwaySpan(_Timed):
    """Connected from afar but not counted present (camera off, no face, link lost)."""

    participant_id: str
    state: str
    start: datetime
    end: datetime
    open_ended: bool = False


@dataclass(frozen=True)
class Speech(_Timed):
    holder_id: str
    kind: str
    start: datetime
    end: datetime
    agenda_item_id: str | None = None
    limit_seconds: int | None = None  # including extensions
    reason: str | None = None  # finished, ended_by_chair, interrupted, removed; None if open
    open_ended: bool = False
    spoken_seconds: int | None = None  # as the record says, when it says

    @property
    def seconds(self) -> int:
        return self.spoken_seconds if self.spoken_seconds is not None else super().seconds


@dataclass
class ItemRecord:
    id: str
    title: str
    position: int | None = None
    kind: str | None = None
    taken_up_at: datetime | None = None  # the first time
    decided_at: datetime | None = None
    result: str = ""
    spans: list[Span] = field(default_factory=list)  # while under deliberation


@dataclass
class BallotRecord:
    id: str
    motion: str = ""
    kind: str = "named"  # "named" | "secret"
    majority: str = "simple"
    agenda_item_id: str | None = None
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    published_at: datetime | None = None
    entitled: tuple[str, ...] = ()
    yes: int | None = None  # None until the record gives the counts
    no: int | None = None
    abstain: int | None = None
    cast: int = 0  # votes received
    outcome: str | None = None  # adopted, rejected, tied
    decided_by_chair: bool = False
    chair_decision: str | None = None  # "yes" | "no"
    chair_id: str | None = None
    votes: dict[str, str] = field(default_factory=dict)  # named ballots only: member id -> choice


@dataclass(frozen=True)
class RecordingSegment:
    key: str
    start: datetime
    end: datetime | None
    sha256: str = ""
    path: str = ""
    kind: str = ""  # audio or video, when the record says


@dataclass(frozen=True)
class Note:
    """Something worth a line in the minutes: quorum lost or restored, someone removed."""

    at: datetime
    name: str
    participant_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Chronicle:
    meeting_id: str
    title: str
    body_name: str
    body_kind: str | None  # "plenary" | "committee" when known
    place: str
    scheduled_at: datetime | None  # local wall time, as the meeting was scheduled
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


class _Reader:
    """Walks the entries once, keeping what is open until the record closes it."""

    def __init__(self) -> None:
        self.opened_at: datetime | None = None
        self.adjourned_at: datetime | None = None
        self.recesses: list[Span] = []
        self.recess_from: datetime | None = None
        self.items: dict[str, ItemRecord] = {}
        self.current_item: tuple[str, datetime] | None = None
        self.speeches: list[Speech] = []
        self.floor: dict[str, Any] | None = None
        self.attendance: list[AttendanceSpan] = []
        self.attending: dict[str, tuple[str, datetime]] = {}
        self.away: list[AwaySpan] = []
        self.away_from: dict[str, tuple[str, datetime]] = {}
        self.ballots: dict[str, BallotRecord] = {}
        self.recordings: list[tuple[datetime, Mapping[str, Any]]] = []
        self.context: Mapping[str, Any] = {}
        self.notes: list[Note] = []

    # -- the sitting and its agenda --------------------------------------------------
    def meeting_opened(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        self.opened_at = self.opened_at or at
        if isinstance(d.get("context"), Mapping):
            self.context = d["context"]  # the body and the roster as they stood at the opening

    def meeting_recessed(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        self.recess_from = self.recess_from or at

    def meeting_resumed(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        if self.recess_from is not None:
            self.recesses.append(Span(self.recess_from, at))
            self.recess_from = None

    def meeting_adjourned(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        self.meeting_resumed(at, e, d)  # a recess ends when the sitting does
        self._set_aside(at)
        self._end_speech(at, None, "interrupted")
        self.adjourned_at = self.adjourned_at or at

    def _item(self, item_id: str, title: str = "") -> ItemRecord:
        item = self.items.setdefault(item_id, ItemRecord(item_id, title))
        item.title = item.title or title
        return item

    def _set_aside(self, at: datetime) -> None:
        if self.current_item is not None:
            item_id, since = self.current_item
            self._item(item_id).spans.append(Span(since, at))
            self.current_item = None

    def item_taken_up(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        item_id = e.get("agenda_item_id")
        if not item_id:
            return
        self._set_aside(at)
        item = self._item(item_id, str(d.get("title", "")))
        item.taken_up_at = item.taken_up_at or at
        self.current_item = (item_id, at)

    def item_decided(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        item_id = e.get("agenda_item_id")
        if not item_id:
            return
        if self.current_item is not None and self.current_item[0] == item_id:
            self._set_aside(at)
        item = self._item(item_id)
        item.decided_at, item.result = at, str(d.get("result", ""))

    # -- the floor ----------------------------------------------------------------
    def floor_granted(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        self._end_speech(at, None, "interrupted")
        self.floor = {"holder_id": str(d.get("holder_id", "")), "kind": str(d.get("kind", "speech")),
                      "start": at, "agenda_item_id": e.get("agenda_item_id"), "limit": d.get("limit_seconds")}

    def speech_extended(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        if self.floor is not None and d.get("limit_seconds") is not None:
            self.floor["limit"] = d["limit_seconds"]

    def speech_ended(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        seconds = d.get("seconds")
        self._end_speech(at, int(seconds) if isinstance(seconds, (int, float)) else None, str(d.get("reason", "")))

    def _end_speech(self, at: datetime, seconds: int | None, reason: str | None,
                    open_ended: bool = False) -> None:
        f, self.floor = self.floor, None
        if f is None:
            return
        limit = f["limit"] if isinstance(f["limit"], int) else None
        self.speeches.append(Speech(f["holder_id"], f["kind"], f["start"], at, f["agenda_item_id"], limit,
                                    None if open_ended else (reason or None), open_ended, seconds))

    # -- attendance ----------------------------------------------------------------
    def attendance_started(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        pid = str(d.get("participant_id", ""))
        self._depart(pid, at, None)  # moving between the chamber and remote closes the other
        self.attending[pid] = (str(d.get("mode", "remote")), at)
        self._back(pid, at)

    def attendance_ended(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        self._depart(str(d.get("participant_id", "")), at, d.get("reason"))

    def _depart(self, pid: str, at: datetime, reason: Any, open_ended: bool = False) -> None:
        if pid in self.attending:
            mode, since = self.attending.pop(pid)
            self.attendance.append(AttendanceSpan(pid, mode, since, at, open_ended,
                                                  str(reason) if reason else None))

    def presence_changed(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        pid, state = str(d.get("participant_id", "")), str(d.get("state", ""))
        if pid in self.away_from and self.away_from[pid][0] == state:
            return
        self._back(pid, at)
        if state in _NOT_COUNTED:
            self.away_from[pid] = (state, at)

    def _back(self, pid: str, at: datetime, open_ended: bool = False) -> None:
        if pid in self.away_from:
            state, since = self.away_from.pop(pid)
            self.away.append(AwaySpan(pid, state, since, at, open_ended))

    def participant_removed(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        self.notes.append(Note(at, "participant_removed", d.get("participant_id")))

    def quorum_lost(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        self.notes.append(Note(at, str(e.get("name")), None, dict(d)))

    quorum_restored = quorum_lost

    # -- ballots ------------------------------------------------------------------
    def _ballot(self, d: Mapping[str, Any]) -> BallotRecord | None:
        ballot_id = d.get("ballot_id")
        return self.ballots.setdefault(str(ballot_id), BallotRecord(str(ballot_id))) if ballot_id else None

    def ballot_opened(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        b = self._ballot(d)
        if b is None:
            return
        b.motion, b.kind = str(d.get("motion", "")), str(d.get("kind", "named"))
        b.majority, b.agenda_item_id = str(d.get("majority", "simple")), e.get("agenda_item_id")
        b.opened_at, b.chair_id = at, e.get("actor_id")
        b.entitled = tuple(str(m) for m in d.get("entitled", []))

    def vote_cast(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        b = self._ballot(d)
        if b is None:
            return
        b.cast += 1
        if b.kind == "named" and e.get("actor_id"):
            b.votes[str(e["actor_id"])] = str(d.get("choice", ""))

    def vote_received(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        b = self._ballot(d)
        if b is not None:
            b.cast += 1  # a secret vote: who voted is on the record, how is not

    def ballot_closed(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        b = self._tally(d)
        if b is not None:
            b.closed_at = at

    def tie_decided_by_chair(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        b = self._tally(d)
        if b is not None:
            b.decided_by_chair = True
            b.chair_decision = "yes" if b.outcome == "adopted" else "no"

    def result_published(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        b = self._tally(d)
        if b is None:
            return
        b.published_at = at
        if b.kind == "named" and isinstance(d.get("votes"), Mapping):
            b.votes.update({str(m): str(c) for m, c in d["votes"].items()})

    def _tally(self, d: Mapping[str, Any]) -> BallotRecord | None:
        b = self._ballot(d)
        if b is None:
            return None
        for key in ("yes", "no", "abstain"):
            if isinstance(d.get(key), int):
                setattr(b, key, d[key])
        b.outcome = str(d["outcome"]) if d.get("outcome") else b.outcome
        b.decided_by_chair = b.decided_by_chair or bool(d.get("decided_by_chair"))
        return b

    # -- recordings ----------------------------------------------------------------
    def recording_segment(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        self.recordings.append((at, d))  # placed on the time axis once the sitting's start is known

    # -- the end of the record -------------------------------------------------------
    def finish(self, last: datetime) -> None:
        if self.recess_from is not None:
            self.recesses.append(Span(self.recess_from, last, open_ended=True))
            self.recess_from = None
        if self.current_item is not None:
            item_id, since = self.current_item
            self._item(item_id).spans.append(Span(since, last, open_ended=True))
            self.current_item = None
        self._end_speech(last, None, None, open_ended=True)
        for pid in list(self.attending):
            self._depart(pid, last, None, open_ended=True)
        for pid in list(self.away_from):
            self._back(pid, last, open_ended=True)


Handler = Callable[[_Reader, datetime, Mapping[str, Any], Mapping[str, Any]], None]
_HANDLERS: dict[str, Handler] = {
    name: getattr(_Reader, name) for name in (
        "meeting_opened", "meeting_recessed", "meeting_resumed", "meeting_adjourned", "item_taken_up",
        "item_decided", "floor_granted", "speech_extended", "speech_ended", "attendance_started",
        "attendance_ended", "presence_changed", "participant_removed", "quorum_lost", "quorum_restored",
        "ballot_opened", "vote_cast", "vote_received", "ballot_closed", "tie_decided_by_chair",
        "result_published", "recording_segment",
    )
}


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
    taken up still appear. ``scheduled_at`` is the meeting's local wall time. Whoever the
    roster lacks, and the body's name and kind when not given, come from the context the
    opening entry records. A ``recording_segment`` entry's start and end are ISO times, epoch
    seconds, or seconds on the sitting clock from its ``origin`` (an ISO time) or else from
    the sitting's start.
    """
    ordered = sorted(entries, key=lambda e: (e.get("seq") or 0))
    reader = _Reader()
    for e in ordered:
        handler = _HANDLERS.get(str(e.get("name")))
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
    )


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
