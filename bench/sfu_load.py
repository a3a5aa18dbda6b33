#!/usr/bin/env python3
"""Load benchmark for gikai's SFU: a full mesh of P participants on loopback.

Each participant publishes one pre-encoded VP8 video (640x360, 15 fps) and receives
the P-1 others without decoding them, so the SFU forwards P*(P-1) streams. Video only
unless ``--audio``. Three kinds of process:

* the SFU (``media.SFU``, one room), alone in its process so its CPU can be measured;
* one or more load generators: aiortc clients (``tests.support.client.MediaClient``)
  that answer the SFU's offers, publish and reassemble received frames;
* this orchestrator, which starts both, drives warm-up and measurement windows,
  samples every child's CPU time and prints the table.

Signaling between generators and the SFU is one aiohttp WebSocket per generator on
127.0.0.1 carrying offer/answer JSON; orchestration uses multiprocessing pipes. The
generators read every waiting datagram per wake-up (asyncio reads one per socket per loop
iteration, too few for a subscriber socket carrying P-1 videos); the SFU runs unmodified.

Latency is the time from a publisher's track handing a frame to its sender to a
subscriber's assembler completing that frame, matched by the frame's bytes (the
latest send of those bytes by that publisher not later than the arrival); all
processes run on one machine and use CLOCK_MONOTONIC, one clock.

The baseline (``--baseline-sizes``, P=4 by default) is aiortc's usual way: the server
decodes every publication and gives each subscriber a ``MediaRelay`` proxy, whose
sender re-encodes VP8. It lives in load_server.py and does not touch ``media/``.

``--compare janus`` runs every size (and the join test) against Janus VideoRoom too,
interleaved with gikai's runs: Janus in a network namespace of its own, the same generators
speaking Janus's HTTP API (load_janus.py, janus_server.py, janus_client.py; bench/README.md).

Modules: load_common (plumbing, statistics helpers), load_server (gikai's SFU process and
the baseline), load_gen (generators), load_janus, load_run (one scenario), load_report
(tables); this file holds the options and the plan.

Run from the repository root: ``python3 bench/sfu_load.py`` (``--quick`` for a short
run, ``--help`` for the options).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for folder in (ROOT, BENCH):  # gikai and tests.support; this script's modules (also when imported)
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import janus_server
from load_common import (  # re-exported: recording_cost.py uses them as sfu_load's
    FPS,
    LOOPBACK,
    ChildError,
    _calibrate,
    _child_setup,
    _command_queue,
    _cpu,
    _recv,
    _wait_for_quiet,
    _watch_slow_callbacks,
)
from load_gen import gen_main
from load_report import _join_report, _print_table, _ratio, _targets
from load_run import run_scenario
from load_server import GikaiServer, _Signaling

from tests.support.encoded import encode_vp8

__all__ = ["FPS", "LOOPBACK", "ChildError", "GikaiServer", "_Signaling", "_calibrate", "_child_setup",
           "_command_queue", "_cpu", "_recv", "_wait_for_quiet", "_watch_slow_callbacks", "gen_main",
           "run_scenario"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="4,8,16", help="participant counts for gikai (default 4,8,16)")
    parser.add_argument("--presence", action="store_true",
                        help="also run the largest size with presence analysis on every camera")
    parser.add_argument("--baseline-sizes", default="4",
                        help="participant counts for the decode/re-encode baseline ('' for none)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds after set-up before measuring")
    parser.add_argument("--measure", type=float, default=10.0, help="measurement window in seconds")
    parser.add_argument("--quick", action="store_true", help="short run: 2 s warm-up, 4 s window")
    parser.add_argument("--gen-procs", default="auto",
                        help="load-generator processes ('auto': 1 below P=16, 2 from P=16)")
    parser.add_argument("--bitrate", type=int, default=600_000, help="VP8 target bitrate")
    parser.add_argument("--audio", action="store_true",
                        help="also publish Opus (50 packets/s); statistics stay video-only")
    parser.add_argument("--join-interval", type=float, default=0.1, help="seconds between joins")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--py-spy", metavar="DIR",
                        help="profile every process during the window with py-spy (raw stacks into DIR)")
    parser.add_argument("--dump-raw", metavar="DIR", help="pickle raw send/arrival logs into DIR")
    parser.add_argument("--log-level", default="ERROR")
    parser.add_argument("--wait-idle", type=float, default=30.0, metavar="SECONDS",
                        help="before each scenario wait up to this long for the machine to be"
                             " quiet (busy < --max-others for 3 s); 0: do not wait")
    parser.add_argument("--max-others", type=float, default=15.0, metavar="PERCENT",
                        help="CPU (%% of one core) other processes may use during a window before"
                             " it counts as contended (default 15)")
    parser.add_argument("--compare", choices=["janus"],
                        help="also run every size (and the join test) against Janus VideoRoom, interleaved"
                             " with gikai's runs (needs root and the janus package; see bench/README.md)")
    parser.add_argument("--join-test", action="store_true",
                        help="also run P=max(sizes) with the last participant joining mid-window")
    parser.add_argument("--slow-callbacks", type=float, default=0.0, metavar="MS",
                        help="list SFU event-loop callbacks that ran longer than MS (costs a little CPU)")
    parser.add_argument("--profile-join", metavar="FILE",
                        help="with --join-test: cProfile gikai's SFU for 5 s from the join (pstats FILE)")
    parser.add_argument("--stress", type=int, default=0, metavar="N",
                        help="run N CPU-hog processes from warm-up to the end (a noisy neighbour)")
    parser.add_argument("--sfu-drain", action="store_true",
                        help="SFU process reads every waiting datagram per wake-up (asyncio reads one)")
    parser.add_argument("--gen-one-read", action="store_true",
                        help="generators keep asyncio's one-datagram-per-wake-up reads (default: drain)")
    parser.add_argument("--sfu-gc-freeze", action="store_true",
                        help="gc.freeze() in the SFU process after set-up (to test that remedy)")
    parser.add_argument("--retries", type=int, default=1,
                        help="re-run a contended scenario this many times, keep the least contended")
    args = parser.parse_args()

    def terminated(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt  # stop the children in run_scenario's finally

    signal.signal(signal.SIGTERM, terminated)
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:  # started in the background
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if args.quick:
        args.warmup, args.measure = 2.0, 4.0
    if args.compare == "janus" and (why := janus_server.missing()):
        print(f"error: --compare janus: {why}", file=sys.stderr)
        return 2
    sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    baseline_sizes = [int(x) for x in args.baseline_sizes.split(",") if x.strip()]

    packets = encode_vp8(bitrate=args.bitrate, frames=10 * FPS)  # a 10 s loop
    if len(set(packets)) != len(packets):
        print("warning: repeated frames in the loop; latency matching is ambiguous", file=sys.stderr)
    kbps = sum(map(len, packets)) * 8 * FPS / len(packets) / 1000
    print(f"VP8 source: {len(packets)} frames, {kbps:.0f} kbit/s at {FPS} fps "
          f"(target {args.bitrate // 1000}), {sum(map(len, packets)) / len(packets):.0f} bytes/frame",
          file=sys.stderr, flush=True)

    def procs_for(size: int) -> int:
        return (2 if size >= 16 else 1) if args.gen_procs == "auto" else int(args.gen_procs)

    calibration = [_calibrate()]
    results = []
    servers = ["gikai"] + ([args.compare] if args.compare else [])
    plan = [(server, s, False) for s in sizes for server in servers]  # interleaved: drift hits both
    plan += [("baseline", s, False) for s in baseline_sizes]
    if args.join_test and sizes:
        plan += [(server, max(sizes), True) for server in servers]
    if args.presence and sizes:
        plan.append(("presence", max(sizes), False))  # the same load with presence analysis on
    try:
        for mode, size, late_join in plan:
            best = None
            for attempt in range(1 + max(0, args.retries)):
                if args.wait_idle > 0:
                    quiet, busy = _wait_for_quiet(args.max_others, args.wait_idle)
                    if not quiet:
                        print(f"  warning: machine still busy ({busy:.0f}% of one core) after"
                              f" {args.wait_idle:g} s; measuring anyway", file=sys.stderr, flush=True)
                r = run_scenario(mode, size, procs_for(size), packets, args, late_join)
                r["attempts"] = attempt + 1
                if best is None or r["other_cpu"] < best["other_cpu"]:
                    best = r
                if r["other_cpu"] < args.max_others:
                    break
                print(f"  [{mode} P={size}] other processes used {r['other_cpu']:.0f}% of one core"
                      " during the window: contended", file=sys.stderr, flush=True)
            results.append(best)
    except KeyboardInterrupt:
        print("interrupted; children stopped", file=sys.stderr)
        if not results:
            return 130
    except ChildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if not results:
            return 1
    _print_table(results, kbps, args.max_others)
    print(f"calibration: a fixed pure-Python loop took {calibration[0]:.1f} ms before and"
          f" {_calibrate():.1f} ms after the runs (CPU figures scale with it between runs).")
    _join_report(results)
    _ratio(results)
    _targets(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
