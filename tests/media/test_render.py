"""The publishable video: colour-coded participants in, one MP4 out, checked by decoding it.

Participant A is red, B blue, C green, each with a tone of its own (440, 660, 880 Hz), in
recorder-style WebM segments (one track per file, timestamps on the sitting clock). Every
picture also carries a white "clock" block whose position says the sitting time it was
filmed at, so the output can be checked for showing the right moment, not just the right
person.
"""

from __future__ import annotations

import json
import shutil
import threading
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from gikai.media.archive.render import (
    CaptionFontMissing,
    RenderCancelled,
    RenderPlan,
    canvas,
    captions,
    find_caption_font,
    job,
    render,
    sources_from_manifest,
)

FPS = 15
W, H = 640, 360
COLOURS = {"a": (220, 30, 30), "b": (30, 40, 220), "c": (30, 200, 40)}
TONES = {"a": 440.0, "b": 660.0, "c": 880.0}
SLATE = canvas.SLATE_RGB
CLOCK_ROWS = slice(8, 28)  # where the clock block is
CLOCK_PX_PER_S = 80
PICTURE_ROWS = slice(40, 220)  # above any caption band, below the clock
BAND_ROWS = slice(300, 360)  # inside the caption band when there is one
SECONDS = 8.0
SHOTS = [(0, 2, "a-video"), (2, 4, "b-video"), (4, 5, None), (5, 7, "c-video"), (7, 8, "a-video")]
CUTS = [2, 4, 5, 7]
AUDIO = [(0, 2, "a-audio"), (2, 4, "b-audio"), (5, 7, "c-audio"), (6.5, 8, "a-audio")]
HEARD = [(0.2, 1.8, "a"), (2.2, 3.8, "b"), (4.2, 4.8, ""), (5.2, 6.3, "c"), (6.6, 6.9, "ac"),
         (7.2, 7.8, "a")]  # who is audible when (A speaks over C from 6.5 s)
CAPTIONS = [(0, 3, ["山田 太郎 議員", "議題1 令和8年度一般会計予算"]), (5, 7, ["鈴木 花子 議員"])]


def picture(rgb: tuple[int, int, int], t: float, width: int = W, height: int = H) -> np.ndarray:
    image = np.empty((height, width, 3), dtype=np.uint8)
    image[:] = rgb
    x = int(t * CLOCK_PX_PER_S) % (width - 16)
    image[CLOCK_ROWS, x:x + 16] = 255
    return image


def write_video(path: Path, rgb: tuple[int, int, int], start: float, end: float,
                size: tuple[int, int] = (W, H), origin: float = 0.0) -> None:
    """Frames filmed from ``start`` to ``end``; the file's clock reads 0 at ``origin``."""
    with av.open(str(path), "w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=FPS,
                                      options={"quality": "realtime", "cpu-used": "8"})
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.bit_rate = 400_000
        stream.codec_context.gop_size = 2 * FPS  # keyframes to seek to
        stream.codec_context.time_base = Fraction(1, 1000)
        for i in range(round((end - start) * FPS)):
            t = start + i / FPS
            frame = av.VideoFrame.from_ndarray(picture(rgb, t, *size), format="rgb24")
            frame.pts, frame.time_base = round((t - origin) * 1000), Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def write_audio(path: Path, hz: float, start: float, end: float, origin: float = 0.0) -> None:
    with av.open(str(path), "w", format="webm") as container:
        stream = container.add_stream("libopus", rate=48000, layout="mono")
        stream.bit_rate = 64_000
        for i in range(round((end - start) * 50)):
            n = np.arange(i * 960, (i + 1) * 960)
            tone = (0.3 * np.sin(2 * np.pi * hz * n / 48000)).astype(np.float32)
            frame = av.AudioFrame.from_ndarray(tone[None, :], format="flt", layout="mono")
            frame.sample_rate, frame.time_base = 48000, Fraction(1, 48000)
            frame.pts = round((start - origin) * 48000) + i * 960
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[Path, float, float]]]:
    """Recorder-style folders: <key>/<key>-NNNN.webm; A's camera is in two segments.

    The recorder's files are timed on the sitting clock; the second segments of B's camera and
    A's microphone are timed from 0 instead: the start the plan gives must place both right.
    """
    root = tmp_path_factory.mktemp("sitting")
    whole = [(0.0, SECONDS)]
    spans = {"a-video": [(0.0, 3.6), (3.6, SECONDS)], "b-video": [(0.0, 3.0), (3.0, SECONDS)],
             "c-video": whole,
             "a-audio": [(0.0, 3.6), (3.6, SECONDS)], "b-audio": whole, "c-audio": [(0.0, 4.5), (4.5, SECONDS)]}
    sources = {}
    for key, segments in spans.items():
        who, kind = key.split("-")
        (root / key).mkdir()
        sources[key] = []
        for index, (start, end) in enumerate(segments, 1):
            path = root / key / f"{key}-{index:04d}.webm"
            origin = start if key in ("b-video", "a-audio") else 0.0
            if kind == "video":
                write_video(path, COLOURS[who], start, end, origin=origin)
            else:
                write_audio(path, TONES[who], start, end, origin=origin)
            sources[key].append((path, start, end))
    return sources


