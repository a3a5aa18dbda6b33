"""Presence analysis on real aiortc publishers: each scene is reported for what it is."""

from __future__ import annotations

import threading

from gikai.media import SFU
from gikai.media.analysis.presence import AudioObservation, PresenceMonitor, VideoObservation
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
