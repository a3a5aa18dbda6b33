"""What presence analysis costs per member, and what it does to the event loop that forwards media.

Feeds N members' camera (face clip, 640x360 VP8, 15 fps, a keyframe a second and one more on
each request, as a browser answers a PLI) and microphone
(speech, Opus, 50 packets/s) as encoded frames into ``PresenceMonitor``, exactly as the SFU's
up-tracks would, and measures over a window, once with the frames going nowhere (the baseline:
pacing alone) and once with presence on:

- CPU of this process and of the analysis process together: the difference divided by N is
  the cost per member, as % of one core;
- the event loop's lateness: how late each 5 ms pacing wake-up of the feeding loop came, p50 /
  p99 / worst (the SFU forwards on this loop, so this is what presence adds to forwarding);
- analyses delivered per track per second, verdicts dropped as late, loop stalls seen.

Run: ``python3 bench/presence_cost.py [--members 12] [--seconds 10]``. The issue's targets at
P=12: presence cost <= 2% of a core per member; forwarding p99 <= 30 ms (bench/sfu_load.py
``--presence`` measures forwarding latency end to end with real peers).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gikai.media.analysis.presence import Observation, PresenceMonitor
from gikai.media.sfu.frames import AUDIO_TIME_BASE, VIDEO_TIME_BASE, EncodedFrame, vp8_is_keyframe
from tests.support import scenes

TICK = 0.005  # seconds between the feeder's wake-ups


class Up:
    """What PresenceMonitor needs of an up-track: listeners, and a keyframe request, answered
    as a browser does: the next frame is a keyframe."""

    def __init__(self, keyframe: EncodedFrame) -> None:
        self.listeners: list[Callable[[EncodedFrame], None]] = []
        self.keyframe_requests = 0
        self._keyframe = keyframe
        self._want_keyframe = False

    def push(self, frame: EncodedFrame) -> None:
        if self._want_keyframe and not frame.keyframe:
            frame = EncodedFrame(self._keyframe.data, frame.pts, frame.time_base, True)
        self._want_keyframe = False
        for listener in self.listeners:
            listener(frame)

    def request_keyframe(self) -> None:
        self.keyframe_requests += 1
        self._want_keyframe = True


async def feed(ups: list[dict[str, Up]], video: tuple[bytes, ...], audio: tuple[bytes, ...],
               seconds: float, lateness: list[float] | None = None) -> None:
    """Push every member's frames at 15 fps video / 50 pps audio for ``seconds``, waking every
    ``TICK``; each wake-up's lateness goes to ``lateness``."""
    start = time.monotonic()
    v_i = a_i = 0
    next_v, next_a, wake = start, start, start
    end = start + seconds
    while True:
        now = time.monotonic()
        if lateness is not None:
            lateness.append(max(0.0, now - wake))
        if now >= end:
            return
        while next_v <= now:
            data = video[v_i % len(video)]
            frame = EncodedFrame(data, v_i * 6000, VIDEO_TIME_BASE, vp8_is_keyframe(data))
            for u in ups:
                u["video"].push(frame)
            v_i += 1
            next_v += 1 / 15
        while next_a <= now:
            frame = EncodedFrame(audio[a_i % len(audio)], a_i * 960, AUDIO_TIME_BASE, True)
            for u in ups:
                u["audio"].push(frame)
            a_i += 1
            next_a += 1 / 50
        wake = time.monotonic() + TICK
        await asyncio.sleep(TICK)


def process_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) of a running process, from /proc; 0 without one."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def measure(members: int, seconds: float, analyse: bool) -> dict[str, Any]:
    reports = 0

    def report(peer_id: str, observation: Observation) -> None:
        nonlocal reports
        reports += 1

    monitor = PresenceMonitor(report) if analyse else None
    video, audio = scenes.video("face"), scenes.audio("speech")
    keyframe = EncodedFrame(video[0], 0, VIDEO_TIME_BASE, True)
    ups = [{"video": Up(keyframe), "audio": Up(keyframe)} for _ in range(members)]
    if monitor is not None:
        for i, u in enumerate(ups):
            monitor.watch(f"m{i}", u)
    await feed(ups, video, audio, 3.0)  # warm-up: decoders start, caches fill
    pid = monitor.worker.pid if monitor is not None else None
    before, wall = time.process_time() + process_cpu(pid), time.monotonic()
    analyses_before = monitor.analyses() if monitor else 0
    lateness: list[float] = []
    await feed(ups, video, audio, seconds, lateness)
    used = (time.process_time() + process_cpu(pid) - before) / (time.monotonic() - wall) * 100
    result = {
        "cpu": used, "analyses": (monitor.analyses() - analyses_before) if monitor else 0,
        "reports": reports, "late": monitor.late if monitor else 0, "stalls": monitor.stalls if monitor else 0,
        "lag_p50": percentile(lateness, 0.5) * 1000, "lag_p99": percentile(lateness, 0.99) * 1000,
        "lag_max": max(lateness, default=0.0) * 1000,
    }
    if monitor is not None:
        await monitor.close()
    return result


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    scenes.video("face"), scenes.audio("speech")  # encode the fixtures before measuring
    off = await measure(args.members, args.seconds, analyse=False)
    on = await measure(args.members, args.seconds, analyse=True)
    per_member = (on["cpu"] - off["cpu"]) / args.members
    rate = on["analyses"] / args.seconds / args.members  # video + audio verdicts per member
    print(f"members {args.members}, window {args.seconds:.0f} s, 640x360 VP8 15 fps + Opus 50 pps each")
    print(f"CPU, frames paced, presence off:             {off['cpu']:6.1f}% of one core")
    print(f"CPU, presence on (loop + analysis process):  {on['cpu']:6.1f}% of one core")
    print(f"presence cost per member: {per_member:.2f}% of one core (target <= 2%), "
          f"{rate:.2f} verdicts/s per member (camera + microphone), {on['reports']} observations, "
          f"{on['late']} late verdicts dropped, {on['stalls']} loop stalls")
    for name, r in (("off", off), ("on", on)):
        print(f"event-loop lateness, presence {name:>3}: p50 {r['lag_p50']:.1f} ms, p99 {r['lag_p99']:.1f} ms, "
              f"worst {r['lag_max']:.1f} ms")
    ok = per_member <= 2.0 and on["lag_p99"] <= 30.0
    print("targets (<= 2% per member, loop p99 <= 30 ms):", "met" if ok else "NOT met")


if __name__ == "__main__":
    asyncio.run(main())
