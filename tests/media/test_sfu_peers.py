"""The SFU with real aiortc peers in one process: what each subscriber receives."""

from __future__ import annotations

import asyncio
import gc
import itertools
import threading
import time

from gikai.media import SFU, UnsupportedCodec
from gikai.media.sfu.forwarding import KEYFRAME_REQUEST_INTERVAL
from gikai.media.sfu.frames import vp8_is_keyframe
from tests.support.client import MediaClient
from tests.support.encoded import EncodedSourceTrack, encode_vp8
from tests.support.room import join
from tests.support.waiting import eventually, forwards_every_frame


def _video_flowing(clients: dict[str, MediaClient]):
    def check() -> bool:
        return all(
            c.frame_counts[(other, "video")] > 0
            for name, c in clients.items()
            for other in clients
            if other != name
        )

    return check


async def _close(clients) -> None:
    for c in clients.values():
        await c.close()


async def test_every_subscriber_receives_byte_identical_frames_at_full_rate(sfu):
    room = sfu.room("m")
    clients = {name: MediaClient(name) for name in ("a", "b", "c")}
    try:
        for name, client in clients.items():
            join(room, name, client)
        await eventually(_video_flowing(clients), seen=lambda: {n: dict(c.frame_counts) for n, c in clients.items()})
        # Full rate: two seconds of each publisher's frames reach every subscriber, none missing.
        await asyncio.gather(*(
            forwards_every_frame(publisher.video, client, other, frames=30, message=f"{name} at full rate from {other}")
            for name, client in clients.items() for other, publisher in clients.items() if other != name
        ))
        for name, client in clients.items():
            for other, publisher in clients.items():
                if other == name:
                    continue
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
        await eventually(_video_flowing(clients), seen=lambda: {n: dict(c.frame_counts) for n, c in clients.items()})
        up = room.peers["a"].ups["video"]
        down = room.peers["b"].subscriptions()[("a", "video")]
        sent_to_publisher: list[float] = []  # when the server asked the publisher for a keyframe
        send = up._send_keyframe_request

        def send_counted() -> None:
            sent_to_publisher.append(time.monotonic())
            send()

        up._send_keyframe_request = send_counted
        await eventually(lambda: up._request_timer is None, message="no keyframe request held back before the burst")
        before = clients["a"].video.keyframe_requests
        asked_before = down.keyframe_requests
        burst_start = time.monotonic()
        receiver = next(
            t.receiver for t in clients["b"].pc.getTransceivers()
            if clients["b"].streams.get(t.mid, {}).get("participant") == "a" and t.kind == "video"
        )
        ssrc = receiver._RTCRtpReceiver__jitter_buffer.ssrc
        for _ in range(10):  # a burst of PLIs from the subscriber
            await receiver._send_rtcp_pli(ssrc)
        await eventually(lambda: down.keyframe_requests - asked_before >= 10,
                         message="the server to receive the subscriber's 10 PLIs",
                         seen=lambda: down.keyframe_requests - asked_before)
        await eventually(lambda: up._request_timer is None, message="the held-back keyframe request to go out")
        sent = [t for t in sent_to_publisher if t >= burst_start]
        assert 1 <= len(sent) < 10, f"{len(sent)} keyframe requests for a burst of 10 PLIs"
        gaps = [later - earlier for earlier, later in itertools.pairwise(sent)]
        assert all(gap >= KEYFRAME_REQUEST_INTERVAL - 0.01 for gap in gaps), f"requests {gaps} s apart"
        await eventually(lambda: clients["a"].video.keyframe_requests - before >= len(sent),
                         message=f"the publisher to receive the {len(sent)} keyframe requests",
                         seen=lambda: clients["a"].video.keyframe_requests - before)
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
        await eventually(_video_flowing(clients), seen=lambda: {n: dict(c.frame_counts) for n, c in clients.items()})
        source = clients["a"].video
        # Join early in the clip's GOP: its next keyframe of its own is then more than 8 s of frames away.
        await eventually(lambda: 5 <= source._index <= 20, message="the publisher early in its 150-frame GOP",
                         seen=lambda: source._index)
        joined_at = len(source.sent)
        natural = joined_at + len(long_gop) - source._index  # where the clip's own next keyframe would be sent
        late = clients["c"] = MediaClient("c")
        join(room, "c", late)
        await eventually(lambda: late.frame_counts[("a", "video")] > 0, message="the late joiner's first frame")
        first_frame, arrived = late.received["a"]["video"][0]
        assert vp8_is_keyframe(first_frame.data)
        # Measured in the publisher's frames, not seconds: which keyframe the late joiner got.
        sent = max(i for i, (_, data, at) in enumerate(source.sent) if at <= arrived and data == first_frame.data)
        assert joined_at <= sent < natural, (
            f"the publisher must be asked for a keyframe: the first came {sent - joined_at} frames after the join, "
            f"the clip's own was due after {natural - joined_at}")
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
        await eventually(_video_flowing(clients), seen=lambda: {n: dict(c.frame_counts) for n, c in clients.items()})
        await forwards_every_frame(clients["a"].video, clients["b"], "a", frames=30,
                                   message="b at full rate beside a subscriber that never connects")
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


async def test_a_departed_participants_m_lines_stay_send_only_and_are_reused(sfu):
    """Clients that cannot change a transceiver's direction (GStreamer's webrtcbin) must never
    be offered `inactive` and back: a leaver's m-lines stay `sendonly` with nothing bound, drop
    out of `streams`, and carry the next participant without growing the description."""
    room = sfu.room("m")
    clients = {name: MediaClient(name) for name in ("a", "b", "c")}
    offers: list[tuple[str, dict]] = []  # what a was offered: (sdp, streams)

    async def send_offer(offer):
        offers.append((offer.sdp, dict(offer.streams)))
        sdp = await clients["a"].handle_offer(offer)
        await room.peers["a"].accept_answer(sdp, offer.revision)

    try:
        room.add_peer("a", send_offer)
        for name in ("b", "c"):
            join(room, name, clients[name])
        await eventually(_video_flowing(clients))
        c_mids = {mid for mid, info in offers[-1][1].items() if info["participant"] == "c"}
        lines = offers[-1][0].count("m=")
        await sfu.leave("m", "c")
        await eventually(lambda: c_mids.isdisjoint(offers[-1][1]), message="c out of a's streams")
        clients["d"] = MediaClient("d")
        join(room, "d", clients["d"])
        await eventually(lambda: clients["a"].frame_counts[("d", "video")] > 5, message="a receives d")
        assert offers[-1][0].count("m=") == lines, "d took c's m-lines"
        assert {mid for mid, info in offers[-1][1].items() if info["participant"] == "d"} == c_mids
        for sdp, _ in offers:
            assert "a=inactive" not in sdp
    finally:
        await _close(clients)
