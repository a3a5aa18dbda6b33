"""Speech recognition in one worker process: faster-whisper (CTranslate2) on the CPU, int8.

Recognition takes a core or two for about a third of the audio's duration, far too long for the
event loop and, holding the GIL only in parts, too disruptive for a thread of the server: one
spawned process loads the model once and takes the calls in turn (a pool of one worker queues
them). The process is started by the first call, not by the constructor, so that a server
with speech configured but no caption wanted pays nothing.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import re
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from gikai.media.analysis.speech.model import check_model_dir
from gikai.media.analysis.speech.utterance import SAMPLE_RATE, Utterance
from gikai.media.errors import SpeechModelError

LANGUAGE = "ja"
# Whisper sometimes puts spaces between Japanese words ("開会 いたします"), the more so after a prompt
# of space-separated terms: a space with a non-ASCII character on both sides is dropped, one
# between Latin words stays.
_JAPANESE_SPACE = re.compile(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])")

_model: Any = None  # the worker process's WhisperModel
_beam_size = 5


def whisper_prompt(terms: str) -> str | None:
    """Vocabulary terms (joined by spaces) as Whisper's initial prompt: written as Japanese, joined
    by 、 and ended by 。. Whisper continues in its prompt's style: the bare space-joined list made
    it leave out punctuation and put spaces between words, and recognised worse (mean CER on the
    test sentences 0.11 with spaces, 0.07 with 、; bench/asr_cost.py)."""
    words = terms.split()
    if not words:
        return None
    prompt = "、".join(words)
    return prompt if prompt.endswith("。") else prompt + "。"


def _load(model_dir: str, threads: int, beam_size: int) -> None:
    """The worker's initializer: the model, once per process."""
    global _model, _beam_size
    from faster_whisper import WhisperModel

    _model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=threads, num_workers=1)
    _beam_size = beam_size


def _transcribe(samples: np.ndarray, prompt: str) -> tuple[list[tuple[float, float, str]], float]:
    """In the worker: (start, end, text) of each segment and the CPU seconds the process spent
    (all its threads: core-seconds)."""
    cpu = time.process_time()
    segments, _info = _model.transcribe(
        samples, language=LANGUAGE, beam_size=_beam_size, initial_prompt=whisper_prompt(prompt),
        vad_filter=False, condition_on_previous_text=False)
    found = [(float(s.start), float(s.end), _JAPANESE_SPACE.sub("", s.text.strip())) for s in segments]
    return [f for f in found if f[2]], time.process_time() - cpu


class SpeechEngine:
    """faster-whisper in one worker process; :meth:`recognise` calls are queued, never run on
    the event loop. ``busy_seconds`` counts the worker's CPU seconds spent recognising."""

    def __init__(self, model_dir: Path, threads: int = 2, beam_size: int = 5) -> None:
        check_model_dir(model_dir)
        self.model_dir = model_dir
        self.threads = threads
        self.beam_size = beam_size
        self.busy_seconds = 0.0
        self.calls = 0
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False

    def _executor(self) -> ProcessPoolExecutor:
        if self._closed:
            raise SpeechModelError("the speech engine is closed")
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                initializer=_load, initargs=(str(self.model_dir), self.threads, self.beam_size))
        return self._pool

    async def recognise(self, samples: np.ndarray, prompt: str = "") -> list[Utterance]:
        """Utterances in ``samples`` (float32 mono at 16 kHz), language Japanese, ``prompt``
        (vocabulary terms joined by spaces) given to Whisper as its initial prompt (see
        :func:`whisper_prompt`)."""
        audio = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
        if len(audio) < SAMPLE_RATE // 10:
            return []
        loop = asyncio.get_running_loop()
        pool = self._executor()
        try:
            found, cpu = await loop.run_in_executor(pool, _transcribe, audio, prompt)
        except BrokenProcessPool:
            if self._pool is pool:  # the worker died (killed, out of memory): the next call starts another
                self._pool = None
                pool.shutdown(wait=False)
            raise
        self.busy_seconds += cpu
        self.calls += 1
        duration = len(audio) / SAMPLE_RATE  # Whisper may place a last segment's end past the audio
        return [Utterance(min(start, duration), min(max(start, end), duration), text) for start, end, text in found]

    async def warm_up(self) -> None:
        """Start the worker and load the model now rather than at the first utterance (not
        counted in ``busy_seconds`` or ``calls``)."""
        busy, calls = self.busy_seconds, self.calls
        await self.recognise(np.zeros(SAMPLE_RATE, dtype=np.float32))
        self.busy_seconds, self.calls = busy, calls

    async def close(self) -> None:
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            shutdown = partial(pool.shutdown, wait=True, cancel_futures=True)
            await asyncio.get_running_loop().run_in_executor(None, shutdown)
