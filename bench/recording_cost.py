#!/usr/bin/env python3
"""What recording costs the SFU: one full mesh, recording off and on, side by side.

P participants (16 by default) each publish 640x360 VP8 at 15 fps (and Opus at 50 packets/s
with ``--audio``) and receive everyone else, exactly as in ``sfu_load.py``, whose processes
and signaling this reuses: the SFU alone in its process, load generators in one or two
others, all on 127.0.0.1. The SFU process records every published track with
``media.Recorder`` (WebM segments in a temporary folder, deleted afterwards) in some windows
and not in others, alternating off/on so that a drift in this VM's speed hits both alike.
The SFU process's CPU (all threads: the muxing on the event loop and the worker thread that
closes, fsyncs and hashes finished segments) is measured in each window.

Before that, the recorder is measured alone, in this process, on a simulated clock: the
same P tracks' frames pushed through it as fast as possible, giving the cost per frame.

Run from the repository root: ``python3 bench/recording_cost.py`` (``--quick`` for a short
run, ``--help`` for the options).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
for path in (BENCH.parent, BENCH):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import av
import psutil
import sfu_load as load
from aiohttp import web

from gikai.media import Recorder, UpTrack
from gikai.media.sfu.frames import AUDIO_TIME_BASE, VIDEO_TIME_BASE, EncodedFrame, vp8_is_keyframe
from gikai.media.sfu.ice import set_host_addresses
from tests.support.encoded import encode_opus, encode_vp8


# ---------------------------------------------------------------------------------
# the recorder alone, on a simulated clock
# ---------------------------------------------------------------------------------
async def recorder_alone(members: int, seconds: float, segment: float, directory: Path,
                         video: tuple[bytes, ...], audio: tuple[bytes, ...],
                         with_audio: bool = True) -> dict[str, float]:
    now = [0.0]
    recorder = Recorder(directory, lambda: now[0], segment_seconds=segment)
    ups = [(UpTrack("video", lambda: None), UpTrack("audio", lambda: None)) for _ in range(members)]
    for i, (v, a) in enumerate(ups):
        recorder.add_track(f"m{i:02d}-video", "video", v)
        recorder.add_track(f"m{i:02d}-audio", "audio", a)
    frames = {"video": 0, "audio": 0}
    started = time.process_time()
    for n in range(int(seconds * 50)):  # 20 ms steps
        now[0] = n * 0.02
        opus = EncodedFrame(audio[n % len(audio)], n * 960, AUDIO_TIME_BASE, True)
        if with_audio:
            for _, a in ups:
                a.push(opus)
            frames["audio"] += members
        if n % 10 in (0, 3, 7):  # 15 of the 50 steps of a second
            k = n // 10 * 3 + (0, 0, 0, 1, 1, 1, 1, 2, 2, 2)[n % 10]
            data = video[k % len(video)]
            picture = EncodedFrame(data, k * 6000, VIDEO_TIME_BASE, vp8_is_keyframe(data))
            for v, _ in ups:
                v.push(picture)
            frames["video"] += members
    pushed = time.process_time() - started
    await recorder.stop()
    used = time.process_time() - started  # this process, all threads: finishing segments too
    total = frames["video"] + frames["audio"]
    return {"cpu_pct": 100 * used / seconds, "push_pct": 100 * pushed / seconds,
            "us_per_frame": 1e6 * used / total, "segments": len(recorder.segments),
            "video_fps": frames["video"] / seconds, "audio_pps": frames["audio"] / seconds}


# ---------------------------------------------------------------------------------
# the SFU process: sfu_load's server with a recorder to switch on and off
# ---------------------------------------------------------------------------------
class RecordingServer(load.GikaiServer):
    def __init__(self, directory: Path, segment: float) -> None:
        super().__init__()
        self.directory = directory
        self.segment = segment
        self.recorder: Recorder | None = None
        self.runs = 0
        self.errors: list[str] = []
        self.written = {"segments": 0, "packets": 0, "bytes": 0}

    def start_recording(self) -> None:
        self.runs += 1
        self.recorder = Recorder(self.directory / f"run{self.runs}", time.monotonic(),
                                 segment_seconds=self.segment,
                                 on_error=lambda key, exc: self.errors.append(f"{key}: {exc}"))
        for peer_id, peer in self.room.peers.items():
            for kind, up in peer.camera_and_microphone():
                self.recorder.add_track(f"{peer_id}-{kind}", kind, up)

    async def stop_recording(self) -> None:
        if self.recorder is None:
            return
        await self.recorder.stop()
        for info in self.recorder.segments:
            self.written["segments"] += 1
            self.written["packets"] += info.packets
            self.written["bytes"] += info.file_bytes
        self.recorder = None


def sfu_main(conn: Any, lifetime: float, level: str, directory: str, segment: float) -> None:
    load._child_setup(lifetime, level)
    asyncio.run(_sfu(conn, Path(directory), segment))


async def _sfu(conn: Any, directory: Path, segment: float) -> None:
    slow: list[tuple[float, float, str]] = []  # event-loop callbacks >= 50 ms: (at, took, what)
    load._watch_slow_callbacks(0.05, slow)
    set_host_addresses([load.LOOPBACK])
    server = RecordingServer(directory, segment)
    app = web.Application()
    app.router.add_get("/ws", load._Signaling(server).handler)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, load.LOOPBACK, 0)
    await site.start()
    conn.send({"port": site._server.sockets[0].getsockname()[1]})  # type: ignore[union-attr]
    commands = load._command_queue(conn)
    try:
        while True:
            msg = await commands.get()
            if msg["cmd"] == "stats":
                conn.send({**server.stats(), "peers": len(server.room.peers), "slow": list(slow),
                           "written": dict(server.written), "errors": list(server.errors)})
            elif msg["cmd"] == "record":
                if msg["on"]:
                    server.start_recording()
                else:
                    await server.stop_recording()
                conn.send({"ok": True})
            elif msg["cmd"] == "quit":
                break
    finally:
        try:
            await asyncio.wait_for(server.stop_recording(), 10)
            await asyncio.wait_for(server.close(), 5)
        except Exception:
            pass
        await runner.cleanup()


# ---------------------------------------------------------------------------------
# orchestrator
# ---------------------------------------------------------------------------------
def run(args: argparse.Namespace, packets: tuple[bytes, ...], directory: Path) -> list[dict[str, Any]]:
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    size = args.members
    names = [f"p{i:02d}" for i in range(size)]
    groups = [names[i::args.gen_procs] for i in range(args.gen_procs)]
    setup_budget = 60 + 4 * size
    plan = ["off", "on"] * args.rounds
    lifetime = setup_budget + args.warmup + len(plan) * (args.measure + args.settle + 15) + 60
    procs: list[Any] = []
    conns: list[Any] = []
    windows: list[dict[str, Any]] = []
    failure = None
    try:
        sfu_conn, child = ctx.Pipe()
        sfu = ctx.Process(target=sfu_main, name="sfu", daemon=True,
                          args=(child, lifetime, args.log_level, str(directory), args.segment))
        sfu.start()
        procs.append(sfu)
        conns.append(sfu_conn)
        port = load._recv(sfu_conn, 60, "sfu start", sfu)["port"]
        gens = []
        for i, group in enumerate(groups):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=load.gen_main, name=f"gen{i}", daemon=True,
                               args=(child, port, group, names, [], packets, args.audio,
                                     args.join_interval, lifetime, args.log_level, True))
            proc.start()
            procs.append(proc)
            conns.append(parent)
            gens.append((proc, parent))
        ready = [load._recv(c, setup_budget, f"{p.name} setup", p) for p, c in gens]
        print(f"  set up in {max(r['setup_s'] for r in ready):.1f} s,"
              f" {sum(r['flowing'] for r in ready)}/{sum(r['wanted'] for r in ready)} streams flowing",
              file=sys.stderr, flush=True)
        for _, c in gens:
            c.send({"cmd": "freeze"})
        time.sleep(args.warmup)

        def sample() -> tuple[float, dict[str, float], dict[str, Any]]:
            sfu_conn.send({"cmd": "stats"})
            stats = load._recv(sfu_conn, 10, "sfu stats", sfu)
            return time.monotonic(), {p.name: sum(load._cpu(p.pid)) for p in procs}, stats

        for mode in plan:
            if failure is not None:
                break
            try:
                sfu_conn.send({"cmd": "record", "on": mode == "on"})
                load._recv(sfu_conn, 30, "sfu record", sfu)
                time.sleep(args.settle)  # keyframes asked for at the start are not the steady state
                psutil.cpu_percent(None)
                t0, cpu0, stats0 = sample()
                time.sleep(args.measure)
                t1, cpu1, stats1 = sample()
            except load.ChildError as exc:
                failure = f"window {len(windows) + 1} (recording {mode}): {exc}"
                break
            machine = psutil.cpu_percent(None) * (psutil.cpu_count() or 1)
            window = t1 - t0
            cpu = {name: 100 * (cpu1[name] - cpu0[name]) / window for name in cpu0}
            windows.append({
                "mode": mode, "window": window, "sfu_cpu": cpu["sfu"],
                "gen_cpu": sum(v for n, v in cpu.items() if n.startswith("gen")),
                "others": max(0.0, machine - sum(cpu.values())),
                "fwd_fps": (stats1["frames_out"] - stats0["frames_out"]) / window,
                "in_fps": (stats1["frames_in"] - stats0["frames_in"]) / window,
                "dropped": stats1["dropped"] - stats0["dropped"],
                "peers": stats1["peers"],
                "slow": [(at - t0, took, what) for at, took, what in stats1["slow"] if t0 <= at < t1],
            })
            print(f"  window {len(windows)} recording {mode}: SFU {cpu['sfu']:.1f}%", file=sys.stderr,
                  flush=True)
        try:
            sfu_conn.send({"cmd": "record", "on": False})
            load._recv(sfu_conn, 60, "sfu record", sfu)
            _, _, final = sample()
        except load.ChildError as exc:
            failure = failure or f"final stop: {exc}"
            final = {"written": {"segments": 0, "packets": 0, "bytes": 0}, "errors": []}
        windows.append({"mode": "totals", "failure": failure, **final})
    finally:
        for c in conns:
            with contextlib.suppress(Exception):
                c.send({"cmd": "quit"})
        deadline = time.monotonic() + 15
        for p in procs:
            p.join(max(0.1, deadline - time.monotonic()))
        for p in procs:
            if p.is_alive():
                p.terminate()
                p.join(2)
            if p.is_alive():
                p.kill()
                p.join(2)
    return windows


def check_files(directory: Path) -> dict[str, Any]:
    """Demux every segment written and decode every packet; list what fails to decode."""
    out: dict[str, Any] = {"files": 0, "packets": 0, "decoded": 0, "errors": []}
    for path in sorted(directory.rglob("*.webm")):
        out["files"] += 1
        with av.open(str(path)) as container:
            stream = container.streams[0]
            for i, packet in enumerate(p for p in container.demux(stream) if p.size):
                out["packets"] += 1
                try:
                    out["decoded"] += len(stream.codec_context.decode(packet))
                except av.FFmpegError as exc:
                    out["errors"].append(f"{path.relative_to(directory)} packet {i}: {exc}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=16, help="participants (default 16)")
    parser.add_argument("--audio", action=argparse.BooleanOptionalAction, default=True,
                        help="publish (and record) Opus as well as VP8 (default: yes)")
    parser.add_argument("--rounds", type=int, default=2, help="off/on window pairs (default 2)")
    parser.add_argument("--measure", type=float, default=10.0, help="seconds per window")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds after each switch")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds after set-up")
    parser.add_argument("--segment", type=float, default=10.0,
                        help="segment length in seconds (default 10: a rotation in every window)")
    parser.add_argument("--quick", action="store_true", help="one off/on pair of 4 s windows")
    parser.add_argument("--gen-procs", type=int, default=2, help="load-generator processes")
    parser.add_argument("--bitrate", type=int, default=600_000, help="VP8 target bitrate")
    parser.add_argument("--join-interval", type=float, default=0.1)
    parser.add_argument("--wait-idle", type=float, default=30.0,
                        help="wait up to this long for a quiet machine first (0: do not wait)")
    parser.add_argument("--keep", metavar="DIR", help="keep the recorded files in DIR")
    parser.add_argument("--log-level", default="ERROR")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.measure, args.warmup = 1, 4.0, 2.0
    packets = encode_vp8(bitrate=args.bitrate, frames=10 * load.FPS)
    opus = encode_opus()
    directory = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="gikai-recording-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    try:
        alone = asyncio.run(recorder_alone(args.members, 30.0 if not args.quick else 10.0, args.segment,
                                           directory / "alone", packets, opus, args.audio))
        if args.wait_idle > 0:
            quiet, busy = load._wait_for_quiet(15.0, args.wait_idle)
            if not quiet:
                print(f"  warning: machine busy ({busy:.0f}% of one core); measuring anyway",
                      file=sys.stderr)
        calibration = load._calibrate()
        windows = run(args, packets, directory / "sfu")
        checked = check_files(directory / "sfu")
        checked["size"] = sum(p.stat().st_size for p in (directory / "sfu").rglob("*.webm"))
    finally:
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
    report(args, alone, windows, calibration, checked)
    return 0


def report(args: argparse.Namespace, alone: dict[str, float], windows: list[dict[str, Any]],
           calibration: float, checked: dict[str, Any]) -> None:
    totals = windows.pop()
    p = args.members
    streams = p * (p - 1)
    media = "VP8 640x360 15 fps" + (" + Opus 50 packets/s" if args.audio else " (video only)")
    print()
    print(f"recording cost: P={p} full mesh ({streams} forwarded videos), {media} per participant;"
          f" segments of {args.segment:g} s; CPU in % of one core ({psutil.cpu_count()} cores)")
    head = (f"{'window':>6} {'recording':>9} {'SFU CPU':>8} {'gen CPU':>8} {'others':>7} {'fwd fps':>8}"
            f" {'of':>6} {'drops':>6} {'peers':>6}")
    print(head)
    print("-" * len(head))
    for i, w in enumerate(windows, 1):
        print(f"{i:>6} {w['mode']:>9} {w['sfu_cpu']:>7.1f}% {w['gen_cpu']:>7.0f}% {w['others']:>6.0f}%"
              f" {w['fwd_fps']:>8.0f} {streams * load.FPS:>6} {w['dropped']:>6} {w['peers']:>6}")
    for i, w in enumerate(windows, 1):
        if w["slow"]:
            worst = sorted(w["slow"], key=lambda x: -x[1])[:4]
            print(f"  window {i}: {len(w['slow'])} SFU event-loop callbacks >= 50 ms; longest: "
                  + "; ".join(f"{took * 1000:.0f} ms {what}" for _, took, what in worst))
    if totals.get("failure"):
        print(f"RUN CUT SHORT: {totals['failure']}")
    off = [w["sfu_cpu"] for w in windows if w["mode"] == "off"]
    on = [w["sfu_cpu"] for w in windows if w["mode"] == "on"]
    if not off or not on:
        print("not enough windows to compare")
        return
    mean_off, mean_on = sum(off) / len(off), sum(on) / len(on)
    cost = mean_on - mean_off
    print("others: CPU used by processes outside this benchmark during the window (the machine may be"
          " shared); gen CPU: the load generators together")
    if any(w["fwd_fps"] < 0.99 * streams * load.FPS for w in windows):
        print("WARNING: forwarding was not at full rate in every window (contended machine?):"
              " the figures below do not measure the intended load")
    print()
    print(f"SFU CPU, recording off / on: {mean_off:.1f}% / {mean_on:.1f}% of one core"
          f" -> recording {p} participants costs {cost:+.1f}% of one core"
          f" (target <= 10%: {'met' if cost <= 10 else 'MISSED'})")
    print(f"recorder alone ({p} x {media}, simulated clock): {alone['us_per_frame']:.1f} us per frame,"
          f" {alone['cpu_pct']:.2f}% of one core at real rate ({alone['push_pct']:.2f}% in the"
          f" forwarding path, the rest closing/hashing {alone['segments']} segments in the worker thread)")
    written = totals["written"]
    print(f"written by the SFU: {written['segments']} segments, {written['packets']} packets,"
          f" {checked['size'] / 1e6:.1f} MB; {checked['files']} files, {checked['packets']} packets"
          f" demuxed and decoded into {checked['decoded']} frames; packets that failed to decode:"
          f" {len(checked['errors']) or 'none'}; recorder errors: {len(totals['errors']) or 'none'}")
    for line in checked["errors"][:10]:
        print(f"  decode error: {line}")
    print(f"calibration: a fixed pure-Python loop took {calibration:.1f} ms (compare runs only at"
          " similar values; this VM's speed drifts)")


if __name__ == "__main__":
    sys.exit(main())
