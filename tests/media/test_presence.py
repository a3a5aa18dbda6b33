"""Presence analysis on real aiortc publishers: each scene is reported for what it is, and a
server that is behind (a slow analysis, a blocked event loop) never reports a sending camera as off."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from gikai.media import SFU
from gikai.media.analysis.presence import AudioObservation, FrameRate, PresenceMonitor, VideoObservation
from gikai.media.sfu.frames import VIDEO_TIME_BASE, EncodedFrame
from tests.support import scenes
from tests.support.client import MediaClient
from tests.support.encoded import EncodedSourceTrack
from tests.support.room import join
from tests.support.waiting import eventually

CAST = {
    "face": ("face", "speech"),
    "empty": ("empty", "silence"),
    "black": ("black", "tone"),
    "frozen": ("frozen", "speech"),
}


async def test_the_analyser_tells_a_face_an_empty_room_black_frozen_speech_tone_and_silence():
    latest: dict[tuple[str, str], object] = {}

    def report(peer_id, observation):
        kind = "video" if isinstance(observation, VideoObservation) else "audio"
        latest[(peer_id, kind)] = observation

    threads_before = threading.active_count()
    sfu = SFU()
    room = sfu.room("m")
    monitor = PresenceMonitor(report)
    clients = {
        name: MediaClient(name, video=EncodedSourceTrack("video", scenes.video(v), 15),
                          audio=EncodedSourceTrack("audio", scenes.audio(a), 50))
        for name, (v, a) in CAST.items()
    }
    try:
        for name, client in clients.items():
            join(room, name, client)
            monitor.watch(name, room.peers[name].ups)
        await eventually(lambda: len(latest) == 8, seen=lambda: sorted(latest))
        # "frozen" needs three unchanged analyses; the audio verdict a full 2 s window.
        await eventually(lambda: latest[("frozen", "video")].frozen and latest[("face", "audio")].voice)

        def wrong() -> list[str]:
            """The verdicts that do not hold (yet): each scene's last observation."""
            v = {name: latest[(name, "video")] for name in CAST}
            a = {name: latest[(name, "audio")] for name in CAST}
            checks = {
                "a face is seen, live": v["face"].live and v["face"].faces == 1 and v["face"].fps >= 10,
                "an empty room is live without a face": v["empty"].live and v["empty"].faces == 0,
                "a black camera is dark, not live": v["black"].dark and not v["black"].live,
                "a frozen camera is frozen, not live": v["frozen"].frozen and not v["frozen"].live,
                "speech is a live voice": a["face"].live and a["face"].voice,
                "silence is live, not a voice": a["empty"].live and not a["empty"].voice
                and a["empty"].active_fraction < 0.05,
                "a test tone is not speech": a["black"].active_fraction > 0.9 and not a["black"].voice,
                "every track analysed several times": monitor.analyses() > 8 * 4,
            }
            return [name for name, ok in checks.items() if not ok]

        # Every verdict holding at once (each analysis needs a few frames: on a busy machine, later).
        await eventually(lambda: not wrong(), message="every scene's verdict",
                         seen=lambda: {"wrong": wrong(), "observations": latest})

        # A camera that stops sending altogether is reported as not live by the watchdog.
        room.peers["face"].ups["video"].listeners.clear()
        await eventually(lambda: not latest[("face", "video")].live)
        gone = latest[("face", "video")]
        assert isinstance(gone, VideoObservation) and not gone.live and gone.fps < 3
        assert isinstance(latest[("face", "audio")], AudioObservation)
    finally:
        await monitor.close()
        await sfu.close()
        for c in clients.values():
            await c.close()
    await eventually(lambda: threading.active_count() <= threads_before)


async def test_a_lone_publisher_with_rare_keyframes_is_analysed_at_once():
    latest = {}
    sfu = SFU()
    room = sfu.room("alone")
    monitor = PresenceMonitor(lambda peer, obs: latest.__setitem__(type(obs).__name__, obs))
    rare = scenes.encode_video(scenes.face_frames(150), gop=150)  # one keyframe per 10 s loop
    source = EncodedSourceTrack("video", rare, 15)
    source._index = 20  # joins mid-loop: the next keyframe is 8 s away unless one is asked for
    client = MediaClient("alone", video=source)
    try:
        join(room, "alone", client)
        monitor.watch("alone", room.peers["alone"].ups)
        await eventually(lambda: "VideoObservation" in latest and latest["VideoObservation"].faces == 1)
        assert source.keyframe_requests >= 1
    finally:
        await monitor.close()
        await sfu.close()
        await client.close()


