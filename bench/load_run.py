"""One sfu_load.py scenario: start the server and the generators, warm up, measure, collect
and turn the logs into figures."""

from __future__ import annotations

import argparse
import bisect
import contextlib
import multiprocessing as mp
import pickle
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psutil
from load_common import (
    CONTENDED_CORES,
    CONTENTION_TAIL,
    FPS,
    JOIN_SPAN,
    TIMELINE_STEP,
    _cpu,
    _merge,
    _percentile,
    _recv,
    _stall_summary,
    _timeline,
    _udp_counters,
    hog_main,
)
from load_gen import gen_main
from load_janus import JanusProcess, janus_gen_main
from load_server import sfu_main

# What gikai's SFU process reports and Janus does not (its rows leave these diagnostics out).
NO_STATS = {"frames_out": 0, "frames_in": 0, "dropped": 0, "keyframe_requests": 0,
            "assembler_lost": 0, "analyses": 0}
NO_INFO = {"gc_tracked": 0, "gc_frozen": 0, "gc_types": [], "queue_max": 0, "full_gc_ms": 0.0}


def run_scenario(mode: str, size: int, gen_procs: int, packets: tuple[bytes, ...],
                 args: argparse.Namespace, late_join: bool = False) -> dict[str, Any]:
    """One measurement. ``late_join``: the last participant joins in the middle of the
    window; the figures then cover the others' streams, plus what the join did to them."""
    ctx = mp.get_context("spawn")
    names = [f"p{i:02d}" for i in range(size)]
    late = names[-1:] if late_join else []
    counted = [n for n in names if n not in late]
    groups = [names[i::gen_procs] for i in range(gen_procs) if names[i::gen_procs]]
    setup_budget = 60 + 4 * size
    # A join test's window is long enough for JOIN_SPAN s after a join in its middle.
    measure = max(args.measure, 2 * JOIN_SPAN) if late_join else args.measure
    lifetime = setup_budget + args.warmup + measure + 60
    procs: list[Any] = []
    conns: list[Any] = []
    spies: list[subprocess.Popen[bytes]] = []
    janus: JanusProcess | None = None
    sfu_conn: Any = None  # gikai's SFU process's pipe; Janus has none
    try:
        if mode == "janus":
            janus = sfu = JanusProcess(size)
            target: Any = janus_gen_main
            server_args: tuple[Any, ...] = (janus.gen_args(),)
        else:
            sfu_conn, child = ctx.Pipe()
            sfu = ctx.Process(target=sfu_main, name="sfu", args=(child, mode, lifetime, args.log_level,
                                                                     args.sfu_drain, args.slow_callbacks),
                              daemon=True)
            sfu.start()
            procs.append(sfu)
            conns.append(sfu_conn)
            target = gen_main
            server_args = (_recv(sfu_conn, 60, "sfu start", sfu)["port"],)

        gens: list[tuple[Any, Any]] = []
        for i, group in enumerate(groups):
            parent, child = ctx.Pipe()
            extra = () if mode == "janus" else (args.audio,)  # Janus's participants publish video only
            proc = ctx.Process(target=target, name=f"gen{i}",
                               args=(child, *server_args, group, names, late, packets, *extra,
                                     args.join_interval, lifetime, args.log_level,
                                     not args.gen_one_read), daemon=True)
            proc.start()
            procs.append(proc)
            conns.append(parent)
            gens.append((proc, parent))
        if janus is not None:
            procs.append(janus)  # sampled like the SFU process; ended last, after its clients

        readiness = [_recv(c, setup_budget, f"{p.name} setup", p) for p, c in gens]
        flowing = sum(r["flowing"] for r in readiness)
        wanted = sum(r["wanted"] for r in readiness)
        setup_s = max(r["setup_s"] for r in readiness)
        print(f"  [{mode} P={size}{' late join' if late else ''}] set up in {setup_s:.1f} s,"
              f" {flowing}/{wanted} streams flowing;"
              f" warm-up {args.warmup:g} s, measure {measure:g} s", file=sys.stderr, flush=True)

        for i in range(args.stress):
            hog = ctx.Process(target=hog_main, name=f"hog{i}", args=(lifetime, args.log_level),
                              daemon=True)
            hog.start()
            procs.append(hog)
        for _, c in gens:  # the generators are instruments: keep their collector out of the way
            c.send({"cmd": "freeze"})
        if args.sfu_gc_freeze and sfu_conn is not None:
            sfu_conn.send({"cmd": "freeze"})
        lead = min(1.0, args.warmup)  # record sends a little before the window opens
        time.sleep(args.warmup - lead)
        for _, c in gens:
            c.send({"cmd": "record"})
        time.sleep(lead)

        def sample() -> tuple[float, dict[str, float], dict[str, int]]:
            if sfu_conn is None:
                stats = {**NO_STATS, "stalls": {"lags": [], "gcs": [], "queues": [], "slow": []}}
            else:
                sfu_conn.send({"cmd": "stats"})
                stats = _recv(sfu_conn, 10, "sfu stats", sfu)
            now = time.monotonic()
            cpu = {p.name: _cpu(p.pid) for p in procs}
            return now, cpu, stats

        own = psutil.Process()
        own0 = sum(own.cpu_times()[:2])
        spies = []
        if args.py_spy:
            Path(args.py_spy).mkdir(parents=True, exist_ok=True)
            for p in procs:
                out = Path(args.py_spy) / f"{mode}-{size}-{p.name}.txt"
                spies.append(subprocess.Popen(
                    ["py-spy", "record", "--pid", str(p.pid), "--duration", str(int(measure)),
                     "--rate", "100", "--format", "raw", "--nonblocking", "-o", str(out)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        psutil.cpu_percent(None)
        udp0 = _udp_counters()
        t0, cpu0, stats0 = sample()
        t_join = None
        if late:
            timeline = _timeline(procs, t0 + measure / 2)
            if args.profile_join and sfu_conn is not None:
                sfu_conn.send({"cmd": "profile"})
            t_join = time.monotonic()
            for _, c in gens:
                c.send({"cmd": "join_late"})
            if args.profile_join and sfu_conn is not None:
                timeline += _timeline(procs, t_join + JOIN_SPAN)
                sfu_conn.send({"cmd": "profile", "path": str(Path(args.profile_join).resolve())})
            timeline += _timeline(procs, t0 + measure)
        else:
            timeline = _timeline(procs, t0 + measure)
        t1, cpu1, stats1 = sample()
        udp1 = _udp_counters()
        machine = psutil.cpu_percent(None) * (psutil.cpu_count() or 1)  # % of one core
        own1 = sum(own.cpu_times()[:2])
        if sfu_conn is None:
            sfu_info = dict(NO_INFO)
        else:
            sfu_conn.send({"cmd": "info"})
            sfu_info = _recv(sfu_conn, 10, "sfu info", sfu)
        time.sleep(1.0)  # frames sent just before t1 still arrive
        # Every generator records sends until after t_stop; arrivals from t_stop on are
        # ignored, so no arrival can miss its send in another generator's log.
        t_stop = time.monotonic()
        for _, c in gens:
            c.send({"cmd": "pause"})

        sends: list[tuple[str, int, float]] = []
        arrivals: list[tuple[str, str, int, float]] = []
        kf_requests = offers = 0
        stall_logs = {"sfu": stats1.pop("stalls")}
        stats0.pop("stalls")
        for proc, c in gens:
            c.send({"cmd": "collect"})
            got = _recv(c, 60, f"{proc.name} collect", proc)
            sends += got["sends"]
            arrivals += got["arrivals"]
            kf_requests += got["keyframe_requests"]
            offers += got["offers"]
            stall_logs[proc.name] = got["stalls"]
    finally:
        for spy in spies:
            try:
                spy.wait(timeout=max(1.0, measure + 5))
            except subprocess.TimeoutExpired:
                spy.kill()
                spy.wait()
        for c in conns:
            with contextlib.suppress(Exception):
                c.send({"cmd": "quit"})
        deadline = time.monotonic() + 10
        for p in procs:
            p.join(max(0.1, deadline - time.monotonic()))
        for p in procs:
            if p.is_alive():
                p.terminate()
                p.join(2)
            if p.is_alive():
                p.kill()
                p.join(2)
        if janus is not None:
            janus.close()  # also when it failed before it joined procs

    window = t1 - t0
    cpu = {name: 100 * (sum(cpu1[name]) - sum(cpu0[name])) / window for name in cpu0}
    sfu_sys = 100 * (cpu1["sfu"][1] - cpu0["sfu"][1]) / window
    gen_cpu = {n: v for n, v in cpu.items() if n.startswith("gen")}
    hog_cpu = sum(v for n, v in cpu.items() if n.startswith("hog"))
    others = max(0.0, machine - sum(cpu.values()) - 100 * (own1 - own0) / window)

    # Sends by (publisher, frame index), in time order, for matching arrivals by bytes.
    send_times: dict[tuple[str, int], list[float]] = defaultdict(list)
    sent_in_window: Counter[str] = Counter()
    for pub, idx, t in sends:
        send_times[(pub, idx)].append(t)
        if t0 <= t < t1:
            sent_in_window[pub] += 1
    for times in send_times.values():
        times.sort()
    per_stream: Counter[tuple[str, str]] = Counter()
    latencies: list[float] = []
    delivered = unmatched = 0
    loop_period = len(packets) / FPS
    # Moments when other processes took CPU (this machine is shared), plus the backlog time
    # after them: a frame in flight then is left out of the "quiet" latency figures.
    busy_spans = [(t - TIMELINE_STEP, t + CONTENTION_TAIL) for t, m, o in timeline
                  if m - o > CONTENDED_CORES]
    busy_starts = [a for a, _ in busy_spans]

    def disturbed(start: float, end: float) -> bool:
        j = bisect.bisect_right(busy_starts, end) - 1
        while j >= 0 and busy_spans[j][0] >= start - CONTENTION_TAIL - TIMELINE_STEP:
            if busy_spans[j][1] > start:
                return True
            j -= 1
        return False

    quiet_latencies: list[float] = []
    quiet_time = window - sum(
        min(t1, b) - max(t0, a) for a, b in _merge(busy_spans) if b > t0 and a < t1)
    join_latencies: list[float] = []
    join_end = (t_join or 0.0) + JOIN_SPAN
    newcomer_first: dict[tuple[str, str], float] = {}
    for pub, sub, idx, ta in arrivals:
        if ta >= t_stop:
            continue
        if pub in late or sub in late:
            if t_join is not None and ta >= t_join and (pub, sub) not in newcomer_first:
                newcomer_first[(pub, sub)] = ta
            continue
        if t0 <= ta < t1:
            per_stream[(pub, sub)] += 1
        if mode == "baseline":
            continue  # re-encoded frames cannot be matched by their bytes
        times = send_times.get((pub, idx))
        j = bisect.bisect_right(times, ta) - 1 if times else -1
        if j < 0:
            if t0 <= ta < t1:
                unmatched += 1
            continue
        ts = times[j]  # type: ignore[index]
        if ta - ts > loop_period / 2:  # an older loop of the same bytes: its send is missing
            if t0 <= ta < t1:
                unmatched += 1
            continue
        if t0 <= ts < t1:
            delivered += 1
            latencies.append(ta - ts)
            if not disturbed(ts, ta):
                quiet_latencies.append(ta - ts)
            if t_join is not None and t_join <= ts < join_end:
                join_latencies.append(ta - ts)
    expected_frames = sum(sent_in_window[p] for p in counted) * (len(counted) - 1)
    received = sum(per_stream.values())
    if mode == "baseline":
        delivered = received  # counted by arrival time in the window instead
    if args.dump_raw:
        raw = {"t0": t0, "t1": t1, "t_stop": t_stop, "sends": sends, "arrivals": arrivals,
               "names": names, "groups": groups, "stalls": stall_logs,
               "timeline": timeline}
        Path(args.dump_raw).mkdir(parents=True, exist_ok=True)
        suffix = "-join" if late else ""
        with open(Path(args.dump_raw) / f"{mode}-{size}{suffix}.pickle", "wb") as f:
            pickle.dump(raw, f)
    latencies.sort()
    quiet_latencies.sort()
    join_latencies.sort()
    streams = len(counted) * (len(counted) - 1)
    stream_fps = [per_stream[(p, s)] / window for p in counted for s in counted if p != s]
    join: dict[str, Any] | None = None
    if t_join is not None:
        newcomer_streams = 2 * len(late) * (size - 1)
        join = {
            "p50": _percentile(join_latencies, 0.50) * 1000,
            "p99": _percentile(join_latencies, 0.99) * 1000,
            "max": (join_latencies[-1] * 1000) if join_latencies else float("nan"),
            "newcomer_flowing": len(newcomer_first), "newcomer_streams": newcomer_streams,
            "newcomer_s": (max(newcomer_first.values()) - t_join
                           if len(newcomer_first) == newcomer_streams else float("nan")),
            "stalls": {name: _stall_summary(log, t_join, join_end) for name, log in stall_logs.items()},
        }
    return {
        "mode": mode, "P": size, "streams": streams, "gen_procs": len(groups),
        "window": window, "setup_s": setup_s, "flowing": flowing, "wanted": wanted,
        "sfu_cpu": cpu["sfu"], "sfu_sys": sfu_sys, "gen_cpu": gen_cpu, "hog_cpu": hog_cpu,
        "machine_cpu": machine, "other_cpu": others,
        "fwd_fps": received / window, "expected_fps": streams * FPS,
        "sfu_out_fps": (stats1["frames_out"] - stats0["frames_out"]) / window,
        "pub_fps": sum(sent_in_window[p] for p in counted) / window / len(counted),
        "late": len(late), "join": join,
        "slow": [(t - t0, took * 1000, what) for t, took, what in stall_logs["sfu"].get("slow", [])
                 if t0 <= t < t1],
        "delivered": delivered / expected_frames if expected_frames else 0.0,
        "slowest_fps": min(stream_fps) if stream_fps else 0.0,
        "lat_p50": _percentile(latencies, 0.50) * 1000,
        "lat_p99": _percentile(latencies, 0.99) * 1000,
        "lat_max": (latencies[-1] * 1000) if latencies else float("nan"),
        "lat_n": len(latencies), "unmatched": unmatched,
        "quiet_p50": _percentile(quiet_latencies, 0.50) * 1000,
        "quiet_p99": _percentile(quiet_latencies, 0.99) * 1000,
        "quiet_max": (quiet_latencies[-1] * 1000) if quiet_latencies else float("nan"),
        "quiet_n": len(quiet_latencies), "quiet_share": max(0.0, quiet_time) / window,
        "sfu_stats": {k: stats1[k] - stats0.get(k, 0) for k in stats1},
        "keyframe_requests": kf_requests, "offers": offers, "sfu_info": sfu_info,
        "stalls": {name: _stall_summary(log, t0, t1) for name, log in stall_logs.items()},
        "udp": {k: udp1[k] - udp0[k] for k in ("RcvbufErrors", "SndbufErrors", "InErrors")
                if k in udp0 and k in udp1},
    }
