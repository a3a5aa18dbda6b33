"""Recording through the SFU with real aiortc publishers: what lands on disk, and when."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import itertools
import json
import os
import pickle
import select
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import av
import pytest

from gikai.media import Recorder, SegmentInfo, recover
from gikai.media.archive.recording.recorder import TICK_SECONDS
from gikai.media.archive.recording.segment import MILLISECOND, SegmentFile
from gikai.media.sfu.forwarding import UpTrack
from gikai.media.sfu.frames import AUDIO_TIME_BASE, VIDEO_TIME_BASE, EncodedFrame, vp8_is_keyframe
from tests.support.client import MediaClient
from tests.support.encoded import EncodedSourceTrack, encode_opus, encode_vp8
from tests.support.room import join
from tests.support.waiting import eventually, forwards_every_frame

ROOT = Path(__file__).resolve().parents[2]
TOLERANCE = 0.1  # seconds between a frame's arrival and its timestamp in the file


def read_segment(path: Path) -> tuple[list[tuple[int, bytes, bool]], int]:
    """Every packet (pts in ms, bytes, keyframe flag) and how many frames decoding them gave."""
    packets: list[tuple[int, bytes, bool]] = []
    decoded = 0
    with av.open(str(path)) as container:
        stream = container.streams[0]
        assert stream.time_base == MILLISECOND
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            packets.append((packet.pts, bytes(packet), packet.is_keyframe))
            decoded += len(stream.codec_context.decode(packet))
    return packets, decoded


def manifest(directory: Path, key: str) -> list[dict]:
    lines = (directory / key / "manifest.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def by_key(infos: list[SegmentInfo]) -> dict[str, list[SegmentInfo]]:
    out: dict[str, list[SegmentInfo]] = {}
    for info in sorted(infos, key=lambda i: (i.key, i.index)):
        out.setdefault(info.key, []).append(info)
    return out


def check_files(directory: Path, key: str, infos: list[SegmentInfo],
                numbered: bool = True) -> list[tuple[int, bytes, bool]]:
    """Each segment file is whole, listed, hashed and decodable; returns all its packets."""
    assert [m["path"] for m in manifest(directory, key)] == [i.path.name for i in infos]
    assert [m["sha256"] for m in manifest(directory, key)] == [i.sha256 for i in infos]
    if numbered:
        assert [i.index for i in infos] == list(range(1, len(infos) + 1))
    everything = []
    for info in infos:
        assert info.path == directory / key / f"{key}-{info.index:04d}.webm"
        data = info.path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == info.sha256
        assert len(data) == info.file_bytes
        packets, decoded = read_segment(info.path)
        assert decoded == len(packets) == info.packets, f"{info.path.name} does not decode whole"
        assert sum(len(p[1]) for p in packets) == info.payload_bytes
        assert info.start == pytest.approx(packets[0][0] / 1000)
        assert 0 < info.end - packets[-1][0] / 1000 <= 0.1  # the last frame's own duration
        if info.kind == "video":
            assert vp8_is_keyframe(packets[0][1]) and packets[0][2], f"{info.path.name} starts on a delta frame"
        everything += packets
    assert not list((directory / key).glob("*.part"))
    return everything


def index_of_run(haystack: list[bytes], needle: list[bytes]) -> int:
    for i in range(len(haystack) - len(needle) + 1):
        if haystack[i : i + len(needle)] == needle:
            return i
    raise AssertionError("the recorded frames are not a run of the frames that arrived")


def capture_times(source: EncodedSourceTrack, recorded: list[bytes], first_arrival: float,
                  origin: float) -> list[float]:
    """When the publisher's camera or microphone produced each recorded frame, on the sitting clock."""
    sent = source.sent  # (pts, bytes, monotonic time handed to the sender)
    data = [d for _, d, _ in sent]
    runs = [j for j in range(len(sent) - len(recorded) + 1) if data[j : j + len(recorded)] == recorded]
    assert runs, "the recorded frames are not a run of what the publisher sent"
    j = min(runs, key=lambda j: abs(sent[j][2] - origin - first_arrival))  # the clip loops
    rate = 90000 if source.kind == "video" else 48000
    assert source._start is not None
    return [source._start + sent[j + k][0] / rate - origin for k in range(len(recorded))]


