"""Tasks the SFU starts without awaiting them: held until done, failures logged, ended at close."""

from __future__ import annotations

import asyncio
import gc
import logging

from gikai.media.sfu.tasks import TaskSet


async def test_a_task_is_held_until_it_is_done_even_if_nobody_else_holds_it():
    tasks, finished = TaskSet(), asyncio.Event()

    async def slow() -> None:
        await asyncio.sleep(0.05)
        finished.set()

    tasks.spawn(slow(), "slow")
    gc.collect()
    assert len(tasks) == 1
    await asyncio.wait_for(finished.wait(), 5)
    await asyncio.sleep(0)
    assert len(tasks) == 0


async def test_a_failure_is_logged_when_it_happens_with_what_failed(caplog):
    tasks = TaskSet()

    async def broken() -> None:
        raise ConnectionError("gone")

    with caplog.at_level(logging.ERROR, logger="gikai.media.sfu.tasks"):
        task = tasks.spawn(broken(), "a keyframe request to peer p")
        await asyncio.wait([task])
        await asyncio.sleep(0)
    (record,) = caplog.records
    assert record.getMessage() == "a keyframe request to peer p failed"
    assert isinstance(record.exc_info[1], ConnectionError)


async def test_close_cancels_or_waits_for_what_is_left_but_not_its_caller():
    tasks, ended = TaskSet(), []

    async def forever(name: str) -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            ended.append(name)

    async def closing() -> None:
        await tasks.close(cancel=True)  # from inside one of its own tasks
        ended.append("closer")

    tasks.spawn(forever("a"), "a")
    tasks.spawn(forever("b"), "b")
    await asyncio.sleep(0)
    await asyncio.wait_for(tasks.spawn(closing(), "closer"), 5)
    assert sorted(ended) == ["a", "b", "closer"] and len(tasks) == 0

    done = asyncio.Event()

    async def short() -> None:
        await asyncio.sleep(0.05)
        done.set()

    tasks.spawn(short(), "short")
    await asyncio.wait_for(tasks.close(cancel=False), 5)
    assert done.is_set()
