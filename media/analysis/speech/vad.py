"""Cutting speech into utterances with a voice-activity detector (WebRTC's, from
``webrtcvad-wheels``): 30 ms frames of 16 kHz audio are voiced or not.

An utterance starts when most of the last 300 ms were voiced (those 300 ms are kept: the first
syllable is not lost), ends after ``end_silence`` of unvoiced frames or at ``max_length``, and is
dropped when it holds less than ``min_speech`` of voiced frames (a cough, a chair, a click).
The detector costs 0.2 ms of CPU per second of audio (measured; faster-whisper's bundled Silero
ONNX detector takes 3 ms per second even in one batch, and would need context kept per stream),
so the live path runs it on the event loop.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import webrtcvad

from gikai.media.analysis.speech.utterance import SAMPLE_RATE

FRAME = SAMPLE_RATE * 30 // 1000  # samples per detector frame (30 ms)
FRAME_SECONDS = FRAME / SAMPLE_RATE
START_WINDOW = 10  # frames (300 ms) looked at to decide that speech started ...
START_VOICED = 6  # ... and how many of them must be voiced
TAIL = 5  # unvoiced frames (150 ms) kept after the last voiced one: Whisper hears the ending
# The detector goes on calling frames voiced for about 120 ms after a sound stops (measured: a
# 0.1 / 0.2 / 0.3 / 0.5 s sound gives 0.21 / 0.33 / 0.42 / 0.60 s of voiced frames).
HANGOVER = 0.12


@dataclass(frozen=True)
class Segment:
    """A stretch of speech: samples [start, end) of the stream fed so far."""

    start: int
    end: int
    samples: np.ndarray  # float32 mono at SAMPLE_RATE
    voiced: float  # seconds of voiced frames in it


class Segmenter:
    """Feed float32 16 kHz mono in pieces of any length; get the finished utterances back."""

    def __init__(self, aggressiveness: int = 2, end_silence: float = 0.5, max_length: float = 12.0,
                 min_speech: float = 0.3) -> None:
        self._vad = webrtcvad.Vad(aggressiveness)
        self._end_frames = max(1, round(end_silence / FRAME_SECONDS))
        self._max_frames = max(START_WINDOW + 1, int(max_length / FRAME_SECONDS))
        self._min_voiced = (min_speech + HANGOVER) / FRAME_SECONDS - 1e-6
        self._rest = np.zeros(0, dtype=np.float32)
        self._position = 0  # stream sample index of the next whole frame
        self._recent: deque[tuple[np.ndarray, bool]] = deque(maxlen=START_WINDOW)
        self._triggered = False  # an utterance is under way
        self._current: list[np.ndarray] = []  # its frames
        self._start = 0
        self._voiced = 0
        self._silent_run = 0

    @property
    def speaking(self) -> bool:
        return self._triggered

    def feed(self, samples: np.ndarray) -> list[Segment]:
        data = np.concatenate((self._rest, samples.astype(np.float32, copy=False)))
        whole = len(data) // FRAME * FRAME
        self._rest = data[whole:]
        pcm = (np.clip(data[:whole], -1.0, 1.0) * 32767).astype(np.int16)
        out: list[Segment] = []
        for i in range(0, whole, FRAME):
            frame = data[i:i + FRAME]
            voiced = self._vad.is_speech(pcm[i:i + FRAME].tobytes(), SAMPLE_RATE)
            segment = self._step(frame, voiced)
            self._position += FRAME
            if segment is not None:
                out.append(segment)
        return out

    def flush(self) -> list[Segment]:
        """The utterance under way, if any, as if the speaker stopped here."""
        segment = self._finish(len(self._current)) if self._triggered else None
        self._recent.clear()
        return [] if segment is None else [segment]

    def reset(self) -> None:
        """Forget the utterance under way (and what the detector heard just before)."""
        self._current, self._voiced, self._silent_run, self._triggered = [], 0, 0, False
        self._recent.clear()

    def _step(self, frame: np.ndarray, voiced: bool) -> Segment | None:
        if not self._triggered:
            self._recent.append((frame, voiced))
            if sum(v for _, v in self._recent) < START_VOICED:
                return None
            self._triggered = True
            self._current = [f for f, _ in self._recent]
            self._start = self._position + FRAME - len(self._current) * FRAME
            self._voiced = sum(v for _, v in self._recent)
            self._silent_run = 0
            self._recent.clear()
            return None
        self._current.append(frame)
        if voiced:
            self._voiced += 1
            self._silent_run = 0
        else:
            self._silent_run += 1
        if self._silent_run >= self._end_frames:
            return self._finish(len(self._current) - self._silent_run + TAIL)
        if len(self._current) >= self._max_frames:
            return self._finish(len(self._current), keep_going=True)
        return None

    def _finish(self, frames: int, keep_going: bool = False) -> Segment | None:
        current, voiced, start = self._current[:frames], self._voiced, self._start
        self._current, self._voiced, self._silent_run = [], 0, 0
        self._triggered = keep_going  # cut at the maximum length: the speaker goes on
        self._start = start + len(current) * FRAME
        if not current or voiced < self._min_voiced:
            return None
        samples = np.concatenate(current)
        return Segment(start, start + len(samples), samples, max(0.0, voiced * FRAME_SECONDS - HANGOVER))
