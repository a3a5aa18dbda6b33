"""The minutes (会議録) of a sitting, drawn from its Chronicle: as data, as a document, and
through the document as a web page and a PDF.

Japanese is the default, English on request. Times are written in the chronicle's zone
(Japan unless told otherwise).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from gikai.orchestrator.domain.chronicle import (
    AttendanceSpan,
    BallotRecord,
    Chronicle,
    Person,
    Speech,
)
from gikai.orchestrator.domain.events import Entry, SpeechEnd
from gikai.orchestrator.reports.document import Block, Code, Document, Heading, Pairs, Section, Table
from gikai.orchestrator.reports.eras import japanese_date, long_date
from gikai.orchestrator.reports.html import render_html
from gikai.orchestrator.reports.pdf import render_pdf
from gikai.orchestrator.reports.spoken import Words, speech_json, spoken_blocks, texts_json
from gikai.orchestrator.reports.words import check_lang, clock, duration, members_word, role_title, speaker, word

# role_title, Table and japanese_date are imported from here by the service layer and the tests.
__all__ = ["Table", "Words", "japanese_date", "minutes_document", "minutes_html", "minutes_json", "minutes_pdf",
           "proceedings", "role_title"]


def place_form(c: Chronicle) -> str | None:
    """chamber, online or hybrid, from how the members attended."""
    modes = c.modes()
    if not modes:
        return None
    return "hybrid" if len(modes) > 1 else ("chamber" if modes == {"in_room"} else "online")


def sitting_date(c: Chronicle) -> date:
    if c.opened_at is None and c.entry_count == 0 and c.scheduled_at is not None:
        return c.scheduled_at.date()
    return c.local(c.start).date()


def time_in_session(c: Chronicle) -> int:
    recessed = sum(r.seconds for r in c.recesses)
    return max(0, int((c.end - c.start).total_seconds()) - recessed) if c.opened_at else 0


# -- the data ----------------------------------------------------------------------
def _iso(c: Chronicle, at: datetime | None) -> str | None:
    return c.local(at).isoformat(timespec="seconds") if at else None


def _person(p: Person) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "reading": p.reading, "role": p.role, "seat": p.seat}


def _intervals(c: Chronicle, spans: list[AttendanceSpan]) -> list[dict[str, Any]]:
    return [{"mode": a.mode, "start": _iso(c, a.start), "end": _iso(c, a.end), "seconds": a.seconds,
             "open_ended": a.open_ended} for a in spans]


def _ballot_json(c: Chronicle, b: BallotRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": b.id, "motion": b.motion, "kind": b.kind, "majority": b.majority, "agenda_item_id": b.agenda_item_id,
        "opened_at": _iso(c, b.opened_at), "closed_at": _iso(c, b.closed_at), "entitled": len(b.entitled),
        "cast": b.cast, "yes": b.yes, "no": b.no, "abstain": b.abstain, "outcome": b.outcome,
        "decided_by_chair": b.decided_by_chair, "chair_decision": b.chair_decision,
    }
    if b.kind == "named":
        out["votes"] = [{"member_id": m, "name": c.person(m).name, "choice": b.votes.get(m)} for m in _voters(c, b)]
    return out


def _voters(c: Chronicle, b: BallotRecord) -> list[str]:
    """Entitled members in roster order, then anyone else whose vote is on the record."""
    order = {pid: i for i, pid in enumerate(c.people)}
    ids = set(b.entitled) | set(b.votes)
    return sorted(ids, key=lambda m: (order.get(m, len(order)), m))


def minutes_json(c: Chronicle, words: Words | None = None) -> dict[str, Any]:
    """The minutes as plain data (language-neutral; times local, ISO 8601 with the offset), with
    each speech's text (spoken.py) when ``words`` are given."""
    words = words or Words()
    members = c.members()
    return {
        "format": "gikai-minutes/1",
        "meeting": {
            "id": c.meeting_id, "title": c.title, "body": c.body_name, "body_kind": c.body_kind, "place": c.place,
            "form": place_form(c), "date": sitting_date(c).isoformat(), "date_ja": japanese_date(sitting_date(c)),
            "scheduled_at": c.scheduled_at.isoformat(timespec="minutes") if c.scheduled_at else None,
            "opened_at": _iso(c, c.opened_at), "adjourned_at": _iso(c, c.adjourned_at),
            "start": _iso(c, c.start), "end": _iso(c, c.end), "seconds_in_session": time_in_session(c),
        },
        "members_present": [{**_person(p), "intervals": _intervals(c, c.attended(p.id))}
                            for p in members if c.attended(p.id)],
        "members_absent": [_person(p) for p in c.absent_members()],
        "others_present": [{**_person(p), "intervals": _intervals(c, c.attended(p.id))}
                           for p in c.others() if c.attended(p.id)],
        "agenda": [{"id": i.id, "position": i.position, "title": i.title, "kind": i.kind,
                    "taken_up_at": _iso(c, i.taken_up_at), "decided_at": _iso(c, i.decided_at), "result": i.result}
                   for i in c.items],
        "speeches": [{"n": n, "speaker_id": s.holder_id, "speaker": c.person(s.holder_id).name,
                      "role": c.person(s.holder_id).role, "kind": s.kind, "agenda_item_id": s.agenda_item_id,
                      "start": _iso(c, s.start), "end": _iso(c, s.end), "seconds": s.seconds,
                      "limit_seconds": s.limit_seconds, "reason": s.reason, "open_ended": s.open_ended,
                      **speech_json(words, n - 1)}
                     for n, s in enumerate(c.speeches, start=1)],
        "texts": texts_json(words),
        "ballots": [_ballot_json(c, b) for b in c.ballots],
        "recesses": [{"start": _iso(c, r.start), "end": _iso(c, r.end), "seconds": r.seconds,
                      "open_ended": r.open_ended} for r in c.recesses],
        "notes": [{"at": _iso(c, n.at), "name": n.name, "participant_id": n.participant_id, **n.data}
                  for n in c.notes],
        "recordings": [{"key": r.key, "start": _iso(c, r.start), "end": _iso(c, r.end), "sha256": r.sha256,
                        "path": r.path, "kind": r.kind} for r in c.recordings],
        "record": {"entries": c.entry_count, "chain_head": c.chain_head},
        "signatures": _signatures_json(c),
    }


