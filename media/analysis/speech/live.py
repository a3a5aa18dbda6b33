"""Live captions of the microphones the caller watches (the floor holder's and the chair's: one
or two at a time).

A watched up-track's Opus packets are decoded with a decoder of our own (the forwarding path
never decodes), resampled to 16 kHz mono and cut into utterances by the voice-activity detector
(:mod:`.vad`). That costs 0.15-0.5 ms of CPU per 20 ms packet, 1-3 % of a core per stream
(measured on an idle and a busy 2-core machine: ``bench/asr_cost.py``); for the one or two
streams watched it runs on the event loop, in the listener itself. Each utterance is recognised once by the
:class:`SpeechEngine` worker, one at a time per peer; when the engine falls behind, a few
utterances wait and the oldest is dropped (with a warning) rather than let captions lag further
and further behind the speaker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import av
import numpy as np

from gikai.media.analysis.speech.engine import SpeechEngine
from gikai.media.analysis.speech.utterance import SAMPLE_RATE, Caption
from gikai.media.analysis.speech.vad import Segment, Segmenter
from gikai.media.sfu.frames import EncodedFrame

logger = logging.getLogger(__name__)

END_SILENCE = 0.5  # seconds of non-speech that end an utterance
MAX_UTTERANCE = 12.0  # seconds: a longer one is cut (a caption must come while it still matters)
MIN_SPEECH = 0.3  # seconds of voiced frames below which an utterance is a blip, not speech
MAX_WAITING = 3  # utterances of one peer waiting for the engine; beyond, the oldest is dropped
GAP = 0.5  # seconds: a pause in the packets (a muted microphone) ends the utterance under way
OPUS_RATE = 48000


@dataclass(frozen=True)
class _Pending:
    samples: np.ndarray
    started_at: float
    ended_at: float


class _Stream:
    """One watched microphone: its decoder, detector and waiting utterances."""

    def __init__(self, peer_id: str, up: Any, listener: Callable[[EncodedFrame], None]) -> None:
        self.peer_id, self.up, self.listener = peer_id, up, listener
        self.decoder: Any = av.CodecContext.create("opus", "r")
        self.resampler: Any = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        self.segmenter = Segmenter(end_silence=END_SILENCE, max_length=MAX_UTTERANCE, min_speech=MIN_SPEECH)
        self.waiting: deque[_Pending] = deque()
        self.task: asyncio.Task[None] | None = None
        self.fed = 0  # samples given to the segmenter
        self.next_pts: int | None = None
        self.last_packet = time.monotonic()
        self.broken = False

    def decode(self, frame: EncodedFrame) -> list[_Pending]:
        """The utterances this packet finished (usually none)."""
        now = time.time()
        self.last_packet = time.monotonic()
        ended = []
        if self.next_pts is not None and abs(frame.pts - self.next_pts) > GAP * OPUS_RATE:
            ended += self.segmenter.flush()
        try:
            decoded = self.decoder.decode(av.Packet(frame.data))
        except av.FFmpegError:
            if not self.broken:
                logger.warning("captions: undecodable Opus packet from %s", self.peer_id)
                self.broken = True
            return self._pending(ended, now)
        for piece in decoded:
            self.next_pts = frame.pts + piece.samples
            for resampled in self.resampler.resample(piece):
                pcm = resampled.to_ndarray().reshape(-1)
                self.fed += len(pcm)
                ended += self.segmenter.feed(pcm)
        return self._pending(ended, now)

    def stalled(self) -> list[_Pending]:
        """The utterance under way when packets stopped coming (a microphone switched off)."""
        if not self.segmenter.speaking or time.monotonic() - self.last_packet < GAP:
            return []
        return self._pending(self.segmenter.flush(), time.time() - (time.monotonic() - self.last_packet))

    def _pending(self, ended: list[Segment], now: float) -> list[_Pending]:
        out = []
        for segment in ended:
            ended_at = now - (self.fed - segment.end) / SAMPLE_RATE
            out.append(_Pending(segment.samples, ended_at - len(segment.samples) / SAMPLE_RATE, ended_at))
        return out


class LiveCaptions:
    """Captions of the watched microphones, each non-empty one given to ``report``; ``prompt()``
    gives the vocabulary prompt at the time an utterance is recognised."""

    def __init__(self, engine: SpeechEngine, report: Callable[[Caption], None], prompt: Callable[[], str]) -> None:
        self._engine = engine
        self._report = report
        self._prompt = prompt
        self._streams: dict[str, _Stream] = {}
        self._watchdog: asyncio.Task[None] | None = None
        self.dropped = 0  # utterances dropped because the engine was behind

    def watch(self, peer_id: str, up_audio: Any) -> None:
        """Caption ``up_audio`` (an SFU up-track: its ``listeners`` receive encoded frames) as
        ``peer_id``. Watching the same track again does nothing; another track replaces it."""
        current = self._streams.get(peer_id)
        if current is not None:
            if current.up is up_audio:
                return
            self.unwatch(peer_id)

        def listener(frame: EncodedFrame) -> None:
            self._push(stream, frame)

        stream = _Stream(peer_id, up_audio, listener)
        self._streams[peer_id] = stream
        up_audio.listeners.append(listener)
        if self._watchdog is None:
            self._watchdog = asyncio.ensure_future(self._watch_stalls())

    def unwatch(self, peer_id: str) -> None:
        """Stop: the listener is removed, and an utterance under way, waiting or being recognised
        is dropped."""
        stream = self._streams.pop(peer_id, None)
        if stream is None:
            return
        if stream.listener in stream.up.listeners:
            stream.up.listeners.remove(stream.listener)
        stream.waiting.clear()
        if stream.task is not None:
            stream.task.cancel()

    def watching(self) -> set[str]:
        return set(self._streams)

    async def close(self) -> None:
        tasks = [s.task for s in self._streams.values() if s.task is not None]
        if self._watchdog is not None:
            self._watchdog.cancel()
            tasks.append(self._watchdog)
            self._watchdog = None
        for peer_id in list(self._streams):
            self.unwatch(peer_id)
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _watch_stalls(self) -> None:
        while True:
            await asyncio.sleep(GAP / 2)
            for stream in list(self._streams.values()):
                self._enqueue(stream, stream.stalled())

    def _push(self, stream: _Stream, frame: EncodedFrame) -> None:
        if self._streams.get(stream.peer_id) is stream:
            self._enqueue(stream, stream.decode(frame))

    def _enqueue(self, stream: _Stream, finished: list[_Pending]) -> None:
        for pending in finished:
            if len(stream.waiting) >= MAX_WAITING:
                stream.waiting.popleft()
                self.dropped += 1
                logger.warning("captions: speech recognition is behind; an utterance of %s dropped",
                               stream.peer_id)
            stream.waiting.append(pending)
        if stream.waiting and stream.task is None:
            stream.task = asyncio.ensure_future(self._recognise(stream))

    async def _recognise(self, stream: _Stream) -> None:
        try:
            while stream.waiting:
                pending = stream.waiting.popleft()
                try:
                    utterances = await self._engine.recognise(pending.samples, self._prompt())
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.exception("captions: speech recognition failed for %s", stream.peer_id)
                    continue
                text = "".join(u.text for u in utterances).strip()
                if text and self._streams.get(stream.peer_id) is stream:
                    self._report(Caption(stream.peer_id, text, pending.started_at, pending.ended_at))
        finally:
            stream.task = None
