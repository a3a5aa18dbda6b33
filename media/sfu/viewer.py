"""Viewers: receive-only peers (the public gallery) sent a few chosen publications.

A hundred viewers watch the same one video and two microphones, so what a member's
subscription does per subscriber (a queue, a task woken per frame, a packetizer, four
layers of coroutines per packet) would be most of the server's work. A viewer's slot
instead sends each frame in the call that brings it (``UpTrack.push``): the frame is
packetized once per publication for all viewers, and each slot only writes its RTP header,
protects the packet with its viewer's SRTP session and hands it to its ICE socket, a video
frame's packets in one system call where Linux can split them (UDP GSO). Audio goes in
120 ms packets (OpusBundler, the longest RFC 6716 allows), a sixth as many packets as the 20 ms
browsers send.
bench/gallery_load.py measures what each of these saves.

aiortc still negotiates the viewer's connection and runs each sender's RTCP: a PLI from
the viewer reaches the publisher, a NACK is answered from the history kept here, and
sender reports carry the counters kept here. The viewer sends nothing: it has no
receiving transceiver at all (``Peer(publish=False)``).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import weakref
from collections.abc import Callable
from typing import Any

from aiortc import RTCIceServer, RTCRtpSender
from aiortc import clock as aiortc_clock
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcdtlstransport import State as DtlsState
from aiortc.rtp import RTP_HISTORY_SIZE, RtpPacket
from aiortc.utils import random16, random32

from gikai.media.sfu.forwarding import FRAME_STEP, UpTrack
from gikai.media.sfu.frames import EncodedFrame
from gikai.media.sfu.peer import KINDS, Peer, SendOffer, _set_codec_preferences

logger = logging.getLogger(__name__)

# 120 ms at 48 kHz: six 20 ms frames in one packet, the most a packet may hold (RFC 6716 3.2.5)
# and a browser's decoder takes (WebRTC NetEq: 5760 samples). The gallery is a broadcast: the
# 100 ms it waits costs nobody, the packets it saves are most of a viewer's audio cost.
OPUS_BUNDLE_SAMPLES = 5760
_OPUS_FRAME_SAMPLES = [480, 960, 1920, 2880] * 3 + [480, 960] * 2 + [120, 240, 480, 960] * 4  # by TOC config
_SENDER = "_RTCRtpSender__"
_SENDER_FIELDS = ("rtp_started", "rtp_exited", "rtp_history", "rtp_header_extensions_map", "mid",
                  "ntp_timestamp", "rtp_timestamp", "octet_count", "packet_count")


# -- audio: fewer, longer packets --------------------------------------------------------
def _opus_length(n: int) -> bytes:
    return bytes([n]) if n < 252 else bytes([252 + (n & 3), (n - 252 - (n & 3)) >> 2])


class OpusBundler:
    """Regroups a publication's Opus packets into 120 ms packets (RFC 6716 section 3.2.5,
    code 3), byte for byte and without decoding; it delays audio by 100 ms at most.

    The bundled publication (``out``) is shared by every viewer of the source. Frames the
    source does not forward (``UpTrack.forwarding`` false) are never bundled.
    """

    def __init__(self, source: UpTrack) -> None:
        self.source = source
        self.out = UpTrack("audio", lambda: None)
        self._pending: list[EncodedFrame] = []
        self._samples = 0
        source.listeners.append(self.take)

    def take(self, frame: EncodedFrame) -> None:
        if not self.source.forwarding or not self.out.subscribers:
            self._pending.clear()
            self._samples = 0
            return
        data = frame.data
        samples = _OPUS_FRAME_SAMPLES[data[0] >> 3] if data else 0
        pending = self._pending
        if pending and (data[0] & 0xFC != pending[0].data[0] & 0xFC or data[0] & 3 or not samples
                        or frame.pts != pending[-1].pts + self._samples // len(pending)
                        or self._samples + samples > OPUS_BUNDLE_SAMPLES):
            self._flush()
        if not data or data[0] & 3 or not samples or samples >= OPUS_BUNDLE_SAMPLES:
            self.out.push(frame)  # several frames already, or nothing to gain
            return
        self._pending.append(frame)  # (a new list if flushed above)
        self._samples += samples
        if self._samples >= OPUS_BUNDLE_SAMPLES:
            self._flush()

    def _flush(self) -> None:
        frames, self._pending, self._samples = self._pending, [], 0
        if len(frames) == 1:
            self.out.push(frames[0])
        elif frames:
            first = frames[0]
            header = bytes([first.data[0] | 3, 0x80 | len(frames)])  # code 3, sizes vary
            lengths = b"".join(_opus_length(len(f.data) - 1) for f in frames[:-1])
            data = header + lengths + b"".join(f.data[1:] for f in frames)
            self.out.push(EncodedFrame(data, first.pts, first.time_base, True))


def bundled(up: UpTrack) -> UpTrack:
    """The 120 ms-packet version of an Opus publication, made once per source."""
    for listener in up.listeners:
        owner = getattr(listener, "__self__", None)
        if isinstance(owner, OpusBundler):
            return owner.out
    return OpusBundler(up).out


# -- packets made once per frame ------------------------------------------------------------
class _Packetizer:
    """A publication's RTP payloads for its latest frame, shared by every slot sending it."""

    def __init__(self, kind: str) -> None:
        self.video = kind == "video"
        self.picture_id = random16() % (1 << 15)
        self.frame: EncodedFrame | None = None
        self.payloads: list[bytes] = []

    def payloads_of(self, frame: EncodedFrame) -> list[bytes]:
        if frame is not self.frame:
            self.frame = frame
            if self.video:
                self.payloads = Vp8Encoder._packetize(frame.data, self.picture_id)
                self.picture_id = (self.picture_id + 1) % (1 << 15)
            else:
                self.payloads = [frame.data]
        return self.payloads