def _signed(c: Chronicle) -> dict[str, datetime]:
    s = c.signing
    return {x.signer_id: x.signed_at for x in s.signatures if x.minutes_hash == s.minutes_hash}


def _signatures_json(c: Chronicle) -> dict[str, Any]:
    s, signed = c.signing, _signed(c)
    required = s.signers.required if s.signers else ()
    return {"sha256": s.minutes_hash, "complete": s.complete,
            "signers": [{**_person(c.person(pid)), "presiding": bool(s.signers and pid in s.signers.presiding),
                         "signed_at": _iso(c, signed.get(pid))} for pid in required]}


def _signature_blocks(c: Chronicle, lang: str) -> list[Block]:
    s, signed = c.signing, _signed(c)
    if s.signers is None:
        return [word(lang, "signers_not_named")]
    rows = [(word(lang, "signer_chair" if pid in s.signers.presiding else "signer_named"), c.person(pid).name,
             f"{long_date(c.local(signed[pid]).date(), lang)} {clock(c, signed[pid])}" if pid in signed
             else word(lang, "unsigned"))
            for pid in s.signers.required]
    lead = word(lang, "signatures_text", h=s.minutes_hash) if s.minutes_hash else word(lang, "signatures_draft")
    header = (word(lang, "role"), word(lang, "name"), word(lang, "signed_at"))
    return [lead, Table(header, rows, widths=(1.4, 2.0, 2.6))]


# -- the document ----------------------------------------------------------------------
def _spans_text(c: Chronicle, spans: list[AttendanceSpan], lang: str) -> tuple[str, str]:
    kinds = list(dict.fromkeys(word(lang, a.mode) for a in spans))
    times = word(lang, "sep").join(
        f"{clock(c, a.start)}–{clock(c, a.end)}" + ("" if len(kinds) == 1 else f" {word(lang, a.mode)}")
        for a in spans)
    modes = word(lang, "sep").join(kinds)
    return modes, times