class GatedFaces:
    """A face search that waits until the test lets it finish: an analysis held up by a busy
    machine, for as long as the test wants. It runs in the analysis process: the gate is a file
    (named by GIKAI_TEST_FACE_GATE) the test creates, and each call adds a line to its ".calls"."""

    def __init__(self) -> None:
        self.gate = Path(os.environ["GIKAI_TEST_FACE_GATE"])

    def count(self, gray: np.ndarray) -> int:
        with open(f"{self.gate}.calls", "a") as calls:
            calls.write("called\n")
        deadline = time.monotonic() + 60
        while not self.gate.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        return 1


class Gate:
    """The test's side of GatedFaces."""

    def __init__(self, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.path = folder / "faces-gate"
        monkeypatch.setenv("GIKAI_TEST_FACE_GATE", str(self.path))

    @property
    def calls(self) -> int:
        calls = Path(f"{self.path}.calls")
        return len(calls.read_text().splitlines()) if calls.exists() else 0

    def open(self) -> None:
        self.path.touch()


GATED = "tests.media.test_presence:GatedFaces"


def stop_camera(client: MediaClient) -> None:
    for t in client.pc.getTransceivers():
        if t.sender.track is client.video:
            t.sender.replaceTrack(None)


def face_member(name: str) -> MediaClient:
    return MediaClient(name, video=EncodedSourceTrack("video", scenes.video("face"), 15),
                       audio=EncodedSourceTrack("audio", scenes.audio("speech"), 50), keep_frames=False)


def test_the_frame_rate_is_the_publishers_however_late_the_frames_are_read():
    rate = FrameRate()
    assert rate.fps() is None
    # Thirty frames of 15 fps read all at once, as after a stalled loop: still 15 fps.
    for i in range(30):
        rate.add(EncodedFrame(b"x", i * 6000, VIDEO_TIME_BASE, i == 0))
    assert rate.fps() == 15.0
    # After a gap longer than a silence, a new run: too short to tell, then its own rate.
    rate.add(EncodedFrame(b"x", 29 * 6000 + 90000 * 3, VIDEO_TIME_BASE, True))
    assert rate.fps() is None
    for i in range(1, 12):  # 11 frames at 1 fps of a camera nearly off
        rate.add(EncodedFrame(b"x", 29 * 6000 + 90000 * (3 + i), VIDEO_TIME_BASE, False))
    assert rate.fps() == 1.0


async def test_a_late_verdict_changes_nothing_and_is_a_server_warning(caplog, tmp_path, monkeypatch):
    caplog.set_level(logging.WARNING, logger="gikai.media.analysis.presence")
    video: list[VideoObservation] = []
    faces = Gate(tmp_path, monkeypatch)
    sfu = SFU()
    room = sfu.room("late")
    monitor = PresenceMonitor(lambda peer, obs: video.append(obs) if isinstance(obs, VideoObservation) else None,
                              faces=GATED, late_after=0.5)
    client = face_member("slow")
    try:
        join(room, "slow", client)
        monitor.watch("slow", room.peers["slow"].ups)
        # The first keyframe's analysis is held up: the server warns, and reports nothing.
        await eventually(lambda: faces.calls >= 1, message="the first face search")
        await eventually(lambda: "has waited" in caplog.text, message="a warning of the analysis held up")
        assert faces.calls == 1, "one analysis in flight per camera, however long it takes"
        faces.open()
        # The camera's verdict, and the microphone's that waited behind it, come late.
        await eventually(lambda: monitor.late >= 1, message="the held-up verdict counted as late")
        assert "the server is behind; presence left unchanged" in caplog.text
        assert all(r.levelno == logging.WARNING for r in caplog.records)
        # Verdicts in time are reported again; nothing was reported for the late one.
        await eventually(lambda: len(video) >= 2, message="verdicts in time")
        assert all(o.live and o.faces == 1 for o in video), video
    finally:
        faces.open()
        await monitor.close()
        await sfu.close()
        await client.close()


async def test_a_camera_that_sends_is_live_without_analysis_and_one_that_stops_is_not(caplog, tmp_path,
                                                                                       monkeypatch):
    caplog.set_level(logging.WARNING, logger="gikai.media.analysis.presence")
    observations: list[VideoObservation | AudioObservation] = []
    faces = Gate(tmp_path, monkeypatch)  # opened only at the end: no picture verdict in this test
    sfu = SFU()
    room = sfu.room("stuck")
    monitor = PresenceMonitor(lambda peer, obs: observations.append(obs), faces=GATED, late_after=0.5)
    client = face_member("stuck")
    try:
        join(room, "stuck", client)
        monitor.watch("stuck", room.peers["stuck"].ups)
        # The analysis hangs (and the microphone's waits behind it); the camera keeps sending for
        # three more seconds (45 frames), twice as long as a silence: nothing says it is off.
        await eventually(lambda: "has waited" in caplog.text, message="a warning of the analysis held up")
        up = room.peers["stuck"].ups["video"]
        sent = up.frames_in
        await eventually(lambda: up.frames_in >= sent + 45, message="three more seconds of frames")
        assert not [o for o in observations if isinstance(o, VideoObservation)]
        # The camera stops: its frames stop arriving, and that alone says it is not live.
        stop_camera(client)
        await eventually(lambda: any(isinstance(o, VideoObservation) for o in observations),
                         message="the stopped camera reported")
        gone = [o for o in observations if isinstance(o, VideoObservation)]
        assert all(not o.live and o.fps == 0.0 for o in gone), gone
        assert faces.calls == 1
    finally:
        faces.open()
        await monitor.close()
        await sfu.close()
        await client.close()


@contextlib.asynccontextmanager
async def a_face_watched(name: str) -> AsyncIterator[tuple[PresenceMonitor, list[VideoObservation]]]:
    """A member with a face on camera in an SFU room, watched by a presence monitor, once a face
    has been seen; the monitor and the video observations so far."""
    video: list[VideoObservation] = []
    sfu = SFU()
    room = sfu.room(name)
    monitor = PresenceMonitor(lambda peer, obs: video.append(obs) if isinstance(obs, VideoObservation) else None)
    client = face_member(name)
    try:
        join(room, name, client)
        monitor.watch(name, room.peers[name].ups)
        await eventually(lambda: video and video[-1].live and video[-1].faces == 1, message="a face seen")
        yield monitor, video
    finally:
        await monitor.close()
        await sfu.close()
        await client.close()


async def test_a_blocked_event_loop_does_not_turn_a_sending_camera_off(caplog):
    caplog.set_level(logging.WARNING, logger="gikai.media.analysis.presence")
    async with a_face_watched("blocked") as (monitor, video):
        seen = len(video)
        time.sleep(3.0)  # noqa: ASYNC251 -- the point: the server falls behind, its loop does nothing for 3 s
        await eventually(lambda: monitor.stalls >= 1, message="the watchdog to see the stall")
        assert "the event loop was" in caplog.text
        # Three verdicts after the stall: every observation since says the camera is live.
        await eventually(lambda: len(video) >= seen + 3, message="three verdicts after the stall",
                         seen=lambda: video[seen:])
        assert all(o.live and o.faces == 1 for o in video[seen:]), video[seen:]


async def test_an_analysis_process_that_dies_changes_nothing_and_a_new_one_takes_over(caplog, monkeypatch):
    import signal

    from gikai.media.analysis import worker

    monkeypatch.setattr(worker, "RESTART_AFTER", 1.0)
    caplog.set_level(logging.WARNING, logger="gikai.media.analysis")
    async with a_face_watched("dies") as (monitor, video):
        first = monitor.worker.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        await eventually(lambda: "the presence analysis process ended" in caplog.text, message="the end logged")
        seen = len(video)
        await eventually(lambda: monitor.worker.pid not in (None, first), message="a new analysis process")
        await eventually(lambda: len(video) >= seen + 2, message="verdicts from the new process")
        assert all(o.live and o.faces == 1 for o in video), video
