"""Members who attend from Python with a camera: aiortc clients that publish a pre-encoded
scene (tests/support/scenes.py) so that the server's presence detection sees a face.

Cheaper than a Chromium each: nothing is encoded while the test runs, and they receive
nothing (every m-line that carries someone else's media is answered inactive). They send
no `reception` reports, which the server takes as "cannot tell" rather than a lost link.
"""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

from tests.e2e.socketmembers import SocketMembers, _Publisher
from tests.support import scenes
from tests.support.encoded import EncodedSourceTrack
from tests.support.waiting import BROWSER_BOUND

REPO = Path(__file__).resolve().parents[2]


class _CameraMember(_Publisher):
    def __init__(self, ws_url: str, token: str, scene: str) -> None:
        # 320x180: the server analyses 160x90; the browsers and the server decode it four times
        # cheaper than 640x360 (six cameras, three browsers, two cores).
        # 7.5 frames a second, half the clip's rate: the face moves more slowly, which presence
        # detection cannot tell from a calmer person, and the server decodes half as much.
        # No screen share.
        super().__init__(ws_url, token, {
            "video": EncodedSourceTrack("video", scenes.video(scene, 320, 180), 7.5, record=False),
            "audio": EncodedSourceTrack("audio", scenes.audio("speech"), 50, record=False)})
        self.keyframe_requests = 0

    def keyframe_requested(self) -> None:
        """A camera answers a keyframe request with a keyframe of what it sees now; a looped clip
        could only jump to its next keyframe, and with the browsers' frequent requests it would
        show the same few pictures over and over, which the server rightly takes for a frozen
        camera. The clip has a keyframe every second: a receiver recovers by then."""
        self.keyframe_requests += 1


class _CameraLoop(SocketMembers):
    """The camera members' event loop, inside the process of their own (below)."""

    THREAD = "camera-members"
    RUN_BOUND = 3 * BROWSER_BOUND  # a join (socket, offer, answer, ICE) on a loaded machine took more than 60 s

    def join(self, link: str, scene: str = "face") -> str:
        return self._add(lambda token: _CameraMember(self.ws_url, token, scene), link)


class CameraMembers:
    """Members who publish a camera scene, from a Python process of their own.

    In the test's own process their event loop shared one interpreter lock with pytest and
    Playwright; on a busy machine it then answered the server's ICE consent checks too late, the
    server dropped them, and no quorum came. A process of their own answers in time. Commands go
    to it a line at a time (``join LINK SCENE``, ``close``), each answered with a line.
    """

    def __init__(self, base_url: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.cameramembers", base_url], cwd=REPO, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            preexec_fn=_before_browsers)
        self.answers: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, name="camera-members-answers", daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith(ANSWER):
                self.answers.put(line[len(ANSWER):].strip())
        self.answers.put("error: the camera members' process ended")

    def _ask(self, command: str, timeout: float) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        answer = self.answers.get(timeout=timeout)
        if answer.startswith("error"):
            raise RuntimeError(f"camera member: {answer}")
        return answer

    def join(self, link: str, scene: str = "face") -> str:
        """Join with a rehearsal link, publishing ``scene``; returns the participant id."""
        return self._ask(f"join {link} {scene}", 3 * BROWSER_BOUND + 10)

    def close(self) -> None:
        try:
            if self.process.poll() is None:
                self._ask("close", BROWSER_BOUND)
        finally:
            try:
                self.process.wait(timeout=BROWSER_BOUND)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


ANSWER = "camera-members: "
# The server's ICE consent check waits 0.5 s for a reply (aioice, RFC 7675, no retransmission), and
# six missed in a row drop the peer. A Python member's loop sending four cameras' packets on two
# cores shared with three Chromiums missed them all: it runs ahead of the browsers (where the test
# may raise its priority; a browser answers from C++ and needs no help).
PRIORITY = -5


def _before_browsers() -> None:
    with contextlib.suppress(PermissionError, OSError):
        os.nice(PRIORITY)


def main(base_url: str) -> None:
    """The camera members' process: one line in, one line out."""
    members = _CameraLoop(base_url)
    try:
        for line in sys.stdin:
            command, *args = line.split()
            if command == "close":
                break
            try:
                print(ANSWER + members.join(args[0], args[1] if len(args) > 1 else "face"), flush=True)
            except Exception as exc:  # the parent raises it with the test's context
                print(f"{ANSWER}error: {exc!r}", flush=True)
    finally:
        members.close()
        print(ANSWER + "closed", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