class Capture:
    """An up-track listener beside the recorder: each frame's bytes and sitting-clock arrival."""

    def __init__(self, clock) -> None:
        self.clock = clock
        self.frames: dict[str, list[tuple[float, bytes]]] = {}
        self._taps: list[tuple[UpTrack, object]] = []

    def tap(self, key: str, up: UpTrack) -> None:
        frames = self.frames.setdefault(key, [])

        def listener(frame: EncodedFrame) -> None:
            frames.append((self.clock(), frame.data))

        up.listeners.append(listener)
        self._taps.append((up, listener))

    def stop(self) -> None:
        for up, listener in self._taps:
            up.listeners.remove(listener)


def record_room(room, recorder: Recorder, capture: Capture | None = None) -> None:
    for pid, peer in room.peers.items():
        for kind, up in peer.camera_and_microphone():
            if capture is not None:
                capture.tap(f"{pid}-{kind}", up)
            recorder.add_track(f"{pid}-{kind}", kind, up)


async def test_a_recorded_room_has_playable_segments_holding_the_forwarded_bytes_on_the_sitting_clock(sfu, tmp_path):
    room = sfu.room("m")
    long_gop = encode_vp8(frames=150, gop=150)  # b's camera sends a keyframe only every 10 s
    clients = {
        "a": MediaClient("a"),
        "b": MediaClient("b", video=EncodedSourceTrack("video", long_gop, 15)),
        "c": MediaClient("c"),
    }
    try:
        for name, client in clients.items():
            join(room, name, client)
        await eventually(lambda: all(c.frame_counts[(o, "video")] > 0
                                     for n, c in clients.items() for o in clients if o != n),
                         seen=lambda: {n: dict(c.frame_counts) for n, c in clients.items()})
        # Past the subscribers' start-up keyframe requests (none held back by the rate limit), and
        # b early in its long GOP, so that only a request can bring its keyframe in the next 8 s.
        await eventually(lambda: all(up._request_timer is None for p in room.peers.values() for up in p.ups.values()),
                         message="the start-up keyframe requests to be over")
        b_video = clients["b"].video
        await eventually(lambda: 5 <= b_video._index <= 20, message="b early in its 150-frame GOP",
                         seen=lambda: b_video._index)
        # Where each camera's own next keyframe would be sent (in its frames) if nobody asked for one.
        natural = {name: len(c.video.sent) + (-c.video._index) % (150 if name == "b" else 15)
                   for name, c in clients.items()}
        origin = time.monotonic()
        clock = lambda: time.monotonic() - origin  # noqa: E731
        reported: list[SegmentInfo] = []
        recorder = Recorder(tmp_path, origin, segment_seconds=2.0, on_segment=reported.append)
        capture = Capture(clock)
        record_room(room, recorder, capture)
        await asyncio.sleep(5.0)
        capture.stop()  # in the same loop iteration as stop(): both saw the same frames
        await recorder.stop()
    finally:
        for client in clients.values():
            await client.close()

    assert reported == recorder.segments
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(capture.frames)
    assert sorted(by_key(reported)) == sorted(capture.frames), "every track has segments"
    for key, infos in by_key(reported).items():
        kind = key.split("-")[1]
        assert len(infos) == 3, f"{key}: {[(i.start, i.end) for i in infos]}"
        packets = check_files(tmp_path, key, infos)
        recorded = [data for _, data, _ in packets]
        arrived = capture.frames[key]
        first = index_of_run([data for _, data in arrived], recorded)
        # Nothing lost, nothing added, nothing transcoded: from the first usable frame on,
        # the files hold exactly the frames that reached the up-track, to the last one.
        assert first + len(recorded) == len(arrived), f"{key}: frames missing"
        if kind == "audio":
            assert first == 0
        else:
            assert vp8_is_keyframe(arrived[first][1])
            assert not any(vp8_is_keyframe(d) for _, d in arrived[:first])
            # Measured in the camera's frames, not seconds: the keyframe came no later than the
            # clip's own next one would have (for b, 8 s of frames away: only a request brings it).
            sent = clients[key[0]].video.sent
            at = max(i for i, (_, data, _) in enumerate(sent) if data == arrived[first][1]
                     and sent[i][2] - origin <= arrived[first][0])
            assert at <= natural[key[0]], f"{key}: the first keyframe was not asked for ({at} > {natural[key[0]]})"
        # Each frame's time in the file against when its publisher captured it, on the same
        # clock (the publishers run in this process): every segment's start and end within
        # 100 ms (medians of ten frames; most single frames too).
        source = clients[key[0]].video if kind == "video" else clients[key[0]].audio
        captured = capture_times(source, recorded, arrived[first][0], origin)
        error = [pts / 1000 - t for (pts, _, _), t in zip(packets, captured, strict=True)]
        done = 0
        for info in infos:
            mine, done = error[done : done + info.packets], done + info.packets
            assert abs(statistics.median(mine[:10])) <= TOLERANCE, f"{key} {info.index}: start {mine[:10]}"
            assert abs(statistics.median(mine[-10:])) <= TOLERANCE, f"{key} {info.index}: end {mine[-10:]}"
        assert sum(abs(x) <= TOLERANCE for x in error) >= 0.95 * len(error), f"{key}: {sorted(error)[-10:]}"
        # And against their arrival here (which a busy machine's event loop can delay).
        lag = [arrival - pts / 1000 for (pts, _, _), (arrival, _) in zip(packets, arrived[first:], strict=True)]
        assert abs(statistics.median(lag)) <= TOLERANCE, f"{key}: arrival - timestamp {statistics.median(lag)}"
        for before, after in itertools.pairwise(infos):
            assert after.start == pytest.approx(before.end, abs=0.025), "segments must be contiguous"
            line = round(after.start / 2.0) * 2.0
            assert line in (2.0, 4.0)
            # Audio splits on the line; video on the first keyframe after it, asked for then.
            assert -0.025 <= after.start - line <= (0.05 if kind == "audio" else 1.0), (key, after.start)