def _attendance_table(c: Chronicle, people: list[Person], lang: str, seats: bool) -> Table:
    rows = []
    for p in people:
        modes, times = _spans_text(c, c.attended(p.id), lang)
        row = (p.name, role_title(c, p.role, lang), modes, times)
        rows.append(((str(p.seat) if p.seat is not None else "",) if seats else ()) + row)
    header = (word(lang, "name"), word(lang, "role"), word(lang, "how"), word(lang, "when"))
    return Table(((word(lang, "seat"),) if seats else ()) + header, rows,
                 widths=((0.6,) if seats else ()) + (1.6, 1.1, 1.2, 3.0), nowrap=(0,) if seats else ())


def _speech_text(c: Chronicle, s: Speech, lang: str) -> str:
    text = word(lang, "speech", who=speaker(c, s.holder_id, lang), kind=word(lang, f"speech_kind.{s.kind}"))
    chair = role_title(c, "chair", lang)
    reasons: dict[str, str] = {SpeechEnd.ENDED_BY_CHAIR: word(lang, "ended_by_chair", chair=chair),
                               SpeechEnd.INTERRUPTED: word(lang, "interrupted"),
                               SpeechEnd.REMOVED: word(lang, "removed_reason")}
    reason = reasons.get(s.reason or "")
    if s.open_ended:
        reason = word(lang, "still_speaking")
    return f"{text} [{reason}]" if reason else text


def _counts(b: BallotRecord, lang: str) -> str:
    if b.yes is None:
        return word(lang, "counts_pending")
    parts = [f"{word(lang, 'yes')} {b.yes}", f"{word(lang, 'no_')} {b.no or 0}"]
    if b.abstain:
        parts.append(f"{word(lang, 'abstain')} {b.abstain}")
    return word(lang, "sep").join(parts)


def _outcome(c: Chronicle, b: BallotRecord, lang: str) -> str:
    if b.outcome is None:
        return word(lang, "open")
    if not b.decided_by_chair:
        return word(lang, b.outcome)
    decision = word(lang, "adopted" if b.chair_decision == "yes" else "rejected")
    how = word(lang, "chair_decided", chair=role_title(c, "chair", lang), decision=decision)
    return f"{word(lang, b.outcome)}({how})" if lang == "ja" else f"{word(lang, b.outcome)} ({how})"


def _item_title(c: Chronicle, item_id: str | None) -> str:
    item = c.item(item_id)
    return item.title if item else ""


def proceedings(c: Chronicle, lang: str) -> list[tuple[datetime, str, str]]:
    """(time, what happened, how long) in the order it happened."""
    rows: list[tuple[datetime, int, str, str]] = []
    if c.opened_at:
        rows.append((c.opened_at, 0, word(lang, "opened"), ""))
    for r in c.recesses:
        rows.append((r.start, 8, word(lang, "recess_start"), duration(r.seconds, lang)))
        if not r.open_ended and r.end != c.adjourned_at:
            rows.append((r.end, 1, word(lang, "resume"), ""))
    for item in c.items:
        rows.extend((span.start, 2, word(lang, "take_up", item=item.title), "") for span in item.spans)
        if item.decided_at:
            rows.append((item.decided_at, 6, word(lang, "decided", item=item.title, result=item.result), ""))
    rows.extend((s.start, 3, _speech_text(c, s, lang), duration(s.seconds, lang)) for s in c.speeches)
    for b in c.ballots:
        at = b.closed_at or b.opened_at
        if at:
            rows.append((at, 5, word(lang, "ballot_row", motion=b.motion, outcome=_outcome(c, b, lang),
                                     counts=_counts(b, lang)), ""))
    for n in c.notes:
        if n.name == Entry.PARTICIPANT_REMOVED:
            rows.append((n.at, 7, word(lang, "removed", who=speaker(c, n.participant_id, lang)), ""))
        elif n.name in (Entry.QUORUM_LOST, Entry.QUORUM_RESTORED):
            rows.append((n.at, 7, word(lang, n.name, c=n.data.get("counted", "?"), n=n.data.get("needed", "?")), ""))
        elif n.name in _PROCEDURE:
            rows.append((n.at, 4, _procedure_text(c, n.name, n.participant_id, n.data, lang), ""))
    if c.adjourned_at:
        rows.append((c.adjourned_at, 9, word(lang, "adjourned"), ""))
    rows.sort(key=lambda r: (r[0], r[1]))
    return [(at, what, length) for at, _, what, length in rows]


