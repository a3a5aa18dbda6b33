"""The words spoken, in the minutes: each speech's text under its speaker and kind in 議事の経過,
the clerk's correction where there is one; an automatic text nobody has corrected is marked as
such until the minutes are final. Also the way back: the final texts read from an exported
minutes.json (what ``gikai verify --minutes`` hashes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gikai.orchestrator.domain.chronicle import Chronicle
from gikai.orchestrator.domain.transcript import CANONICAL_FORM, SpeechText
from gikai.orchestrator.reports.document import Block, Code, Heading
from gikai.orchestrator.reports.words import clock, speaker, word

_WORDS = {
    "ja": {"automatic": "(自動認識・未校正)", "spoken": "発言の内容",
           "final": "発言の内容は確定しています。確定した本文の SHA-256(署名された記録に記載):",
           "draft": "発言の内容は確定していません。"},
    "en": {"automatic": " (automatic, not corrected)", "spoken": "What was said",
           "final": "The texts of the speeches are final. Their SHA-256 (on the signed record):",
           "draft": "The texts of the speeches are not final yet."},
}


@dataclass(frozen=True)
class Words:
    """The speeches' texts by speech index, and the ``minutes_finalised`` entry's data if final."""

    texts: Mapping[int, SpeechText] = field(default_factory=dict)
    finalised: Mapping[str, Any] | None = None


def status(words: Words, index: int) -> str:
    """none (no text), automatic (a draft nobody corrected), corrected, or final."""
    t = words.texts.get(index)
    if t is None or not t.sentences:
        return "none"
    if words.finalised is not None:
        return "final"
    return "corrected" if t.corrected else "automatic"


def speech_json(words: Words, index: int) -> dict[str, Any]:
    """The text fields of one speech in minutes.json: ``text`` is what the record's hash covers."""
    t = words.texts.get(index)
    return {"index": index, "text": t.text if t else "", "text_status": status(words, index),
            "model": t.model if t else None,
            "sentences": [{"start": a, "end": b, "text": text, "corrected": fixed}
                          for a, b, text, fixed in (t.lines() if t else [])]}


def texts_json(words: Words) -> dict[str, Any]:
    f = words.finalised
    return {"form": CANONICAL_FORM, "final": f is not None, "sha256": f.get("sha256") if f else None,
            "finalised_at": f.get("at") if f else None}


def spoken_blocks(c: Chronicle, words: Words, lang: str) -> list[Block]:
    """Each speech with a text: a heading (its time, speaker and kind), then what was said."""
    out: list[Block] = []
    for i, s in enumerate(c.speeches):
        t = words.texts.get(i)
        if t is None or not t.sentences:
            continue
        kind = word(lang, f"speech_kind.{s.kind}")
        out.append(Heading(f"{clock(c, s.start)} {speaker(c, s.holder_id, lang)}"
                           + (f"({kind})" if lang == "ja" else f" — {kind}")))
        mark = _WORDS[lang]["automatic"] if status(words, i) == "automatic" else ""
        out.append(t.text + mark)
    if not out:
        return []
    head: list[Block] = [Heading(_WORDS[lang]["spoken"])]
    if words.finalised is not None:
        tail: list[Block] = [_WORDS[lang]["final"], Code(str(words.finalised.get("sha256", "")))]
    else:
        tail = [_WORDS[lang]["draft"]]
    return head + out + tail


def final_texts_of_minutes(minutes: Mapping[str, Any]) -> list[tuple[int, str, str, str]]:
    """(speech index, speaker id, kind, text) of every speech in an exported minutes.json.

    Raises ValueError when the file does not hold them (KeyError and TypeError included)."""
    try:
        return [(int(s["index"]), str(s["speaker_id"]), str(s["kind"]), str(s["text"]))
                for s in minutes["speeches"]]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"minutes.json has no speech texts: {exc}") from None
