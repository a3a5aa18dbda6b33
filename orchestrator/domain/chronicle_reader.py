"""Reading a sitting's record entry by entry: what was open (the floor, an item, a recess,
someone's attendance) stays open until an entry closes it, or the record ends.

One handler per kind of entry (events.py names them); entries without a handler are
skipped, so a newer record still reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from gikai.orchestrator.domain.chronicle_parts import (
    AttendanceSpan,
    AwaySpan,
    BallotRecord,
    ItemRecord,
    Note,
    Span,
    Speech,
)
from gikai.orchestrator.domain.events import Entry, SpeechEnd

_NOT_COUNTED = ("camera_off", "away", "link_lost")  # connected, but not counted present


class RecordReader:
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
    def sitting_opened(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        self.opened_at = self.opened_at or at
        if isinstance(d.get("context"), Mapping):
            self.context = d["context"]  # the body and the roster as they stood at the opening

    def sitting_recessed(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        self.recess_from = self.recess_from or at

    def sitting_resumed(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        if self.recess_from is not None:
            self.recesses.append(Span(self.recess_from, at))
            self.recess_from = None

    def sitting_adjourned(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        self.sitting_resumed(at, e, d)  # a recess ends when the sitting does
        self._set_aside(at)
        self._end_speech(at, None, SpeechEnd.INTERRUPTED)
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
        self._end_speech(at, None, SpeechEnd.INTERRUPTED)
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
        self.notes.append(Note(at, Entry.PARTICIPANT_REMOVED, d.get("participant_id")))

    def procedure(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        """A step of procedure the minutes name (permission, identity check, amendment, motion, signers)."""
        self.notes.append(Note(at, str(e.get("name")), d.get("participant_id") or d.get("member_id")
                               or d.get("mover_id"), dict(d)))

    def quorum_changed(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        self.notes.append(Note(at, str(e.get("name")), None, dict(d)))  # lost or restored

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
        if e.get("actor_id"):
            b.voters.add(str(e["actor_id"]))
        if b.kind == "named" and e.get("actor_id"):
            b.votes[str(e["actor_id"])] = str(d.get("choice", ""))

    def vote_received(self, at: datetime, e: Mapping[str, Any], d: Mapping[str, Any]) -> None:
        b = self._ballot(d)
        if b is not None:
            b.cast += 1  # a secret vote: who voted is on the record, how is not
            if e.get("actor_id"):
                b.voters.add(str(e["actor_id"]))

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


Handler = Callable[[RecordReader, datetime, Mapping[str, Any], Mapping[str, Any]], None]
HANDLERS: dict[str, Handler] = {
    Entry.SITTING_OPENED: RecordReader.sitting_opened,
    Entry.SITTING_RECESSED: RecordReader.sitting_recessed,
    Entry.SITTING_RESUMED: RecordReader.sitting_resumed,
    Entry.SITTING_ADJOURNED: RecordReader.sitting_adjourned,
    Entry.ITEM_TAKEN_UP: RecordReader.item_taken_up,
    Entry.ITEM_DECIDED: RecordReader.item_decided,
    Entry.FLOOR_GRANTED: RecordReader.floor_granted,
    Entry.SPEECH_EXTENDED: RecordReader.speech_extended,
    Entry.SPEECH_ENDED: RecordReader.speech_ended,
    Entry.ATTENDANCE_STARTED: RecordReader.attendance_started,
    Entry.ATTENDANCE_ENDED: RecordReader.attendance_ended,
    Entry.PRESENCE_CHANGED: RecordReader.presence_changed,
    Entry.PARTICIPANT_REMOVED: RecordReader.participant_removed,
    Entry.QUORUM_LOST: RecordReader.quorum_changed,
    Entry.QUORUM_RESTORED: RecordReader.quorum_changed,
    Entry.BALLOT_OPENED: RecordReader.ballot_opened,
    Entry.VOTE_CAST: RecordReader.vote_cast,
    Entry.VOTE_RECEIVED: RecordReader.vote_received,
    Entry.BALLOT_CLOSED: RecordReader.ballot_closed,
    Entry.TIE_DECIDED_BY_CHAIR: RecordReader.tie_decided_by_chair,
    Entry.RESULT_PUBLISHED: RecordReader.result_published,
    Entry.RECORDING_SEGMENT: RecordReader.recording_segment,
    **dict.fromkeys((Entry.REMOTE_ATTENDANCE_PERMITTED, Entry.REMOTE_ATTENDANCE_REFUSED, Entry.IDENTITY_CONFIRMED,
                     Entry.AMENDMENT_MOVED, Entry.MOTION_MOVED, Entry.MINUTES_SIGNERS_NAMED), RecordReader.procedure),
}
