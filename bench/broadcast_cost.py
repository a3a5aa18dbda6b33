#!/usr/bin/env python3
"""What the public broadcast costs, and how late it is: gikai's encoder process against a plain
PyAV transcode of the same frames, in the same run.

A publisher in this process films 640x360 at 15 fps (a moving gradient, so the encoder has
work, with the frame's number written as 16 black-or-white blocks along the top) and encodes it
live to VP8, with a 440 Hz tone as 20 ms Opus packets. Each frame's capture time is kept.

- **gikai**: the frames go through up-tracks into ``LiveBroadcast`` (taps, the pipe, the encoding
  process: VP8 and Opus decoded, the picture composed with its caption band, the sound mixed,
  H.264 + AAC encoded on its own clock into HLS, one-second fMP4 segments).
- **baseline**: the same packets through the same kind of pipe into a process that only decodes
  and re-encodes them with the same codec settings into the same HLS muxer, frame by frame as
  they come (what ``ffmpeg -i … -c:v libx264 -preset ultrafast -tune zerolatency -f hls`` does):
  no caption, no mixing, no clock of its own.

For each: the encoding process's CPU over the measured window (% of one core), and for every
segment as soon as it is listed in the playlist (polled every 20 ms) the delay from the capture
of its newest frame, read back from the decoded blocks, to the listing: the least a player
could be behind the chamber (a player adds its own buffer, typically three segments).
Ratios are gikai / baseline. Run from the repository root:
``python3 bench/broadcast_cost.py`` (``--quick``: 12 s windows).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
if str(BENCH.parent) not in sys.path:
    sys.path.insert(0, str(BENCH.parent))

import av
import numpy as np
import psutil

W, H, FPS = 640, 360, 15
BITS = 16
TARGET = 35.0  # % of one core (issue 19)


# -- the publisher --------------------------------------------------------------------------
class Camera:
    """Films and encodes to VP8 live: frame n shows n in blocks; ``captured[n]`` its time."""

    def __init__(self) -> None:
        codec = av.CodecContext.create("libvpx", "w")
        codec.width, codec.height, codec.pix_fmt = W, H, "yuv420p"
        codec.time_base, codec.framerate = Fraction(1, FPS), Fraction(FPS, 1)
        codec.bit_rate, codec.gop_size = 600_000, 3 * FPS
        codec.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
        self.codec = codec
        y, x = np.mgrid[0:H, 0:W]
        self.y, self.x = y, x
        self.captured: dict[int, float] = {}
        self.n = 0

    def film(self) -> list[tuple[bytes, bool]]:
        n = self.n
        self.n += 1
        img = np.empty((H, W, 3), dtype=np.uint8)
        img[..., 0] = (self.x + n * 7) % 256
        img[..., 1] = (self.y + n * 3) % 256
        img[..., 2] = 120
        img[40:80] = 0
        for bit in range(BITS):
            if n >> bit & 1:
                img[44:76, 40 * bit + 4:40 * bit + 36] = 255
        frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
        frame.pts = n
        self.captured[n] = time.monotonic()
        return [(bytes(p), bool(p.is_keyframe)) for p in self.codec.encode(frame)]


def frame_number(image: np.ndarray) -> int:
    row = image[60]
    return sum(1 << bit for bit in range(BITS) if row[40 * bit + 20:40 * bit + 21].mean() > 128)


def tone_packets() -> list[bytes]:
    codec = av.CodecContext.create("libopus", "w")
    codec.sample_rate, codec.layout, codec.format, codec.bit_rate = 48000, "stereo", "s16", 64000
    codec.time_base = Fraction(1, 48000)
    out = []
    for i in range(100):
        n = np.arange(i * 960, (i + 1) * 960)
        pcm = (np.sin(2 * np.pi * 440 * n / 48000) * 8000).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(np.repeat(pcm, 2).reshape(1, -1), format="s16", layout="stereo")
        frame.sample_rate, frame.pts = 48000, i * 960
        out += [bytes(p) for p in codec.encode(frame)]
    return out


async def publish(seconds: float, video: Any, audio: Any, camera: Camera) -> None:
    """Real-time frames: ``video(data, keyframe)`` at 15 fps, ``audio(data)`` at 50 per second."""
    tones = tone_packets()
    start, v, a = time.monotonic(), 0, 0
    while (now := time.monotonic() - start) < seconds:
        while v / FPS <= now:
            for data, key in camera.film():
                video(data, key)
            v += 1
        while a / 50 <= now:
            audio(tones[a % len(tones)])
            a += 1
        await asyncio.sleep(0.005)


# -- the baseline's process ----------------------------------------------------------------
def baseline_worker(folder: str) -> None:
    """Decode what arrives and encode it at once into HLS: no caption, no mixing, no own clock."""
    sys.path.insert(0, str(BENCH.parent))
    from gikai.media.archive.broadcast import live

    requests = Connection(os.dup(0), writable=False)
    out = Path(folder)
    container, vout, aout = live._open_hls(out, W, H, FPS)
    vdec, adec = av.CodecContext.create("vp8", "r"), av.CodecContext.create("opus", "r")
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=48000)
    fifo = av.AudioFifo()
    start, samples, pts = time.monotonic(), 0, -1
    try:
        while True:
            try:
                kind, data = requests.recv()
            except EOFError:
                return
            if kind == "video":
                for frame in vdec.decode(av.Packet(data)):
                    pts = max(pts + 1, round((time.monotonic() - start) * FPS))
                    frame.pts, frame.time_base = pts, Fraction(1, FPS)
                    container.mux(vout.encode(frame.reformat(format="yuv420p")))
            else:
                for piece in adec.decode(av.Packet(data)):
                    for frame in resampler.resample(piece):
                        fifo.write(frame)
                while (frame := fifo.read(1024)) is not None:
                    frame.pts, frame.time_base = samples, Fraction(1, 48000)
                    samples += 1024
                    container.mux(aout.encode(frame))
    finally:
        container.close()


# -- measuring --------------------------------------------------------------------------------
class Listing:
    """Polls a playlist; for each new segment, when it was listed and its newest frame's number."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.seen, self.delays, self.oldest = folder, set[str](), list[float](), list[float]()

    def poll(self, camera: Camera, measuring: bool) -> None:
        try:
            text = (self.folder / "index.m3u8").read_text()
        except FileNotFoundError:
            return
        listed_at = time.monotonic()
        init_name = next((line.split('"')[1] for line in text.splitlines() if line.startswith("#EXT-X-MAP")), None)
        for name in [line for line in text.splitlines() if line and not line.startswith("#")]:
            if name in self.seen or init_name is None:
                continue
            self.seen.add(name)
            try:
                data = (self.folder / init_name).read_bytes() + (self.folder / name).read_bytes()
            except FileNotFoundError:
                continue
            with av.open(io.BytesIO(data), format="mp4") as container:
                numbers = [frame_number(frame.to_ndarray(format="gray")) for frame in container.decode(video=0)]
            if measuring and numbers and max(numbers) in camera.captured and min(numbers) in camera.captured:
                self.delays.append(listed_at - camera.captured[max(numbers)])
                self.oldest.append(listed_at - camera.captured[min(numbers)])