async def test_a_participant_who_leaves_and_rejoins_keeps_one_timeline_with_a_gap(sfu, tmp_path):
    room = sfu.room("m")
    a, b = MediaClient("a"), MediaClient("b")
    rejoined = MediaClient("b")
    origin = time.monotonic()
    recorder = Recorder(tmp_path, origin, segment_seconds=2.0)
    try:
        join(room, "a", a)
        join(room, "b", b)
        await eventually(lambda: a.frame_counts[("b", "video")] > 0 and b.frame_counts[("a", "video")] > 0)
        record_room(room, recorder)
        await asyncio.sleep(1.5)
        # When b's latest frames to have come through were captured: on a busy machine frames
        # are still on their way when b leaves, and the file's times are capture times.
        came_through = {}
        for kind in ("audio", "video"):
            latest = a.frames_from("b", kind)[-1].data
            sent = b.video.sent if kind == "video" else b.audio.sent
            came_through[kind] = max(at for _, data, at in sent if data == latest) - origin
            recorder.remove_track(f"b-{kind}")
        left = time.monotonic() - origin  # b's recording ends here (leaving the room takes its own time)
        await sfu.leave("m", "b")
        await b.close()
        await asyncio.sleep(1.5)
        join(room, "b", rejoined)
        for kind, up in room.peers["b"].camera_and_microphone():
            recorder.add_track(f"b-{kind}", kind, up)
        back = time.monotonic() - origin
        before = {kind: a.frame_counts[("b", kind)] for kind in ("audio", "video")}
        await eventually(lambda: all(a.frame_counts[("b", kind)] > before[kind] + 15 for kind in before),
                         message="the rejoined b's audio and video to reach a", seen=lambda: dict(a.frame_counts))
        flowing = time.monotonic() - origin  # b's media is back, so its recording must be too
        await asyncio.sleep(1.0)  # a little more of b's second stretch
        await recorder.stop()
    finally:
        for client in (a, b, rejoined):
            await client.close()

    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-audio", "a-video", "b-audio", "b-video"]
    segments = by_key(recorder.segments)
    for kind in ("audio", "video"):
        infos = segments[f"b-{kind}"]
        check_files(tmp_path, f"b-{kind}", infos)
        gaps = [(x.end, y.start) for x, y in itertools.pairwise(infos) if y.start - x.end > 0.1]
        assert len(gaps) == 1, f"b-{kind}: {[(i.start, i.end) for i in infos]}"
        gap_start, gap_end = gaps[0]
        assert came_through[kind] - 0.15 <= gap_start <= left + 0.15, (
            f"b-{kind}: gap from {gap_start}; b's last frames through captured at {came_through[kind]}, left at {left}")
        assert back <= gap_end <= flowing, f"b-{kind} resumed at {gap_end}: rejoined at {back}, flowing by {flowing}"
    check_files(tmp_path, "a-video", segments["a-video"])