_PROCEDURE = (Entry.REMOTE_ATTENDANCE_PERMITTED, Entry.REMOTE_ATTENDANCE_REFUSED, Entry.IDENTITY_CONFIRMED,
              Entry.AMENDMENT_MOVED, Entry.MOTION_MOVED, Entry.MINUTES_SIGNERS_NAMED)


def _procedure_text(c: Chronicle, name: str, who: str | None, d: dict[str, Any], lang: str) -> str:
    """A step of procedure in the proceedings' words: who, and what was decided or moved."""
    names = "、" if lang == "ja" else ", "
    person = speaker(c, who, lang) if who else ""
    supporters = names.join(speaker(c, s, lang) for s in d.get("supporters", []))
    if name == Entry.IDENTITY_CONFIRMED:
        return word(lang, "identity_confirmed" if d.get("confirmed") else "identity_not_confirmed", who=person)
    if name == Entry.MINUTES_SIGNERS_NAMED:
        return word(lang, "signers_named", who=names.join(speaker(c, s, lang) for s in d.get("named", [])))
    if name == Entry.MOTION_MOVED:
        return word(lang, "motion_moved", who=person, kind=word(lang, f"motion_{d.get('kind')}"),
                    supporters=supporters)
    if name == Entry.AMENDMENT_MOVED:
        return word(lang, "amendment_moved", who=person, supporters=supporters)
    if name == Entry.REMOTE_ATTENDANCE_REFUSED:
        return word(lang, "remote_refused", who=person, reason=d.get("reason", ""))
    return word(lang, "remote_permitted", who=person)


def _ballot_blocks(c: Chronicle, n: int, b: BallotRecord, lang: str) -> list[Block]:
    pairs = [(word(lang, "motion"), b.motion), (word(lang, "ballot_kind"), word(lang, b.kind)),
             (word(lang, "majority"), word(lang, b.majority)),
             (word(lang, "time"), f"{clock(c, b.opened_at)}–{clock(c, b.closed_at)}"),
             (word(lang, "entitled"), word(lang, "persons", n=len(b.entitled))),
             (word(lang, "cast"), word(lang, "persons", n=b.cast)), (word(lang, "votes"), _counts(b, lang)),
             (word(lang, "outcome"), _outcome(c, b, lang))]
    if b.agenda_item_id and c.item(b.agenda_item_id):
        pairs.insert(0, (word(lang, "item"), _item_title(c, b.agenda_item_id)))
    blocks: list[Block] = [Heading(word(lang, "ballot", n=n)), Pairs(pairs)]
    if b.kind == "named":
        choice = {"yes": word(lang, "yes"), "no": word(lang, "no_"), "abstain": word(lang, "abstain")}
        rows = [(c.person(m).name, choice.get(b.votes.get(m, ""), word(lang, "not_voted"))) for m in _voters(c, b)]
        blocks.append(Table((word(lang, "name"), word(lang, "vote")), rows, widths=(2.0, 1.0), compact=True))
    else:
        blocks.append(word(lang, "secret_note"))
    return blocks


