"""sfu_load.py's printed table and the comparisons under it."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


from load_common import CONTENDED_CORES, CONTENTION_TAIL, FPS, JOIN_SPAN


def _print_table(results: list[dict[str, Any]], kbps: float, max_others: float) -> None:
    head = (f"{'server':<11}{'P':>3}{'streams':>8}{'SFU CPU':>9}{'gen CPU':>10}{'others':>8}"
            f"{'fwd fps':>9}{'expected':>9}{'delivered':>11}{'slowest':>9}"
            f"{'lat p50':>9}{'p99':>7}{'max':>7}{'quiet p99':>11}{'max':>7}{'quiet':>7}")
    print()
    print(f"video only: 640x360 VP8 {FPS} fps, {kbps:.0f} kbit/s per stream (pre-encoded, looped);"
          " CPU in % of one core; fps = frames/s; latency in ms")
    print(head)
    print("-" * len(head))
    for r in results:
        gen = "+".join(f"{v:.0f}" for v in r["gen_cpu"].values()) + "%"
        if r["mode"] != "baseline":
            lat = (f"{r['lat_p50']:>9.1f}{r['lat_p99']:>7.1f}{r['lat_max']:>7.0f}"
                   f"{r['quiet_p99']:>11.1f}{r['quiet_max']:>7.0f}{100 * r['quiet_share']:>6.0f}%"
                   ).replace("nan", " - ")
        else:
            lat = f"{'n/a':>9}{'n/a':>7}{'n/a':>7}{'n/a':>11}{'n/a':>7}{'':>7}"
        mark = "*" if r["other_cpu"] >= max_others else " "
        label = r["mode"] + ("+join" if r.get("late") else "")
        print(f"{label:<10}{mark}{r['P']:>3}{r['streams']:>8}{r['sfu_cpu']:>8.1f}%{gen:>10}"
              f"{r['other_cpu']:>7.0f}%{r['fwd_fps']:>9.0f}{r['expected_fps']:>9}"
              f"{100 * r['delivered']:>10.2f}%{r['slowest_fps']:>9.1f}{lat}")
    print()
    print("gen CPU: each load-generator process. others: CPU that processes outside this benchmark"
          f" used during the window (this machine has {os.cpu_count()} cores and may be shared;"
          f" * marks >= {max_others:g}%, i.e. measured under contention).")
    print("delivered: share of (frame, subscriber) pairs that arrived, for frames sent in the window."
          " slowest: the slowest of the P*(P-1) streams.")
    print("latency: publisher's track -> subscriber's assembler, all frames sent in the window;"
          f" quiet: only frames in flight while other processes used < {CONTENDED_CORES:g} core"
          f" (and not in the {CONTENTION_TAIL:g} s after); last column: share of the window that was quiet.")
    for r in results:
        s = r["sfu_stats"]
        label = r["mode"] + ("+join" if r.get("late") else "")
        print(f"  {label} P={r['P']}: attempt {r.get('attempts', 1)}, window {r['window']:.1f} s,"
              f" set-up {r['setup_s']:.1f} s ({r['flowing']}/{r['wanted']} streams flowing),"
              f" publishers sent {r['pub_fps']:.2f} fps each,"
              + (f" SFU sent {r['sfu_out_fps']:.0f} fps," if r["mode"] != "janus" else "")
              + f" UDP socket-buffer drops {r['udp'].get('RcvbufErrors', '?')} (machine-wide);"
              f" SFU CPU {r['sfu_cpu'] - r['sfu_sys']:.1f}% user + {r['sfu_sys']:.1f}% system"
              + (f"; --stress hogs used {r['hog_cpu']:.0f}%" if r.get("hog_cpu") else ""))
        if r["mode"] == "janus":
            print(f"    Janus (C, its own threads) reports nothing to this script; PLI/FIR the publishers"
                  f" got {r['keyframe_requests']}; latency samples {r['lat_n']} (unmatched {r['unmatched']});"
                  " event-loop wake-ups >=10 ms late: " + "; ".join(
                      f"{name} {v['lag_n']} (max {v['lag_max']:.0f} ms)"
                      for name, v in r["stalls"].items() if name != "sfu"))
            continue
        if r["mode"] != "baseline":
            print(f"    SFU received {s['frames_in'] / r['window']:.0f} fps; down-track queue drops"
                  f" {s['dropped']}; assembler losses {s['assembler_lost']}; PLI/FIR from subscribers"
                  f" {s['keyframe_requests']}; latency samples {r['lat_n']} (unmatched {r['unmatched']})"
                  + (f"; presence analyses {s['analyses']} in the run" if r["mode"] == "presence" else ""))
        stalls = "; ".join(
            f"{name} {v['lag_n']} (max {v['lag_max']:.0f} ms), GC pauses >2 ms {v['gc_n']}"
            f" (max {v['gc_max']:.0f} ms)" for name, v in r["stalls"].items())
        print(f"    event-loop wake-ups >=10 ms late: {stalls}")
        info = r["sfu_info"]
        kinds = ", ".join(f"{name} {n}" for name, n in info["gc_types"])
        print(f"    SFU objects tracked by the garbage collector: {info['gc_tracked']}"
              f" (+{info['gc_frozen']} frozen); most: {kinds}; one full collection after the"
              f" window took {info['full_gc_ms']:.0f} ms; collections in the window (gen 0/1/2):"
              f" {s.get('gc0', '?')}/{s.get('gc1', '?')}/{s.get('gc2', '?')}")
        if r.get("slow") and not r.get("late"):
            print("    slow SFU callbacks in the window (s, ms, what): " + "; ".join(
                f"{t:.2f} {ms:.0f} {what}" for t, ms, what in sorted(r["slow"], key=lambda x: -x[1])[:8]))
        if r["mode"] != "baseline":
            print(f"    longest down-track queue seen (sampled every 100 ms): {info['queue_max']} frames")


def _join_report(results: list[dict[str, Any]]) -> None:
    for r in results:
        j = r.get("join")
        if not j:
            continue
        n = r["P"] - r["late"]
        sfu = j["stalls"]["sfu"]
        print()
        print(f"join test ({r['mode']}): P={r['P']}, participant {r['P']} joins in the middle of the window"
              f" ({r['mode']}+join row: the {n} others' {r['streams']} streams over the whole window).")
        print(f"  frames of those streams sent in the {JOIN_SPAN:g} s after the join: latency"
              f" p50 {j['p50']:.1f} / p99 {j['p99']:.1f} / max {j['max']:.0f} ms")
        if r["mode"] != "janus":
            print(f"  SFU in those {JOIN_SPAN:g} s: GC pauses >2 ms {sfu['gc_n']} (longest"
                  f" {sfu['gc_max']:.0f} ms), event-loop wake-ups >=10 ms late {sfu['lag_n']}"
                  f" (worst {sfu['lag_max']:.0f} ms, {sfu['lag_sum']:.0f} ms in all)")
        flowing = (f"all {j['newcomer_streams']} of the newcomer's streams (in and out) flowing"
                   f" {j['newcomer_s']:.2f} s after its join request"
                   if j["newcomer_flowing"] == j["newcomer_streams"] else
                   f"only {j['newcomer_flowing']} of the newcomer's {j['newcomer_streams']} streams flowed")
        print(f"  {flowing}")
        slow = [x for x in r.get("slow", []) if 0 <= x[0] - (r["window"] / 2) < JOIN_SPAN + 1]
        if slow:
            print("  slow SFU callbacks then (s after window start, ms, what): " + "; ".join(
                f"{t:.2f} {ms:.0f} {what}" for t, ms, what in sorted(slow, key=lambda x: -x[1])[:12]))


def per_stream(r: dict[str, Any]) -> float:
    """CPU per forwarded stream, counting only delivered frames (15 of them per second = 1 stream)."""
    return r["sfu_cpu"] / (r["fwd_fps"] / FPS) if r["fwd_fps"] else float("inf")


def _compare(results: list[dict[str, Any]]) -> None:
    """gikai against the other server (--compare) at each P: CPU per stream, p99, delivery."""
    other = {(r["P"], bool(r.get("late"))): r for r in results if r["mode"] == "janus"}
    pairs = [(g, other[(g["P"], bool(g.get("late")))]) for g in results
             if g["mode"] == "gikai" and (g["P"], bool(g.get("late"))) in other]
    if not pairs:
        return
    print()
    print("gikai against Janus VideoRoom (same clients, same measuring; ratios gikai / Janus, < 1: gikai"
          " cheaper or faster). CPU per stream: % of one core per 15 delivered fps.")
    head = (f"{'P':>4} {'run':<6}{'CPU/stream gikai':>17}{'Janus':>8}{'ratio':>7}{'p99 gikai':>11}"
            f"{'Janus':>8}{'ratio':>7}{'delivered gikai':>17}{'Janus':>9}{'others g/J':>12}")
    print(head)
    print("-" * len(head))
    for g, o in pairs:
        kind = "join" if g.get("late") else "steady"
        print(f"{g['P']:>4} {kind:<6}{per_stream(g):>17.3f}{per_stream(o):>8.3f}"
              f"{per_stream(g) / per_stream(o):>7.2f}{g['lat_p99']:>11.1f}{o['lat_p99']:>8.1f}"
              f"{g['lat_p99'] / o['lat_p99']:>7.2f}{100 * g['delivered']:>16.2f}%{100 * o['delivered']:>8.2f}%"
              f"{g['other_cpu']:>7.0f}/{o['other_cpu']:.0f}%")
    joins = [(g, o) for g, o in pairs if g.get("join") and o.get("join")]
    for g, o in joins:
        gj, oj = g["join"], o["join"]
        print(f"join at P={g['P']}: the others' p99 in the {JOIN_SPAN:g} s after the join gikai"
              f" {gj['p99']:.1f} / Janus {oj['p99']:.1f} ms (max {gj['max']:.0f} / {oj['max']:.0f});"
              f" newcomer's streams all flowing after gikai {gj['newcomer_s']:.2f} / Janus"
              f" {oj['newcomer_s']:.2f} s")


def _ratio(results: list[dict[str, Any]]) -> None:
    _compare(results)
    gikai = [r for r in results if r["mode"] == "gikai" and not r.get("late")]
    for b in (r for r in results if r["mode"] == "baseline"):
        same = [g for g in gikai if g["P"] == b["P"]]
        largest = max(gikai, key=lambda g: g["P"], default=None)
        print()
        print(f"CPU per forwarded stream (% of one core per 15 delivered fps): baseline P={b['P']}"
              f" {per_stream(b):.2f}")
        for g in {id(x): x for x in same + ([largest] if largest else [])}.values():
            print(f"  gikai P={g['P']} {per_stream(g):.3f}  ->  baseline / gikai = "
                  f"{per_stream(b) / per_stream(g):.1f}x (target >= 15x)")


def _presence(results: list[dict[str, Any]]) -> None:
    off = {r["P"]: r for r in results if r["mode"] == "gikai" and not r.get("late")}
    for r in results:
        if r["mode"] != "presence" or r["P"] not in off:
            continue
        base = off[r["P"]]
        per_member = (r["sfu_cpu"] - base["sfu_cpu"]) / r["P"]
        print()
        print(f"presence analysis at P={r['P']} (analysis off / on): SFU CPU {base['sfu_cpu']:.1f}% / "
              f"{r['sfu_cpu']:.1f}% -> {per_member:.2f}% of one core per member (target <= 5%); "
              f"delivered {100 * base['delivered']:.2f}% / {100 * r['delivered']:.2f}% (target >= 99.5%); "
              f"latency p99 {base['lat_p99']:.1f} / {r['lat_p99']:.1f} ms")


def _targets(results: list[dict[str, Any]]) -> None:
    _presence(results)
    for r in results:
        if r["mode"] == "gikai" and r["P"] == 16 and not r.get("late"):
            checks = [
                ("delivered >= 99.5%", r["delivered"] >= 0.995, f"{100 * r['delivered']:.2f}%"),
                ("SFU <= 60% of one core", r["sfu_cpu"] <= 60, f"{r['sfu_cpu']:.1f}%"),
                ("latency p99 <= 30 ms", r["lat_p99"] <= 30,
                 f"{r['lat_p99']:.1f} ms (quiet-only {r['quiet_p99']:.1f} ms)"),
            ]
            print()
            print("targets at P=16: " + "; ".join(
                f"{name}: {value} {'met' if ok else 'MISSED'}" for name, ok, value in checks))
