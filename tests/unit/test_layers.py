"""VP8 temporal layers: the TID in the payload descriptor, the per-subscriber layer chooser, the
frame filter, and a down-track that forwards only the layers its link carries."""

import asyncio
import itertools

from aiortc.codecs.vpx import VpxPayloadDescriptor
from aiortc.rtp import RtpPacket

from gikai.media.sfu.assembler import FrameAssembler
from gikai.media.sfu.forwarding import DownTrack, UpTrack
from gikai.media.sfu.frames import VIDEO_TIME_BASE, EncodedFrame, vp8_temporal_layer
from gikai.media.sfu.layers import SYNC_WAIT_FRAMES, LayerChooser, LayerPolicy, LayerRates, TemporalFilter
from gikai.media.sfu.retransmit import ResendGate

L1T3 = (0, 2, 1, 2)  # the temporal layer of each frame in one period of an L1T3 stream


def descriptor(**fields) -> bytes:
    return bytes(VpxPayloadDescriptor(partition_start=1, partition_id=0, **fields)) + b"\x10\x02\x00"


# -- the descriptor ----------------------------------------------------------------------------
def test_tid_and_sync_bit_are_read_with_a_long_or_short_picture_id_and_tl0picidx():
    assert vp8_temporal_layer(descriptor(picture_id=300, tl0picidx=7, tid=(2, 0))) == (2, False)
    assert vp8_temporal_layer(descriptor(picture_id=5, tl0picidx=7, tid=(1, 1))) == (1, True)
    assert vp8_temporal_layer(descriptor(picture_id=0x7FFF, tid=(0, 1))) == (0, True)
    assert vp8_temporal_layer(descriptor(tl0picidx=255, tid=(2, 1))) == (2, True)


def test_a_descriptor_without_a_tid_has_no_layer():
    assert vp8_temporal_layer(descriptor(picture_id=300)) is None  # what aiortc's own sender writes
    assert vp8_temporal_layer(b"\x10\x9d\x01\x2a") is None  # no extension byte at all
    # K set but not T: the byte is there for KEYIDX, its TID bits mean nothing.
    assert vp8_temporal_layer(bytes([0x90, 0x10, 0xC0, 0x00])) is None


def test_a_truncated_descriptor_has_no_layer():
    full = descriptor(picture_id=300, tl0picidx=7, tid=(2, 1))
    for end in range(5):  # 0x90, ILTK, two picture id bytes, TL0PICIDX: the TID byte is cut
        assert vp8_temporal_layer(full[:end]) is None


# -- the chooser ---------------------------------------------------------------------------------
def feed(chooser: LayerChooser, start: float, seconds: float, loss: float, every: float = 1.0) -> float:
    t = start
    while t < start + seconds:
        chooser.receiver_report(t, loss)
        t += every
    return t


def test_a_clean_link_keeps_every_layer():
    chooser = LayerChooser()
    feed(chooser, 0, 120, 0.0)
    feed(chooser, 120, 60, 0.015)  # a little loss, below the threshold
    assert chooser.layer == 2 and chooser.changes == 0


def test_one_lossy_report_is_not_enough_to_lower():
    chooser = LayerChooser()
    chooser.receiver_report(0, 0.3)
    chooser.receiver_report(1, 0.0)
    chooser.receiver_report(2, 0.3)
    assert chooser.layer == 2


def test_sustained_loss_lowers_one_layer_at_a_time_waiting_for_the_reports_to_settle():
    chooser = LayerChooser()
    chooser.receiver_report(0, 0.2)
    assert chooser.receiver_report(1, 0.2) == 1
    # The next reports still describe the old rate (the queue of the link drains meanwhile):
    # they must not lower again at once.
    assert chooser.receiver_report(2, 0.2) == 1
    assert chooser.receiver_report(3, 0.2) == 1
    assert chooser.receiver_report(4, 0.2) == 1
    assert chooser.receiver_report(5, 0.2) == 0
    feed(chooser, 6, 30, 0.5)
    assert chooser.layer == 0, "never below the base layer"


