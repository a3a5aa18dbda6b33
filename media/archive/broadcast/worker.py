"""The broadcast's encoding process: one per sitting being broadcast.

A fresh ``python`` (as the presence worker: not multiprocessing's spawn, which would re-run
``python -m gikai``'s main module) runs :func:`serve`. It reads what the server sends over
stdin, in the order sent:

- ``("show", video_key | None, [audio_keys], [caption lines])``: what the public sees and hears now
- ``("video", key, bytes, keyframe, captured)``: an encoded VP8 frame of the shown camera
- ``("audio", key, bytes)``: an Opus packet of an audible microphone

and answers on stdout ``("ready",)`` once it writes the stream, and ``("keyframe", key)`` when the
camera's decoder needs a keyframe to go on. Between messages it keeps its own clock: one output
frame every 1/fps seconds (frames a busy machine could not make in time are skipped, the sound is
not). The end of stdin ends the stream (the playlist gets #EXT-X-ENDLIST) and the process.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

SKIP_AFTER = 0.5  # seconds behind its clock after which the encoder skips frames


def serve(folder: str, width: int, height: int, fps: int) -> None:
    from gikai.media.archive.broadcast.live import LiveEncoder
    from gikai.media.archive.render.captions import find_caption_font
    from gikai.media.archive.render.plan import CaptionFontMissing

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when the broadcast ends
    answers = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)  # a library's stray print must not corrupt the answers
    requests = Connection(os.dup(0), writable=False)
    font: Path | None
    try:
        font = find_caption_font()
    except CaptionFontMissing as exc:
        print(f"broadcast without captions: {exc}", file=sys.stderr)
        font = None
    encoder = LiveEncoder(Path(folder), width, height, fps, font)
    answers.send(("ready",))
    start = time.monotonic()
    index = 0
    try:
        while True:
            now = time.monotonic()
            due = start + index / fps
            if now >= due:
                if now - due > SKIP_AFTER:
                    index = int((now - start) * fps)
                encoder.tick(index)
                index += 1
                continue
            if not requests.poll(due - now):
                continue
            try:
                message: Any = requests.recv()
            except EOFError:
                return
            _handle(encoder, answers, message)
    finally:
        encoder.close()


def _handle(encoder: Any, answers: Connection, message: Any) -> None:
    kind = message[0]
    if kind == "video":
        _, key, data, keyframe, captured = message
        if not encoder.video(key, data, keyframe, captured):
            answers.send(("keyframe", key))
    elif kind == "audio":
        encoder.audio(message[1], message[2])
    elif kind == "show":
        encoder.show(message[1], message[2], message[3])


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
