"""The words of the minutes (会議録): each body's vocabulary, each speech's text as sentences
(an automatic draft, corrected by the clerk), and the canonical form whose hash finalises them.

A speech is found by its index in the sitting's Chronicle (``Chronicle.speeches[i]``): the record
orders the speeches, so the index is the same wherever the record is read. Sentence times are
seconds from the sitting's start, as the archive player seeks. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from gikai.orchestrator.domain.errors import InvalidCorrection, InvalidVocabulary, MinutesFinalised, NotFound

MAX_TERMS = 200
MAX_TERM_CHARS = 40
PROMPT_CHARS = 200  # Whisper's prompt is short (224 tokens): keep the most useful terms first
MAX_SENTENCE_CHARS = 2000
CANONICAL_FORM = "gikai-minutes-text/1"


# -- the vocabulary ------------------------------------------------------------------
def clean_vocabulary(terms: object) -> list[str]:
    """The terms stripped, empty lines dropped, repeats dropped (first kept), order kept.

    Raises InvalidVocabulary for anything but a list of text, more than MAX_TERMS terms, or a term
    longer than MAX_TERM_CHARS."""
    if not isinstance(terms, list | tuple) or not all(isinstance(t, str) for t in terms):
        raise InvalidVocabulary("terms must be a list of strings")
    cleaned = list(dict.fromkeys(t.strip() for t in terms if t.strip()))
    if len(cleaned) > MAX_TERMS:
        raise InvalidVocabulary(f"{len(cleaned)} terms, at most {MAX_TERMS}")
    too_long = [t for t in cleaned if len(t) > MAX_TERM_CHARS]
    if too_long:
        raise InvalidVocabulary(f"term longer than {MAX_TERM_CHARS} characters: {too_long[0][:50]!r}")
    return cleaned


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class _Titled(Protocol):
    @property
    def title(self) -> str: ...


class _HasVocabulary(Protocol):
    @property
    def vocabulary(self) -> list[str]: ...


def prompt_terms(body: _HasVocabulary, members: Iterable[_Named], agenda: Iterable[_Titled],
                 limit: int = PROMPT_CHARS) -> str:
    """The recogniser's prompt: the members' names, the body's terms, then the agenda's titles,
    each once, joined by 「、」, whole terms only up to ``limit`` characters.

    Names come first: they are what a recogniser gets wrong most and a reader notices most; a
    name written with a space ("山田 太郎") is given as spoken and written in minutes ("山田太郎")."""
    candidates = [m.name.replace(" ", "").replace("\u3000", "") for m in members]
    candidates += list(body.vocabulary) + [a.title for a in agenda]
    out: list[str] = []
    used = 0
    for term in dict.fromkeys(t.strip() for t in candidates if t.strip()):
        cost = len(term) + (1 if out else 0)
        if used + cost > limit:
            continue  # a shorter term further on may still fit
        out.append(term)
        used += cost
    return "、".join(out)


# -- speech texts and corrections ------------------------------------------------------
@dataclass(frozen=True)
class Sentence:
    start: float  # seconds from the sitting's start
    end: float
    text: str  # as drafted


@dataclass(frozen=True)
class Correction:
    sentence_index: int
    old: str
    new: str
    by: str  # who corrected (the clerk's account id)
    at: datetime


@dataclass
class SpeechText:
    """One speech's text: the automatic draft's sentences and every correction, oldest first."""

    speech_index: int
    speaker_id: str
    sentences: list[Sentence]
    model: str = ""
    drafted_at: datetime | None = None
    corrections: list[Correction] = field(default_factory=list)

    def current(self, sentence_index: int) -> str:
        """The sentence as it reads now: the latest correction, else the draft."""
        for c in reversed(self.corrections):
            if c.sentence_index == sentence_index:
                return c.new
        return self.sentences[sentence_index].text

    def is_corrected(self, sentence_index: int) -> bool:
        return any(c.sentence_index == sentence_index for c in self.corrections)

    @property
    def corrected(self) -> bool:
        """Whether the clerk has corrected any of it (such a speech is not drafted again)."""
        return bool(self.corrections)

    @property
    def text(self) -> str:
        """The whole speech as it reads now (Japanese sentences are joined without spaces)."""
        return "".join(self.current(i) for i in range(len(self.sentences)))

    def lines(self) -> list[tuple[float, float, str, bool]]:
        """(start, end, text as it reads now, whether corrected) per sentence."""
        return [(s.start, s.end, self.current(i), self.is_corrected(i)) for i, s in enumerate(self.sentences)]


def clean_sentences(sentences: Iterable[tuple[float, float, str]]) -> list[Sentence]:
    """A drafter's sentences, checked: finite times, start ≤ end, text stripped (empty ones
    dropped), in time order."""
    out = []
    for start, end, text in sentences:
        start, end, text = float(start), float(end), str(text).strip()
        if not (math.isfinite(start) and math.isfinite(end)) or end < start or start < 0:
            raise InvalidCorrection(f"sentence times {start}–{end} are not a span of the sitting")
        if text:
            out.append(Sentence(round(start, 3), round(end, 3), text[:MAX_SENTENCE_CHARS]))
    return sorted(out, key=lambda s: s.start)


def correct(speech: SpeechText, sentence_index: int, text: str, by: str, at: datetime,
            finalised: bool) -> Correction | None:
    """The clerk's correction of one sentence, to be kept with the others; None when the text
    reads the same as now (nothing to keep). Refused once the minutes are finalised."""
    if finalised:
        raise MinutesFinalised("the minutes of this sitting are final")
    if not 0 <= sentence_index < len(speech.sentences):
        raise NotFound(f"sentence {sentence_index} of speech {speech.speech_index}")
    new = text.strip()
    if not new or len(new) > MAX_SENTENCE_CHARS:
        raise InvalidCorrection(f"a sentence has 1 to {MAX_SENTENCE_CHARS} characters")
    old = speech.current(sentence_index)
    if new == old:
        return None
    correction = Correction(sentence_index, old, new, by, at)
    speech.corrections.append(correction)
    return correction


# -- finalising ----------------------------------------------------------------------
def final_texts(speeches: Sequence[tuple[str, str]],
                texts: Mapping[int, SpeechText]) -> list[tuple[int, str, str, str]]:
    """(speech index, speaker id, kind, text) for every speech of the sitting, in order; a
    speech without a text has the empty text. ``speeches`` are (holder id, kind) in record order."""
    return [(i, holder, kind, texts[i].text if i in texts else "") for i, (holder, kind) in enumerate(speeches)]


def canonical_texts(items: Iterable[tuple[int, str, str, str]]) -> bytes:
    """The canonical serialisation the record's ``minutes_finalised`` entry hashes: UTF-8 JSON, no
    white space, ``{"form": CANONICAL_FORM, "speeches": [[index, speaker id, kind, text], …]}``
    in index order. Anyone can recompute it from the exported minutes.json."""
    rows = sorted([int(i), str(who), str(kind), str(text)] for i, who, kind, text in items)
    return json.dumps({"form": CANONICAL_FORM, "speeches": rows}, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def texts_digest(items: Iterable[tuple[int, str, str, str]]) -> str:
    return hashlib.sha256(canonical_texts(items)).hexdigest()


def speech_digest(text: str) -> str:
    """One speech's text's sha256: the finalised entry lists them, so that a check names the speech."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def edited_speeches(items: Sequence[tuple[int, str, str, str]], recorded: Sequence[str]) -> list[int]:
    """The speech indices whose text is not the one finalised (``recorded``: each speech's digest,
    by index), including speeches added or missing."""
    found = {i: speech_digest(text) for i, _, _, text in items}
    indices = sorted(set(found) | set(range(len(recorded))))
    return [i for i in indices if i >= len(recorded) or found.get(i) != recorded[i]]
