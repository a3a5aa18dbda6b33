"""Reassemble encoded frames from RTP packets, completing each frame on its marker bit.

aiortc's own jitter buffer releases a frame only when the *next* frame's first packet
arrives, which costs one frame interval per hop; it also feeds a decoder thread. The
:class:`FrameAssembler` takes its place inside the receiver (same ``add`` signature)
and hands every complete frame to a sink at once, without decoding anything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gikai.media.sfu.frames import (
    TIME_BASES,
    EncodedFrame,
    vp8_descriptor_starts_frame,
    vp8_is_keyframe,
    vp8_temporal_layer,
)

# A frame still missing packets is given up once this many newer frames wait behind it
# (time enough for a NACK round trip on a working link).
MAX_PENDING_FRAMES = 6
# While waiting for a keyframe, ask again after this many complete frames had to be discarded:
# the keyframe itself may have been lost, and a browser sends one only when asked.
KEYFRAME_RETRY_FRAMES = 15


def _seq_diff(a: int, b: int) -> int:
    """Signed distance a - b between two 16-bit sequence numbers."""
    return ((a - b + 0x8000) & 0xFFFF) - 0x8000


def _ts_diff(a: int, b: int) -> int:
    """Signed distance a - b between two 32-bit RTP timestamps."""
    return ((a - b + 0x80000000) & 0xFFFFFFFF) - 0x80000000


class _TimestampUnwrapper:
    """Maps 32-bit RTP timestamps to a growing counter starting at 0."""

    def __init__(self) -> None:
        self._last: int | None = None
        self._value = 0

    def unwrap(self, timestamp: int) -> int:
        if self._last is None:
            self._last = timestamp
            return 0
        value = self._value + _ts_diff(timestamp, self._last)
        if value > self._value:
            self._value, self._last = value, timestamp
        return value


class _PartialFrame:
    __slots__ = ("first_seq", "last_seq", "layer", "packets", "pts")

    def __init__(self, pts: int) -> None:
        self.pts = pts
        self.layer: tuple[int, bool] | None = None  # (TID, Y) of the first packet's descriptor
        self.packets: dict[int, Any] = {}
        self.first_seq: int | None = None
        self.last_seq: int | None = None

    def complete(self) -> bool:
        if self.first_seq is None or self.last_seq is None:
            return False
        return _seq_diff(self.last_seq, self.first_seq) + 1 == len(self.packets)

    def data(self) -> bytes:
        assert self.first_seq is not None
        count = len(self.packets)
        return b"".join(
            self.packets[(self.first_seq + i) & 0xFFFF]._data for i in range(count)
        )


class FrameAssembler:
    """Drop-in for aiortc's ``JitterBuffer`` that emits frames to ``sink`` itself.

    ``add`` always returns ``(pli, None)``: aiortc sends the PLI when ``pli`` is true
    and finds no frame to decode. ``on_loss`` is called when a video frame had to be
    dropped, so the owner can ask the publisher for a keyframe.
    """

    def __init__(
        self,
        kind: str,
        sink: Callable[[EncodedFrame], None],
        on_loss: Callable[[], None] = lambda: None,
    ) -> None:
        self.kind = kind
        self.ssrc: int | None = None
        self.frames = 0
        self.lost_frames = 0
        self._sink = sink
        self._on_loss = on_loss
        self._time_base = TIME_BASES[kind]
        self._unwrapper = _TimestampUnwrapper()
        self._last_seq: int | None = None  # audio: newest packet passed on
        self._done_pts: int | None = None  # video: newest frame passed on or dropped
        self._pending: dict[int, _PartialFrame] = {}
        self._waiting_for_keyframe = False
        self._discarded = 0  # complete frames discarded while waiting for a keyframe

    @property
    def capacity(self) -> int:  # part of the JitterBuffer interface
        return 0

    def add(self, packet: Any) -> tuple[bool, None]:
        self.ssrc = packet.ssrc
        if self.kind == "audio":
            self._add_audio(packet)
            return False, None
        return self._add_video(packet), None

    def _add_audio(self, packet: Any) -> None:
        # Each Opus RTP packet is one complete frame: pass it on unless it is stale.
        if self._last_seq is not None and _seq_diff(packet.sequence_number, self._last_seq) <= 0:
            return
        self._last_seq = packet.sequence_number
        pts = self._unwrapper.unwrap(packet.timestamp)
        self.frames += 1
        self._sink(EncodedFrame(packet._data, pts, self._time_base, True))

    def _add_video(self, packet: Any) -> bool:
        pts = self._unwrapper.unwrap(packet.timestamp)
        if self._done_pts is not None and pts <= self._done_pts:
            return False  # a late or repeated packet of a frame already handled
        partial = self._pending.get(pts)
        if partial is None:
            partial = self._pending[pts] = _PartialFrame(pts)
        seq = packet.sequence_number
        partial.packets[seq] = packet
        if vp8_descriptor_starts_frame(packet.payload):
            partial.first_seq = seq
            partial.layer = vp8_temporal_layer(packet.payload)
        if packet.marker:
            partial.last_seq = seq
        return self._release()

    def _release(self) -> bool:
        """Pass on complete frames in order; give up on one that waits too long."""
        pli = False
        while self._pending:
            oldest = min(self._pending)
            partial = self._pending[oldest]
            if partial.complete():
                del self._pending[oldest]
                self._done_pts = oldest
                if not self._emit(partial):
                    self._discarded += 1
                    if self._discarded % KEYFRAME_RETRY_FRAMES == 0:
                        pli = True
                        self._on_loss()
            elif len(self._pending) > MAX_PENDING_FRAMES:
                del self._pending[oldest]
                self._done_pts = oldest
                self.lost_frames += 1
                if not self._waiting_for_keyframe:
                    self._waiting_for_keyframe = True
                    pli = True
                    self._on_loss()
            else:
                break
        return pli

    def _emit(self, partial: _PartialFrame) -> bool:
        """Pass the frame on; False if it was discarded (undecodable until a keyframe)."""
        data = partial.data()
        keyframe = vp8_is_keyframe(data)
        if self._waiting_for_keyframe:
            if not keyframe:
                return False  # undecodable after a loss: wait for the next keyframe
            self._waiting_for_keyframe = False
            self._discarded = 0
        self.frames += 1
        layer, sync = partial.layer if partial.layer is not None else (None, False)
        self._sink(EncodedFrame(data, partial.pts, self._time_base, keyframe, layer, sync))
        return True