def test_a_quiet_period_raises_again_and_a_failed_try_lowers_at_once_and_doubles_the_wait():
    policy = LayerPolicy()
    chooser = LayerChooser(policy)
    t = feed(chooser, 0, 2, 0.2)
    assert chooser.layer == 1
    t = feed(chooser, t, policy.settle + policy.raise_after - 1, 0.0)
    assert chooser.layer == 1, "not before the quiet period"
    t = feed(chooser, t, 3, 0.0)
    assert chooser.layer == 2
    # The link cannot carry layer 2 after all: one report with some loss is enough to go back
    # (the link was quiet before the try), and the next try waits twice as long.
    chooser.receiver_report(t, 0.03)
    assert chooser.layer == 1 and chooser.raise_after == 2 * policy.raise_after
    t = feed(chooser, t + 1, policy.settle + 2 * policy.raise_after - 2, 0.0)
    assert chooser.layer == 1
    t = feed(chooser, t, 3, 0.0)
    assert chooser.layer == 2
    # This time it holds: once it has held as long as the wait, the wait is back to normal.
    assert chooser.raise_after == 2 * policy.raise_after
    feed(chooser, t, 2 * policy.raise_after + 2, 0.0)
    assert chooser.layer == 2 and chooser.raise_after == policy.raise_after


def test_the_loss_measures_the_link_and_a_layer_set_above_it_is_not_tried_until_the_estimate_is_old():
    policy = LayerPolicy()
    chooser = LayerChooser(policy)
    rates = [100_000.0, 180_000.0, 450_000.0]  # layers 0, 0-1, 0-2 together
    for t in (0.0, 1.0):
        chooser.receiver_report(t, 0.4, rates)  # 450 kbit/s sent, 40% lost: about 270 arrived
    assert chooser.layer == 1 and chooser.capacity == 450_000 * 0.6
    # The queue the higher rate left behind still loses packets at layer 1: that understates
    # the link, and the better estimate of the same episode stands.
    chooser.receiver_report(4.0, 0.5, rates)
    assert chooser.capacity == 450_000 * 0.6
    t = 5.0
    while t < policy.max_raise_after - 5:
        chooser.receiver_report(t, 0.0, rates)
        t += 1.0
    assert chooser.layer == 1, "450 kbit/s does not fit a link that carried 270"
    while t < policy.max_raise_after + 5:
        chooser.receiver_report(t, 0.0, rates)
        t += 1.0
    assert chooser.layer == 2, "an old estimate no longer holds the layer back (the link may be better now)"


def test_a_layer_set_within_the_estimate_is_tried_after_the_quiet_period():
    policy = LayerPolicy()
    chooser = LayerChooser(policy)
    rates = [100_000.0, 180_000.0, 450_000.0]
    for t in range(6):
        chooser.receiver_report(float(t), 0.6, rates)  # 60% lost at any rate: down to layer 0
    # The best estimate of the episode: 450 kbit/s sent, 40% of it carried.
    assert chooser.layer == 0 and chooser.capacity == 450_000 * 0.4
    # The link recovers, but layer 0-1 (180 kbit/s) is more than 0.9 x 180: held back until
    # the estimate is old.
    t = 6.0
    while t < 40:
        chooser.receiver_report(t, 0.0, rates)
        t += 1.0
    assert chooser.layer == 0
    chooser = LayerChooser(policy)
    for t in range(2):
        chooser.receiver_report(float(t), 0.4, rates)  # the link carries ~270 kbit/s
    t = 2.0
    while t < 2 + policy.settle + policy.raise_after + 2:
        chooser.receiver_report(t, 0.0, rates)
        t += 1.0
    assert chooser.layer == 1  # layer 0-1 (180) fits 0.9 x 270; layer 2 does not
    while t < 60:
        chooser.receiver_report(t, 0.0, rates)
        t += 1.0
    assert chooser.layer == 1


