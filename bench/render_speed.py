"""How fast the publishable video renders (media/archive/render/), against real time.

Three participants' cameras and microphones, generated once as recorder-style segment files
(WebM, one track per file, timestamps on the sitting clock, 25 s segments): 640x360 VP8 at
15 fps and ~600 kbit/s of moving content (a drifting colour gradient, a shifting noise
texture and a moving disc, so VP8 has real work), Opus at 48 kHz (a tone plus noise). The
plan follows a sitting: the floor moves A -> B -> C every 8 s with a 2 s slate (recess) after
every third speech, the speaker and the chair (A) audible, a two-line Japanese caption per
speech. The render is timed (wall, and this process's CPU, user + system, all threads) and
its output checked (frames, duration, codecs).

Run: ``python3 bench/render_speed.py`` (60 s of sitting) or ``--quick`` (20 s). The clips
are cached in ``--clips`` (default /tmp/gikai-render-bench); generating them takes longer
than rendering. Numbers: bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gikai.media.archive.render import RenderPlan, SourceFile, render

W, H, FPS = 640, 360, 15
SEGMENT = 25.0
WHO = {"a": ("議長 山田 太郎", 220.0), "b": ("佐藤 花子 議員", 330.0), "c": ("鈴木 一郎 議員", 440.0)}


def camera(seed: int, seconds: float) -> iter[np.ndarray]:
    """Moving RGB pictures: a drifting gradient, a noise texture sliding by, a moving disc."""
    rng = np.random.default_rng(seed)
    texture = rng.integers(0, 60, (H, W * 2), dtype=np.uint8)
    ys, xs = np.mgrid[0:H, 0:W]
    hue = rng.uniform(0, 2 * np.pi, 3)
    for i in range(round(seconds * FPS)):
        t = i / FPS
        image = np.empty((H, W, 3), dtype=np.uint8)
        shift = int(t * 40) % W
        noise = texture[:, shift:shift + W]
        for ch in range(3):
            wave = 110 + 70 * np.sin(xs / 90 + ys / 140 + t * 0.8 + hue[ch])
            image[..., ch] = np.clip(wave + noise, 0, 255)
        cx, cy = W / 2 + 200 * np.sin(t * 0.7 + seed), H / 2 + 100 * np.cos(t * 0.9)
        image[(xs - cx) ** 2 + (ys - cy) ** 2 < 45 ** 2] = (240, 240, 240)
        yield image


def write_video(folder: Path, key: str, seed: int, seconds: float) -> list[SourceFile]:
    files, frames = [], camera(seed, seconds)
    for index, start in enumerate(np.arange(0, seconds, SEGMENT), 1):
        end = min(seconds, start + SEGMENT)
        path = folder / key / f"{key}-{index:04d}.webm"
        path.parent.mkdir(parents=True, exist_ok=True)
        with av.open(str(path), "w", format="webm") as container:
            stream = container.add_stream("libvpx", rate=FPS, options={"quality": "realtime", "cpu-used": "8"})
            stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
            stream.bit_rate = 600_000
            stream.codec_context.time_base = Fraction(1, 1000)
            for i in range(round(start * FPS), round(end * FPS)):
                frame = av.VideoFrame.from_ndarray(next(frames), format="rgb24")
                frame.pts, frame.time_base = round(i * 1000 / FPS), Fraction(1, 1000)
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
        files.append(SourceFile(path, float(start), float(end)))
    return files


def write_audio(folder: Path, key: str, hz: float, seconds: float) -> list[SourceFile]:
    rng = np.random.default_rng(int(hz))
    files = []
    for index, start in enumerate(np.arange(0, seconds, SEGMENT), 1):
        end = min(seconds, start + SEGMENT)
        path = folder / key / f"{key}-{index:04d}.webm"
        path.parent.mkdir(parents=True, exist_ok=True)
        with av.open(str(path), "w", format="webm") as container:
            stream = container.add_stream("libopus", rate=48000, layout="mono")
            stream.bit_rate = 32_000
            for j in range(round(start * 50), round(end * 50)):
                n = np.arange(j * 960, (j + 1) * 960)
                pcm = 0.2 * np.sin(2 * np.pi * hz * n / 48000) + 0.02 * rng.standard_normal(960)
                frame = av.AudioFrame.from_ndarray(pcm.astype(np.float32)[None, :], format="flt", layout="mono")
                frame.sample_rate, frame.time_base, frame.pts = 48000, Fraction(1, 48000), j * 960
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
        files.append(SourceFile(path, float(start), float(end)))
    return files


def clips(folder: Path, seconds: float) -> dict[str, list[SourceFile]]:
    folder = folder / f"{seconds:g}s"
    done = folder / "done"
    sources: dict[str, list[SourceFile]] = {}
    began = time.monotonic()
    for seed, (who, (_, hz)) in enumerate(WHO.items()):
        if done.exists():
            sources[f"{who}-video"] = _listed(folder / f"{who}-video", seconds)
            sources[f"{who}-audio"] = _listed(folder / f"{who}-audio", seconds)
        else:
            sources[f"{who}-video"] = write_video(folder, f"{who}-video", seed, seconds)
            sources[f"{who}-audio"] = write_audio(folder, f"{who}-audio", hz, seconds)
    if not done.exists():
        done.touch()
        print(f"generated clips in {folder} in {time.monotonic() - began:.1f} s")
    return sources


def _listed(folder: Path, seconds: float) -> list[SourceFile]:
    paths = sorted(folder.glob("*.webm"))
    return [SourceFile(p, i * SEGMENT, min(seconds, (i + 1) * SEGMENT)) for i, p in enumerate(paths)]


def sitting(seconds: float, sources: dict[str, list[SourceFile]]) -> RenderPlan:
    shots, audio, captions = [], [], []
    t, turn, order = 0.0, 0, list(WHO)
    while t < seconds:
        who = order[turn % 3]
        end = min(seconds, t + 8)
        shots.append((t, end, f"{who}-video"))
        audio.append((t, end, f"{who}-audio"))
        captions.append((t, end, [WHO[who][0], f"議題{turn // 3 + 1} 令和8年度一般会計補正予算(第{turn + 1}号)"]))
        t, turn = end, turn + 1
        if turn % 3 == 0 and t < seconds:  # a short recess: the slate
            end = min(seconds, t + 2)
            shots.append((t, end, None))
            captions.append((t, end, ["休憩中", "本会議"]))
            t = end
    chair = [(a, b, "a-audio") for a, b, key in audio if key != "a-audio"]
    return RenderPlan(seconds, shots, audio + chair, captions, sources)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the sitting (60)")
    parser.add_argument("--quick", action="store_true", help="20 s of sitting")
    parser.add_argument("--clips", type=Path, default=Path("/tmp/gikai-render-bench"))
    parser.add_argument("--out", type=Path, default=Path("/tmp/gikai-render-bench/sitting.mp4"))
    args = parser.parse_args()
    seconds = 20.0 if args.quick else args.seconds
    plan = sitting(seconds, clips(args.clips, seconds))
    load_before = os.getloadavg()[0]
    wall, cpu = time.monotonic(), cpu_seconds()
    result = render(plan, args.out)
    wall, cpu = time.monotonic() - wall, cpu_seconds() - cpu
    with av.open(str(args.out)) as container:
        v, a = container.streams.video[0], container.streams.audio[0]
        codecs = f"{v.codec_context.name}/{a.codec_context.name}"
        length = container.duration / 1e6
    print(f"rendered {seconds:g} s of sitting, {W}x{H} {FPS} fps, 3 participants, {len(plan.shots)} shots, "
          f"{len(plan.captions)} captions")
    print(f"output  {args.out} {codecs} {length:.2f} s, {result.frames} frames, "
          f"{args.out.stat().st_size / 1e6:.1f} MB ({args.out.stat().st_size * 8 / length / 1e3:.0f} kbit/s)")
    print(f"wall    {wall:.2f} s   speed {seconds / wall:.2f}x real time")
    print(f"cpu     {cpu:.2f} s   {100 * cpu / wall:.0f}% of one core ({cpu / seconds * 100:.0f}% of one core "
          f"per second of sitting); load average {load_before:.1f} -> {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores")
    if result.problems:
        print("problems:", *map(str, result.problems), sep="\n  ")


if __name__ == "__main__":
    main()