def start_baseline(folder: Path) -> tuple[subprocess.Popen[bytes], Connection]:
    folder.mkdir(parents=True)
    process = subprocess.Popen([sys.executable, __file__, "--baseline-worker", str(folder)], stdin=subprocess.PIPE)
    assert process.stdin is not None
    conn = Connection(os.dup(process.stdin.fileno()), readable=False)
    process.stdin.close()
    return process, conn


async def run(kind: str, seconds: float, warmup: float, root: Path) -> dict[str, float]:
    from gikai.media.archive.broadcast import LiveBroadcast
    from gikai.media.sfu.forwarding import UpTrack
    from gikai.media.sfu.frames import AUDIO_TIME_BASE, VIDEO_TIME_BASE, EncodedFrame

    folder = root / kind
    camera = Camera()
    listing = Listing(folder)
    if kind == "gikai":
        live = LiveBroadcast(folder, W, H, FPS)
        up_v, up_a = UpTrack("video", lambda: None), UpTrack("audio", lambda: None)
        live.show(up_v, [up_a], ["山田 太郎 議員", "議案第1号 令和9年度一般会計予算"])
        pid = live.process.pid

        def video(data: bytes, key: bool) -> None:
            up_v.push(EncodedFrame(data, 0, VIDEO_TIME_BASE, key))

        def audio(data: bytes) -> None:
            up_a.push(EncodedFrame(data, 0, AUDIO_TIME_BASE, True))
    else:
        process, conn = start_baseline(folder)
        pid = process.pid

        def video(data: bytes, key: bool) -> None:
            conn.send(("video", data))

        def audio(data: bytes) -> None:
            conn.send(("audio", data))

    publishing = asyncio.ensure_future(publish(warmup + seconds, video, audio, camera))
    proc = psutil.Process(pid)
    began = time.monotonic()
    cpu0 = wall0 = None
    while not publishing.done():
        measuring = time.monotonic() - began >= warmup
        if measuring and cpu0 is None:
            t = proc.cpu_times()
            cpu0, wall0 = t.user + t.system, time.monotonic()
        listing.poll(camera, measuring)
        await asyncio.sleep(0.02)
    t = proc.cpu_times()
    assert cpu0 is not None and wall0 is not None
    cpu = (t.user + t.system - cpu0) / (time.monotonic() - wall0) * 100
    if kind == "gikai":
        await live.close()
    else:
        conn.close()
        process.wait(30)
    delays = sorted(listing.delays)
    nan = float("nan")
    return {"cpu": cpu, "delay_p50": statistics.median(delays) if delays else nan,
            "delay_max": delays[-1] if delays else nan, "segments": len(delays),
            "oldest_p50": statistics.median(listing.oldest) if listing.oldest else nan}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="measured window of each run (default 30)")
    parser.add_argument("--warmup", type=float, default=4.0, help="seconds before measuring (default 4)")
    parser.add_argument("--quick", action="store_true", help="12-s windows")
    args = parser.parse_args()
    seconds = 12.0 if args.quick else args.seconds
    with tempfile.TemporaryDirectory(prefix="gikai-broadcast-bench-") as tmp:
        results = {kind: await run(kind, seconds, args.warmup, Path(tmp)) for kind in ("baseline", "gikai")}
    print(f"640x360 {FPS} fps, {seconds:.0f} s measured per run, {psutil.cpu_count()} cores")
    for kind, r in results.items():
        print(f"{kind:9s} encoder CPU {r['cpu']:5.1f}% of one core   newest frame captured->listed p50 "
              f"{r['delay_p50']:.2f} s max {r['delay_max']:.2f} s, oldest frame p50 {r['oldest_p50']:.2f} s"
              f"  ({r['segments']:.0f} segments)")
    g, b = results["gikai"], results["baseline"]
    print(f"ratio gikai/baseline: CPU {g['cpu'] / b['cpu']:.2f}x, delay p50 {g['delay_p50'] / b['delay_p50']:.2f}x")
    print(f"target: encoder <= {TARGET:.0f}% of one core: {'met' if g['cpu'] <= TARGET else 'NOT met'}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--baseline-worker":
        baseline_worker(sys.argv[2])
    else:
        asyncio.run(main())
