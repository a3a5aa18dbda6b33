"""議員別賛否: how each member voted, ballot by ballot, drawn from the signed record only.

One row per member of the body (seat order), one column per ballot; a cell says 賛成, 反対 or
棄権 for a named ballot, 無記名 for a secret one (who voted, never how), 議長 for the presiding
chair who did not vote, 未投票 for a member entitled who did not vote, 欠席 for a member not
entitled (absent, or not allowed to vote). The totals and the result of each ballot close the
table. While the sitting is live only published results appear; once adjourned, every ballot.

As CSV (UTF-8 with a BOM for Excel, or Shift_JIS where a character that it cannot hold becomes
〓) and, in votes_pdf.py, as an A4 landscape PDF.
"""

from __future__ import annotations

import codecs
import csv
import enum
import io
from dataclasses import dataclass

from gikai.orchestrator.domain.chronicle import BallotRecord, Chronicle
from gikai.orchestrator.domain.errors import InvalidArgument, NotFound
from gikai.orchestrator.reports.eras import japanese_date
from gikai.orchestrator.reports.words import check_lang


class Cell(enum.StrEnum):
    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"
    SECRET = "secret"  # voted in a secret ballot: how is nowhere on the record
    CHAIR = "chair"  # presided and did not vote
    NOT_VOTED = "not_voted"  # entitled, did not vote
    ABSENT = "absent"  # not entitled: absent, or not allowed to vote


LABELS: dict[str, dict[str, str]] = {
    "ja": {Cell.YES: "賛成", Cell.NO: "反対", Cell.ABSTAIN: "棄権", Cell.SECRET: "無記名", Cell.CHAIR: "議長",
           Cell.NOT_VOTED: "未投票", Cell.ABSENT: "欠席", "seat": "議席", "name": "氏名", "reading": "よみ",
           "result": "結果", "adopted": "可決", "rejected": "否決", "tied": "可否同数", "by_chair": "議長裁決",
           "unpublished": "未公表", "title": "議員別賛否", "live": "開会中（公表済みの表決のみ）"},
    "en": {Cell.YES: "Yes", Cell.NO: "No", Cell.ABSTAIN: "Abstain", Cell.SECRET: "Secret", Cell.CHAIR: "Chair",
           Cell.NOT_VOTED: "Did not vote", Cell.ABSENT: "Absent", "seat": "Seat", "name": "Name",
           "reading": "Reading", "result": "Result", "adopted": "Adopted", "rejected": "Rejected", "tied": "Tied",
           "by_chair": "decided by the chair", "unpublished": "not published", "title": "Votes by member",
           "live": "in session (published results only)"},
}


@dataclass(frozen=True)
class Column:
    """One ballot, as the record tells it."""

    id: str
    heading: str  # the item's title and the motion
    kind: str  # named | secret
    yes: int | None
    no: int | None
    abstain: int | None
    outcome: str | None  # adopted, rejected, tied; None if the ballot never closed
    decided_by_chair: bool
    published: bool


@dataclass(frozen=True)
class Row:
    seat: int | None
    name: str
    reading: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class VoteTable:
    meeting_id: str
    title: str
    body_name: str
    date: str  # 令和8年3月10日
    final: bool  # the sitting is adjourned: every ballot is in
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]


def cell_of(b: BallotRecord, member_id: str) -> Cell:
    if b.kind == "named" and member_id in b.votes:
        return Cell(b.votes[member_id]) if b.votes[member_id] in ("yes", "no", "abstain") else Cell.NOT_VOTED
    if b.kind != "named" and member_id in b.voters:
        return Cell.SECRET
    if member_id == b.chair_id and member_id not in b.entitled:
        return Cell.CHAIR
    return Cell.NOT_VOTED if member_id in b.entitled else Cell.ABSENT


def _heading(c: Chronicle, b: BallotRecord) -> str:
    item = c.item(b.agenda_item_id)
    title = item.title if item else ""
    if title and title not in b.motion:
        return f"{title}：{b.motion}" if b.motion else title
    return b.motion or title


