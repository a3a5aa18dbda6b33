"""Japanese speech recognition: synthesised council sentences recognised by the Whisper base model,
live captions of a real aiortc publisher through the SFU, and the draft of a recorded speech.

The CER bounds are what this model does on these sentences (measured: 0.14 without and 0.07 with
the vocabulary prompt, see bench/asr_cost.py) with head-room for another CPU's rounding.
"""

from __future__ import annotations

import asyncio
import fractions
import itertools
import time
from pathlib import Path

import av
import numpy as np
import pytest

pytest.importorskip("faster_whisper")  # the optional extra gikai[speech]

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from gikai.media import SFU, Recorder
from gikai.media.analysis.speech import (
    SAMPLE_RATE,
    Caption,
    LiveCaptions,
    SpeechEngine,
    SpeechModelError,
    Utterance,
    check_model_dir,
    draft,
    installed_model_dir,
    speech_samples,
)
from gikai.media.analysis.speech import live as live_module
from gikai.media.analysis.speech import model as model_module
from gikai.media.analysis.speech.recorded import speech_pieces
from gikai.media.analysis.speech.vad import Segmenter
from gikai.media.archive.render.plan import SourceFile
from gikai.media.errors import MediaError
from gikai.media.sfu.frames import AUDIO_TIME_BASE, EncodedFrame
from tests.support.client import MediaClient
from tests.support.room import join
from tests.support.scenes import encode_audio
from tests.support.speech import COUNCIL_SENTENCES, COUNCIL_VOCABULARY, cer, japanese_speech, read_wav
from tests.support.waiting import eventually

PROMPT = " ".join(COUNCIL_VOCABULARY)
MEAN_CER_PLAIN = 0.25  # mean over the seven sentences without a prompt (measured 0.14)
MEAN_CER_PROMPTED = 0.15  # with the vocabulary (measured 0.07)
CAPTION_CER = 0.25  # one live sentence, with the vocabulary
RECOGNITION_BOUND = 90.0  # seconds: model start-up and a queue of utterances on a busy 2-core machine


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    found = installed_model_dir(tmp_path_factory.mktemp("speech-cache"))
    assert found is not None, "gikai[speech] is installed (faster_whisper is) but its model packages are not"
    return found


@pytest.fixture(scope="module")
def engine(model_dir: Path):
    engine = SpeechEngine(model_dir)
    yield engine
    asyncio.run(engine.close())  # the worker process belongs to no event loop


def speech_16k(text: str) -> np.ndarray:
    return read_wav(japanese_speech(text), SAMPLE_RATE)


