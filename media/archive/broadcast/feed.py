"""The server's side of one live broadcast: taps on the shown publications, and the encoding
process they feed (worker.py).

The taps are up-track listeners, like presence analysis and recording: they copy the encoded
frames as they pass and never touch forwarding. Only the shown camera and the audible
microphones are tapped. Frames go to the process through a bounded queue and a sender thread,
so the event loop never waits on a pipe; when the process falls behind, frames are dropped
(the camera's until its next keyframe, asked of the publisher) rather than piling up.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from gikai.media.analysis.worker import _package_root
from gikai.media.sfu.forwarding import UpTrack
from gikai.media.sfu.frames import EncodedFrame

logger = logging.getLogger(__name__)

QUEUE_LIMIT = 400  # messages waiting for the encoder (~4 s of one camera and two microphones)
_keys = itertools.count()


class LiveBroadcast:
    """One sitting's broadcast into ``folder`` (index.m3u8 and its segments), encoded in a child
    process started at once. :meth:`show` says what the public sees and hears; :meth:`close` ends
    the stream (the playlist is marked ended) and the process."""

    def __init__(self, folder: Path, width: int = 640, height: int = 360, fps: int = 15) -> None:
        self.folder = folder
        self._keys: weakref.WeakKeyDictionary[UpTrack, str] = weakref.WeakKeyDictionary()
        self._video: UpTrack | None = None
        self._audio: list[UpTrack] = []
        self._taps: list[tuple[UpTrack, Callable[[EncodedFrame], None]]] = []
        self._outbox: queue.Queue[tuple[Any, ...] | None] = queue.Queue()
        self._need_keyframe = True
        self._closed = False
        self.dropped = 0  # messages dropped because the encoder was behind
        self.ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_package_root(), env.get("PYTHONPATH", "")) if p)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gikai.media.archive.broadcast.worker", str(folder), str(width), str(height),
             str(fps)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, start_new_session=True)
        assert self.process.stdin is not None and self.process.stdout is not None
        to_child = Connection(os.dup(self.process.stdin.fileno()), readable=False)
        from_child = Connection(os.dup(self.process.stdout.fileno()), writable=False)
        self.process.stdin.close()
        self.process.stdout.close()
        threading.Thread(target=self._send, args=(to_child,), name="broadcast-send", daemon=True).start()
        threading.Thread(target=self._receive, args=(from_child,), name="broadcast-receive", daemon=True).start()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process.poll() is None else None

    def show(self, video: UpTrack | None, audio: Sequence[UpTrack], caption: Sequence[str]) -> None:
        """The picture (a camera or a shared screen; None: the slate), the microphones heard and
        the caption's lines, from now on."""
        if self._closed:
            return
        self._loop = asyncio.get_running_loop()
        audio = list(audio)
        if video is not self._video or audio != self._audio:
            self._untap()
            self._video, self._audio = video, audio
            if video is not None:
                self._tap(video, self._on_video)
                self._need_keyframe = True
                video.request_keyframe()
            for up in audio:
                self._tap(up, self._on_audio(up))
        self._put(("show", self._key(video) if video is not None else None, [self._key(a) for a in audio],
                   list(caption)), force=True)

    def _key(self, up: UpTrack) -> str:
        key = self._keys.get(up)
        if key is None:
            key = self._keys[up] = f"{up.kind}{next(_keys)}"
        return key

    def _tap(self, up: UpTrack, listener: Callable[[EncodedFrame], None]) -> None:
        up.listeners.append(listener)
        self._taps.append((up, listener))

    def _untap(self) -> None:
        for up, listener in self._taps:
            if listener in up.listeners:
                up.listeners.remove(listener)
        self._taps.clear()

    def _on_video(self, frame: EncodedFrame) -> None:
        video = self._video
        if video is None:
            return
        if self._need_keyframe and not frame.keyframe:
            video.request_keyframe()  # rate-limited by the up-track
            return
        if self._put(("video", self._key(video), frame.data, frame.keyframe, time.monotonic())):
            self._need_keyframe = False
        else:
            self._need_keyframe = True

    def _on_audio(self, up: UpTrack) -> Callable[[EncodedFrame], None]:
        key = self._key(up)

        def take(frame: EncodedFrame) -> None:
            if up.forwarding:  # a microphone the floor rules keep closed is heard by nobody
                self._put(("audio", key, frame.data))
        return take

    def _put(self, message: tuple[Any, ...], force: bool = False) -> bool:
        """Queue a message for the process; a frame is dropped when ``QUEUE_LIMIT`` wait already
        ("show" never is)."""
        if not force and self._outbox.qsize() >= QUEUE_LIMIT:
            self.dropped += 1
            return False
        self._outbox.put(message)
        return True

    def _send(self, conn: Connection) -> None:
        try:
            while (message := self._outbox.get()) is not None:
                conn.send(message)
        except OSError:
            pass  # the process has gone; the receiver logs it
        finally:
            conn.close()

    def _receive(self, conn: Connection) -> None:
        try:
            while True:
                answer = conn.recv()
                if answer[0] == "ready":
                    self.ready.set()
                elif answer[0] == "keyframe" and self._loop is not None:
                    self._loop.call_soon_threadsafe(self._keyframe_wanted)
        except (EOFError, OSError, pickle.UnpicklingError, RuntimeError):
            pass
        finally:
            conn.close()
            if not self._closed:
                logger.error("the broadcast encoder of %s ended (code %s)", self.folder.name, self.process.poll())

    def _keyframe_wanted(self) -> None:
        self._need_keyframe = True
        if self._video is not None:
            self._video.request_keyframe()

    async def close(self, grace: float = 10.0) -> None:
        """End the stream: the process writes the last segment and the playlist's end, then exits
        (killed after ``grace`` seconds). Polled, not awaited through a child watcher."""
        if self._closed:
            return
        self._closed = True
        self._untap()
        self._outbox.put(None)
        deadline = time.monotonic() + grace
        while self.process.poll() is None and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        if self.process.poll() is None:
            self.process.kill()
            while self.process.poll() is None:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
