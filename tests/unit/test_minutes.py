"""The minutes (会議録) and the timeline of a scripted sitting: what they say, and that the
page, the PDF and the picture are sound documents."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
import zlib
from datetime import date
from html.parser import HTMLParser

import pytest

from gikai.orchestrator.domain.chronicle import build_chronicle
from gikai.orchestrator.reports.minutes import (
    Table,
    japanese_date,
    minutes_document,
    minutes_html,
    minutes_json,
    minutes_pdf,
    proceedings,
)
from gikai.orchestrator.reports.timeline import timeline_svg

from .test_chronicle import Script, at, scripted_sitting

SVG = "{http://www.w3.org/2000/svg}"
EVIL = "<script>alert(1)</script>"


def hm(iso: str) -> str:
    return iso[11:16]


# -- dates ---------------------------------------------------------------------------
def test_dates_are_written_in_the_japanese_era():
    assert japanese_date(date(2019, 5, 1)) == "令和元年5月1日"
    assert japanese_date(date(2026, 11, 26)) == "令和8年11月26日"
    assert japanese_date(date(2019, 4, 30)) == "平成31年4月30日"
    assert japanese_date(date(1989, 1, 8)) == "平成元年1月8日"


def test_the_date_is_the_day_in_japan_not_in_utc():
    entries = [{"seq": 1, "at": "2026-11-25T16:30:00", "name": "meeting_opened", "actor_id": "c",
                "agenda_item_id": None, "data": {"state": "open"}, "hash": "a" * 64}]
    c = build_chronicle(entries, [], title="本会議")
    assert minutes_json(c)["meeting"]["date_ja"] == "令和8年11月26日"
    assert "令和8年11月26日(木)" in minutes_html(c)
    assert "Thursday 26 November 2026" in minutes_html(c, "en")


# -- what the minutes say ---------------------------------------------------------------
def test_the_minutes_say_who_was_present_when_and_who_was_absent():
    s = scripted_sitting()
    m = minutes_json(s.chronicle())
    present = {p["name"]: [(i["mode"], hm(i["start"]), hm(i["end"])) for i in p["intervals"]]
               for p in m["members_present"]}
    assert len(present) == 11 and "山口 浩" not in present
    assert present["鈴木 一郎"] == [("in_room", "10:00", "11:00")]
    assert present["松本 幸子"] == [("remote", "10:28", "10:47"), ("remote", "10:50", "11:00")]
    assert [p["name"] for p in m["members_absent"]] == ["山口 浩"]
    assert {(p["name"], p["role"]) for p in m["others_present"]} == {("中村 直樹", "presenter"), ("斎藤 誠", "clerk")}
    assert m["meeting"]["form"] == "hybrid"
    page = minutes_html(s.chronicle())
    assert "10:28–10:47、10:50–11:00" in page and "議場とオンラインの併用" in page


def test_the_minutes_list_the_speeches_in_order_with_their_length():
    s = scripted_sitting()
    c = s.chronicle()
    m = minutes_json(c)
    assert [(x["speaker"], x["kind"], x["seconds"]) for x in m["speeches"]] == [
        ("中村 直樹", "explanation", 600), ("鈴木 一郎", "question", 660), ("高橋 美咲", "debate_contra", 180)]
    (steps,) = [b for sec in minutes_document(c).sections if sec.heading == "議事の経過" for b in sec.blocks]
    assert isinstance(steps, Table)
    speeches = [(t, what, length) for t, what, length in steps.rows if what.startswith("発言")]
    assert speeches == [
        ("10:02", "発言 中村 直樹 説明員(説明)", "10分00秒"),
        ("10:13", "発言 鈴木 一郎 委員(質疑) [委員長が終了]", "11分00秒"),
        ("10:25", "発言 高橋 美咲 委員(反対討論)", "3分00秒"),
    ]
    assert [t for t, _, _ in steps.rows] == sorted(t for t, _, _ in steps.rows)


def test_a_named_vote_lists_each_member_and_a_secret_one_only_its_counts():
    s = scripted_sitting()
    c = s.chronicle()
    named, secret = minutes_json(c)["ballots"]
    votes = {v["name"]: v["choice"] for v in named["votes"]}
    assert len(votes) == 10 and votes["高橋 美咲"] == "no" and votes["鈴木 一郎"] == "yes"
    assert (named["yes"], named["no"], named["outcome"]) == (7, 3, "adopted")
    assert "votes" not in secret
    assert (secret["yes"], secret["no"], secret["outcome"], secret["chair_decision"]) == (5, 5, "rejected", "no")
    (section,) = [sec for sec in minutes_document(c).sections if sec.heading == "表決"]
    tables = [b for b in section.blocks if isinstance(b, Table)]
    assert len(tables) == 1 and ("高橋 美咲", "反対") in tables[0].rows, "only the named ballot has a list"
    assert "無記名投票のため、個々の投票は記録していません。" in section.blocks
    assert "否決(可否同数のため委員長が否決と決しました)" in minutes_html(c)


def test_the_minutes_show_the_recess_and_the_chain_head():
    s = scripted_sitting()
    c = s.chronicle()
    m = minutes_json(c)
    assert [(hm(r["start"]), hm(r["end"]), r["seconds"]) for r in m["recesses"]] == [("10:32", "10:45", 780)]
    assert m["meeting"]["seconds_in_session"] == 60 * 60 - 13 * 60
    assert m["record"] == {"entries": len(s.entries()), "chain_head": s.entries()[-1]["hash"]}
    assert s.entries()[-1]["hash"] in minutes_html(c)


def test_online_and_chamber_sittings_are_named_by_how_members_attended():
    online = Script()
    for n in range(1, 8):
        online(online.sitting.connected(online.seat(n), at(0)))
    online(online.sitting.check_in(online.clerk, online.clerk, at(0)))  # the clerk does not make it hybrid
    assert minutes_json(online.chronicle())["meeting"]["form"] == "online"
    chamber = Script()
    for n in range(1, 8):
        chamber(chamber.sitting.check_in(chamber.clerk, chamber.seat(n), at(0)))
    assert minutes_json(chamber.chronicle())["meeting"]["form"] == "chamber"
    assert "開会の記録はありません" in minutes_html(chamber.chronicle())


# -- the page ---------------------------------------------------------------------------
_VOID = {"meta", "link", "br", "hr", "img", "input", "col", "area", "base", "wbr", "source"}


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check_html(page: str) -> _Checker:
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.problems == [] and checker.stack == [], (checker.problems, checker.stack)
    return checker


def test_the_page_is_well_formed_escapes_names_and_says_its_language():
    c = scripted_sitting({5: EVIL}).chronicle()
    for lang, heading in (("ja", "会議録"), ("en", "Minutes")):
        page = minutes_html(c, lang)
        assert page.startswith("<!DOCTYPE html>")
        checker = check_html(page)
        tags = [t for t, _ in checker.tags]
        assert tags[0] == "html" and dict(checker.tags[0][1])["lang"] == lang
        assert "script" not in tags and "<script" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert EVIL in "".join(checker.text), "the name is shown as text"
        assert heading in "".join(checker.text) and "title" in tags and tags.count("h1") == 1
        assert all(a.get("scope") == "col" for t, a in checker.tags if t == "th")


def test_the_minutes_are_written_in_japanese_or_english_only():
    c = scripted_sitting().chronicle()
    with pytest.raises(ValueError):
        minutes_html(c, "fr")


# -- the PDF ----------------------------------------------------------------------------
def pdf_strings(pdf: bytes) -> tuple[str, str]:
    """The text drawn on the pages, read as UTF-16 (the Japanese fonts) and as Latin-1."""
    drawn: list[bytes] = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        stream = stream.strip().removesuffix(b"~>")
        content = zlib.decompress(base64.a85decode(stream))
        drawn.extend(re.sub(rb"\\([0-7]{1,3}|.)", _unescape, literal, flags=re.S)
                     for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", content, re.S))
    return "".join(d.decode("utf-16-be", "replace") for d in drawn), "".join(d.decode("latin-1") for d in drawn)


def _unescape(m: re.Match[bytes]) -> bytes:
    code = m.group(1)
    if code[:1].isdigit():
        return bytes([int(code, 8) & 0xFF])
    return {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}.get(code, code)


def page_count(pdf: bytes) -> int:
    pages = len(re.findall(rb"/Type /Page\b(?!s)", pdf))
    assert re.search(rb"/Count (\d+)", pdf).group(1) == str(pages).encode()  # type: ignore[union-attr]
    return pages


def test_the_pdf_is_a_pdf_with_the_minutes_in_japanese_on_its_pages():
    s = scripted_sitting()
    c = s.chronicle()
    pdf = minutes_pdf(c)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert page_count(pdf) >= 2, "a full hour's minutes do not fit on one page"
    japanese, latin = pdf_strings(pdf)
    assert "会議録" in japanese and "山口 浩" in japanese and "議事の経過" in japanese
    assert s.entries()[-1]["hash"] in latin
    assert minutes_pdf(c) == pdf, "the same record gives the same file"
    english, _ = pdf_strings(minutes_pdf(c, "en"))
    assert "Minutes" in english and "Members absent" in english


def test_an_empty_record_still_gives_a_one_page_pdf():
    c = build_chronicle([], [{"id": "a", "name": "甲野 一", "role": "member", "seat": 1}], title="臨時会",
                        scheduled_at="2026-11-26T10:00")
    pdf = minutes_pdf(c)
    assert page_count(pdf) == 1
    japanese, _ = pdf_strings(pdf)
    assert "令和8年11月26日" in japanese and "甲野 一" in japanese


# -- the timeline ------------------------------------------------------------------------
def test_the_timeline_is_svg_whose_marks_seek_and_say_what_they_are():
    s = scripted_sitting({5: EVIL})
    svg = timeline_svg(s.chronicle())
    root = ET.fromstring(svg)  # well-formed XML, or this raises
    assert root.tag == f"{SVG}svg" and root.get("role") == "img" and root.get("lang") == "ja"
    assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}desc") is not None
    assert not any(el.tag.endswith("script") for el in root.iter())
    marks = [el for el in root.iter() if el.get("data-t") is not None]
    for el in marks:
        assert 0 <= int(el.get("data-t")) <= 3600
        title = el.find(f"{SVG}title")
        assert title is not None and title.text, el.attrib
    by_class = lambda name: [el for el in marks if el.get("class") == name]  # noqa: E731
    speeches = by_class("speech")
    assert [int(el.get("data-t")) for el in speeches] == [120, 780, 1500]
    rects = [el.find(f"{SVG}rect") for el in speeches]
    x = [float(r.get("x")) for r in rects]
    w = [float(r.get("width")) for r in rects]
    assert (x[1] - x[0]) / (x[2] - x[0]) == pytest.approx(660 / 1380, abs=0.01), "placed by time"
    assert w[0] / w[1] == pytest.approx(600 / 660, abs=0.01), "as long as the speech"
    assert "中村 直樹" in speeches[0].find(f"{SVG}title").text
    assert [int(el.get("data-t")) for el in by_class("item")] == [60, 46 * 60]
    assert [int(el.get("data-t")) for el in by_class("recess")] == [32 * 60]
    assert [el.get("data-outcome") for el in by_class("ballot")] == ["adopted", "rejected"]
    late = [el for el in marks if el.get("data-participant") == s.seat(12)]
    assert [(el.get("class"), int(el.get("data-t"))) for el in late] == [
        ("attendance", 28 * 60 + 30), ("attendance", 50 * 60), ("away", 47 * 60)]
    assert not [el for el in marks if el.get("data-participant") == s.seat(11)], "absent: an empty lane"
    assert EVIL in "".join(root.itertext())
    assert "&lt;script&gt;" in svg


def test_the_timeline_of_a_sitting_that_never_opened_still_draws():
    s = Script()
    s(s.sitting.connected(s.seat(1), at(0)))
    root = ET.fromstring(timeline_svg(s.chronicle(), "en"))
    assert root.get("lang") == "en"
    assert [el.get("data-t") for el in root.iter() if el.get("class") == "attendance"] == ["0"]


def test_the_proceedings_name_each_step_of_procedure():
    """Signers named, remote members' identity checked, an amendment and a motion moved: each in
    the proceedings, in Japanese and in English, with who moved it and who supported it."""
    s = Script()
    st = s.sitting
    for n in range(1, 9):
        s(st.connected(s.seat(n), at(-5)))
    s(st.open(s.chair, at(0)))
    s(st.name_minutes_signers(s.chair, [s.seat(3), s.seat(4)], at(0.5)))
    s(st.start_roll_call(s.chair, at(1)))
    s(st.answer_roll_call(s.seat(2), at(1.2)))
    s(st.confirm_identity(s.chair, s.seat(2), True, at(1.5)))
    s(st.confirm_identity(s.chair, s.seat(3), False, at(2)))
    s(st.end_roll_call(s.chair, at(2.5)))
    s(st.take_up(s.chair, s.agenda[0].id, at(3)))
    s(st.move_amendment(s.clerk, s.agenda[0].id, s.seat(5), "5", "3", [s.seat(6)], at(4)))
    s(st.move_procedural_motion(s.seat(7), "recess", s.seat(7), [s.seat(8)], at(5)))
    name = {n: next(p.name for p in s.people if p.seat == n) for n in range(1, 9)}
    ja = [what for _, what, _ in proceedings(s.chronicle(), "ja")]
    assert f"会議録署名議員に{name[3]} 委員、{name[4]} 委員を指名しました" in ja, ja
    assert f"遠隔で出席する{name[2]} 副委員長の本人確認をしました" in ja
    assert f"遠隔で出席する{name[3]} 委員の本人確認ができませんでした" in ja
    assert f"{name[5]} 委員から修正案が提出されました(賛成者: {name[6]} 委員)" in ja
    assert f"{name[7]} 委員から休憩の動議が提出されました(賛成者: {name[8]} 委員)" in ja
    en = " | ".join(what for _, what, _ in proceedings(s.chronicle(), "en"))
    assert "Motion to recess moved by" in en and "could not be confirmed" in en
