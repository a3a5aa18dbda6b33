"""sfu_load.py's plumbing: bounded child processes, their command pipes, event-loop stall
watching, CPU sampling, the machine-quiet wait and the statistics helpers."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psutil
from aiortc import (
    RTCRtpSender,
)

from gikai.media.sfu.udp import drain_datagram_reads

FPS = 15
LOOPBACK = "127.0.0.1"
ROOM = "bench"


# ---------------------------------------------------------------------------------
# child process plumbing
# ---------------------------------------------------------------------------------
def _drain_datagram_sockets() -> None:
    """Read every waiting datagram per readiness event (the SFU does this itself: media/sfu/udp.py)."""
    drain_datagram_reads()


def _child_setup(lifetime: float, level: str, drain: bool = False) -> None:
    """Bounded, orphan-proof children: Ctrl-C is the orchestrator's business."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:  # die with the orchestrator even if it is killed outright (Linux)
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass
    signal.alarm(max(1, int(lifetime)))  # SIGALRM's default action ends the process
    logging.basicConfig(level=getattr(logging, level), format="%(processName)s %(name)s: %(message)s")
    if drain:
        _drain_datagram_sockets()


def _watch_slow_callbacks(threshold: float, log: list[tuple[float, float, str]]) -> None:
    """Record every event-loop callback that runs longer than ``threshold`` seconds."""
    original = asyncio.events.Handle._run

    def _run(self: asyncio.events.Handle) -> None:
        started = time.perf_counter()
        original(self)
        took = time.perf_counter() - started
        if took >= threshold:
            callback = getattr(self._callback, "__self__", self._callback)
            if isinstance(callback, asyncio.Task):
                coro = callback.get_coro()
                what = getattr(coro, "__qualname__", repr(coro))
            else:
                what = getattr(self._callback, "__qualname__", repr(self._callback))
            log.append((time.monotonic() - took, took, str(what)[:120]))

    asyncio.events.Handle._run = _run  # type: ignore[method-assign]


def hog_main(lifetime: float, level: str) -> None:
    """A CPU hog: another tenant on the machine, for --stress."""
    _child_setup(lifetime, level)
    while True:
        pass


def _command_queue(conn: Any) -> asyncio.Queue[dict[str, Any]]:
    """Commands from the orchestrator's pipe, read by the event loop."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def readable() -> None:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            loop.remove_reader(conn.fileno())
            msg = {"cmd": "quit"}
        queue.put_nowait(msg)

    loop.add_reader(conn.fileno(), readable)
    return queue


class _Stalls:
    """What held a process's event loop up: late wake-ups and long garbage collections."""

    def __init__(self, threshold: float = 0.010,
                 probe: Callable[[], int] | None = None) -> None:
        self.threshold = threshold
        self.probe = probe  # e.g. the longest down-track queue, sampled every 100 ms
        self.queue_max = 0
        self.queues: list[tuple[float, int]] = []  # (time, longest queue) when above 2 frames
        self.lags: list[tuple[float, float]] = []  # (wake-up time, lateness)
        self.gcs: list[tuple[float, float, int]] = []  # (start, duration, generation)
        self._gc_start = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
            return
        took = time.perf_counter() - self._gc_start
        if took >= 0.002:
            self.gcs.append((time.monotonic() - took, took, info["generation"]))

    async def watch(self, period: float = 0.02) -> None:
        tick = 0
        while True:
            due = time.monotonic() + period
            await asyncio.sleep(period)
            now = time.monotonic()
            late = now - due
            if late >= self.threshold:
                self.lags.append((due, late))
            tick += 1
            if self.probe is not None and tick % 5 == 0:
                longest = self.probe()
                self.queue_max = max(self.queue_max, longest)
                if longest > 2:
                    self.queues.append((now, longest))

    def report(self) -> dict[str, Any]:
        return {"lags": list(self.lags), "gcs": list(self.gcs), "queues": list(self.queues)}