async def test_disk_full_stops_that_track_reports_it_and_forwarding_goes_on(sfu, tmp_path, monkeypatch):
    room = sfu.room("m")
    a, b = MediaClient("a"), MediaClient("b")
    errors: list[tuple[str, BaseException]] = []
    write = SegmentFile.write
    disk_full = True

    def full_after_20(self, data, ms, keyframe):
        if disk_full and self.key == "a-video" and self.packets >= 20:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        write(self, data, ms, keyframe)

    monkeypatch.setattr(SegmentFile, "write", full_after_20)
    recorder = Recorder(tmp_path, time.monotonic(), on_error=lambda k, e: errors.append((k, e)))
    try:
        join(room, "a", a)
        join(room, "b", b)
        await eventually(lambda: b.frame_counts[("a", "video")] > 0)
        record_room(room, recorder)
        a_video = room.peers["a"].ups["video"]
        await eventually(lambda: bool(errors))
        assert [(k, e.errno) for k, e in errors] == [("a-video", errno.ENOSPC)]
        assert sorted(recorder.keys) == ["a-audio", "b-audio", "b-video"]
        await forwards_every_frame(a.video, b, "a", frames=22, message="forwarding must not suffer")
        await recorder.stop()
    finally:
        await a.close()
        await b.close()
    disk_full = False
    assert len(errors) == 1
    assert a_video.listeners == []
    # What was written before the disk filled up is kept as a .part for recover().
    assert [p.name for p in (tmp_path / "a-video").iterdir()] == ["a-video-0001.webm.part"]
    (info,) = recover(tmp_path)
    assert info.key == "a-video" and info.recovered and info.packets == 20
    check_files(tmp_path, "a-video", [info])
    assert {i.key for i in recorder.segments} == {"a-audio", "b-audio", "b-video"}


@pytest.mark.parametrize("failing", ["open", "write"])
async def test_a_recorder_error_never_reaches_the_forwarding_path(tmp_path, monkeypatch, failing):
    calls = []

    def broken(*args, **kwargs):
        calls.append(failing)
        raise OSError(errno.ENOSPC, "No space left on device")

    target = "__init__" if failing == "open" else "write"
    monkeypatch.setattr(SegmentFile, target, broken)
    errors: list[tuple[str, BaseException]] = []
    now = [0.0]
    recorder = Recorder(tmp_path, lambda: now[0], on_error=lambda k, e: errors.append((k, e)))
    up = UpTrack("audio", lambda: None)
    recorder.add_track("p-audio", "audio", up)
    after: list[EncodedFrame] = []
    up.listeners.append(after.append)  # a listener behind the recorder's
    for i, data in enumerate(encode_opus()[:50]):
        now[0] = i * 0.02
        up.push(EncodedFrame(data, i * 960, AUDIO_TIME_BASE, True))  # must not raise
    await asyncio.sleep(0)
    assert calls == [failing], "a failed track must not be written again"
    assert [(k, e.errno) for k, e in errors] == [("p-audio", errno.ENOSPC)]
    assert len(after) == 50, "every other listener still gets every frame"
    assert up.listeners == [after.append] and recorder.keys == []
    await recorder.stop()


