"""Frames are completed on the RTP marker bit, in order, and never half-delivered."""

from aiortc.codecs.vpx import VpxPayloadDescriptor
from aiortc.rtp import RtpPacket

from gikai.media.sfu.assembler import KEYFRAME_RETRY_FRAMES, MAX_PENDING_FRAMES, FrameAssembler

KEY = b"\x10\x02\x00\x9d\x01\x2a" + b"k" * 20  # frame tag bit 0 = 0: a keyframe
DELTA = b"\x11\x02\x00" + b"d" * 20


def packets(data: bytes, seq: int, ts: int, parts: int = 3):
    size = -(-len(data) // parts)
    out = []
    for i in range(parts):
        chunk = data[i * size : (i + 1) * size]
        desc = VpxPayloadDescriptor(partition_start=1 if i == 0 else 0, partition_id=0)
        p = RtpPacket(payload_type=97, sequence_number=(seq + i) & 0xFFFF, timestamp=ts, ssrc=1234)
        p.payload = bytes(desc) + chunk
        p._data = chunk
        p.marker = 1 if i == parts - 1 else 0
        out.append(p)
    return out


def collect(kind="video"):
    got, losses = [], []
    return FrameAssembler(kind, got.append, on_loss=lambda: losses.append(1)), got, losses


def test_a_frame_is_released_as_soon_as_its_marker_packet_arrives():
    asm, got, _ = collect()
    first, second, third = packets(KEY, 100, 9000)
    asm.add(first)
    asm.add(second)
    assert got == []
    asm.add(third)
    assert [f.data for f in got] == [KEY] and got[0].keyframe and got[0].pts == 0


def test_reordered_packets_still_make_the_exact_frame():
    asm, got, _ = collect()
    a, b, c = packets(KEY, 65534, 4294967000)  # sequence numbers wrap inside the frame
    for p in (c, a, b):
        asm.add(p)
    assert [f.data for f in got] == [KEY]


def test_a_frame_missing_a_packet_is_dropped_and_deltas_wait_for_a_keyframe():
    asm, got, losses = collect()
    seq, ts = 0, 0
    frames = [KEY] + [DELTA] * (MAX_PENDING_FRAMES + 3) + [KEY, DELTA]
    for i, data in enumerate(frames):
        ps = packets(data, seq, ts)
        if i == 1:
            ps = ps[:1] + ps[2:]  # lose the middle packet of the first delta frame
        for p in ps:
            asm.add(p)
        seq += 3
        ts += 6000
    assert losses == [1]
    kinds = [f.keyframe for f in got]
    assert kinds == [True, True, False], "after a loss only a keyframe may restart the stream"
    assert asm.lost_frames == 1


def test_timestamps_unwrap_across_the_32_bit_boundary():
    asm, got, _ = collect()
    for i, ts in enumerate([0xFFFFE000, 0xFFFFF800, 0x00000800]):
        for p in packets(KEY, i * 3, ts):
            asm.add(p)
    assert [f.pts for f in got] == [0, 6144, 10240]


def test_audio_packets_pass_straight_through_and_duplicates_are_dropped():
    asm, got, _ = collect("audio")
    for seq, ts in [(10, 960), (11, 1920), (11, 1920), (9, 0), (12, 2880)]:
        p = RtpPacket(payload_type=96, sequence_number=seq, timestamp=ts, ssrc=5)
        p.payload = p._data = bytes([seq])
        asm.add(p)
    assert [f.data for f in got] == [b"\x0a", b"\x0b", b"\x0c"]


def test_while_waiting_for_a_keyframe_it_asks_again_in_case_the_keyframe_was_lost_too():
    asm, got, losses = collect()
    seq, ts = 0, 0
    plis = []
    for i in range(1 + MAX_PENDING_FRAMES + 1 + 2 * KEYFRAME_RETRY_FRAMES):
        ps = packets(KEY if i == 0 else DELTA, seq, ts)
        if i == 1:
            ps = ps[1:]  # lose the first packet of a delta frame; the keyframe asked for never comes
        plis += [asm.add(p)[0] for p in ps]
        seq += 3
        ts += 6000
    assert len(losses) == 3 and sum(plis) == 3, "asked once at the loss, then again every so many frames"
    assert [f.keyframe for f in got] == [True]
