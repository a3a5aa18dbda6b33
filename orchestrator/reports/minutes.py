"""The minutes (会議録) of a sitting, drawn from its Chronicle: as data, a web page and a PDF.

The page and the PDF are rendered from one document model (sections of paragraphs, key and
value lists and tables), so they always say the same thing. Japanese is the default, English
on request. Times are written in the chronicle's zone (Japan unless told otherwise).

The PDF uses reportlab's built-in Japanese CID fonts (HeiseiMin-W3, HeiseiKakuGo-W5): no font
file and no system binary is needed; the PDF reader supplies the glyphs.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, Union
from xml.sax.saxutils import escape as xml_escape

from gikai.orchestrator.domain.chronicle import (
    AttendanceSpan,
    BallotRecord,
    Chronicle,
    Person,
    Speech,
)

Lang = Literal["ja", "en"]

_ERAS = ((date(2019, 5, 1), "令和"), (date(1989, 1, 8), "平成"), (date(1926, 12, 25), "昭和"))
_WEEKDAYS_JA = "月火水木金土日"

# -- words ---------------------------------------------------------------------------
W: dict[str, dict[str, str]] = {
    "ja": {
        "minutes": "会議録", "overview": "会議の概要", "title": "会議名", "body": "会議体", "date": "日付",
        "opened": "開会", "adjourned": "閉会", "not_opened": "開会の記録はありません",
        "not_adjourned": "閉会の記録はありません(記録の最後: {t})", "place": "場所", "form": "会議の形",
        "sitting_time": "会議時間(休憩を除く)", "present_members": "出席{m}", "absent_members": "欠席{m}",
        "others": "{m}以外の出席者", "seat": "議席", "name": "氏名", "role": "役職", "how": "出席の形",
        "when": "出席していた時間", "none": "なし", "agenda": "議事日程", "no": "番号", "item": "件名",
        "taken_up": "審議開始", "result": "結果", "decided_at": "議決の時刻", "not_taken_up": "審議されていません",
        "recesses": "休憩", "from": "開始", "to": "再開", "length": "時間", "until_end": "記録の最後まで",
        "proceedings": "議事の経過", "time": "時刻", "what": "事項", "votes": "表決", "no_votes": "採決はありません",
        "ballot": "採決{n}", "motion": "採決事項", "ballot_kind": "方法", "majority": "必要な賛成",
        "entitled": "投票できる者", "cast": "投票数", "yes": "賛成", "no_": "反対", "abstain": "棄権",
        "outcome": "結果", "persons": "{n}人", "vote": "投票", "not_voted": "投票なし",
        "secret_note": "無記名投票のため、個々の投票は記録していません。", "counts_pending": "集計の記録はありません",
        "chair_decided": "可否同数のため{chair}が{decision}と決しました", "recordings": "録画",
        "segment": "区間", "file": "ファイル", "record": "記録の検証",
        "record_text": "この会議録は、会議の記録({n}件)から作成しました。記録の最後の項目のハッシュ値は次のとおりです。",
        "no_record": "会議の記録はありません。", "take_up": "{item}を議題としました", "decided": "{item}: {result}",
        "speech": "発言 {who}({kind})", "recess_start": "休憩", "resume": "再開",
        "ballot_row": "採決: {motion} — {outcome}({counts})", "quorum_lost": "定足数を欠きました({c}人/必要{n}人)",
        "quorum_restored": "定足数に達しました({c}人/必要{n}人)", "removed": "{who}に退場を命じました",
        "in_room": "議場", "remote": "遠隔", "chamber": "議場", "online": "オンライン",
        "hybrid": "議場とオンラインの併用", "named": "記名投票", "secret": "無記名投票", "simple": "過半数",
        "two_thirds_present": "出席者の3分の2以上", "absolute": "定数の過半数", "adopted": "可決",
        "rejected": "否決", "tied": "可否同数", "open": "投票中", "ended_by_chair": "{chair}が終了",
        "interrupted": "中断", "removed_reason": "退場", "still_speaking": "記録の最後まで",
        "h": "{h}時間{m:02d}分", "m": "{m}分{s:02d}秒", "sep": "、", "colon": ": ",
        "speech_kind.speech": "発言", "speech_kind.question": "質疑", "speech_kind.debate_pro": "賛成討論",
        "speech_kind.debate_contra": "反対討論", "speech_kind.point_of_order": "議事進行",
        "speech_kind.explanation": "説明",
    },
    "en": {
        "minutes": "Minutes", "overview": "About this sitting", "title": "Meeting", "body": "Body", "date": "Date",
        "opened": "Opened", "adjourned": "Adjourned", "not_opened": "No opening on the record",
        "not_adjourned": "No adjournment on the record (record ends {t})", "place": "Place", "form": "Held",
        "sitting_time": "Time in session (without recesses)", "present_members": "{m} present",
        "absent_members": "{m} absent", "others": "Others present", "seat": "Seat", "name": "Name", "role": "Role",
        "how": "Attended", "when": "Present", "none": "None", "agenda": "Agenda", "no": "No.", "item": "Item",
        "taken_up": "Taken up", "result": "Result", "decided_at": "Decided", "not_taken_up": "not taken up",
        "recesses": "Recesses", "from": "From", "to": "Resumed", "length": "Length", "until_end": "end of record",
        "proceedings": "Proceedings", "time": "Time", "what": "What happened", "votes": "Votes",
        "no_votes": "No votes were taken.", "ballot": "Vote {n}", "motion": "Motion", "ballot_kind": "Ballot",
        "majority": "Needed", "entitled": "Entitled to vote", "cast": "Votes cast", "yes": "Yes", "no_": "No",
        "abstain": "Abstain", "outcome": "Result", "persons": "{n}", "vote": "Vote", "not_voted": "did not vote",
        "secret_note": "A secret ballot: individual votes are not recorded.",
        "counts_pending": "no count on the record",
        "chair_decided": "tied; the {chair} decided: {decision}", "recordings": "Recordings", "segment": "Segment",
        "file": "File", "record": "The record",
        "record_text": "These minutes were drawn from the sitting's record ({n} entries). The hash of its last entry:",
        "no_record": "There is no record of this sitting.", "take_up": "Took up {item}", "decided": "{item}: {result}",
        "speech": "{who} speaks ({kind})", "recess_start": "Recess", "resume": "Resumed",
        "ballot_row": "Vote: {motion} — {outcome} ({counts})", "quorum_lost": "Quorum lost ({c} present, {n} needed)",
        "quorum_restored": "Quorum restored ({c} present, {n} needed)", "removed": "{who} ordered to leave",
        "in_room": "in the chamber", "remote": "remote", "chamber": "in the chamber", "online": "online",
        "hybrid": "in the chamber and online", "named": "named", "secret": "secret", "simple": "simple majority",
        "two_thirds_present": "two thirds of those present", "absolute": "majority of the fixed membership",
        "adopted": "adopted", "rejected": "rejected", "tied": "tied", "open": "open", "ended_by_chair":
        "ended by the {chair}", "interrupted": "interrupted", "removed_reason": "removed",
        "still_speaking": "until the end of the record", "h": "{h} h {m:02d} min", "m": "{m} min {s:02d} s",
        "sep": ", ", "colon": ": ", "speech_kind.speech": "speech", "speech_kind.question": "question",
        "speech_kind.debate_pro": "debate for", "speech_kind.debate_contra": "debate against",
        "speech_kind.point_of_order": "point of order", "speech_kind.explanation": "explanation",
    },
}
_ROLES = {
    "ja": {"chair": ("委員長", "議長"), "vice_chair": ("副委員長", "副議長"), "member": ("委員", "議員"),
           "clerk": ("事務局",) * 2, "presenter": ("説明員",) * 2, "expert": ("参考人",) * 2,
           "observer": ("その他",) * 2},
    "en": {"chair": ("chair",) * 2, "vice_chair": ("vice-chair",) * 2, "member": ("member",) * 2,
           "clerk": ("clerk",) * 2, "presenter": ("presenter",) * 2, "expert": ("expert",) * 2,
           "observer": ("other",) * 2},
}


def _lang(lang: str) -> Lang:
    if lang not in W:
        raise ValueError(f"minutes are written in 'ja' or 'en', not {lang!r}")
    return "ja" if lang == "ja" else "en"


def word(lang: str, key: str, **kw: Any) -> str:
    text = W[lang].get(key, key)
    return text.format(**kw) if kw else text


def role_title(c: Chronicle, role: str, lang: str) -> str:
    titles = _ROLES[lang].get(role, (role, role))
    return titles[1 if c.body_kind == "plenary" else 0]


def speaker(c: Chronicle, pid: str | None, lang: str) -> str:
    p = c.person(pid)
    return f"{p.name} {role_title(c, p.role, lang)}" if lang == "ja" else f"{p.name} ({role_title(c, p.role, lang)})"


def members_word(c: Chronicle, lang: str) -> str:
    if lang == "en":
        return "Members"
    return "議員" if c.body_kind == "plenary" else "委員"


def japanese_date(d: date) -> str:
    """令和8年11月26日 for 2026-11-26; the first year of an era is 元年."""
    for start, era in _ERAS:
        if d >= start:
            n = d.year - start.year + 1
            return f"{era}{'元' if n == 1 else n}年{d.month}月{d.day}日"
    return f"{d.year}年{d.month}月{d.day}日"


def long_date(d: date, lang: str) -> str:
    if lang == "ja":
        return f"{japanese_date(d)}({_WEEKDAYS_JA[d.weekday()]})"
    return f"{d:%A} {d.day} {d:%B %Y}"


def duration(seconds: float, lang: str) -> str:
    s = max(0, int(seconds))
    if s >= 3600:
        return word(lang, "h", h=s // 3600, m=s % 3600 // 60)
    return word(lang, "m", m=s // 60, s=s % 60)


def clock(c: Chronicle, at: datetime | None) -> str:
    return c.local(at).strftime("%H:%M") if at else ""


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


def minutes_json(c: Chronicle) -> dict[str, Any]:
    """The minutes as plain data (language-neutral; times local, ISO 8601 with the offset)."""
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
                      "limit_seconds": s.limit_seconds, "reason": s.reason, "open_ended": s.open_ended}
                     for n, s in enumerate(c.speeches, start=1)],
        "ballots": [_ballot_json(c, b) for b in c.ballots],
        "recesses": [{"start": _iso(c, r.start), "end": _iso(c, r.end), "seconds": r.seconds,
                      "open_ended": r.open_ended} for r in c.recesses],
        "notes": [{"at": _iso(c, n.at), "name": n.name, "participant_id": n.participant_id, **n.data}
                  for n in c.notes],
        "recordings": [{"key": r.key, "start": _iso(c, r.start), "end": _iso(c, r.end), "sha256": r.sha256,
                        "path": r.path, "kind": r.kind} for r in c.recordings],
        "record": {"entries": c.entry_count, "chain_head": c.chain_head},
    }


# -- the document both renderings share ------------------------------------------------
@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]
    caption: str = ""
    widths: tuple[float, ...] = ()  # relative column widths for the PDF
    nowrap: tuple[int, ...] = ()  # columns of times and lengths, kept on one line on the page
    compact: bool = False  # as narrow as its content on the page


@dataclass(frozen=True)
class Pairs:
    items: list[tuple[str, str]]


@dataclass(frozen=True)
class Code:
    text: str  # a hash: shown in a fixed-width font, broken anywhere


@dataclass(frozen=True)
class Heading:
    text: str  # a heading within a section (one vote)


Block = Union[str, Table, Pairs, Code, Heading]


@dataclass
class Section:
    heading: str
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True)
class Document:
    lang: str
    title: str
    subtitle: str
    sections: list[Section]


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
    reason = {"ended_by_chair": word(lang, "ended_by_chair", chair=chair), "interrupted": word(lang, "interrupted"),
              "removed": word(lang, "removed_reason")}.get(s.reason or "")
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
        for span in item.spans:
            rows.append((span.start, 2, word(lang, "take_up", item=item.title), ""))
        if item.decided_at:
            rows.append((item.decided_at, 6, word(lang, "decided", item=item.title, result=item.result), ""))
    for s in c.speeches:
        rows.append((s.start, 3, _speech_text(c, s, lang), duration(s.seconds, lang)))
    for b in c.ballots:
        at = b.closed_at or b.opened_at
        if at:
            rows.append((at, 5, word(lang, "ballot_row", motion=b.motion, outcome=_outcome(c, b, lang),
                                     counts=_counts(b, lang)), ""))
    for n in c.notes:
        if n.name == "participant_removed":
            rows.append((n.at, 7, word(lang, "removed", who=speaker(c, n.participant_id, lang)), ""))
        elif n.name in ("quorum_lost", "quorum_restored"):
            rows.append((n.at, 7, word(lang, n.name, c=n.data.get("counted", "?"), n=n.data.get("needed", "?")), ""))
    if c.adjourned_at:
        rows.append((c.adjourned_at, 9, word(lang, "adjourned"), ""))
    rows.sort(key=lambda r: (r[0], r[1]))
    return [(at, what, length) for at, _, what, length in rows]


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


def minutes_document(c: Chronicle, lang: str = "ja") -> Document:
    lang = _lang(lang)
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
    return Document(lang, c.title or c.body_name, word(lang, "minutes"), sections)


# -- HTML -------------------------------------------------------------------------
_CSS = """
:root { color-scheme: light; --line: #767676; }
body { font-family: "Noto Serif CJK JP", "IPAPMincho", "IPAexMincho", "Yu Mincho", "Hiragino Mincho ProN", serif;
       line-height: 1.6; color: #111; background: #fff; margin: 0; }
main { max-width: 52rem; margin: 0 auto; padding: 2rem 1.25rem 4rem; }
header { text-align: center; margin-bottom: 2rem; }
h1 { font-size: 1.6rem; margin: 0; } header p { margin: .25rem 0 0; font-size: 1.25rem; letter-spacing: .3em; }
h2 { font-size: 1.15rem; border-bottom: 2px solid #111; padding-bottom: .15rem; margin: 2rem 0 .75rem; }
h3 { font-size: 1rem; margin: 1.25rem 0 .5rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .95rem; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
thead th { background: #eee; }
dl { margin: 0 0 .75rem; }
dl > div { display: grid; grid-template-columns: 13em 1fr; gap: 1rem; padding: .2rem 0; border-bottom: 1px solid #ddd; }
dt { font-weight: bold; } dd { margin: 0; }
td.nowrap { white-space: nowrap; } table.compact { width: auto; min-width: 50%; }
code { font-family: "DejaVu Sans Mono", monospace; word-break: break-all; font-size: .9rem; }
@media print {
  @page { size: A4; margin: 18mm 16mm; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; } tr, dl > div { break-inside: avoid; } thead { display: table-header-group; }
}
"""


def _html_block(block: Block) -> str:
    e = html.escape
    if isinstance(block, str):
        return f"<p>{e(block)}</p>"
    if isinstance(block, Heading):
        return f"<h3>{e(block.text)}</h3>"
    if isinstance(block, Code):
        return f"<p><code>{e(block.text)}</code></p>"
    if isinstance(block, Pairs):
        inner = "".join(f"<div><dt>{e(k)}</dt><dd>{e(v)}</dd></div>" for k, v in block.items)
        return f"<dl>{inner}</dl>"
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in block.header)
    body = "".join("<tr>" + "".join(('<td class="nowrap">' if i in block.nowrap else "<td>") + f"{e(cell)}</td>"
                                    for i, cell in enumerate(row)) + "</tr>" for row in block.rows)
    caption = f"<caption>{e(block.caption)}</caption>" if block.caption else ""
    attrs = ' class="compact"' if block.compact else ""
    return f"<table{attrs}>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def minutes_html(c: Chronicle, lang: str = "ja") -> str:
    """A standalone, printable page: no script, no outside resources."""
    doc = minutes_document(c, lang)
    e = html.escape
    parts = []
    for n, s in enumerate(doc.sections, start=1):
        blocks = "".join(_html_block(b) for b in s.blocks)
        parts.append(f'<section aria-labelledby="s{n}"><h2 id="s{n}">{e(s.heading)}</h2>{blocks}</section>')
    return (f'<!DOCTYPE html>\n<html lang="{doc.lang}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{e(doc.title)} {e(doc.subtitle)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
            f"<header><h1>{e(doc.title)}</h1><p>{e(doc.subtitle)}</p></header>\n"
            + "\n".join(parts) + "\n</main>\n</body>\n</html>\n")


# -- PDF --------------------------------------------------------------------------
_MINCHO, _GOTHIC = "HeiseiMin-W3", "HeiseiKakuGo-W5"


def minutes_pdf(c: Chronicle, lang: str = "ja") -> bytes:
    """An A4 PDF of the minutes; reproducible (the same chronicle gives the same bytes)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, TableStyle
    from reportlab.platypus import Table as PdfTable

    for font in (_MINCHO, _GOTHIC):
        if font not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(font))
    doc = minutes_document(c, lang)
    body = ParagraphStyle("body", fontName=_MINCHO, fontSize=9.5, leading=14, wordWrap="CJK")
    cell = ParagraphStyle("cell", parent=body, fontSize=8.5, leading=11.5)
    head = ParagraphStyle("head", parent=cell, fontName=_GOTHIC)
    h1 = ParagraphStyle("h1", parent=body, fontName=_GOTHIC, fontSize=16, leading=22, alignment=1)
    h2 = ParagraphStyle("h2", parent=body, fontName=_GOTHIC, fontSize=11.5, leading=16, spaceBefore=10, spaceAfter=4,
                        keepWithNext=1)
    h3 = ParagraphStyle("h3", parent=body, fontName=_GOTHIC, fontSize=10, leading=14, spaceBefore=6, spaceAfter=2,
                        keepWithNext=1)

    def para(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(xml_escape(text), style)

    width = A4[0] - 36 * mm
    story: list[Any] = [para(doc.title, h1), para(doc.subtitle, h1), Spacer(1, 6 * mm)]
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                       ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee"))])
    for s in doc.sections:
        story.append(para(s.heading, h2))
        for b in s.blocks:
            if isinstance(b, str):
                story.append(para(b))
            elif isinstance(b, Heading):
                story.append(para(b.text, h3))
            elif isinstance(b, Code):
                story.append(Paragraph(xml_escape(b.text), ParagraphStyle("code", parent=body, fontName="Courier",
                                                                          fontSize=8.5)))
            elif isinstance(b, Pairs):
                t = PdfTable([[para(k, head), para(v, cell)] for k, v in b.items], colWidths=[width * .3, width * .7])
                t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -1), .3,
                                                                                   colors.lightgrey)]))
                story.append(t)
            else:
                total = sum(b.widths) if b.widths else len(b.header)
                share = width * (.6 if b.compact else 1)
                widths = [share * w / total for w in (b.widths or (1,) * len(b.header))]
                rows = [[para(h, head) for h in b.header]] + [[para(x, cell) for x in row] for row in b.rows]
                t = PdfTable(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
                t.setStyle(grid)
                story.append(t)
            story.append(Spacer(1, 2 * mm))

    def footer(canvas: Any, template: Any) -> None:
        canvas.saveState()
        canvas.setFont(_MINCHO, 8)
        canvas.drawCentredString(A4[0] / 2, 10 * mm, f"- {canvas.getPageNumber()} -")
        canvas.restoreState()

    out = io.BytesIO()
    pdf = SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=f"{doc.title} {doc.subtitle}", lang=doc.lang,
                            invariant=1, creator="gikai", author=c.body_name)
    pdf.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