async def test_a_new_recorder_numbers_segments_after_those_already_on_disk(tmp_path):
    now = [100.0]
    for _run in range(2):  # the server restarted in the middle of a sitting
        recorder = Recorder(tmp_path, lambda: now[0])
        up = UpTrack("video", lambda: None)
        recorder.add_track("p-video", "video", up)
        for i, data in enumerate(encode_vp8()[:30]):
            now[0] += 1 / 15
            up.push(EncodedFrame(data, i * 6000, VIDEO_TIME_BASE, vp8_is_keyframe(data)))
        await recorder.stop()
    infos = [SegmentInfo(**{**m, "path": tmp_path / "p-video" / m["path"]}) for m in manifest(tmp_path, "p-video")]
    assert [i.index for i in infos] == [1, 2]
    assert infos[0].end <= infos[1].start
    check_files(tmp_path, "p-video", infos)


async def test_a_first_keyframe_that_arrives_late_does_not_shift_the_segment(tmp_path):
    now = [0.0]
    recorder = Recorder(tmp_path, lambda: now[0])
    up = UpTrack("video", lambda: None)
    recorder.add_track("p-video", "video", up)
    frames = encode_vp8()[:30]
    assert vp8_is_keyframe(frames[0])
    for i, data in enumerate(frames):
        captured = 10.0 + i / 15
        # The big keyframe takes 300 ms to arrive; the frames queued behind it come right after.
        now[0] = max(captured + 0.01, 10.3 + i * 0.001)
        up.push(EncodedFrame(data, i * 6000, VIDEO_TIME_BASE, vp8_is_keyframe(data)))
    await recorder.stop()
    (info,) = recorder.segments
    packets, _ = read_segment(info.path)
    assert len(packets) == 30
    for i, (pts, _, _) in enumerate(packets):
        assert abs(pts / 1000 - (10.0 + i / 15)) <= 0.02, f"frame {i} at {pts} ms"


async def test_frames_held_at_the_start_are_written_when_the_track_goes_quiet(tmp_path):
    now = [0.0]
    recorder = Recorder(tmp_path, lambda: now[0], segment_seconds=1.0)
    up = UpTrack("audio", lambda: None)
    recorder.add_track("p-audio", "audio", up)
    for i, data in enumerate(encode_opus()[:10]):  # 0.2 s, then the microphone is closed
        now[0] = i * 0.02
        up.push(EncodedFrame(data, i * 960, AUDIO_TIME_BASE, True))
    now[0] = 5.0
    await eventually(lambda: recorder.segments, bound=TICK_SECONDS * 30,  # the idle check runs each tick
                     message="the held frames to be written as a segment")
    assert [(i.packets, i.start) for i in recorder.segments] == [(10, 0.0)]
    await recorder.stop()


def test_keys_must_be_plain_file_names(tmp_path):
    recorder = Recorder(tmp_path, 0.0)
    for key in ("../x", "a/b", "", ".hidden", "a..b"):
        with pytest.raises(ValueError):
            recorder.add_track(key, "audio", UpTrack("audio", lambda: None))


CRASHING_RECORDER = """
import asyncio, pickle, sys, time
from gikai.media.sfu.forwarding import UpTrack
from gikai.media.sfu.frames import AUDIO_TIME_BASE, VIDEO_TIME_BASE, EncodedFrame, vp8_is_keyframe
from gikai.media.archive.recording import Recorder

async def main():
    recorder = Recorder(sys.argv[1], time.monotonic(), segment_seconds=60)
    video, audio = UpTrack("video", lambda: None), UpTrack("audio", lambda: None)
    recorder.add_track("p-video", "video", video)
    recorder.add_track("p-audio", "audio", audio)
    with open(sys.argv[2], "rb") as f:
        vp8, opus = pickle.load(f)  # libvpx in realtime mode is not deterministic: share the bytes
    start, n = time.monotonic(), 0
    while True:  # 20 ms steps: an Opus packet each, a VP8 frame every third (15 fps)
        await asyncio.sleep(max(0.0, start + n * 0.02 - time.monotonic()))
        audio.push(EncodedFrame(opus[n % len(opus)], n * 960, AUDIO_TIME_BASE, True))
        if n % 3 == 0:
            data = vp8[(n // 3) % len(vp8)]
            video.push(EncodedFrame(data, n // 3 * 6000, VIDEO_TIME_BASE, vp8_is_keyframe(data)))
        n += 1
        if n % 25 == 0:
            print((n + 2) // 3, n, flush=True)

asyncio.run(main())
"""