def vote_table(c: Chronicle, ballot_id: str | None = None) -> VoteTable:
    """The table of the sitting, or of one ballot; NotFound for a ballot not (yet) shown."""
    final = c.adjourned_at is not None
    ballots = [b for b in c.ballots if final or b.published_at is not None]
    if ballot_id is not None:
        ballots = [b for b in ballots if b.id == ballot_id]
        if not ballots:
            raise NotFound(f"ballot {ballot_id}")
    columns = tuple(Column(b.id, _heading(c, b), b.kind, b.yes, b.no, b.abstain, b.outcome, b.decided_by_chair,
                           b.published_at is not None) for b in ballots)
    # The members as the opening recorded them (the roster gives their seats and readings): one
    # added to the roster later was not a member of this sitting.
    members = [p for p in c.members() if not c.recorded or p.id in c.recorded]
    rows = tuple(Row(p.seat, p.name, p.reading, tuple(cell_of(b, p.id) for b in ballots)) for p in members)
    day = c.local(c.start).date() if c.entry_count or c.scheduled_at is None else c.scheduled_at.date()
    return VoteTable(c.meeting_id, c.title, c.body_name, japanese_date(day), final, columns, rows)


def result_text(col: Column, lang: str = "ja") -> str:
    words = LABELS[lang]
    text = words[col.outcome] if col.outcome in ("adopted", "rejected", "tied") else ""
    if col.decided_by_chair:
        text += f"（{words['by_chair']}）" if lang == "ja" else f" ({words['by_chair']})"
    if not col.published:
        text += f"（{words['unpublished']}）" if lang == "ja" else f" ({words['unpublished']})"
    return text


def grid(table: VoteTable, lang: str = "ja") -> list[list[str]]:
    """The table as text: the heading row, one row per member, the totals and the results."""
    words = LABELS[check_lang(lang)]
    out = [[str(words["seat"]), str(words["name"]), str(words["reading"]), *(col.heading for col in table.columns)]]
    out += [["" if r.seat is None else str(r.seat), r.name, r.reading, *(words[x] for x in r.cells)]
            for r in table.rows]
    for key in ("yes", "no", "abstain"):
        counts = [getattr(col, key) for col in table.columns]
        out.append(["", words[Cell(key)], "", *("" if n is None else str(n) for n in counts)])
    out.append(["", words["result"], "", *(result_text(col, lang) for col in table.columns)])
    return out


# -- CSV ----------------------------------------------------------------------------------
ENCODINGS = ("utf-8", "shift_jis")
GETA = "〓"  # 下駄記号: the printers' mark for a character the type case lacks
# Characters Unicode has twice, written as Windows' Shift_JIS (cp932) holds them.
_CP932_FORMS = str.maketrans({"\u301c": "\uff5e", "\u2212": "\uff0d", "\u2016": "\u2225", "\u00a2": "\uffe0",
                              "\u00a3": "\uffe1", "\u00ac": "\uffe2", "\u2014": "\u2015"})


def _geta(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return GETA * (error.end - error.start), error.end


codecs.register_error("gikai-geta", _geta)


def _safe(text: str) -> str:
    """A text cell that Excel will not read as a formula (=, +, -, @ first)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def votes_csv(table: VoteTable, encoding: str = "utf-8", lang: str = "ja") -> bytes:
    """UTF-8 with a BOM (Excel opens it as UTF-8), or Shift_JIS: Windows' form of it (cp932,
    what Excel writes and reads, holding 髙 and ①), with 〓 for anything it cannot hold."""
    if encoding not in ENCODINGS:
        raise InvalidArgument(f"encoding must be one of {', '.join(ENCODINGS)}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for i, row in enumerate(grid(table, lang)):
        writer.writerow([_safe(x) if i == 0 or j < 3 else x for j, x in enumerate(row)])
    text = out.getvalue()
    if encoding == "utf-8":
        return codecs.BOM_UTF8 + text.encode("utf-8")
    return text.translate(_CP932_FORMS).encode("cp932", errors="gikai-geta")
