"""Reading a sitting back from its record: a scripted sitting run through the real domain,
recorded the way the repository records it, then read into a Chronicle."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from gikai.orchestrator.domain.agenda import Agenda
from gikai.orchestrator.domain.chronicle import JST, Chronicle, build_chronicle, parse_time
from gikai.orchestrator.domain.ledger import GENESIS, canonical, entry_hash
from gikai.orchestrator.domain.presence import Presence
from gikai.orchestrator.domain.rehearsal import rehearsal_committee
from gikai.orchestrator.domain.rules import SpeechKind
from gikai.orchestrator.domain.sitting import Event, Sitting
from gikai.orchestrator.domain.voting import (
    Ballot,
    BallotKind,
    Choice,
    Majority,
    Tally,
    entitled_members,
)

T0 = datetime(2026, 3, 10, 1, 0)  # 10:00 in Japan; the record keeps UTC without a zone


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def record_of(meeting_id: str, events: list[Event]) -> list[dict[str, Any]]:
    """Entries exactly as Repository.append_events stores them and record() exports them."""
    entries, prev = [], GENESIS
    for seq, e in enumerate(events, start=1):
        data = json.loads(canonical(e.data))
        digest = entry_hash(meeting_id, seq, e.at.isoformat(), e.name, e.actor_id, e.agenda_item_id, data, prev)
        entries.append({"seq": seq, "at": e.at.isoformat(), "name": e.name, "actor_id": e.actor_id,
                        "agenda_item_id": e.agenda_item_id, "data": data, "prev_hash": prev, "hash": digest,
                        "signature": ""})
        prev = digest
    return entries


def _tally(t: Tally) -> dict[str, Any]:  # the data BallotService puts on the record
    return {"yes": t.yes, "no": t.no, "abstain": t.abstain, "entitled": t.entitled, "outcome": t.outcome.value,
            "decided_by_chair": t.decided_by_chair}


def take_ballot(s: Sitting, motion: str, kind: BallotKind, choices: dict[str, Choice], opened: datetime,
                closed: datetime, tie: Choice | None = None) -> list[Event]:
    """A ballot on the sitting's current item, with the events BallotService records."""
    chair = s.acting_chair_id()
    present = s.attendance.present()
    quorum = s.quorum()
    entitled = entitled_members(set(quorum.counted), {p for p, m in present.items() if m.value == "remote"}, chair,
                                remote_may_vote=True, chair_votes_only_on_tie=True, majority=Majority.SIMPLE)
    item = s.agenda.current.id if s.agenda.current else None
    b = Ballot(s.meeting.id, item, motion, kind)
    b.open(entitled, s.body.fixed_membership, chair, quorum.met, opened)
    events = [Event("ballot_opened", opened, chair, {"ballot_id": b.id, "motion": motion, "kind": kind.value,
                                                     "majority": "simple", "entitled": sorted(entitled)}, item)]
    for n, (member, choice) in enumerate(choices.items()):
        b.cast(member, choice, member in present)
        when = opened + timedelta(seconds=5 + n)
        if kind is BallotKind.NAMED:
            events.append(Event("vote_cast", when, member, {"ballot_id": b.id, "choice": choice.value}))
        else:
            events.append(Event("vote_received", when, member, {"ballot_id": b.id}))
    events.append(Event("ballot_closed", closed, chair, {"ballot_id": b.id, **_tally(b.close(True, closed))}))
    if tie is not None:
        events.append(Event("tie_decided_by_chair", closed, chair,
                            {"ballot_id": b.id, **_tally(b.decide_tie(chair, tie))}))
    data: dict[str, Any] = {"ballot_id": b.id, **_tally(b.publish())}
    if kind is BallotKind.NAMED:
        data["votes"] = {m: c.value for m, c in sorted(b.named.items())}
    events.append(Event("result_published", closed, chair, data))
    return events