_packetizers: weakref.WeakKeyDictionary[UpTrack, _Packetizer] = weakref.WeakKeyDictionary()


def _packetizer(up: UpTrack) -> _Packetizer:
    found = _packetizers.get(up)
    if found is None:
        found = _packetizers[up] = _Packetizer(up.kind)
    return found


class _SlotTrack(MediaStreamTrack):
    """The track a slot's sender is given for negotiation; its frames never go through it."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    async def recv(self) -> Any:
        raise MediaStreamError


# -- one m-line of one viewer ---------------------------------------------------------------
class Slot:
    """One of a viewer's send-only m-lines: the RTP stream of whichever publication it shows.

    The stream stays one stream across sources: sequence numbers and timestamps go on
    (a new source is rebased), and a new video source starts on a keyframe.
    """

    def __init__(self, kind: str, sender: RTCRtpSender) -> None:
        self.kind = kind
        self.sender = sender
        self.source: UpTrack | None = None
        self.frames_out = 0
        self.keyframe_requests = 0
        self._payload_type: int | None = None  # known once aiortc starts the sender
        self._first_byte, self._extension = 0x80, b""
        self._seq, self._origin = random16() % 32768, random32()
        self._offset = 0
        self._last_pts: int | None = None
        self._rebase = True
        self._need_keyframe = kind == "video"
        self._octets = self._packets = 0
        if not all(hasattr(sender, _SENDER + name) for name in _SENDER_FIELDS):
            raise RuntimeError("this aiortc version does not match gikai's viewer slots")
        self._history: dict[int, RtpPacket] = getattr(sender, _SENDER + "rtp_history")
        sender._run_rtp = self._run_rtp  # type: ignore[method-assign]  # aiortc's loop is not used
        sender._send_keyframe = self.request_keyframe  # type: ignore[method-assign]

    async def _run_rtp(self, codec: Any) -> None:
        """Stands in for aiortc's RTP loop: notes the negotiated payload type and mid, then
        waits for the sender to stop."""
        sender = self.sender
        getattr(sender, _SENDER + "rtp_started").set()
        probe = RtpPacket()
        probe.extensions.mid = getattr(sender, _SENDER + "mid")
        profile, value = getattr(sender, _SENDER + "rtp_header_extensions_map").set(probe.extensions)
        if value:
            self._first_byte, self._extension = 0x90, struct.pack("!HH", profile, len(value) >> 2) + value
        self._payload_type = codec.payloadType
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            pass
        finally:
            self._payload_type = None
            getattr(sender, _SENDER + "rtp_exited").set()

    def bind(self, source: UpTrack) -> None:
        self.unbind()
        self.source = source
        self._rebase = True
        self._need_keyframe = self.kind == "video"
        source.attach(self)  # type: ignore[arg-type]  # UpTrack calls put() and unbind()
        source.request_keyframe()

    def unbind(self) -> None:
        if self.source is not None:
            self.source.detach(self)  # type: ignore[arg-type]
            self.source = None

    def request_keyframe(self) -> None:
        """The viewer lost picture data (PLI/FIR): relay it to the publisher."""
        self.keyframe_requests += 1
        if self.source is not None:
            self.source.request_keyframe()

    def put(self, frame: EncodedFrame) -> None:
        """Send ``frame`` now; called by the source for every frame it forwards."""
        try:
            self._send(frame)
        except Exception:  # one viewer's trouble must not stop the publication for others
            logger.debug("a viewer's slot could not send", exc_info=True)

    def _send(self, frame: EncodedFrame) -> None:
        pt = self._payload_type
        dtls = self.sender.transport
        pair = dtls.transport._connection._nominated.get(1) if dtls._state is DtlsState.CONNECTED else None
        if pt is None or pair is None or self.source is None:
            self._need_keyframe = self.kind == "video"  # start afresh once connected
            return
        if self._need_keyframe:
            if not frame.keyframe:
                self.source.request_keyframe()  # rate-limited by the source
                return
            self._need_keyframe = False
        if self._rebase:
            start = 0 if self._last_pts is None else self._last_pts + FRAME_STEP[self.kind]
            self._offset, self._rebase = start - frame.pts, False
        pts = frame.pts + self._offset
        self._last_pts = pts
        timestamp = (self._origin + pts) & 0xFFFFFFFF
        payloads = _packetizer(self.source).payloads_of(frame)
        protect, ssrc, first, extension, history = (
            dtls._tx_srtp.protect, self.sender._ssrc, self._first_byte, self._extension, self._history)
        last = len(payloads) - 1
        seq = self._seq
        datagrams = []
        for i, payload in enumerate(payloads):
            marker = i == last
            history[seq % RTP_HISTORY_SIZE] = RtpPacket(pt, marker, seq, timestamp, ssrc, payload)
            datagrams.append(protect(_RTP_HEADER.pack(first, marker << 7 | pt, seq, timestamp, ssrc)
                                     + extension + payload))
            self._octets += len(payload)
            seq = (seq + 1) & 0xFFFF
        self._seq = seq
        _send_datagrams(pair.protocol.transport, datagrams, pair.remote_addr)
        self._packets += len(payloads)
        self.frames_out += 1
        # What the sender's next report says (aiortc's RTCP loop reads these).
        setattr(self.sender, _SENDER + "ntp_timestamp", aiortc_clock.current_ntp_time())
        setattr(self.sender, _SENDER + "rtp_timestamp", timestamp)
        setattr(self.sender, _SENDER + "octet_count", self._octets)
        setattr(self.sender, _SENDER + "packet_count", self._packets)


_RTP_HEADER = struct.Struct("!BBHLL")
_UDP_SEGMENT = 103  # Linux: send one buffer as several UDP datagrams of this size (GSO)
_gso = {"works": hasattr(socket, "SOL_UDP")}  # until the kernel says otherwise


def _send_datagrams(transport: Any, datagrams: list[bytes], addr: Any) -> None:
    """Send a video frame's packets with one system call when the kernel can (UDP GSO: every
    packet but the last is full size, as the VP8 packetizer makes them), else one by one."""
    sock = getattr(transport, "_sock", None)
    size = len(datagrams[0])
    if (len(datagrams) > 1 and _gso["works"] and sock is not None and not transport._buffer
            and not transport.is_closing() and all(len(d) == size for d in datagrams[:-1])
            and len(datagrams[-1]) <= size):
        try:
            sock.sendmsg([b"".join(datagrams)], [(socket.SOL_UDP, _UDP_SEGMENT, struct.pack("=H", size))], 0, addr)
            return
        except (BlockingIOError, InterruptedError):
            pass  # the socket is full: asyncio's transport queues them below
        except OSError:
            _gso["works"] = False
            logger.info("UDP segmentation offload is not available: one system call per packet")
    for datagram in datagrams:
        transport.sendto(datagram, addr)


# -- the viewer -------------------------------------------------------------------------------
class Viewer(Peer):
    """A receive-only peer sent a chosen few publications on fixed slots: one video, and
    as many audio slots as have ever been needed at once.

    ``show`` rebinds slots to other publications without renegotiating (a new video source
    starts on a keyframe); only a need for more slots than exist makes a new offer.
    """

    def __init__(
        self,
        viewer_id: str,
        send_offer: SendOffer,
        ice_servers: list[RTCIceServer] | None = None,
        on_failed: Callable[[Peer], None] | None = None,
        audio_slots: int = 2,
    ) -> None:
        super().__init__(viewer_id, send_offer, ice_servers, on_failed, publish=False)
        self.slots: dict[str, list[Slot]] = {kind: [] for kind in KINDS}
        self._grow("video", 1)
        self._grow("audio", audio_slots)
        self.renegotiate()

    def _grow(self, kind: str, count: int) -> None:
        while len(self.slots[kind]) < count:
            transceiver = self.pc.addTransceiver(_SlotTrack(kind), direction="sendonly")
            _set_codec_preferences(transceiver)
            transceiver.receiver._RTCRtpReceiver__remote_bitrate_estimator = None  # type: ignore[attr-defined]
            transceiver.sender._stream_id = f"{self.id}-{kind}-{len(self.slots[kind])}"
            self.slots[kind].append(Slot(kind, transceiver.sender))

    def show(self, kind: str, ups: list[UpTrack]) -> None:
        """Send exactly ``ups`` (of ``kind``) to the viewer; a slot already showing one keeps it."""
        if self.closed:
            return
        if kind == "audio":
            ups = [bundled(up) for up in ups]
        slots = self.slots[kind]
        if len(ups) > len(slots):
            self._grow(kind, len(ups))
            self.renegotiate()
        missing = [up for up in ups if not any(slot.source is up for slot in slots)]
        for slot in slots:
            if slot.source is not None and slot.source not in ups:
                slot.unbind()
        for slot in slots:
            if not missing:
                break
            if slot.source is None:
                slot.bind(missing.pop(0))

    def showing(self, kind: str) -> list[UpTrack]:
        return [slot.source for slot in self.slots[kind] if slot.source is not None]

    async def close(self) -> None:
        for slots in self.slots.values():
            for slot in slots:
                slot.unbind()
        await super().close()
