"""The SFU with real aiortc peers in one process: what each subscriber receives."""

from __future__ import annotations

import asyncio
import gc
import threading
import time

import pytest

from gikai.media import SFU, UnsupportedCodec
from gikai.media.sfu.frames import vp8_is_keyframe
from tests.support.client import MediaClient
from tests.support.encoded import EncodedSourceTrack, encode_vp8
from tests.support.room import join
from tests.support.waiting import eventually


def _video_flowing(clients: dict[str, MediaClient]):
    def check() -> bool:
        return all(
            c.frame_counts[(other, "video")] > 0
            for name, c in clients.items()
            for other in clients
            if other != name
        )

    return check


@pytest.fixture
async def sfu():
    sfu = SFU()
    yield sfu
    await sfu.close()


async def _close(clients) -> None:
    for c in clients.values():
        await c.close()


async def test_every_subscriber_receives_byte_identical_frames_at_full_rate(sfu):
    room = sfu.room("m")
    clients = {name: MediaClient(name) for name in ("a", "b", "c")}
    try:
        for name, client in clients.items():
            join(room, name, client)
        await eventually(_video_flowing(clients))
        before = {(n, o): c.frame_counts[(o, "video")] for n, c in clients.items() for o in clients if o != n}
        await asyncio.sleep(2.0)
        for name, client in clients.items():
            for other, publisher in clients.items():
                if other == name:
                    continue
                fps = (client.frame_counts[(other, "video")] - before[(name, other)]) / 2.0
                assert fps >= 14.0, f"{name} got {fps} fps from {other}"
                received = client.frames_from(other, "video")
                assert received[0].keyframe, "a subscription must start on a keyframe"
                sent = [data for _, data, _ in publisher.video.sent]
                start = sent.index(received[0].data)
                # Every received frame is exactly the published frame, in order, none missing.
                assert [f.data for f in received] == sent[start : start + len(received)]
                audio = client.frames_from(other, "audio")
                sent_audio = [data for _, data, _ in publisher.audio.sent]
                first = sent_audio.index(audio[0].data)
                assert [f.data for f in audio] == sent_audio[first : first + len(audio)]
    finally:
        await _close(clients)


async def test_subscriber_keyframe_requests_reach_the_publisher_rate_limited(sfu):
    room = sfu.room("m")
    clients = {name: MediaClient(name) for name in ("a", "b")}
    try:
        for name, client in clients.items():
            join(room, name, client)
        await eventually(_video_flowing(clients))
        await asyncio.sleep(1.0)  # past the start-up keyframe requests
        before = clients["a"].video.keyframe_requests
        receiver = next(
            t.receiver for t in clients["b"].pc.getTransceivers()
            if clients["b"].streams.get(t.mid, {}).get("participant") == "a" and t.kind == "video"
        )
        ssrc = receiver._RTCRtpReceiver__jitter_buffer.ssrc
        for _ in range(10):  # a burst of PLIs from the subscriber
            await receiver._send_rtcp_pli(ssrc)
        await asyncio.sleep(1.2)
        relayed = clients["a"].video.keyframe_requests - before
        assert 1 <= relayed <= 3, f"{relayed} keyframe requests reached the publisher"
    finally:
        await _close(clients)


async def test_late_joiner_starts_on_a_keyframe_without_waiting_for_the_next_gop(sfu):
    room = sfu.room("m")
    long_gop = encode_vp8(frames=150, gop=150)  # one keyframe per 10 s loop
    clients = {
        "a": MediaClient("a", video=EncodedSourceTrack("video", long_gop, 15)),
        "b": MediaClient("b"),
    }
    try:
        for name, client in clients.items():
            join(room, name, client)
        await eventually(_video_flowing(clients))
        await asyncio.sleep(1.5)
        late = clients["c"] = MediaClient("c")
        joined_at = time.monotonic()
        join(room, "c", late)
        await eventually(lambda: late.frame_counts[("a", "video")] > 0)
        first_frame, arrived = late.received["a"]["video"][0]
        assert vp8_is_keyframe(first_frame.data)
        assert arrived - joined_at < 2.0, "the publisher must be asked for a keyframe"
    finally:
        await _close(clients)


async def test_a_subscriber_that_never_connects_does_not_delay_the_others(sfu):
    room = sfu.room("m")
    clients = {name: MediaClient(name) for name in ("a", "b")}
    try:
        for name, client in clients.items():
            join(room, name, client)

        async def never_answer(offer):
            return None

        room.add_peer("stuck", never_answer)  # gets offers, never answers: no media path
        await eventually(_video_flowing(clients))
        start = clients["b"].frame_counts[("a", "video")]
        await asyncio.sleep(2.0)
        assert (clients["b"].frame_counts[("a", "video")] - start) / 2.0 >= 14.0
        stuck = room.peers["stuck"].subscriptions()[("a", "video")]
        assert stuck.frames_out == 0 and len(stuck._queue) <= 30
    finally:
        await _close(clients)


async def test_leaving_removes_the_tile_media_and_shutdown_leaves_nothing_behind():
    await asyncio.sleep(0)
    tasks_before = len(asyncio.all_tasks())
    threads_before = threading.active_count()
    sfu = SFU()
    room = sfu.room("m")
    clients = {name: MediaClient(name) for name in ("a", "b", "c")}
    for name, client in clients.items():
        join(room, name, client)
    await eventually(_video_flowing(clients))
    await sfu.leave("m", "c")
    await eventually(lambda: all(v["participant"] != "c" for v in clients["a"].streams.values()))
    assert set(room.peers) == {"a", "b"}
    await sfu.close()
    for c in clients.values():
        await c.close()
    assert sfu.rooms == {}
    gc.collect()
    await eventually(lambda: len(asyncio.all_tasks()) <= tasks_before)
    await eventually(lambda: threading.active_count() <= threads_before)


async def test_an_answer_without_vp8_is_refused_with_a_clear_error(sfu):
    room = sfu.room("m")
    client = MediaClient("a")
    outcome: list[BaseException] = []

    async def send_offer(offer):
        sdp = await client.handle_offer(offer)
        broken = sdp.replace("VP8/90000", "H264/90000")
        try:
            await room.peers["a"].accept_answer(broken, offer.revision)
        except Exception as exc:  # the error the signaling layer turns into a reply
            outcome.append(exc)

    room.add_peer("a", send_offer)
    try:
        await eventually(lambda: bool(outcome))
        assert isinstance(outcome[0], UnsupportedCodec)
        assert outcome[0].code == "unsupported_codec"
    finally:
        await client.close()