def test_a_link_that_carries_only_the_lower_layers_settles_without_flapping():
    """A link that loses packets whenever layer 2 is sent: over ten minutes the chooser tries
    layer 2 only a few times, each try waiting longer (up to the policy's longest wait), and
    never drops to layer 0."""
    policy = LayerPolicy()
    chooser = LayerChooser(policy)
    tries: list[float] = []
    t = 0.0
    while t < 600:
        before = chooser.layer
        chooser.receiver_report(t, 0.25 if chooser.layer == 2 else 0.0)
        if chooser.layer == 2 and before == 1:
            tries.append(t)
        assert chooser.layer >= 1
        t += 1.0
    gaps = [b - a for a, b in itertools.pairwise(tries)]
    assert len(tries) <= 7, tries  # a fixed 10 s wait would try about 45 times
    assert gaps == sorted(gaps) and gaps[-1] >= policy.max_raise_after


def test_struggling_means_loss_at_layer_zero_for_a_while():
    policy = LayerPolicy()
    chooser = LayerChooser(policy)
    t = feed(chooser, 0, 8, 0.3)
    assert chooser.layer == 0 and not chooser.struggling(t)
    t = feed(chooser, t, 2, 0.3)
    assert not chooser.struggling(t)
    t = feed(chooser, t, policy.struggle_after + 1, 0.3)
    assert chooser.struggling(t)
    t = feed(chooser, t, 2, 0.0)
    assert not chooser.struggling(t), "a quiet report ends it"


def test_layer_rates_are_cumulative_over_the_window():
    rates = LayerRates(window=2.0)
    assert rates.cumulative(0.0) is None
    for i in range(60):  # 4 s at 15 fps: layer 0 frames of 2000 bytes, layer 1 of 1000, layer 2 of 500
        rates.add(i / 15, L1T3[i % 4], {0: 2000, 1: 1000, 2: 500}[L1T3[i % 4]])
    got = rates.cumulative(59 / 15)
    assert got is not None
    # Per second: 3.75 frames of layer 0, 3.75 of layer 1, 7.5 of layer 2.
    expected = [3.75 * 2000 * 8, 3.75 * 3000 * 8, 3.75 * 3000 * 8 + 7.5 * 500 * 8]
    assert all(abs(g - e) / e < 0.1 for g, e in zip(got, expected, strict=True)), (got, expected)


# -- the filter ----------------------------------------------------------------------------------
def run_filter(f: TemporalFilter, frames: int, start: int = 0, sync: bool = True) -> list[int]:
    """Frame indexes admitted from an L1T3 stream whose keyframe is frame 0."""
    return [i for i in range(start, start + frames) if f.admit(L1T3[i % 4], sync, i == 0)]


def test_the_filter_passes_the_chosen_layers_only():
    f = TemporalFilter()
    assert run_filter(f, 8) == list(range(8))
    f.target = 1
    assert run_filter(f, 8, 8) == [8, 10, 12, 14]
    f.target = 0
    assert run_filter(f, 8, 16) == [16, 20]


def test_raising_waits_for_a_layer_sync_frame_of_the_next_layer():
    f = TemporalFilter()
    f.target = 0
    run_filter(f, 4)
    f.target = 2
    # Not a sync frame: its layer's earlier frames were not sent, so it would not decode.
    assert not f.admit(1, False, False) and not f.admit(2, True, False)
    assert f.current == 0
    assert f.admit(1, True, False) and f.current == 1, "up one layer at a sync frame"
    assert f.admit(2, True, False) and f.current == 2


async def test_a_raise_that_finds_no_layer_sync_frame_asks_the_publisher_for_a_keyframe():
    requests = []
    up = UpTrack("video", lambda: requests.append(1))
    down = DownTrack("video")
    down.bind(up)
    up.push(layered(0))
    down.layers.target = 0
    up.push(layered(1))
    down.layers.target = 2

    def unsynced(i: int) -> EncodedFrame:
        return EncodedFrame(b"x" * 10, i * 6000, VIDEO_TIME_BASE, False, L1T3[i % 4], False)

    for i in range(2, 2 + SYNC_WAIT_FRAMES - 1):
        up.push(unsynced(i))
    assert down.layers.current == 0 and not requests
    up.push(unsynced(100))
    await asyncio.sleep(0.01)
    assert requests == [1], "asked once"
    up.push(EncodedFrame(b"k" * 10, 101 * 6000, VIDEO_TIME_BASE, True, 0, False))
    assert down.layers.current == 2


