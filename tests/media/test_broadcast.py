"""The live broadcast's encoder, fed directly (no server): up-tracks carrying a red and a blue
camera and a 440 Hz and a 660 Hz microphone; the stream shows and sounds like whoever is shown,
and after a switch the newly listed segments follow within a bounded delay."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from gikai.media.archive.broadcast import LiveBroadcast
from gikai.media.archive.render.canvas import SLATE_RGB
from gikai.media.sfu.forwarding import UpTrack
from gikai.media.sfu.frames import AUDIO_TIME_BASE, VIDEO_TIME_BASE, EncodedFrame, vp8_is_keyframe
from tests.support.encoded import encode_opus, encode_solid_vp8
from tests.support.hls import Segment, decode_segment, heard, parse_playlist, shows
from tests.support.waiting import eventually

PALETTE = {"a": (220, 30, 30), "b": (30, 40, 220), "slate": SLATE_RGB}
TONES = {"a": 440.0, "b": 660.0}


class Publisher:
    """Pushes a camera and a microphone into up-tracks at their real rate, as the SFU does."""

    def __init__(self, name: str) -> None:
        self.video_packets = encode_solid_vp8(PALETTE[name])
        self.audio_packets = encode_opus(seconds=2.0, hz=TONES[name])
        self.keyframe_wanted = False
        self.video = UpTrack("video", self._want_keyframe)
        self.audio = UpTrack("audio", lambda: None)

    def _want_keyframe(self) -> None:
        self.keyframe_wanted = True

    async def run(self) -> None:
        start, v, a = time.monotonic(), 0, 0
        while True:
            now = time.monotonic() - start
            while v / 15 <= now:
                data = self.video_packets[v % len(self.video_packets)]
                if self.keyframe_wanted and not vp8_is_keyframe(data):
                    v += 1
                    continue
                self.keyframe_wanted = False
                self.video.push(EncodedFrame(data, v * 6000, VIDEO_TIME_BASE, vp8_is_keyframe(data)))
                v += 1
            while a / 50 <= now:
                data = self.audio_packets[a % len(self.audio_packets)]
                self.audio.push(EncodedFrame(data, a * 960, AUDIO_TIME_BASE, True))
                a += 1
            await asyncio.sleep(0.01)


def segments(folder: Path) -> list[Segment]:
    listed = parse_playlist((folder / "index.m3u8").read_text())
    assert listed.init is not None and listed.init.startswith("init-")
    init = (folder / listed.init).read_bytes()
    out = []
    for name in listed.segments:
        path = folder / name
        if path.is_file():  # deleted meanwhile: rolled off the playlist
            out.append(decode_segment(name, init, path.read_bytes()))
    return out


async def newest_showing(folder: Path, after: set[str], who: str, tones: set[str]) -> Segment | None:
    """A segment listed after ``after`` whose pictures all show ``who`` and whose sound is ``tones``."""
    if not (folder / "index.m3u8").is_file():
        return None
    for segment in segments(folder):
        if segment.name not in after and shows(segment, PALETTE) == who and heard(segment, TONES) == tones:
            return segment
    return None


async def test_the_stream_shows_and_sounds_like_whoever_is_shown_and_follows_a_switch(tmp_path):
    a, b = Publisher("a"), Publisher("b")
    feeders = [asyncio.ensure_future(p.run()) for p in (a, b)]
    folder = tmp_path / "broadcast"
    live = LiveBroadcast(folder)
    try:
        live.show(a.video, [a.audio], ["山田 太郎 議員", "議案第1号"])
        first = await eventually(lambda: newest_showing(folder, set(), "a", {"a"}), bound=40,
                                 message="a segment of A's red camera and 440 Hz tone")
        assert first.codecs == ("aac", "h264")

        listed = {s.name for s in segments(folder)}
        switched = time.monotonic()
        live.show(b.video, [b.audio], ["鈴木 花子 議員", "議案第1号"])
        await eventually(lambda: newest_showing(folder, listed, "b", {"b"}), bound=30,
                         message="a segment of B's blue camera and 660 Hz tone after the switch")
        assert time.monotonic() - switched < 20, "the stream follows the switch within seconds"

        listed = {s.name for s in segments(folder)}
        live.show(None, [], ["休憩中", "3月定例会"])
        await eventually(lambda: newest_showing(folder, listed, "slate", set()), bound=30,
                         message="the slate, silent, when nobody is shown")
        assert live.dropped == 0
    finally:
        await live.close()
        for f in feeders:
            f.cancel()
    assert parse_playlist((folder / "index.m3u8").read_text()).ended, "the ended stream says so"
    assert live.process.returncode == 0
