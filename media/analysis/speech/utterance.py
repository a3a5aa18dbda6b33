"""What recognition gives: an utterance in a stretch of samples, and a live caption of a peer."""

from __future__ import annotations

from dataclasses import dataclass

SAMPLE_RATE = 16000  # Hz: what Whisper and the voice-activity detector take, mono float32


@dataclass(frozen=True)
class Utterance:
    """One recognised sentence or segment."""

    start: float  # seconds from the start of the samples given
    end: float
    text: str


@dataclass(frozen=True)
class Caption:
    """A live caption of what a peer said."""

    peer_id: str
    text: str
    started_at: float  # time.time() of the utterance's start (wall clock)
    ended_at: float  # time.time() of its end
    automatic: bool = True
