"""Encoded media frames as they travel through the SFU: bytes in, the same bytes out."""

from __future__ import annotations

import fractions

VIDEO_TIME_BASE = fractions.Fraction(1, 90000)
AUDIO_TIME_BASE = fractions.Fraction(1, 48000)

TIME_BASES = {"video": VIDEO_TIME_BASE, "audio": AUDIO_TIME_BASE}


class EncodedFrame:
    """One complete encoded frame (a VP8 picture or an Opus packet).

    aiortc's ``RTCRtpSender`` packetizes anything its track returns that is not a
    decoded ``av.Frame`` by calling ``bytes(x)``, ``x.pts`` and ``x.time_base``: this
    class offers exactly that, so a forwarded frame is packetized and never encoded.
    """

    __slots__ = ("data", "keyframe", "layer", "pts", "sync", "time_base")

    def __init__(
        self, data: bytes, pts: int, time_base: fractions.Fraction, keyframe: bool,
        layer: int | None = None, sync: bool = False,
    ) -> None:
        self.data = data
        self.pts = pts
        self.time_base = time_base
        self.keyframe = keyframe
        # VP8 temporal layer (TID) from the publisher's payload descriptor; None without one.
        self.layer = layer
        # The layer-sync bit (Y): this frame refers to no earlier frame of its own layer.
        self.sync = sync

    def __bytes__(self) -> bytes:
        return self.data

    def __len__(self) -> int:
        return len(self.data)

    def with_pts(self, pts: int) -> EncodedFrame:
        return EncodedFrame(self.data, pts, self.time_base, self.keyframe, self.layer, self.sync)

    def __repr__(self) -> str:
        kind = "key" if self.keyframe else "delta"
        layer = "" if self.layer is None else f", TL{self.layer}{'Y' if self.sync else ''}"
        return f"EncodedFrame({kind}, pts={self.pts}, {len(self.data)} bytes{layer})"


def vp8_is_keyframe(data: bytes) -> bool:
    """A VP8 frame tag's lowest bit is 0 for a key frame (RFC 6386 section 9.1)."""
    return len(data) >= 3 and (data[0] & 0x01) == 0


def vp8_descriptor_starts_frame(payload: bytes) -> bool:
    """True when an RTP VP8 payload starts partition 0 (S=1, PID=0; RFC 7741 4.2)."""
    return len(payload) >= 1 and (payload[0] & 0x10) != 0 and (payload[0] & 0x0F) == 0


def vp8_temporal_layer(payload: bytes) -> tuple[int, bool] | None:
    """(TID, Y) from an RTP VP8 payload descriptor (RFC 7741 4.2), or None when it has no TID.

    The first byte is X R N S R PID; X=1 adds I L T K, then the picture id (I; one byte, or two
    when its M bit is set), TL0PICIDX (L), and a byte TID(2) Y(1) KEYIDX(5) when T or K is set,
    whose TID and Y count only when T is set. A truncated descriptor counts as none.
    """
    if len(payload) < 2 or not payload[0] & 0x80:
        return None
    flags = payload[1]
    if not flags & 0x20:  # T: no temporal layer index
        return None
    pos = 2
    if flags & 0x80:  # I: picture id
        if pos >= len(payload):
            return None
        pos += 2 if payload[pos] & 0x80 else 1
    if flags & 0x40:  # L: TL0PICIDX
        pos += 1
    if pos >= len(payload):
        return None
    tid_byte = payload[pos]
    return tid_byte >> 6, bool(tid_byte & 0x20)