class Script:
    """The rehearsal committee's sitting: who is who, and everything recorded."""

    def __init__(self, names: dict[int, str] | None = None) -> None:
        body, _, meeting, people, agenda = rehearsal_committee(T0)
        for seat, name in (names or {}).items():
            people[seat - 1].name = name
        self.meeting, self.body, self.people, self.agenda = meeting, body, people, agenda
        self.sitting = Sitting(meeting, body, body.rules, {p.id: p for p in people}, Agenda(list(agenda)))
        self.by_seat = {p.seat: p.id for p in people if p.seat}
        others = [p for p in people if p.seat is None]
        self.clerk, self.presenter = others[0].id, others[1].id
        self.chair = self.by_seat[1]
        self.events: list[Event] = []

    def __call__(self, events: list[Event]) -> list[Event]:
        self.events += events
        return events

    def seat(self, n: int) -> str:
        return self.by_seat[n]

    def entries(self) -> list[dict[str, Any]]:
        return record_of(self.meeting.id, self.events)

    def chronicle(self, entries: list[dict[str, Any]] | None = None) -> Chronicle:
        return build_chronicle(
            self.entries() if entries is None else entries,
            [{"id": p.id, "name": p.name, "reading": p.reading, "role": p.role.value, "seat": p.seat}
             for p in self.people],
            meeting_id=self.meeting.id, title=self.meeting.title, body_name=self.body.name,
            body_kind=self.body.kind.value, place="第1委員会室", scheduled_at=datetime(2026, 3, 10, 10, 0),
            agenda=[{"id": i.id, "position": i.position, "title": i.title, "kind": i.kind.value} for i in self.agenda],
        )


def scripted_sitting(names: dict[int, str] | None = None) -> Script:
    """One hour: a budget explained from afar, a question cut short, a debate, a named vote;
    a recess; a member who steps away; a tied secret ballot the chair decides; adjourned."""
    s = Script(names)
    st = s.sitting
    for n in (1, 2, 5, 6, 7, 8, 9, 10):  # seat 11 never comes; seat 12 comes late
        s(st.connected(s.seat(n), at(-5)))
    s(st.check_in(s.clerk, s.clerk, at(-4)))
    s(st.check_in(s.clerk, s.seat(3), at(-4)))
    s(st.check_in(s.clerk, s.seat(4), at(-4)))
    s(st.connected(s.presenter, at(-3)))
    s(st.open(s.chair, at(0)))
    item1, item2 = s.agenda[0].id, s.agenda[1].id
    s(st.take_up(s.chair, item1, at(1)))
    s(st.call_presenter(s.chair, s.presenter, at(2)))
    s(st.end_speech(s.presenter, at(12)))
    (request,) = s(st.request_floor(s.seat(3), SpeechKind("question"), at(12.5)))
    s(st.grant(s.chair, request.data["request_id"], at(13)))
    s(st.extend(s.chair, 60, at(22)))
    s(st.end_speech(s.chair, at(24)))
    (request,) = s(st.request_floor(s.seat(4), SpeechKind("debate_contra"), at(24.5)))
    s(st.grant(s.chair, request.data["request_id"], at(25)))
    s(st.end_speech(s.seat(4), at(28)))
    s(st.connected(s.seat(12), at(28.5)))
    yes = {s.seat(n): Choice.YES for n in (2, 3, 5, 6, 7, 8, 9)}
    no = {s.seat(n): Choice.NO for n in (4, 10, 12)}
    s(take_ballot(st, "議案第1号を原案のとおり可決すべきものと決する", BallotKind.NAMED, {**yes, **no}, at(29), at(31)))
    s(st.decide(s.chair, item1, "原案可決", at(31)))
    s(st.recess(s.chair, at(32)))
    s(st.resume(s.chair, at(45)))
    s(st.take_up(s.chair, item2, at(46)))
    s(st.presence_changed(s.seat(12), Presence.AWAY, at(47)))
    s(st.presence_changed(s.seat(12), Presence.PRESENT, at(50)))
    tie = {s.seat(n): Choice.YES for n in (2, 3, 5, 6, 7)} | {s.seat(n): Choice.NO for n in (4, 8, 9, 10, 12)}
    s(take_ballot(st, "議案第2号を原案のとおり可決すべきものと決する", BallotKind.SECRET, tie, at(55), at(57),
                  tie=Choice.NO))
    s(st.decide(s.chair, item2, "否決", at(58)))
    s(st.adjourn(s.chair, at(60)))
    s(st.disconnected(s.seat(5), at(61)))  # leaves after the adjournment
    return s


def _local(c: Chronicle, dt: datetime) -> str:
    return c.local(dt).strftime("%H:%M")


# -- the tests ------------------------------------------------------------------------
def test_the_sitting_runs_from_its_opening_to_its_adjournment_with_its_recess():
    c = scripted_sitting().chronicle()
    assert c.start == parse_time(at(0).isoformat()) and c.opened_at == c.start
    assert c.adjourned_at == parse_time(at(60).isoformat()) and c.end == c.adjourned_at
    assert [(_local(c, r.start), _local(c, r.end), r.seconds) for r in c.recesses] == [("10:32", "10:45", 13 * 60)]
    assert _local(c, c.start) == "10:00", "times are read as UTC and shown in Japan's time"


