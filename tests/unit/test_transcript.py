"""The minutes' words as pure rules: vocabulary, the recogniser's prompt, corrections, the
canonical form the record's hash covers, and the minutes carrying the texts."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest

from gikai.orchestrator.domain.agenda import AgendaItem, ItemKind
from gikai.orchestrator.domain.errors import InvalidCorrection, InvalidVocabulary, MinutesFinalised, NotFound
from gikai.orchestrator.domain.model import Body, BodyKind, Member
from gikai.orchestrator.domain.rehearsal import rehearsal_committee
from gikai.orchestrator.domain.transcript import (
    Sentence,
    SpeechText,
    canonical_texts,
    clean_sentences,
    clean_vocabulary,
    correct,
    edited_speeches,
    final_texts,
    prompt_terms,
    speech_digest,
    texts_digest,
)

AT = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)


def test_vocabulary_is_stripped_deduplicated_and_keeps_its_order():
    assert clean_vocabulary(["  議案 ", "質疑", "", "議案", "可決\u3000"]) == ["議案", "質疑", "可決"]


@pytest.mark.parametrize("terms", [
    ["語"] * 0 + [f"語{i}" for i in range(201)],  # 201 different terms
    ["あ" * 41],
    "議案,質疑",  # not a list
    ["議案", 3],
    None,
])
def test_vocabulary_refuses_too_many_too_long_or_not_text(terms):
    with pytest.raises(InvalidVocabulary):
        clean_vocabulary(terms)


def test_vocabulary_of_exactly_200_terms_of_40_characters_is_kept():
    terms = [f"{i:03d}" + "あ" * 37 for i in range(200)]
    assert clean_vocabulary(terms) == terms


def test_the_rehearsal_body_comes_with_council_terms():
    body, *_ = rehearsal_committee(datetime(2026, 3, 10, 10, 0))
    assert len(body.vocabulary) >= 16
    assert {"議案", "質疑", "可決", "一般会計補正予算"} <= set(body.vocabulary)
    assert clean_vocabulary(body.vocabulary) == body.vocabulary


def _body(terms):
    return Body("総務委員会", BodyKind.COMMITTEE, 5, vocabulary=terms)


def test_prompt_joins_names_terms_and_agenda_once_each():
    body = _body(["議案", "質疑", "山田太郎"])
    members = [Member(body.id, "山田 太郎", "やまだ たろう", 1), Member(body.id, "佐藤 花子", "さとう はなこ", 2)]
    agenda = [AgendaItem("m", 1, "議案第1号 一般会計補正予算", ItemKind.BILL), AgendaItem("m", 2, "質疑", ItemKind.BILL)]
    assert prompt_terms(body, members, agenda) == "山田太郎、佐藤花子、議案、質疑、議案第1号 一般会計補正予算"


def test_prompt_is_capped_at_whole_terms():
    body = _body([f"用語{i:02d}" for i in range(80)])  # 4 characters each
    prompt = prompt_terms(body, [], [], limit=200)
    assert len(prompt) <= 200
    assert prompt.split("、") == [f"用語{i:02d}" for i in range(40)]  # 40 * 4 + 39 separators = 199


def test_prompt_skips_a_term_too_long_for_the_rest_but_takes_a_shorter_one():
    assert prompt_terms(_body(["あ" * 8, "い" * 20, "う" * 3]), [], [], limit=14) == "ああああああああ、ううう"


def _speech():
    return SpeechText(0, "p1", [Sentence(1.0, 3.5, "議案第一号について質疑します。"), Sentence(3.5, 6.0, "予算の説明を。")])


def test_a_correction_is_kept_and_the_latest_is_shown():
    s = _speech()
    first = correct(s, 1, " 予算の説明をお願いします。 ", "clerk", AT, finalised=False)
    second = correct(s, 1, "予算の説明を求めます。", "clerk2", AT, finalised=False)
    assert first is not None and second is not None
    assert (first.old, first.new, second.old) == ("予算の説明を。", "予算の説明をお願いします。", "予算の説明をお願いします。")
    assert s.current(1) == "予算の説明を求めます。" and s.is_corrected(1) and not s.is_corrected(0)
    assert s.text == "議案第一号について質疑します。予算の説明を求めます。"
    assert s.lines()[1] == (3.5, 6.0, "予算の説明を求めます。", True)


def test_a_correction_that_changes_nothing_keeps_nothing():
    s = _speech()
    assert correct(s, 0, "議案第一号について質疑します。", "clerk", AT, finalised=False) is None
    assert not s.corrected


def test_no_correction_once_the_minutes_are_final():
    with pytest.raises(MinutesFinalised) as raised:
        correct(_speech(), 0, "別の文", "clerk", AT, finalised=True)
    assert raised.value.code == "minutes_finalised"


@pytest.mark.parametrize("index, text, error", [(2, "文", NotFound), (-1, "文", NotFound), (0, "  ", InvalidCorrection),
                                                (0, "あ" * 2001, InvalidCorrection)])
def test_a_correction_needs_a_sentence_and_a_text(index, text, error):
    with pytest.raises(error):
        correct(_speech(), index, text, "clerk", AT, finalised=False)


def test_drafted_sentences_are_checked_and_ordered():
    assert clean_sentences([(5, 6, " 後 "), (1, 2, "先"), (2, 3, "  ")]) == [Sentence(1, 2, "先"), Sentence(5, 6, "後")]
    with pytest.raises(InvalidCorrection):
        clean_sentences([(3, 2, "逆")])
    with pytest.raises(InvalidCorrection):
        clean_sentences([(float("nan"), 2, "数でない")])


def test_the_canonical_form_is_compact_utf8_json_in_index_order():
    items = [(1, "p2", "debate_pro", "賛成です。"), (0, "p1", "question", "質疑します。")]
    expected = '{"form":"gikai-minutes-text/1","speeches":[[0,"p1","question","質疑します。"],[1,"p2","debate_pro","賛成です。"]]}'
    assert canonical_texts(items) == expected.encode("utf-8")
    assert texts_digest(items) == hashlib.sha256(expected.encode("utf-8")).hexdigest()
    assert json.loads(canonical_texts(items))["speeches"][0][3] == "質疑します。"


def test_final_texts_cover_every_speech_and_a_changed_word_changes_the_hash():
    s = _speech()
    items = final_texts([("p1", "question"), ("p2", "speech")], {0: s})
    assert items == [(0, "p1", "question", s.text), (1, "p2", "speech", "")]
    before = texts_digest(items)
    correct(s, 0, "議案第二号について質疑します。", "clerk", AT, finalised=False)
    after = final_texts([("p1", "question"), ("p2", "speech")], {0: s})
    assert texts_digest(after) != before
    assert edited_speeches(after, [speech_digest(t) for *_, t in items]) == [0]


# -- the minutes with the words -----------------------------------------------------------
def _words(final=None):
    from gikai.orchestrator.reports.minutes import Words

    explained = SpeechText(0, "x", [Sentence(120.0, 130.0, "一般会計補正予算について説明します。")], "whisper-base")
    asked = SpeechText(1, "y", [Sentence(800.0, 810.0, "除雪の予算を伺います。"), Sentence(810.0, 815.0, "以上。")])
    correct(asked, 0, "除雪体制の予算を伺います。", "clerk", AT, finalised=False)
    return Words({0: explained, 1: asked}, final)


def test_the_minutes_carry_each_speech_text_the_corrected_one_where_corrected():
    from gikai.orchestrator.reports.minutes import minutes_json

    from .test_chronicle import scripted_sitting

    m = minutes_json(scripted_sitting().chronicle(), _words())
    first, second, third = m["speeches"]
    assert (first["index"], first["text"], first["text_status"]) == (0, "一般会計補正予算について説明します。", "automatic")
    assert (second["text"], second["text_status"]) == ("除雪体制の予算を伺います。以上。", "corrected")
    assert [x["corrected"] for x in second["sentences"]] == [True, False]
    assert (third["text"], third["text_status"], third["sentences"]) == ("", "none", [])
    assert m["texts"]["final"] is False


def test_the_minutes_page_marks_an_uncorrected_automatic_text_under_its_speaker():
    from gikai.orchestrator.reports.minutes import minutes_document, minutes_html

    from .test_chronicle import scripted_sitting

    c = scripted_sitting().chronicle()
    (section,) = [s for s in minutes_document(c, "ja", _words()).sections if s.heading == "議事の経過"]
    texts = [b for b in section.blocks if isinstance(b, str)]
    assert "一般会計補正予算について説明します。(自動認識・未校正)" in texts
    assert "除雪体制の予算を伺います。以上。" in texts  # corrected: not marked
    headings = [getattr(b, "text", "") for b in section.blocks]
    assert any("中村 直樹 説明員(説明)" in h for h in headings)
    assert "(automatic, not corrected)" in minutes_html(c, "en", _words())


def test_final_minutes_show_the_hash_and_no_automatic_mark():
    from gikai.orchestrator.reports.minutes import minutes_html, minutes_json

    from .test_chronicle import scripted_sitting

    c = scripted_sitting().chronicle()
    page = minutes_html(c, "ja", _words({"sha256": "ab" * 32, "at": "2026-03-10T12:00:00"}))
    assert "自動認識・未校正" not in page and "ab" * 32 in page
    assert minutes_json(c, _words({"sha256": "ab" * 32}))["speeches"][0]["text_status"] == "final"