def test_a_keyframe_lets_every_chosen_layer_start():
    f = TemporalFilter()
    f.target = 0
    run_filter(f, 4, 4)
    f.target = 2
    assert f.admit(0, False, True) and f.current == 2


def test_frames_without_a_layer_always_pass():
    f = TemporalFilter()
    f.target = 0
    assert all(f.admit(None, False, False) for _ in range(5))


# -- a down-track --------------------------------------------------------------------------------
def layered(i: int) -> EncodedFrame:
    return EncodedFrame(bytes([i % 256]) * 10, i * 6000, VIDEO_TIME_BASE, i == 0, L1T3[i % 4], True)


async def test_a_down_track_on_a_lossy_link_forwards_a_quarter_of_the_frames_and_others_all():
    up = UpTrack("video", lambda: None)
    weak, strong = DownTrack("video"), DownTrack("video")
    weak.bind(up)
    strong.bind(up)
    for t in range(6):
        weak.receiver_report(0.3, now=float(t))
        strong.receiver_report(0.0, now=float(t))
    assert weak.chooser.layer == 0 and strong.chooser.layer == 2
    for i in range(24):
        up.push(layered(i))
    assert [f.pts // 6000 for f in weak._queue] == [0, 4, 8, 12, 16, 20]
    assert weak.frames_thinned == 18
    assert len(strong._queue) == 24 and strong.frames_thinned == 0


async def test_a_struggling_down_track_tells_its_observer_once():
    down = DownTrack("video")
    told = []
    down.on_struggling = lambda: told.append(1)
    t = 0.0
    while t < 40:
        down.receiver_report(0.3, now=t)
        t += 1.0
    assert told == [1]


async def test_an_audio_only_subscriber_gets_no_video_and_restarts_on_a_keyframe():
    requests = []
    up = UpTrack("video", lambda: requests.append(1))
    down = DownTrack("video")
    down.bind(up)
    down._started = True  # the sender is reading
    up.push(layered(0))
    down.set_receiving(False)
    for i in range(1, 8):
        up.push(layered(i))
    assert not down._queue
    down.set_receiving(True)
    up.push(layered(9))
    assert not down._queue, "not before a keyframe"
    up.push(EncodedFrame(b"k" * 10, 60000, VIDEO_TIME_BASE, True, 0, True))
    assert [f.keyframe for f in down._queue] == [True]


# -- the assembler keeps the layer ---------------------------------------------------------------
def test_the_assembler_gives_each_frame_the_layer_of_its_first_packet():
    got: list[EncodedFrame] = []
    asm = FrameAssembler("video", got.append)
    seq = 0
    for i in range(4):
        body = (b"\x10\x02\x00\x9d\x01\x2a" if i == 0 else b"\x11\x02\x00") + bytes(30)
        for part in range(2):
            desc = VpxPayloadDescriptor(partition_start=1 - part, partition_id=0, picture_id=i,
                                        tl0picidx=1, tid=(L1T3[i], int(i > 0)))
            packet = RtpPacket(payload_type=96, sequence_number=seq, timestamp=i * 6000, ssrc=1)
            packet.payload = bytes(desc) + body[part * 18 : (part + 1) * 18]
            packet._data = body[part * 18 : (part + 1) * 18]
            packet.marker = part
            asm.add(packet)
            seq += 1
    assert [(f.layer, f.sync) for f in got] == [(0, False), (2, True), (1, True), (2, True)]


# -- resends -------------------------------------------------------------------------------------
def test_a_lost_packet_is_resent_at_most_twice_and_not_twice_within_the_spacing():
    gate = ResendGate(tries=2, spacing=0.2)
    assert gate.allow(7, 0.0)
    assert not gate.allow(7, 0.1), "the first resend may still be on its way"
    assert gate.allow(7, 0.25)
    assert not gate.allow(7, 1.0), "two tries are enough"
    assert gate.allow(8, 1.0)
    assert gate.refused == 2


def test_the_gate_forgets_old_sequence_numbers_so_a_wrapped_one_is_resent_again():
    gate = ResendGate(tries=1, spacing=0.0, remember=100)
    for seq in range(300):
        assert gate.allow(seq, float(seq))
    assert gate.allow(0, 400.0)