def plan(sources, **changes) -> RenderPlan:
    fields = {"duration": SECONDS, "shots": SHOTS, "audio": AUDIO, "captions": CAPTIONS, "sources": sources}
    return RenderPlan(**{**fields, **changes})


def decode(path: Path) -> tuple[dict, list[np.ndarray], np.ndarray]:
    """The output's stream facts, every picture as RGB, and the audio as 48 kHz mono."""
    with av.open(str(path)) as container:
        v, a = container.streams.video[0], container.streams.audio[0]
        facts = {"video": v.codec_context.name, "audio": a.codec_context.name,
                 "size": (v.codec_context.width, v.codec_context.height),
                 "duration": container.duration / 1e6, "rate": a.codec_context.sample_rate}
        pictures = [f.to_ndarray(format="rgb24") for f in container.decode(v)]
    resampler = av.AudioResampler(format="flt", layout="mono", rate=48000)
    samples = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            samples += [f.to_ndarray()[0] for f in resampler.resample(frame)]
    return facts, pictures, np.concatenate(samples)


def nearest(rgb: np.ndarray) -> str:
    """Whose colour this is, or "other" when it is none of them (coding error is < 15)."""
    palette = {**{k + "-video": v for k, v in COLOURS.items()}, "slate": SLATE}
    best = min(palette, key=lambda k: float(np.sum((rgb - np.array(palette[k])) ** 2)))
    return best if np.abs(rgb - np.array(palette[best])).max() < 25 else "other"


def planned(t: float, shots=SHOTS) -> str:
    return next((key or "slate" for s, e, key in shots if s <= t < e), "slate")


def away_from_cuts(frames: int, cuts: list[float]) -> list[int]:
    return [i for i in range(frames) if all(abs(i / FPS - c) > 1.01 / FPS for c in cuts)]


def peak_hz(samples: np.ndarray, t0: float, t1: float) -> tuple[float, np.ndarray, np.ndarray]:
    window = samples[int(t0 * 48000):int(t1 * 48000)]
    spectrum = np.abs(np.fft.rfft(window * np.hanning(len(window))))
    hz = np.fft.rfftfreq(len(window), 1 / 48000)
    return float(hz[np.argmax(spectrum)]), spectrum, hz


