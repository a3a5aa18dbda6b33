"""議員別賛否 from a sitting's record: the table, its CSV in both encodings and its PDF."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import timedelta

import pytest

from gikai.orchestrator.domain.chronicle import build_chronicle
from gikai.orchestrator.domain.errors import InvalidArgument, NotFound
from gikai.orchestrator.domain.sitting import Event
from gikai.orchestrator.domain.voting import Ballot, BallotKind, Choice
from gikai.orchestrator.reports.votes import Cell, grid, vote_table, votes_csv
from gikai.orchestrator.reports.votes_pdf import votes_pdf
from tests.unit.test_chronicle import Script, _tally, at, scripted_sitting, take_ballot
from tests.unit.test_minutes import page_count, pdf_strings


def cells(table, seat: int) -> tuple[Cell, ...]:
    return next(r.cells for r in table.rows if r.seat == seat)


def test_every_member_in_seat_order_with_how_each_voted_in_the_named_ballot():
    s = scripted_sitting()
    table = vote_table(s.chronicle())
    assert [r.seat for r in table.rows] == list(range(1, 13)), "the body's members, in seat order, chair first"
    assert table.rows[1].name == "佐藤 花子" and table.rows[1].reading, "name and reading"
    named, _ = table.columns
    assert named.heading.startswith("議案第1号") and (named.yes, named.no, named.outcome) == (7, 3, "adopted")
    assert cells(table, 2)[0] is Cell.YES and cells(table, 4)[0] is Cell.NO and cells(table, 12)[0] is Cell.NO
    assert cells(table, 1)[0] is Cell.CHAIR, "the chair presided and did not vote"
    assert cells(table, 11)[0] is Cell.ABSENT, "seat 11 never came"
    assert sum(1 for r in table.rows if r.cells[0] in (Cell.YES, Cell.NO)) == 10
    assert table.final and table.date == "令和8年3月10日"


def test_the_members_are_those_the_opening_recorded_not_whoever_the_roster_holds_now():
    s = scripted_sitting()
    roster = [{"id": p.id, "name": p.name, "reading": p.reading, "role": p.role.value, "seat": p.seat}
              for p in s.people]
    later = [*roster, {"id": "f" * 32, "name": "後任 議員", "reading": "こうにん", "role": "member", "seat": 13}]
    c = s.chronicle()
    assert c.recorded and "f" * 32 not in c.recorded
    table = vote_table(build_chronicle(s.entries(), later, meeting_id=s.meeting.id))
    assert [r.seat for r in table.rows] == list(range(1, 13)), "a member added after the sitting is not in it"


def test_a_secret_ballot_says_who_voted_never_how_and_the_chairs_casting_vote():
    s = scripted_sitting()
    table = vote_table(s.chronicle())
    secret = table.columns[1]
    assert secret.kind == "secret" and (secret.yes, secret.no) == (5, 5)
    assert secret.outcome == "rejected" and secret.decided_by_chair
    voted = [r.seat for r in table.rows if r.cells[1] is Cell.SECRET]
    assert voted == [2, 3, 4, 5, 6, 7, 8, 9, 10, 12]
    assert cells(table, 1)[1] is Cell.CHAIR and cells(table, 11)[1] is Cell.ABSENT
    text = grid(table)
    assert text[-1][4] == "否決（議長裁決）" and text[-4][4] == "5" and text[-3][4] == "5"
    assert not any(row[4] in ("賛成", "反対") for row in text[1:13]), "how anyone voted in secret is not shown"


def test_an_entitled_member_who_did_not_vote_is_told_apart_from_an_absent_one():
    s = scripted_sitting()
    entries = s.entries()
    # 佐藤 (seat 2) did not vote after all: the record without her vote_cast
    first = next(e for e in entries if e["name"] == "ballot_opened")["data"]["ballot_id"]
    who = s.seat(2)
    entries = [e for e in entries if not (e["name"] == "vote_cast" and e["actor_id"] == who)]
    for e in entries:
        if e["name"] == "result_published" and e["data"]["ballot_id"] == first:
            e["data"]["votes"].pop(who)
    assert cells(vote_table(s.chronicle(entries)), 2)[0] is Cell.NOT_VOTED


def _live_sitting_with_an_unpublished_ballot() -> tuple[Script, str, str]:
    s = Script()
    st = s.sitting
    for n in range(1, 11):
        s(st.connected(s.seat(n), at(-1)))
    s(st.open(s.chair, at(0)))
    s(st.take_up(s.chair, s.agenda[0].id, at(1)))
    yes = {s.seat(n): Choice.YES for n in (2, 3, 4, 5, 6)}
    published = s(take_ballot(st, "議案第1号を原案のとおり可決すべきものと決する", BallotKind.NAMED, yes, at(2), at(3)))
    b = Ballot(s.meeting.id, s.agenda[0].id, "議案第1号の修正案", BallotKind.NAMED)
    b.open({s.seat(n) for n in range(2, 11)}, 12, s.chair, True, at(4))
    s([Event("ballot_opened", at(4), s.chair, {"ballot_id": b.id, "motion": b.motion, "kind": "named",
                                                  "entitled": sorted(b.entitled)}, b.agenda_item_id)])
    b.cast(s.seat(2), Choice.NO, True)
    s([Event("vote_cast", at(4) + timedelta(seconds=3), s.seat(2), {"ballot_id": b.id, "choice": "no"})])
    s([Event("ballot_closed", at(5), s.chair, {"ballot_id": b.id, **_tally(b.close(True, at(5)))})])
    return s, published[0].data["ballot_id"], b.id


def test_while_live_only_published_results_appear_and_all_once_adjourned():
    s, published, unpublished = _live_sitting_with_an_unpublished_ballot()
    live = vote_table(s.chronicle())
    assert [c.id for c in live.columns] == [published] and not live.final
    with pytest.raises(NotFound):
        vote_table(s.chronicle(), unpublished)
    rows = _parse(votes_csv(live), "utf-8-sig")
    assert len(rows[0]) == 4 and "修正案" not in "".join(rows[0]), "the unpublished ballot does not leak"
    assert rows[2][3] == "賛成", "佐藤's vote in the published ballot, not her 反対 in the unpublished one"
    s(s.sitting.adjourn(s.chair, at(10)))
    after = vote_table(s.chronicle())
    assert [c.id for c in after.columns] == [published, unpublished] and after.final
    assert grid(after)[-1][4] == "否決（未公表）"
    assert [c.id for c in vote_table(s.chronicle(), published).columns] == [published]


def _parse(data: bytes, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(encoding), newline="")))


def test_the_csv_in_utf8_with_a_bom_and_in_shift_jis_read_back_the_same():
    s = scripted_sitting(names={3: "髙橋 美咲", 5: "𠮷田 一"})  # 髙 is in Windows' Shift_JIS, 𠮷 in none
    table = vote_table(s.chronicle())
    utf8 = votes_csv(table)
    assert utf8.startswith(codecs.BOM_UTF8) and b"\r\n" in utf8
    rows = _parse(utf8, "utf-8-sig")
    assert rows[0][:3] == ["議席", "氏名", "よみ"] and len(rows) == 1 + 12 + 4
    assert rows[3][:2] == ["3", "髙橋 美咲"] and rows[5][1] == "𠮷田 一"
    assert rows[2][3] == "賛成" and rows[-1][1:4] == ["結果", "", "可決"]
    sjis = votes_csv(table, "shift_jis")
    assert not sjis.startswith(codecs.BOM_UTF8)
    back = _parse(sjis, "cp932")
    assert back[3][1] == "髙橋 美咲" and back[5][1] == "〓田 一", "a character Shift_JIS lacks is shown, as 〓"
    assert [r[3:] for r in back] == [r[3:] for r in rows]
    with pytest.raises(InvalidArgument):
        votes_csv(table, "latin-1")


def test_a_motion_that_looks_like_a_formula_stays_text():
    s = Script()
    st = s.sitting
    for n in range(1, 11):
        s(st.connected(s.seat(n), at(-1)))
    s(st.open(s.chair, at(0)))
    s(take_ballot(st, "=HYPERLINK(\"http://x\")", BallotKind.NAMED, {s.seat(2): Choice.YES}, at(1), at(2)))
    rows = _parse(votes_csv(vote_table(s.chronicle())), "utf-8-sig")
    assert rows[0][3] == "'=HYPERLINK(\"http://x\")"


def test_the_pdf_is_an_a4_landscape_table_with_every_name():
    s = scripted_sitting()
    pdf = votes_pdf(vote_table(s.chronicle()))
    assert pdf.startswith(b"%PDF-") and page_count(pdf) == 1
    assert b"/MediaBox [ 0 0 841.8898 595.2756 ]" in pdf, "A4 landscape"
    japanese, _ = pdf_strings(pdf)
    for name in ("山田 太郎", "山口 浩", "議員別賛否", "無記名", "否決（議長裁決）", "欠席"):
        assert name in japanese, name
    assert votes_pdf(vote_table(s.chronicle())) == pdf, "the same record gives the same file"
