"""The sound: each audible key's Opus decoded and resampled to 48 kHz stereo, and the audible spans
summed (with a short fade where a span starts or ends) into AAC-sized frames."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from fractions import Fraction
from typing import Any, Protocol

import av
import numpy as np

from gikai.media.archive.render.plan import AudioSpan, SourceFile
from gikai.media.archive.render.sources import SEEK_GAP, Problems, SourceTrack

SAMPLE_RATE = 48000
AUDIO_CHUNK = 1024  # samples per AAC frame
RAMP = 0.01  # seconds of fade where an audible span starts or ends: no click at a cut
PREROLL = 0.1  # Opus converges within 80 ms of a seek


class SoundTrack(SourceTrack):
    """An audio track: ``read(s0, s1)`` gives samples [s0, s1) of the sitting at 48 kHz."""

    def __init__(self, key: str, files: Sequence[SourceFile], problems: Problems) -> None:
        super().__init__(key, files, "audio", problems)
        self.chunks: list[tuple[int, np.ndarray]] = []  # (first sample, 2 x n float32)
        self.until = 0  # decoded up to this sample
        self.resampler: Any = None
        # In whole samples, so that every pass of _fill moves ``until`` on or skips a file.
        self.spans = [(round(f.start * SAMPLE_RATE), round(f.end * SAMPLE_RATE)) for f in self.files]

    def read(self, s0: int, s1: int) -> np.ndarray:
        self._fill(s0, s1)
        out = np.zeros((2, s1 - s0), dtype=np.float32)
        for start, data in self.chunks:
            a, b = max(s0, start), min(s1, start + data.shape[1])
            if a < b:
                out[:, a - s0:b - s0] = data[:, a - start:b - start]
        self.chunks = [c for c in self.chunks if c[0] + c[1].shape[1] > s1 - SAMPLE_RATE // 10]
        return out

    def _fill(self, s0: int, s1: int) -> None:
        spans = self.spans
        while self.until < s1:
            pos = max(s0, self.until)
            i = next((j for j, (a, b) in enumerate(spans) if a <= pos < b and j not in self.skip), None)
            if i is None:
                later = [a for a, _ in spans if a > pos]
                if not later or later[0] >= s1:
                    return
                self.until = later[0]
                continue
            fresh = self.reader is None or self.reader.source != self.files[i]
            reader = self.open(i)
            if reader is None:
                continue
            if (fresh and pos > spans[i][0] + PREROLL * SAMPLE_RATE) or (
                    pos - self.until > SEEK_GAP * SAMPLE_RATE):
                reader.seek(pos / SAMPLE_RATE - PREROLL)
                self.until = pos
            if fresh:
                self.resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
            decoded = next(reader.frames, None)
            if decoded is None:  # this file is done; reading only goes forward
                self.skip.add(i)
                self.until = max(self.until, spans[i][1])
                self.close()
                continue
            start = round(decoded[0] * SAMPLE_RATE)
            for frame in self.resampler.resample(decoded[1]):
                data = frame.to_ndarray()
                self.chunks.append((start, data))
                start += data.shape[1]
            self.until = max(self.until, start)


class Sound(Protocol):
    """What the mixer reads: a recorded track here, a live microphone's buffer in the broadcast."""

    def read(self, s0: int, s1: int) -> np.ndarray:
        """Samples [s0, s1) at 48 kHz, 2 x n float32."""


class Mixer:
    """The audible spans summed, in AAC-sized frames of ``fltp`` stereo."""

    def __init__(self, spans: Sequence[AudioSpan], sounds: Mapping[str, Sound], total: int) -> None:
        self.spans, self.sounds, self.total, self.done = spans, sounds, total, 0

    def frames_until(self, target: int) -> Iterator[av.AudioFrame]:
        target = min(target, self.total)
        while self.done < target:
            s0, s1 = self.done, min(self.done + AUDIO_CHUNK, target)
            if s1 - s0 < AUDIO_CHUNK and target < self.total:
                return  # only whole frames until the end
            mix = np.zeros((2, s1 - s0), dtype=np.float32)
            times = np.arange(s0, s1, dtype=np.float64) / SAMPLE_RATE
            for span in self.spans:
                if span.start * SAMPLE_RATE < s1 and span.end * SAMPLE_RATE > s0:
                    gain = np.clip(np.minimum(times - span.start, span.end - times) / RAMP, 0, 1)
                    mix += self.sounds[span.key].read(s0, s1) * gain.astype(np.float32)
            frame = av.AudioFrame.from_ndarray(np.clip(mix, -1, 1), format="fltp", layout="stereo")
            frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, s0, Fraction(1, SAMPLE_RATE)
            self.done = s1
            yield frame

