"""Waiting on conditions instead of sleeping, so that a test on a busy machine is slower, not wrong.

A fixed sleep followed by an exact count fails when the machine is slow (a positive count
comes too late) or passes for the wrong reason (a negative count is zero because nothing
flowed at all). ``eventually`` waits for a condition with a generous bound;
``quiet_while_live`` proves a channel is live (a control keeps growing) and asserts, over
that same window, that the quiet one did not move.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # the media helpers need aiortc; the waits do not
    from .client import MediaClient
    from .encoded import EncodedSourceTrack

T = TypeVar("T")

# Bounds that hold on a busy 2-core machine: the condition normally holds in well under a second.
SERVER_BOUND = 30.0  # a reply, a push, media starting to flow
BROWSER_BOUND = 60.0  # a page loading, joining and showing remote media


def _what(predicate: Callable[[], object], message: str | None) -> str:
    """The message, or else the predicate's own source line (a lambda says what it waits for)."""
    if message is not None:
        return message
    try:
        source = inspect.getsource(predicate).strip()
    except (OSError, TypeError):
        return getattr(predicate, "__qualname__", repr(predicate))
    start = source.find("lambda")
    return source[start:] if start >= 0 else source


def _describe(seen: Callable[[], object] | None) -> str:
    if seen is None:
        return ""
    try:
        return f"; last seen: {seen()!r}"
    except Exception as exc:  # the description must not hide the timeout it describes
        return f"; last seen: <{type(exc).__name__}: {exc}>"


async def eventually(
    predicate: Callable[[], T | Awaitable[T]],
    *,
    bound: float = SERVER_BOUND,
    interval: float = 0.05,
    message: str | None = None,
    seen: Callable[[], object] | None = None,
) -> T:
    """Poll ``predicate`` (a function or a coroutine function, such as a database read) until it
    returns something truthy and return that. After ``bound`` seconds fail with ``message``
    (what was waited for; by default the predicate's source) and ``seen()`` (what was there)."""
    deadline = time.monotonic() + bound
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {bound:.0f} s for {_what(predicate, message)}{_describe(seen)}")
        await asyncio.sleep(interval)


def eventually_sync(
    predicate: Callable[[], T],
    *,
    bound: float = BROWSER_BOUND,
    interval: float = 0.1,
    message: str | None = None,
    seen: Callable[[], object] | None = None,
    pause: Callable[[float], None] = time.sleep,
) -> T:
    """``eventually`` for synchronous tests (Playwright's sync API): ``pause`` lets a browser
    test wait with ``page.wait_for_timeout`` so the page's events keep being handled."""
    deadline = time.monotonic() + bound
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {bound:.0f} s for {_what(predicate, message)}{_describe(seen)}")
        pause(interval)


async def gains(
    count: Callable[[], int],
    at_least: int,
    *,
    bound: float = SERVER_BOUND,
    message: str = "a count to grow",
) -> int:
    """Wait until ``count()`` has grown by ``at_least`` from now; return the growth."""
    start = count()
    await eventually(
        lambda: count() - start >= at_least,
        bound=bound,
        message=f"{message} by {at_least}",
        seen=lambda: f"grew by {count() - start}",
    )
    return count() - start


async def quiet_while_live(
    quiet: Callable[[], int],
    control: Callable[[], int],
    *,
    control_gain: int = 30,
    bound: float = SERVER_BOUND,
    settle: bool = True,
    message: str = "a quiet count",
) -> None:
    """Assert that ``quiet()`` does not move while ``control()`` grows by ``control_gain``: the
    window is measured in what demonstrably flowed, not in seconds, so it cannot be empty.

    With ``settle`` (for a change that takes effect some time after its command), windows are
    tried one after another until one is quiet; without it, the first window must be quiet.
    Either way the test fails when the quiet count keeps moving, or when the control stops
    (the channel is dead and a quiet count would prove nothing)."""
    deadline = time.monotonic() + bound
    windows: list[int] = []
    while True:
        quiet_start, control_start = quiet(), control()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{message}: never quiet over a live window; moved by {windows} in {bound:.0f} s")
        await eventually(
            lambda c0=control_start: control() - c0 >= control_gain,
            bound=remaining,
            message=f"the control to grow by {control_gain} while checking {message}",
            seen=lambda c0=control_start, q0=quiet_start: f"control +{control() - c0}, quiet +{quiet() - q0}",
        )
        moved = quiet() - quiet_start
        if moved == 0:
            return
        windows.append(moved)
        if not settle:
            raise AssertionError(f"{message}: moved by {moved} while the control grew by {control_gain}")


def _contains_run(items: list[bytes], run: list[bytes]) -> bool:
    """Whether ``run`` appears in ``items`` as one unbroken stretch."""
    n = len(run)
    return any(items[i : i + n] == run for i, item in enumerate(items) if item == run[0])


async def forwards_every_frame(
    source: EncodedSourceTrack,
    subscriber: MediaClient,
    publisher: str,
    slot: str = "video",
    *,
    frames: int = 15,
    bound: float = SERVER_BOUND,
    message: str = "every frame",
) -> None:
    """The next ``frames`` frames ``source`` sends all reach ``subscriber``, unbroken and in order.

    This is what "at full rate" means for a forwarder, measured in the publisher's frames rather
    than in seconds: a slow machine makes it take longer, a forwarder that drops or thins out
    frames fails it."""
    start = len(source.sent)
    await eventually(lambda: len(source.sent) - start >= frames,
                     bound=bound, message=f"{publisher} to send {frames} more {slot} frames",
                     seen=lambda: f"{len(source.sent) - start} sent")
    run = [data for _, data, _ in source.sent[start : start + frames]]

    def received() -> list[bytes]:
        return [f.data for f in subscriber.frames_from(publisher, slot)]

    await eventually(lambda: _contains_run(received(), run), bound=bound,
                     message=f"{message}: {subscriber.name} to receive {publisher}'s {frames} {slot} frames unbroken",
                     seen=lambda: f"{sum(data in run for data in received())} of them among {len(received())} received")
