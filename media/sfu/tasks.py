"""Tasks an object starts and does not await at once: kept, their failures logged, ended at close.

The event loop keeps only a weak reference to a task: one started and dropped can be garbage
collected before it finishes, and its exception is reported (if ever) whenever that happens. A
:class:`TaskSet` holds each task until it is done, logs a failure when it happens, and cancels or
waits for what is left when its owner closes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

logger = logging.getLogger(__name__)


class TaskSet:
    def __init__(self) -> None:
        self._tasks: dict[asyncio.Task[Any], str] = {}  # each running task and what it does

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, coro: Coroutine[Any, Any, Any], what: str) -> asyncio.Task[Any]:
        """Run ``coro`` as a task; ``what`` names it in the log if it fails."""
        task = asyncio.create_task(coro)
        self._tasks[task] = what
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        what = self._tasks.pop(task, "a task")
        if not task.cancelled() and (exc := task.exception()) is not None:
            logger.error("%s failed", what, exc_info=exc)

    async def close(self, *, cancel: bool) -> None:
        """Cancel (``cancel``) or let finish every task left, and wait until they have ended.

        The task calling this, if it is one of them, is left alone.
        """
        current = asyncio.current_task()
        tasks = [task for task in self._tasks if task is not current]
        if cancel:
            for task in tasks:
                task.cancel()
        if tasks:
            await asyncio.wait(tasks)