def minutes_document(c: Chronicle, lang: str = "ja", words: Words | None = None) -> Document:
    lang = check_lang(lang)
    m = members_word(c, lang)
    closing = clock(c, c.adjourned_at) if c.adjourned_at else word(lang, "not_adjourned", t=clock(c, c.end))
    form = place_form(c)
    overview = [(word(lang, "title"), c.title), (word(lang, "body"), c.body_name),
                (word(lang, "date"), long_date(sitting_date(c), lang)),
                (word(lang, "opened"), clock(c, c.opened_at) if c.opened_at else word(lang, "not_opened")),
                (word(lang, "adjourned"), closing), (word(lang, "place"), c.place or "—"),
                (word(lang, "form"), word(lang, form) if form else "—"),
                (word(lang, "sitting_time"), duration(time_in_session(c), lang))]
    sections = [Section(word(lang, "overview"), [Pairs([(k, v) for k, v in overview if v])])]

    present = [p for p in c.members() if c.attended(p.id)]
    sections.append(Section(word(lang, "present_members", m=m),
                            [_attendance_table(c, present, lang, True)] if present else [word(lang, "none")]))
    absent = c.absent_members()
    sections.append(Section(word(lang, "absent_members", m=m), [Table(
        (word(lang, "seat"), word(lang, "name"), word(lang, "role")),
        [(str(p.seat or ""), p.name, role_title(c, p.role, lang)) for p in absent], widths=(0.6, 2.0, 1.2),
    )] if absent else [word(lang, "none")]))
    others = [p for p in c.others() if c.attended(p.id)]
    sections.append(Section(word(lang, "others", m=m),
                            [_attendance_table(c, others, lang, False)] if others else [word(lang, "none")]))

    agenda_rows = [(str(item.position or n), item.title,
                    clock(c, item.taken_up_at) if item.taken_up_at else word(lang, "not_taken_up"),
                    f"{item.result} ({clock(c, item.decided_at)})" if item.decided_at else "")
                   for n, item in enumerate(c.items, start=1)]
    sections.append(Section(word(lang, "agenda"), [Table(
        (word(lang, "no"), word(lang, "item"), word(lang, "taken_up"), word(lang, "result")), agenda_rows,
        widths=(0.5, 4.0, 1.1, 1.6), nowrap=(0,))] if agenda_rows else [word(lang, "none")]))

    recess_rows = [(clock(c, r.start), word(lang, "until_end") if r.open_ended else clock(c, r.end),
                    duration(r.seconds, lang)) for r in c.recesses]
    sections.append(Section(word(lang, "recesses"), [Table(
        (word(lang, "from"), word(lang, "to"), word(lang, "length")), recess_rows, widths=(1, 1, 1.4),
        nowrap=(0, 1, 2), compact=True,
    )] if recess_rows else [word(lang, "none")]))

    steps = [(clock(c, at), what, length) for at, what, length in proceedings(c, lang)]
    sections.append(Section(word(lang, "proceedings"), [Table(
        (word(lang, "time"), word(lang, "what"), word(lang, "length")), steps, widths=(0.7, 5.0, 1.2),
        nowrap=(0, 2),
    )] if steps else [word(lang, "none")]))
    sections[-1].blocks += spoken_blocks(c, words or Words(), lang)

    votes: list[Block] = []
    for n, b in enumerate(c.ballots, start=1):
        votes += _ballot_blocks(c, n, b, lang)
    sections.append(Section(word(lang, "votes"), votes or [word(lang, "no_votes")]))

    if c.recordings:
        sections.append(Section(word(lang, "recordings"), [Table(
            (word(lang, "segment"), word(lang, "time"), "SHA-256"),
            [(r.key or r.path, f"{clock(c, r.start)}–{clock(c, r.end)}", r.sha256) for r in c.recordings],
            widths=(1.6, 1.1, 4.2))]))
    record: list[Block] = [word(lang, "record_text", n=c.entry_count), Code(c.chain_head)] if c.chain_head \
        else [word(lang, "no_record")]
    sections.append(Section(word(lang, "record"), record))
    sections.append(Section(word(lang, "signatures"), _signature_blocks(c, lang)))
    return Document(lang, c.title or c.body_name, word(lang, "minutes"), sections, author=c.body_name)


def minutes_html(c: Chronicle, lang: str = "ja", words: Words | None = None) -> str:
    """A standalone, printable page: no script, no outside resources."""
    return render_html(minutes_document(c, lang, words))


def minutes_pdf(c: Chronicle, lang: str = "ja", words: Words | None = None) -> bytes:
    """An A4 PDF of the minutes; reproducible (the same chronicle gives the same bytes)."""
    return render_pdf(minutes_document(c, lang, words))
