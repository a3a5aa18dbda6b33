"""``/healthz``: is this server fit to serve a sitting? The database answers a real query, and
the event loop (where the SFU forwards every frame) is not falling behind.

The loop's lag is measured by a small task that asks to wake up every ``interval`` seconds and
notes how late it woke: a loop busy with other work for 300 ms wakes it 300 ms late, and every
frame forwarded meanwhile was late by as much. JSON; 200 when healthy, 503 when not (a load
balancer or systemd's watchdog script takes the server out).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

from aiohttp import web

from gikai.orchestrator.persistence.database import Database
from gikai.signaling.config import CONFIG

DB_TIMEOUT = 3.0  # a database that does not answer in this long is as good as down
LAG_WINDOW = 20  # wake-ups the reported worst lag looks back over (10 s at 0.5 s)


class LoopLag:
    """The event loop's lateness, measured by a task that wakes up on a fixed interval."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.last = 0.0
        self.samples: deque[float] = deque(maxlen=LAG_WINDOW)
        self._task: asyncio.Task[None] | None = None

    @property
    def worst(self) -> float:
        """The worst lag of the last few seconds (seconds)."""
        return max(self.samples, default=0.0)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="loop-lag")

    async def _run(self) -> None:
        while True:
            due = time.monotonic() + self.interval
            await asyncio.sleep(self.interval)
            self.last = max(0.0, time.monotonic() - due)
            self.samples.append(self.last)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


LOOP_LAG = web.AppKey("loop_lag", LoopLag)
HEALTH_DATABASE = web.AppKey("health_database", Database)


async def database_reachable(db: Database) -> str | None:
    """None if the database answered a query, else why not."""
    try:
        await asyncio.wait_for(db.ping(), DB_TIMEOUT)
    except TimeoutError:
        return f"no answer within {DB_TIMEOUT:.0f} s"
    except Exception as exc:  # any driver's error: the check reports, it does not crash
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    return None


async def healthz(request: web.Request) -> web.Response:
    lag = request.app[LOOP_LAG]
    problem = await database_reachable(request.app[HEALTH_DATABASE])
    worst = lag.worst
    lag_ok = worst <= request.app[CONFIG].max_loop_lag
    healthy = problem is None and lag_ok
    body = {
        "ok": healthy,
        "database": {"ok": problem is None, **({"error": problem} if problem else {})},
        "loop_lag": {"ok": lag_ok, "last_seconds": round(lag.last, 4), "worst_seconds": round(worst, 4),
                     "limit_seconds": request.app[CONFIG].max_loop_lag},
    }
    return web.json_response(body, status=200 if healthy else 503, headers={"Cache-Control": "no-store"})
