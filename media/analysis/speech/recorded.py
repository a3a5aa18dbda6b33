"""Recognising recorded speech: the samples of one recorded microphone between two times, and the
会議録 draft of a whole speech.

The recording's sound is read by the renderer's :class:`SoundTrack` (Opus from the WebM
segments, 48 kHz stereo on the sitting clock), downmixed and resampled here to 16 kHz mono.
A draft cuts the speech at pauses into pieces of at most 30 s (Whisper's window) and recognises
them in order; a piece holds as many whole utterances as fit, so Whisper sees whole sentences.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import av
import numpy as np

from gikai.media.analysis.speech.engine import SpeechEngine
from gikai.media.analysis.speech.utterance import SAMPLE_RATE, Utterance
from gikai.media.analysis.speech.vad import Segment, Segmenter
from gikai.media.archive.render.audio import SAMPLE_RATE as RECORDED_RATE
from gikai.media.archive.render.audio import SoundTrack
from gikai.media.archive.render.plan import SourceFile
from gikai.media.archive.render.sources import Problems

READ_CHUNK = RECORDED_RATE * 10  # samples read at a time: a long speech is never held at 48 kHz
WINDOW = 30.0  # seconds: Whisper's window, the longest piece of a draft
PAUSE = 0.3  # seconds of non-speech at which a draft may cut


def speech_samples(files: Sequence[SourceFile], start: float, end: float) -> np.ndarray:
    """16 kHz mono float32 of one recorded audio track (its segment files) from ``start`` to
    ``end``, seconds on the sitting clock. Stretches without a file are silence."""
    first, last = round(start * RECORDED_RATE), round(end * RECORDED_RATE)
    if last <= first:
        return np.zeros(0, dtype=np.float32)
    track = SoundTrack("speech", files, Problems())
    resampler: Any = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    pieces: list[np.ndarray] = []
    try:
        for s0 in range(first, last, READ_CHUNK):
            s1 = min(s0 + READ_CHUNK, last)
            stereo = np.ascontiguousarray(track.read(s0, s1))
            frame = av.AudioFrame.from_ndarray(stereo, format="fltp", layout="stereo")
            frame.sample_rate, frame.pts, frame.time_base = RECORDED_RATE, s0 - first, Fraction(1, RECORDED_RATE)
            pieces += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
        pieces += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    finally:
        track.close()
    samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    wanted = round((end - start) * SAMPLE_RATE)
    if len(samples) < wanted:
        samples = np.concatenate((samples, np.zeros(wanted - len(samples), dtype=np.float32)))
    return samples[:wanted].astype(np.float32, copy=False)


def speech_pieces(samples: np.ndarray, window: float = WINDOW) -> list[tuple[int, int]]:
    """[start, end) sample ranges of at most ``window`` seconds covering the speech in
    ``samples``, cut at pauses: consecutive utterances are joined while they fit."""
    segmenter = Segmenter(end_silence=PAUSE, max_length=window, min_speech=0.2)
    segments: list[Segment] = segmenter.feed(samples) + segmenter.flush()
    limit = int(window * SAMPLE_RATE)
    pieces: list[tuple[int, int]] = []
    for segment in segments:
        if pieces and segment.end - pieces[-1][0] <= limit:
            pieces[-1] = (pieces[-1][0], segment.end)
        else:
            pieces.append((segment.start, min(segment.end, segment.start + limit)))
    return pieces


async def draft(engine: SpeechEngine, samples: np.ndarray, prompt: str) -> list[Utterance]:
    """The draft of one speech: its utterances, times in seconds from the start of ``samples``."""
    audio = np.asarray(samples, dtype=np.float32).reshape(-1)
    out: list[Utterance] = []
    for s0, s1 in speech_pieces(audio):
        offset = s0 / SAMPLE_RATE
        found = await engine.recognise(audio[s0:s1], prompt)
        out += [Utterance(round(offset + u.start, 3), round(offset + u.end, 3), u.text) for u in found]
    return out
