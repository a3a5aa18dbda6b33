"""What presence analysis costs per member: CPU of the analysers alone, at real frame rates.

Feeds N members' camera (face clip, 640x360 VP8, 15 fps) and microphone (speech, Opus, 50
packets/s) as encoded frames into ``media.presence.PresenceMonitor``, exactly as the SFU's
up-tracks would, and measures this process's CPU over a window: once with the frames going
nowhere (the baseline: pacing alone), once with analysis on. Prints CPU per member as % of one
core. Run: ``python3 bench/presence_cost.py [--members 16] [--seconds 10]``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gikai.media.analysis.presence import PresenceMonitor
from gikai.media.sfu.frames import AUDIO_TIME_BASE, VIDEO_TIME_BASE, EncodedFrame, vp8_is_keyframe
from tests.support import scenes


def cpu() -> float:
    t = time.process_time()
    return t


async def feed(sinks, video, audio, seconds: float) -> None:
    """Push every member's frames at 15 fps video / 50 pps audio for ``seconds``."""
    start = time.monotonic()
    v_i = a_i = 0
    next_v, next_a = start, start
    end = start + seconds
    while True:
        now = time.monotonic()
        if now >= end:
            return
        while next_v <= now:
            data = video[v_i % len(video)]
            frame = EncodedFrame(data, v_i * 6000, VIDEO_TIME_BASE, vp8_is_keyframe(data))
            for sink in sinks:
                sink("video", frame)
            v_i += 1
            next_v += 1 / 15
        while next_a <= now:
            frame = EncodedFrame(audio[a_i % len(audio)], a_i * 960, AUDIO_TIME_BASE, True)
            for sink in sinks:
                sink("audio", frame)
            a_i += 1
            next_a += 1 / 50
        await asyncio.sleep(min(next_v, next_a) - time.monotonic())


class Up:
    def __init__(self) -> None:
        self.listeners = []

    def push(self, frame) -> None:
        for listener in self.listeners:
            listener(frame)


async def measure(members: int, seconds: float, analyse: bool) -> tuple[float, int, int]:
    reports = 0

    def report(peer_id, observation) -> None:
        nonlocal reports
        reports += 1

    monitor = PresenceMonitor(report) if analyse else None
    ups = [{"video": Up(), "audio": Up()} for _ in range(members)]
    if monitor is not None:
        for i, u in enumerate(ups):
            monitor.watch(f"m{i}", u)
    sinks = [lambda kind, frame, u=u: u[kind].push(frame) for u in ups]
    video, audio = scenes.video("face"), scenes.audio("speech")
    await feed(sinks, video, audio, 2.0)  # warm-up: decoders start, caches fill
    before, wall = cpu(), time.monotonic()
    analyses_before = monitor.analyses() if monitor else 0
    await feed(sinks, video, audio, seconds)
    used = (cpu() - before) / (time.monotonic() - wall) * 100
    analyses = (monitor.analyses() - analyses_before) if monitor else 0
    if monitor is not None:
        await monitor.close()
    return used, analyses, reports


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    scenes.video("face"), scenes.audio("speech")  # encode the fixtures before measuring
    base, _, _ = await measure(args.members, args.seconds, analyse=False)
    on, analyses, reports = await measure(args.members, args.seconds, analyse=True)
    per_member = (on - base) / args.members
    rate = analyses / args.seconds / args.members / 2  # video + audio analysers per member
    print(f"members {args.members}, window {args.seconds:.0f} s, 640x360 VP8 15 fps + Opus 50 pps each")
    print(f"process CPU, frames paced but not analysed: {base:6.1f}% of one core")
    print(f"process CPU, with presence analysis:        {on:6.1f}% of one core")
    print(f"analysis per member: {per_member:.2f}% of one core (target <= 5%), "
          f"{rate:.2f} analyses/s per track, {reports} observations reported")


if __name__ == "__main__":
    asyncio.run(main())