class SpokenTrack(MediaStreamTrack):
    """A microphone that is silent for ``lead`` seconds, says ``text`` once, then stays silent
    (a quiet room). aiortc encodes it as Opus, as a browser would."""

    kind = "audio"

    def __init__(self, text: str | None, lead: float = 1.0) -> None:
        super().__init__()
        speech = read_wav(japanese_speech(text), 48000) if text else np.zeros(0, dtype=np.float32)
        lead_samples = int(lead * 48000)
        self.pcm = np.concatenate((np.zeros(lead_samples, np.float32), speech))
        self.speech_span = (lead_samples / 48000, len(self.pcm) / 48000)  # seconds from the first frame
        self.started: float | None = None  # time.time() of the first frame
        self._count = 0
        self._noise = np.random.default_rng(3)

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self.started is None:
            self.started = time.time()
        delay = self.started + self._count * 0.02 - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        s0 = self._count * 960
        chunk = self.pcm[s0:s0 + 960]
        chunk = np.concatenate((chunk, self._noise.normal(0, 3e-5, 960 - len(chunk)).astype(np.float32)))
        frame = av.AudioFrame.from_ndarray((chunk * 32767).astype(np.int16).reshape(1, -1), format="s16",
                                           layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = 48000, s0, fractions.Fraction(1, 48000)
        self._count += 1
        return frame

    def request_keyframe(self) -> None:  # the test client wires it to the sender's PLI handling
        pass

    def speech_over(self) -> bool:
        return self.started is not None and self._count * 0.02 > self.speech_span[1] + 1.0


def test_the_installed_model_is_joined_checked_and_other_folders_are_refused(model_dir: Path, tmp_path: Path):
    check_model_dir(model_dir)
    assert installed_model_dir(model_dir.parent) == model_dir  # joined once: found again as it is
    assert not [p for p in model_dir.parent.iterdir() if p.name.startswith(".")], "no temporary folder left"
    with pytest.raises(SpeechModelError, match="does not exist"):
        check_model_dir(tmp_path / "nothing")
    (tmp_path / "model.bin").write_bytes(b"\0" * (2 << 20))
    with pytest.raises(SpeechModelError, match=r"tokenizer\.json"):
        check_model_dir(tmp_path)
    for name in ("tokenizer.json", "vocabulary.json"):
        (tmp_path / name).write_text("{}")
    (tmp_path / "config.json").write_text('{"architecture": "llama"}')
    with pytest.raises(SpeechModelError, match="not a CTranslate2 Whisper configuration") as raised:
        check_model_dir(tmp_path)
    assert isinstance(raised.value, MediaError) and raised.value.code == "speech_model_invalid"


def test_no_model_without_the_packages_and_none_from_damaged_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    real_data_dir = model_module._data_dir
    with monkeypatch.context() as patched:
        patched.setattr(model_module, "_data_dir", lambda package: None)
        assert installed_model_dir(tmp_path / "absent") is None
        assert not (tmp_path / "absent").exists()
    monkeypatch.setattr(model_module, "MODEL_SHA256", "0" * 64)
    assert real_data_dir(model_module.PACKAGES[0]) is not None
    with pytest.raises(SpeechModelError, match="sha256"):
        installed_model_dir(tmp_path / "damaged")
    assert list((tmp_path / "damaged").iterdir()) == [], "neither a model nor a temporary folder is left"


async def test_council_sentences_are_recognised_and_the_vocabulary_lowers_the_error(engine: SpeechEngine):
    plain, prompted, texts = [], [], []
    for sentence in COUNCIL_SENTENCES:
        samples = speech_16k(sentence)
        for prompt, scores in (("", plain), (PROMPT, prompted)):
            utterances = await engine.recognise(samples, prompt)
            assert all(isinstance(u, Utterance) and u.text == u.text.strip() and u.text for u in utterances)
            assert all(0 <= u.start <= u.end <= len(samples) / SAMPLE_RATE for u in utterances)
            scores.append(cer(sentence, "".join(u.text for u in utterances)))
            if prompt:
                texts.append("".join(u.text for u in utterances))
    mean_plain, mean_prompted = float(np.mean(plain)), float(np.mean(prompted))
    assert mean_plain <= MEAN_CER_PLAIN, plain
    assert mean_prompted <= MEAN_CER_PROMPTED, prompted
    assert mean_prompted < mean_plain, (plain, prompted)
    # Whisper writes in the prompt's style: Japanese, punctuated, without spaces between words.
    assert sum(t.endswith("。") for t in texts) >= 5 and not [t for t in texts if " " in t], texts
    assert engine.busy_seconds > 0


def test_the_detector_drops_blips_and_silence_and_cuts_long_speech():
    silence = np.random.default_rng(1).normal(0, 3e-5, SAMPLE_RATE * 3).astype(np.float32)
    quiet = Segmenter()
    assert quiet.feed(silence) + quiet.flush() == []
    sentence = speech_16k(COUNCIL_SENTENCES[0])
    voiced = int(np.argmax(np.abs(sentence) > 0.05))
    blip = Segmenter()
    assert blip.feed(np.concatenate((silence, sentence[voiced:voiced + SAMPLE_RATE // 5], silence))) == []
    assert blip.flush() == []
    once = Segmenter()
    (segment,) = once.feed(np.concatenate((silence, sentence, silence)))
    assert abs(segment.start / SAMPLE_RATE - 3.0 - voiced / SAMPLE_RATE) < 0.35
    long_speech = np.concatenate([speech_16k(s) for s in COUNCIL_SENTENCES[:5]])  # ~17 s without a pause
    cut = Segmenter(max_length=12.0)
    segments = cut.feed(long_speech) + cut.flush()
    assert len(segments) >= 2 and all(len(s.samples) <= 12.0 * SAMPLE_RATE for s in segments)


def test_a_long_speech_is_cut_at_pauses_into_pieces_of_at_most_30_seconds():
    pause = np.zeros(int(0.8 * SAMPLE_RATE), dtype=np.float32)
    speech = np.concatenate([np.concatenate((speech_16k(s), pause)) for s in COUNCIL_SENTENCES * 2])
    pieces = speech_pieces(speech)
    assert len(pieces) >= len(speech) / SAMPLE_RATE / 30
    assert all(0 < b - a <= 30 * SAMPLE_RATE for a, b in pieces)
    assert all(b0 <= a1 for (_, b0), (a1, _) in itertools.pairwise(pieces))
    silent = np.abs(speech) < 0.01
    assert all(silent[b - 1] for _, b in pieces[:-1]), "each piece ends in a pause, not in a word"


async def test_a_watched_publisher_is_captioned_and_unwatched_or_silent_ones_are_not(engine: SpeechEngine):
    sentence = COUNCIL_SENTENCES[1]
    captions: list[Caption] = []
    sfu = SFU()
    room = sfu.room("captions")
    captioner = LiveCaptions(engine, captions.append, lambda: PROMPT)
    tracks = {"chair": SpokenTrack(sentence), "member": SpokenTrack(COUNCIL_SENTENCES[0]), "quiet": SpokenTrack(None)}
    clients = {name: MediaClient(name, audio=track) for name, track in tracks.items()}  # type: ignore[arg-type]
    heard: dict[str, int] = dict.fromkeys(clients, 0)
    try:
        await engine.warm_up()
        for name, client in clients.items():
            join(room, name, client)
            up = room.peers[name].ups["audio"]
            up.listeners.append(lambda frame, name=name: heard.__setitem__(name, heard[name] + 1))
        for name in ("chair", "quiet"):
            captioner.watch(name, room.peers[name].ups["audio"])
            captioner.watch(name, room.peers[name].ups["audio"])  # idempotent
        assert captioner.watching() == {"chair", "quiet"}
        assert len(room.peers["chair"].ups["audio"].listeners) == 2  # ours and the test's counter

        (caption,) = await eventually(lambda: captions, bound=RECOGNITION_BOUND, seen=lambda: captions)
        assert caption.peer_id == "chair" and caption.automatic
        assert cer(sentence, caption.text) <= CAPTION_CER, caption.text
        chair = tracks["chair"]
        assert chair.started is not None
        spoken_from, spoken_to = (chair.started + t for t in chair.speech_span)
        assert abs(caption.started_at - spoken_from) < 1.5 and abs(caption.ended_at - spoken_to) < 1.5, (
            caption, spoken_from, spoken_to)

        # Everyone's speech is over and every microphone kept sending: still only the chair's caption.
        await eventually(lambda: all(t.speech_over() for t in tracks.values()), bound=RECOGNITION_BOUND)
        sent = dict(heard)
        await eventually(lambda: all(heard[n] > sent[n] + 50 for n in heard), message="a second more of audio")
        await eventually(lambda: engine.calls >= 1 and not captioner._streams["chair"].waiting)
        assert [c.peer_id for c in captions] == ["chair"], captions

        captioner.unwatch("chair")
        captioner.unwatch("chair")
        assert captioner.watching() == {"quiet"}
        assert len(room.peers["chair"].ups["audio"].listeners) == 1
    finally:
        await captioner.close()
        assert captioner.watching() == set()
        await sfu.close()
        for client in clients.values():
            await client.close()


class _SlowEngine:
    """Recognises nothing until released; counts what it was given."""

    def __init__(self) -> None:
        self.given: list[int] = []
        self.release = asyncio.Event()

    async def recognise(self, samples: np.ndarray, prompt: str = "") -> list[Utterance]:
        self.given.append(len(samples))
        await self.release.wait()
        return [Utterance(0.0, len(samples) / SAMPLE_RATE, f"{len(samples)}")]


class _EchoEngine:
    async def recognise(self, samples: np.ndarray, prompt: str = "") -> list[Utterance]:
        return [Utterance(0.0, len(samples) / SAMPLE_RATE, "発言")]


async def test_a_microphone_that_stops_sending_mid_sentence_ends_its_utterance():
    captions: list[Caption] = []
    captioner = LiveCaptions(_EchoEngine(), captions.append, lambda: "")  # type: ignore[arg-type]
    up = _Up()
    captioner.watch("chair", up)
    sentence = (read_wav(japanese_speech(COUNCIL_SENTENCES[1]), 48000) * 32767).astype(np.int16)
    for i, packet in enumerate(encode_audio(sentence[: 48000 * 2])):  # cut off after two seconds of speech
        up.listeners[0](EncodedFrame(packet, i * 960, AUDIO_TIME_BASE, True))
    stopped = time.time()
    (caption,) = await eventually(lambda: captions)
    assert caption.text == "発言" and abs(caption.ended_at - stopped) < 0.2
    await captioner.close()
    assert up.listeners == []


class _Up:
    def __init__(self) -> None:
        self.listeners: list = []


async def test_a_behind_engine_keeps_one_in_flight_and_a_few_waiting_dropping_the_oldest():
    slow = _SlowEngine()
    captions: list[Caption] = []
    captioner = LiveCaptions(slow, captions.append, lambda: "")  # type: ignore[arg-type]
    up = _Up()
    captioner.watch("chair", up)
    sentence = (read_wav(japanese_speech(COUNCIL_SENTENCES[5]), 48000) * 32767).astype(np.int16)
    pause = np.zeros(48000, dtype=np.int16)
    packets = encode_audio(np.tile(np.concatenate((sentence, pause)), 6))  # six utterances
    for i, packet in enumerate(packets):
        up.listeners[0](EncodedFrame(packet, i * 960, AUDIO_TIME_BASE, True))
        if i % 50 == 0:
            await asyncio.sleep(0)
    await eventually(lambda: len(slow.given) == 1)
    stream = captioner._streams["chair"]
    assert len(stream.waiting) == live_module.MAX_WAITING and captioner.dropped == 6 - 1 - live_module.MAX_WAITING
    slow.release.set()
    await eventually(lambda: len(captions) == 1 + live_module.MAX_WAITING)
    assert len(slow.given) == 1 + live_module.MAX_WAITING
    captioner.unwatch("chair")
    assert up.listeners == []
    await captioner.close()


async def test_a_recorded_speech_gives_its_samples_and_its_draft(engine: SpeechEngine, tmp_path: Path):
    sentence = COUNCIL_SENTENCES[1]
    sfu = SFU()
    room = sfu.room("recorded")
    track = SpokenTrack(sentence, lead=1.5)
    client = MediaClient("chair", audio=track)  # type: ignore[arg-type]
    origin = time.monotonic()
    wall_origin = time.time()
    recorder = Recorder(tmp_path, origin, segment_seconds=2.0)
    try:
        join(room, "chair", client)
        recorder.add_track("chair-audio", "audio", room.peers["chair"].ups["audio"])
        await eventually(lambda: track.speech_over(), bound=RECOGNITION_BOUND)
        await recorder.stop()
    finally:
        await sfu.close()
        await client.close()
    files = sorted(SourceFile(i.path, i.start, i.end) for i in recorder.segments if i.key == "chair-audio")
    assert files, "the microphone was recorded"
    end = files[-1].end
    samples = speech_samples(files, 0.0, end)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(len(samples) - end * SAMPLE_RATE) <= 1
    assert track.started is not None
    spoken_from = track.started - wall_origin + track.speech_span[0]  # on the sitting clock
    loud = np.flatnonzero(np.abs(samples) > 0.05)
    assert abs(loud[0] / SAMPLE_RATE - spoken_from) < 1.0  # arrival on a busy machine

    utterances = await draft(engine, samples, PROMPT)
    assert cer(sentence, "".join(u.text for u in utterances)) <= CAPTION_CER, utterances
    assert abs(utterances[0].start - spoken_from) < 1.5 and utterances[-1].end <= end + 0.1
    assert speech_samples(files, 3.0, 2.0).size == 0