def test_attendance_says_who_was_there_when_and_how_and_who_never_came():
    s = scripted_sitting()
    c = s.chronicle()
    absent = [p.name for p in c.absent_members()]
    assert absent == ["山口 浩"]
    in_room = c.attended(s.seat(3))
    assert [(a.mode, _local(c, a.start), _local(c, a.end)) for a in in_room] == [("in_room", "10:00", "11:00")]
    late = c.attended(s.seat(12))
    assert [(a.mode, _local(c, a.start), _local(c, a.end), a.reason) for a in late] == [
        ("remote", "10:28", "10:47", "away"), ("remote", "10:50", "11:00", None)]
    assert [(a.state, _local(c, a.start), _local(c, a.end)) for a in c.away] == [("away", "10:47", "10:50")]
    raw = [a for a in c.attendance if a.participant_id == s.seat(5)]
    assert _local(c, raw[0].start) == "09:55" and _local(c, raw[0].end) == "11:01", "the record as it is"
    still_there = [a for a in c.attendance if a.participant_id == s.seat(1)]
    assert still_there[0].open_ended, "connected when the record ends"
    assert not c.attended(s.seat(1))[0].open_ended, "but the sitting had ended: the minutes end it there"
    assert c.modes() == {"in_room", "remote"}
    assert {p.id for p in c.present()} >= {s.clerk, s.presenter}


def test_a_member_who_left_before_the_opening_is_absent():
    s = Script()
    for n in range(1, 8):
        s(s.sitting.connected(s.seat(n), at(0)))
    s(s.sitting.connected(s.seat(8), at(-5)))
    s(s.sitting.disconnected(s.seat(8), at(-2)))
    s(s.sitting.open(s.chair, at(1)))
    s(s.sitting.adjourn(s.chair, at(10)))
    c = s.chronicle()
    assert [p.seat for p in c.absent_members()] == [8, 9, 10, 11, 12]
    assert c.attended(s.seat(8)) == []


def test_speeches_are_read_in_order_with_holder_kind_item_and_duration():
    s = scripted_sitting()
    c = s.chronicle()
    got = [(c.person(x.holder_id).name, x.kind, x.seconds, x.reason, x.limit_seconds) for x in c.speeches]
    assert got == [
        ("中村 直樹", "explanation", 600, "finished", 1200),
        ("鈴木 一郎", "question", 660, "ended_by_chair", 660),  # extended by a minute, then cut
        ("高橋 美咲", "debate_contra", 180, "finished", 600),
    ]
    assert all(x.agenda_item_id == s.agenda[0].id for x in c.speeches)


def test_agenda_items_keep_their_order_times_and_results_and_untouched_items_appear():
    c = scripted_sitting().chronicle()
    got = [(i.position, _local(c, i.taken_up_at) if i.taken_up_at else None, i.result) for i in c.items]
    assert got == [(1, "10:01", "原案可決"), (2, "10:46", "否決"), (3, None, ""), (4, None, "")]
    assert [(_local(c, x.start), _local(c, x.end)) for x in c.items[0].spans] == [("10:01", "10:31")]


def test_a_named_ballot_keeps_each_vote_and_a_secret_one_only_its_counts():
    s = scripted_sitting()
    c = s.chronicle()
    named, secret = c.ballots
    assert (named.kind, named.yes, named.no, named.outcome, named.decided_by_chair) == ("named", 7, 3, "adopted", False)
    assert named.votes[s.seat(4)] == "no" and named.votes[s.seat(3)] == "yes" and len(named.votes) == 10
    assert s.chair not in named.entitled, "the chair votes only to break a tie"
    assert (secret.kind, secret.yes, secret.no, secret.cast) == ("secret", 5, 5, 10)
    assert secret.votes == {}
    assert (secret.outcome, secret.decided_by_chair, secret.chair_decision) == ("rejected", True, "no")


def test_the_chain_head_is_the_last_entry_hash_and_unknown_entries_are_skipped():
    s = scripted_sitting()
    entries = s.entries()
    entries.append({**entries[-1], "seq": len(entries) + 1, "name": "something_new", "data": {"x": 1},
                    "hash": "f" * 64})
    c = s.chronicle(entries)
    assert c.chain_head == "f" * 64 and c.entry_count == len(entries)
    assert len(c.speeches) == 3


