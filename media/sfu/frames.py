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

    __slots__ = ("data", "keyframe", "pts", "time_base")

    def __init__(
        self, data: bytes, pts: int, time_base: fractions.Fraction, keyframe: bool
    ) -> None:
        self.data = data
        self.pts = pts
        self.time_base = time_base
        self.keyframe = keyframe

    def __bytes__(self) -> bytes:
        return self.data

    def __len__(self) -> int:
        return len(self.data)

    def with_pts(self, pts: int) -> EncodedFrame:
        return EncodedFrame(self.data, pts, self.time_base, self.keyframe)

    def __repr__(self) -> str:
        kind = "key" if self.keyframe else "delta"
        return f"EncodedFrame({kind}, pts={self.pts}, {len(self.data)} bytes)"


def vp8_is_keyframe(data: bytes) -> bool:
    """A VP8 frame tag's lowest bit is 0 for a key frame (RFC 6386 section 9.1)."""
    return len(data) >= 3 and (data[0] & 0x01) == 0


def vp8_descriptor_starts_frame(payload: bytes) -> bool:
    """True when an RTP VP8 payload starts partition 0 (S=1, PID=0; RFC 7741 4.2)."""
    return len(payload) >= 1 and (payload[0] & 0x10) != 0 and (payload[0] & 0x0F) == 0