def test_a_killed_recorder_loses_at_most_a_second_and_recover_makes_the_rest_playable(tmp_path):
    vp8, opus = encode_vp8(frames=150, gop=30), encode_opus()
    (tmp_path / "frames.pickle").write_bytes(pickle.dumps((vp8, opus)))
    directory = tmp_path / "recording"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", CRASHING_RECORDER, str(directory),
                             str(tmp_path / "frames.pickle")], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        video_sent = audio_sent = 0
        while audio_sent < 175:  # 3.5 s of media pushed
            assert time.monotonic() < deadline, "the recording process did not get going"
            ready, _, _ = select.select([proc.stdout], [], [], 1.0)
            if ready:
                line = proc.stdout.readline()
                assert line, f"the recording process ended ({proc.poll()})"
                video_sent, audio_sent = map(int, line.split())
        proc.send_signal(signal.SIGKILL)  # no clean-up of any kind
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()

    assert sorted(p.name for p in directory.rglob("*") if p.is_file()) == [
        "p-audio-0001.webm.part", "p-video-0001.webm.part"]
    infos = by_key(recover(directory))
    assert sorted(infos) == ["p-audio", "p-video"]
    for key, sources, sent in (("p-video", vp8, video_sent), ("p-audio", opus, audio_sent)):
        (info,) = infos[key]
        assert info.recovered
        packets = check_files(directory, key, [info])
        assert manifest(directory, key)[0]["recovered"] is True
        # A prefix of what was pushed, byte for byte, missing at most the last ~second.
        rate = 15 if key == "p-video" else 50
        assert [d for _, d, _ in packets] == [sources[i % len(sources)] for i in range(len(packets))]
        assert len(packets) >= sent - 1.3 * rate, f"{key}: {len(packets)} of {sent} survived"
    assert recover(directory) == []  # nothing left to do


def test_recover_deletes_a_part_with_nothing_readable_and_lists_unlisted_finished_files(tmp_path):
    folder = tmp_path / "p-audio"
    folder.mkdir()
    (folder / "p-audio-0001.webm.part").write_bytes(b"\x1a\x45\xdf\xa3")  # a header cut short
    # A finished file whose manifest line the crash prevented.
    with av.open(str(folder / "p-audio-0002.webm"), "w", format="webm") as container:
        stream = container.add_mux_stream("opus", rate=48000)
        for i, data in enumerate(encode_opus()[:50]):
            packet = av.Packet(data)
            packet.stream, packet.time_base = stream, MILLISECOND
            packet.pts = packet.dts = 7000 + 20 * i
            container.mux_one(packet)
    (info,) = recover(tmp_path)
    assert info.path.name == "p-audio-0002.webm" and info.packets == 50
    assert (info.start, info.end) == (7.0, 8.0)
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.jsonl", "p-audio-0002.webm"]
    check_files(tmp_path, "p-audio", [info], numbered=False)


async def test_a_microphone_the_sfu_does_not_forward_is_not_recorded(tmp_path):
    now = [0.0]
    recorder = Recorder(tmp_path, lambda: now[0])
    up = UpTrack("audio", lambda: None)
    recorder.add_track("p-audio", "audio", up)
    frames = encode_opus()[:100]
    for i, data in enumerate(frames):
        now[0] = i * 0.02
        up.forwarding = not 25 <= i < 75  # the floor rules close the microphone for a second
        up.push(EncodedFrame(data, i * 960, AUDIO_TIME_BASE, True))
    await recorder.stop()
    packets = []
    for m in manifest(tmp_path, "p-audio"):
        packets += read_segment(tmp_path / "p-audio" / m["path"])[0]
    assert len(packets) == 50
    assert {bytes(p[1]) for p in packets} == {bytes(d) for i, d in enumerate(frames) if not 25 <= i < 75}