def _vp8_only(transceiver: Any) -> None:
    codecs = RTCRtpSender.getCapabilities("video").codecs
    transceiver.setCodecPreferences([c for c in codecs if c.mimeType in ("video/VP8", "video/rtx")])



# ---------------------------------------------------------------------------------
# orchestrator
# ---------------------------------------------------------------------------------
class ChildError(RuntimeError):
    pass


def _recv(conn: Any, timeout: float, what: str, proc: Any) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if conn.poll(0.2):
            return conn.recv()
        if not proc.is_alive():
            raise ChildError(f"{what}: process ended with code {proc.exitcode}")
    raise ChildError(f"{what}: no answer within {timeout:.0f} s")


def _cpu(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process, all its threads."""
    t = psutil.Process(pid).cpu_times()
    return t.user, t.system


def _udp_counters() -> dict[str, int]:
    """Machine-wide UDP counters (Linux): RcvbufErrors counts datagrams lost to full sockets."""
    try:
        lines = [line.split() for line in Path("/proc/net/snmp").read_text().splitlines()
                 if line.startswith("Udp:")]
        return {k: int(v) for k, v in zip(lines[0][1:], lines[1][1:], strict=True)}  # names, then values
    except Exception:
        return {}


def _stall_summary(log: dict[str, Any], t0: float, t1: float) -> dict[str, float]:
    lags = [late for t, late in log["lags"] if t0 <= t < t1]
    gcs = [took for t, took, gen in log["gcs"] if t0 <= t < t1]
    return {"lag_n": len(lags), "lag_max": max(lags, default=0.0) * 1000,
            "lag_sum": sum(lags) * 1000, "gc_n": len(gcs), "gc_max": max(gcs, default=0.0) * 1000}


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[k]


JOIN_SPAN = 5.0  # seconds after a late join whose frames count as "during the join" (issue 12)
TIMELINE_STEP = 0.1  # seconds between CPU samples during the window
CONTENDED_CORES = 0.35  # other processes' CPU (in cores) that makes a sample "contended"
CONTENTION_TAIL = 1.0  # seconds after contention during which queues are still draining


def _merge(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _timeline(procs: list[Any], until: float,
              step: float = TIMELINE_STEP) -> list[tuple[float, float, float]]:
    """Sample (time, machine busy, our processes' busy) in cores, every ``step`` s until ``until``."""
    handles = [psutil.Process(p.pid) for p in procs] + [psutil.Process()]

    def busy() -> tuple[float, float]:
        t = psutil.cpu_times()
        machine = t.user + t.nice + t.system + t.irq + t.softirq + getattr(t, "steal", 0.0)
        ours = 0.0
        for h in handles:
            try:
                c = h.cpu_times()
                ours += c.user + c.system
            except psutil.Error:
                pass
        return machine, ours

    samples = []
    last_t, (last_m, last_o) = time.monotonic(), busy()
    while True:
        remaining = until - time.monotonic()
        if remaining <= 0:
            return samples
        time.sleep(min(step, remaining))
        now, (m, o) = time.monotonic(), busy()
        samples.append((now, (m - last_m) / (now - last_t), (o - last_o) / (now - last_t)))
        last_t, last_m, last_o = now, m, o


def _calibrate() -> float:
    """Milliseconds of CPU a fixed pure-Python workload takes: this VM's speed drifts."""
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        d: dict[int, int] = {}
        for i in range(200_000):
            d[i & 1023] = d.get(i & 1023, 0) + i
        best = min(best, time.process_time() - started)
    return best * 1000


def _wait_for_quiet(limit: float, timeout: float) -> tuple[bool, float]:
    """Before a scenario: wait until the machine is busy under ``limit`` % of one core for 3 s."""
    cores = psutil.cpu_count() or 1
    end = time.monotonic() + timeout
    quiet = 0
    psutil.cpu_percent(None)
    while True:
        time.sleep(1.0)
        busy = psutil.cpu_percent(None) * cores
        quiet = quiet + 1 if busy < limit else 0
        if quiet >= 3:
            return True, busy
        if time.monotonic() >= end:
            return False, busy