def test_recording_segments_are_read_when_the_record_has_them():
    s = scripted_sitting()
    entries = s.entries()
    for n, (start, end) in enumerate([(at(0), at(30)), (at(30), at(60))], start=1):
        entries.append({"seq": len(entries) + 1, "at": end.isoformat(), "name": "recording_segment",
                        "actor_id": None, "agenda_item_id": None,
                        "data": {"key": f"seg-{n}", "start": start.isoformat(), "end": end.isoformat(),
                                 "sha256": "ab" * 32, "path": f"rec/seg-{n}.webm"}})
    c = s.chronicle(entries)
    entries.append({"seq": len(entries) + 1, "at": at(61).isoformat(), "name": "recording_segment",
                    "actor_id": None, "agenda_item_id": None,  # seconds on the sitting clock
                    "data": {"key": "chair-audio", "kind": "audio", "start": 0.0, "end": 1800.5,
                             "sha256": "cd" * 32, "path": "chair-audio-0001.webm"}})
    c = s.chronicle(entries)
    assert [(r.key, _local(c, r.start), _local(c, r.end)) for r in c.recordings] == [
        ("chair-audio", "10:00", "10:30"), ("seg-1", "10:00", "10:30"), ("seg-2", "10:30", "11:00")]
    assert c.recordings[0].end == c.start + timedelta(seconds=1800.5) and c.recordings[0].kind == "audio"
    assert s.chronicle().recordings == []


def test_without_a_roster_the_record_names_the_body_and_the_people():
    s = scripted_sitting()
    c = build_chronicle(s.entries(), [])
    assert c.body_name == "模擬委員会" and c.body_kind == "committee"
    assert c.person(s.seat(3)).name == "鈴木 一郎" and c.person(s.presenter).role == "presenter"
    assert [p.name for p in c.absent_members()] == ["山口 浩"]


def test_a_sitting_that_never_opened_still_reads_to_its_last_entry():
    s = Script()
    s(s.sitting.connected(s.seat(1), at(0)))
    s(s.sitting.check_in(s.clerk, s.seat(3), at(2)))
    c = s.chronicle()
    assert c.opened_at is None and c.adjourned_at is None
    assert (_local(c, c.start), _local(c, c.end)) == ("10:00", "10:02")
    (chair,) = c.attended(s.seat(1))
    assert chair.open_ended and _local(c, chair.end) == "10:02"


def test_a_sitting_cut_off_mid_speech_and_mid_recess_closes_at_the_last_entry():
    s = Script()
    st = s.sitting
    for n in range(1, 8):
        s(st.connected(s.seat(n), at(0)))
    s(st.open(s.chair, at(1)))
    s(st.take_up(s.chair, s.agenda[0].id, at(2)))
    (request,) = s(st.request_floor(s.seat(3), SpeechKind("speech"), at(3)))
    s(st.grant(s.chair, request.data["request_id"], at(4)))
    s(st.connected(s.seat(8), at(9)))
    c = s.chronicle()
    (speech,) = c.speeches
    assert speech.open_ended and speech.reason is None and speech.seconds == 5 * 60
    assert c.items[0].spans[-1].open_ended and _local(c, c.end) == "10:09"
    s(st.recess(s.chair, at(10)))  # ends the speech, then the record stops
    c = s.chronicle()
    assert c.speeches[0].reason == "interrupted" and c.recesses[0].open_ended


def test_adjourning_during_a_recess_ends_the_recess_there():
    s = Script()
    for n in range(1, 8):
        s(s.sitting.connected(s.seat(n), at(0)))
    s(s.sitting.open(s.chair, at(1)))
    s(s.sitting.recess(s.chair, at(10)))
    s(s.sitting.adjourn(s.chair, at(20)))
    s(s.sitting.disconnected(s.seat(3), at(25)))
    c = s.chronicle()
    assert [(_local(c, r.start), _local(c, r.end), r.open_ended) for r in c.recesses] == [("10:10", "10:20", False)]
    assert _local(c, c.end) == "10:20"


def test_moving_from_the_chamber_to_remote_closes_the_first_interval():
    s = Script()
    s(s.sitting.check_in(s.clerk, s.seat(3), at(0)))
    s(s.sitting.connected(s.seat(3), at(5)))  # no attendance_ended in between: the domain just moves
    c = s.chronicle()
    assert [(a.mode, _local(c, a.start), _local(c, a.end)) for a in c.attended(s.seat(3))] == [
        ("in_room", "10:00", "10:05"), ("remote", "10:05", "10:05")]


def test_an_empty_record_reads_as_a_sitting_that_did_not_take_place():
    c = build_chronicle([], [{"id": "a", "name": "甲", "role": "member", "seat": 1}], title="t",
                        scheduled_at="2026-11-26T10:00")
    assert c.entry_count == 0 and c.chain_head is None and c.absent_members()[0].id == "a"
    assert c.local(c.start) == datetime(2026, 11, 26, 10, 0, tzinfo=JST)
    assert c.start.utcoffset() == timedelta(0)
