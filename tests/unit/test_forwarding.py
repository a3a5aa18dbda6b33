"""Fan-out: bounded per-subscriber queues, keyframe gating, continuous timestamps."""

import asyncio

import pytest
from aiortc.mediastreams import MediaStreamError

from gikai.media.sfu.forwarding import QUEUE_CAPACITY, DownTrack, UpTrack
from gikai.media.sfu.frames import VIDEO_TIME_BASE, EncodedFrame


def frame(i, key=False):
    return EncodedFrame(bytes([i % 256]) * 10, i * 6000, VIDEO_TIME_BASE, key)


async def test_a_slow_subscriber_drops_to_the_next_keyframe_and_others_get_everything():
    requests = []
    up = UpTrack("video", lambda: requests.append(1))
    slow, fast = DownTrack("video"), DownTrack("video")
    slow.bind(up)
    fast.bind(up)
    got = []
    # 'fast' reads as frames come; 'slow' never reads.
    reader = asyncio.ensure_future(fast.recv())
    await asyncio.sleep(0)
    up.push(frame(0, key=True))
    got.append(await reader)
    for i in range(1, QUEUE_CAPACITY["video"] + 10):
        up.push(frame(i, key=(i == QUEUE_CAPACITY["video"] + 5)))
        got.append(await fast.recv())
    assert len(got) == QUEUE_CAPACITY["video"] + 10
    assert slow.frames_dropped > 0 and requests, "the slow one dropped and asked for a keyframe"
    assert slow._queue[0].keyframe, "the slow subscriber restarts on a keyframe"


async def test_output_timestamps_stay_continuous_when_the_source_changes():
    a = UpTrack("video", lambda: None)
    b = UpTrack("video", lambda: None)
    down = DownTrack("video")
    down.bind(a)
    reader = asyncio.ensure_future(down.recv())
    await asyncio.sleep(0)
    a.push(EncodedFrame(b"k", 900_000, VIDEO_TIME_BASE, True))
    first = await reader
    down.bind(b)
    b.push(EncodedFrame(b"k", 50, VIDEO_TIME_BASE, True))
    second = await down.recv()
    assert first.pts == 0 and second.pts == 6000


async def test_a_held_back_publication_reaches_no_subscriber():
    up = UpTrack("audio", lambda: None)
    down = DownTrack("audio")
    down.bind(up)
    up.forwarding = False
    up.push(EncodedFrame(b"a", 0, VIDEO_TIME_BASE, True))
    assert len(down._queue) == 0 and up.frames_in == 1


async def test_stopping_a_down_track_wakes_its_reader():
    down = DownTrack("audio")
    reader = asyncio.ensure_future(down.recv())
    await asyncio.sleep(0)
    down.stop()
    with pytest.raises(MediaStreamError):  # recv must end when the track stops
        await reader
