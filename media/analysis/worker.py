"""Presence analysis in a worker process: off the event loop, and off its GIL.

Measured in the end-to-end test (py-spy on the server): with the judges in threads, the event
loop spent much of its time waiting for the GIL after each ``sendto`` while a worker thread ran
the Python and numpy parts of an analysis, and fell seconds behind on a busy machine. Here the
judges run in a child process (a fresh ``python`` that runs :func:`serve`, not multiprocessing's
spawn, which would re-run ``python -m gikai``'s main module in the child) that keeps each track's
judge (decoder, last picture) by key. The parent talks to it over pipes: a sender thread pickles
requests (the loop never blocks on a full pipe), a receiver thread completes their futures.
If the child dies, its pending futures fail and the next request starts a new one.
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import logging
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_FACES = "gikai.media.analysis.judging:FaceDetector"
RESTART_AFTER = 10.0  # seconds after a child ended before another is started


def _package_root() -> str:
    """The folder that holds the ``gikai`` package, for the child's import path."""
    import gikai

    return str(Path(gikai.__file__ or "").parent.parent)


class AnalysisWorker:
    """One child process judging tracks; ``submit`` is safe to call from the event loop."""

    def __init__(self, faces: str | None = DEFAULT_FACES) -> None:
        self._faces = faces or ""
        self._lock = threading.Lock()
        self._pending: dict[int, Future[Any]] = {}
        self._seq = itertools.count()
        self._process: subprocess.Popen[bytes] | None = None
        self._outbox: queue.SimpleQueue[tuple[Any, ...] | None] | None = None
        self._closed = False
        self.ready_at = 0.0  # time.monotonic() when the current child had started and could judge
        self._ended_at = float("-inf")

    @property
    def pid(self) -> int | None:
        """The analysis process's id while it runs (to measure its CPU)."""
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    def submit(self, op: str, key: str, payload: Any) -> Future[Any]:
        """``op``: "video" (a keyframe's bytes), "audio" ([(arrival, packet)]), "still" (a width)
        or "forget"; the future has the judge's answer."""
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the analysis worker is closed")
            running = self._process is not None and self._process.poll() is None
            if op == "forget" and not running:
                future.set_result(None)  # no child: it remembers nothing
                return future
            if not running:
                if time.monotonic() - self._ended_at < RESTART_AFTER:
                    raise RuntimeError("the analysis process ended; it restarts shortly")
                self._start()
            seq = next(self._seq)
            if op != "forget":
                self._pending[seq] = future
            assert self._outbox is not None
            self._outbox.put((seq, op, key, payload))
        if op == "forget":
            future.set_result(None)
        return future

    def _start(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_package_root(), env.get("PYTHONPATH", "")) if p)
        process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from gikai.media.analysis.worker import serve; serve(sys.argv[1])",
             self._faces],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, start_new_session=True)
        assert process.stdin is not None and process.stdout is not None
        outbox: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        to_child = Connection(os.dup(process.stdin.fileno()), readable=False)
        from_child = Connection(os.dup(process.stdout.fileno()), writable=False)
        process.stdin.close()
        process.stdout.close()
        self._process, self._outbox = process, outbox
        threading.Thread(target=self._send, args=(outbox, to_child), name="presence-send", daemon=True).start()
        threading.Thread(target=self._receive, args=(from_child, process), name="presence-receive",
                         daemon=True).start()

    @staticmethod
    def _send(outbox: queue.SimpleQueue[tuple[Any, ...] | None], conn: Connection) -> None:
        try:
            while (message := outbox.get()) is not None:
                conn.send(message)
        except OSError:
            pass  # the child has gone: the receiver fails what was pending
        finally:
            conn.close()

    def _receive(self, conn: Connection, process: subprocess.Popen[bytes]) -> None:
        try:
            while True:
                seq, ok, result = conn.recv()
                if seq < 0:  # the child has imported everything and judges from now on
                    self.ready_at = time.monotonic()
                    continue
                with self._lock:
                    future = self._pending.pop(seq, None)
                if future is None:
                    continue
                if ok:
                    future.set_result(result)
                else:
                    future.set_exception(RuntimeError(result))
        except (EOFError, OSError, pickle.UnpicklingError):
            pass
        finally:
            conn.close()
            with self._lock:
                gone = [f for s, f in self._pending.items()]
                self._pending.clear()
                if self._process is process and not self._closed:
                    self._ended_at = time.monotonic()
                    logger.error("the presence analysis process ended (code %s); a new one starts %.0f s "
                                 "later", process.poll(), RESTART_AFTER)
            for future in gone:
                future.set_exception(RuntimeError("the presence analysis process ended"))

    async def close(self, grace: float = 5.0) -> None:
        """Let the child finish what it is judging and exit (killed after ``grace`` seconds). The
        child is a plain Popen (no asyncio child watcher): its end is polled, at shutdown only."""
        with self._lock:
            self._closed = True
            process, outbox = self._process, self._outbox
        if process is None or outbox is None:
            return
        outbox.put(None)  # the sender closes the pipe; the child sees the end and exits
        deadline = time.monotonic() + grace
        while process.poll() is None and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        if process.poll() is None:
            process.kill()
            while process.poll() is None:  # noqa: ASYNC110
                await asyncio.sleep(0.02)


def _faces_from(spec: str) -> Any:
    if not spec:
        return None
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)()


def serve(faces_spec: str) -> None:
    """The child: read requests from stdin, answer on stdout, until stdin ends."""
    from gikai.media.analysis.judging import PictureJudge, SoundJudge, jpeg

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when analysis stops
    answers = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)  # a library's stray print must not corrupt the answers
    requests = Connection(os.dup(0), writable=False)
    faces = _faces_from(faces_spec)
    judges: dict[str, PictureJudge | SoundJudge] = {}
    answers.send((-1, True, None))
    while True:
        try:
            seq, op, key, payload = requests.recv()
        except EOFError:
            return
        try:
            if op == "forget":
                judges.pop(key, None)
                continue
            if op == "video":
                judge = judges.get(key)
                if not isinstance(judge, PictureJudge):
                    judge = judges[key] = PictureJudge(faces)
                result: Any = judge.judge(payload)
            elif op == "audio":
                sound = judges.get(key)
                if not isinstance(sound, SoundJudge):
                    sound = judges[key] = SoundJudge()
                result = sound.judge(payload)
            elif op == "still":
                picture = judges.get(key)
                latest = picture.latest if isinstance(picture, PictureJudge) else None
                result = jpeg(latest, payload) if latest is not None else None
            else:
                raise ValueError(f"unknown request {op!r}")
            answers.send((seq, True, result))
        except Exception as exc:  # one bad frame must not end the analysis of every camera
            answers.send((seq, False, f"{type(exc).__name__}: {exc}"))