@pytest.fixture(scope="module")
def rendered(clips, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "sitting.mp4"
    calls: list[float] = []
    result = render(plan(clips), out, progress=calls.append)
    return result, calls, decode(out)


def test_output_is_h264_and_aac_of_the_planned_duration(rendered):
    result, _, (facts, pictures, samples) = rendered
    assert (facts["video"], facts["audio"], facts["size"], facts["rate"]) == ("h264", "aac", (W, H), 48000)
    assert len(pictures) == result.frames == SECONDS * FPS
    assert facts["duration"] == pytest.approx(SECONDS, abs=1 / FPS)
    assert len(samples) / 48000 == pytest.approx(SECONDS, abs=1 / FPS)
    assert result.problems == ()
    assert not result.path.with_name(result.path.name + ".part").exists()


def test_picture_follows_the_planned_shots_and_the_slate_fills_the_gap(rendered):
    _, _, (_, pictures, _) = rendered
    checked = away_from_cuts(len(pictures), CUTS)
    seen = {i: nearest(pictures[i][PICTURE_ROWS].reshape(-1, 3).mean(axis=0)) for i in checked}
    wrong = {i / FPS: (seen[i], planned(i / FPS)) for i in checked if seen[i] != planned(i / FPS)}
    assert not wrong, f"time: (shown, planned) {wrong}"
    assert {"a-video", "b-video", "c-video", "slate"} <= set(seen.values())


def test_each_picture_is_the_one_filmed_at_that_moment(rendered):
    """The clock block's position gives the source time: it matches the output time."""
    _, _, (_, pictures, _) = rendered
    for i in away_from_cuts(len(pictures), CUTS):
        if planned(i / FPS) == "slate":
            continue
        row = pictures[i][CLOCK_ROWS].min(axis=2).mean(axis=0)  # white: all channels high
        x = float(np.argmax(np.convolve(row, np.ones(16), "valid")))
        assert x == pytest.approx(int(i / FPS * CLOCK_PX_PER_S) % (W - 16), abs=4), f"at {i / FPS:.3f} s"


def test_caption_band_appears_only_while_a_caption_is_planned(rendered):
    _, _, (_, pictures, _) = rendered
    for i in away_from_cuts(len(pictures), [*CUTS, 3]):
        t = i / FPS
        band = pictures[i][BAND_ROWS]
        text_pixels = int(np.count_nonzero(band.min(axis=2) > 200))
        captioned = any(s <= t < e for s, e, _ in CAPTIONS)
        if captioned:
            assert text_pixels > 150, f"no caption text at {t:.2f} s"
            assert band.mean() < pictures[i][PICTURE_ROWS].mean(), f"band not darkened at {t:.2f} s"
        else:
            assert text_pixels == 0, f"caption pixels at {t:.2f} s where none is planned"
            assert nearest(band.reshape(-1, 3).mean(axis=0)) == planned(t)


def test_audio_carries_the_audible_speakers_tones_and_nothing_else(rendered):
    _, _, (_, _, samples) = rendered
    for start, end, audible in HEARD:
        window = samples[int(start * 48000):int(end * 48000)]
        loudness = float(np.sqrt(np.mean(window ** 2)))
        if not audible:
            assert loudness < 0.005, f"sound from {start} s where nobody is audible"
            continue
        assert loudness > 0.1, f"silence from {start} s"
        _, spectrum, freqs = peak_hz(samples, start, end)
        level = {who: spectrum[np.abs(freqs - hz) < 5].max() for who, hz in TONES.items()}
        loudest = max(level.values())
        for who in TONES:
            if who in audible:
                assert level[who] > 0.5 * loudest, f"{who} not heard from {start} s"
            else:
                assert level[who] < 0.02 * loudest, f"{who} heard from {start} s"


def test_progress_rises_to_one_a_few_times_a_second(rendered):
    result, calls, _ = rendered
    assert calls and calls[-1] == 1.0
    assert calls == sorted(calls) and all(0 <= c <= 1 for c in calls)
    assert len(calls) <= 2 + result.seconds / job.PROGRESS_INTERVAL


def test_cancel_stops_promptly_and_leaves_no_file(clips, tmp_path, monkeypatch):
    monkeypatch.setattr(job, "PROGRESS_INTERVAL", 0.0)
    cancel = threading.Event()
    calls: list[float] = []

    def progress(fraction: float) -> None:
        calls.append(fraction)
        if fraction >= 0.3:
            cancel.set()

    out = tmp_path / "cancelled.mp4"
    with pytest.raises(RenderCancelled):
        render(plan(clips), out, progress=progress, cancel=cancel)
    assert list(tmp_path.iterdir()) == []
    assert max(calls) < 0.32  # the next frame saw the event


def test_missing_or_corrupt_sources_show_the_slate_and_are_reported(clips, tmp_path):
    garbage = tmp_path / "c-video-0001.webm"
    garbage.write_bytes(np.random.default_rng(1).bytes(50_000))
    broken_audio = tmp_path / "c-audio-0001.webm"
    broken_audio.write_bytes(b"\x1aE\xdf\xa3" + bytes(4000))  # a WebM header and nothing
    sources = {**clips, "b-video": [(tmp_path / "gone.webm", 0.0, SECONDS)],
               "c-video": [(garbage, 0.0, SECONDS)], "c-audio": [(broken_audio, 0.0, SECONDS)]}
    result = render(plan(sources), tmp_path / "out.mp4")
    _, pictures, samples = decode(result.path)
    for t in (1.0, 3.0, 4.5, 6.0, 7.5):
        expected = "a-video" if t < 2 or t > 7 else "slate"
        assert nearest(pictures[round(t * FPS)][PICTURE_ROWS].reshape(-1, 3).mean(axis=0)) == expected
    assert peak_hz(samples, 2.2, 3.8)[0] == pytest.approx(660, abs=5)  # B's microphone is fine
    assert np.sqrt(np.mean(samples[int(5.2 * 48000):int(6.4 * 48000)] ** 2)) < 0.005
    reported = {(p.key, p.path) for p in result.problems}
    assert reported == {("b-video", tmp_path / "gone.webm"), ("c-video", garbage),
                        ("c-audio", broken_audio)}, [str(p) for p in result.problems]


def test_other_shapes_are_letterboxed_and_frames_held_over_short_gaps(tmp_path):
    path = tmp_path / "d-video-0001.webm"
    write_video(path, (230, 220, 30), 0.0, 1.0, size=(320, 240))
    result = render(RenderPlan(duration=2.6, shots=[(0, 2.6, "d")], sources={"d": [(path, 0.0, 2.6)]}),
                    tmp_path / "d.mp4")
    _, pictures, _ = decode(result.path)
    bar = (W - H * 4 // 3) // 2  # 80 px black each side
    for i in (7, 20):  # inside the clip, and held 0.4 s after its last frame
        middle = pictures[i][PICTURE_ROWS, bar + 10:W - bar - 10].reshape(-1, 3).mean(axis=0)
        assert np.abs(middle - (230, 220, 30)).max() < 20
        assert pictures[i][:, :bar - 2].max() < 30 and pictures[i][:, W - bar + 2:].max() < 30
    assert nearest(pictures[36][PICTURE_ROWS].reshape(-1, 3).mean(axis=0)) == "slate"  # 1.4 s after


def test_captions_need_a_japanese_font_and_say_so_before_any_work(clips, tmp_path, monkeypatch):
    assert find_caption_font().exists()
    monkeypatch.setenv(captions.FONT_ENV, str(tmp_path / "none.ttf"))
    monkeypatch.setattr(captions, "FONT_CANDIDATES", ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",))
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(CaptionFontMissing, match="fonts-ipafont-gothic"):
        render(plan(clips), tmp_path / "x.mp4")
    assert list(tmp_path.iterdir()) == []
    render(plan(clips, captions=[], duration=1.0), tmp_path / "plain.mp4")  # no captions: no font


def test_sources_come_from_the_recorders_manifest(clips, tmp_path):
    folder = clips["a-video"][0][0].parent
    lines = [json.dumps({"path": p.name, "start": s, "end": e, "kind": "video"}) for p, s, e in clips["a-video"]]
    (folder / "manifest.jsonl").write_text("\n".join(lines[::-1]) + "\n{torn")
    assert sources_from_manifest(folder) == [(p, s, e) for p, s, e in clips["a-video"]]


def test_plans_with_overlapping_or_backward_spans_are_refused():
    with pytest.raises(ValueError, match="overlap"):
        RenderPlan(duration=5, shots=[(0, 3, "a"), (2, 4, "b")])
    with pytest.raises(ValueError, match="end before"):
        RenderPlan(duration=5, captions=[(3, 2, ["x"])])
    assert RenderPlan(duration=5, captions=[(3, 3, ["x"])], shots=[(1, 1, "a")]).captions == []
