"""One participant's peer connection to the SFU, negotiated by the server.

The server is always the offerer (aiortc has no ``negotiationneeded``): each peer
publishes on three receive-only transceivers made up front (microphone, camera, and a
screen share that stays empty until the participant shares a screen), and receives every
other participant on send-only transceivers, which are reused when a participant leaves so
that the SDP does not grow with every reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc import clock as aiortc_clock
from aiortc.exceptions import InvalidStateError
from aiortc.rtcconfiguration import RTCBundlePolicy
from aiortc.rtcpeerconnection import and_direction, reverse_direction
from aiortc.rtp import RtcpRrPacket, RtcpSrPacket
from aiortc.sdp import SessionDescription

from gikai.media.errors import MediaPortsExhausted, NegotiationError, PeerClosed, UnsupportedCodec
from gikai.media.sfu.assembler import FrameAssembler
from gikai.media.sfu.dtls import failure_reason
from gikai.media.sfu.forwarding import DownTrack, UpTrack
from gikai.media.sfu.retransmit import ResendGate
from gikai.media.sfu.tasks import TaskSet

logger = logging.getLogger(__name__)

KINDS = ("audio", "video")
# A publisher's slots, in the order of its receive-only m-lines, and each slot's media kind.
SLOTS = {"audio": "audio", "video": "video", "screen": "video"}
FORWARDED_CODECS = {"audio": ["audio/opus"], "video": ["video/VP8", "video/rtx"]}
ANSWER_TIMEOUT = 20.0


@dataclass(frozen=True)
class Offer:
    """An SDP offer for the client, with which participant each send-only mid carries."""

    sdp: str
    revision: int
    streams: dict[str, dict[str, str]] = field(default_factory=dict)


SendOffer = Callable[[Offer], Awaitable[None]]


_NTP_EPOCH_OFFSET = 2208988800  # seconds from 1900-01-01 to 1970-01-01


def _current_ntp_time() -> int:
    now = time.time()
    seconds = int(now)
    return ((seconds + _NTP_EPOCH_OFFSET) << 32) | int((now - seconds) * 4294967296.0)


def _current_ms() -> int:
    return int((time.time() + _NTP_EPOCH_OFFSET) * 1000)


def use_fast_clock() -> None:
    """aiortc stamps every RTP packet it sends with the NTP time (twice) and every packet it
    receives with the time in ms, each computed through timezone-aware datetime objects:
    about a tenth of the server's time when it sends to 100 gallery viewers
    (bench/gallery_load.py). Same clock (the wall clock), read with time.time()."""
    if all(callable(getattr(aiortc_clock, name, None)) for name in ("current_ntp_time", "current_ms")):
        aiortc_clock.current_ntp_time = _current_ntp_time
        aiortc_clock.current_ms = _current_ms


def _set_codec_preferences(transceiver: RTCRtpTransceiver) -> None:
    wanted = FORWARDED_CODECS[transceiver.kind]
    capabilities = RTCRtpSender.getCapabilities(transceiver.kind).codecs
    transceiver.setCodecPreferences([c for c in capabilities if c.mimeType in wanted])


def tap_receiver(receiver: RTCRtpReceiver, assembler: FrameAssembler) -> None:
    """Make ``receiver`` hand complete encoded frames to ``assembler`` and never decode.

    aiortc keeps its jitter buffer and decoder thread private; the two names used here
    are checked so that an aiortc upgrade that moves them fails loudly, not silently.
    """
    name = "_RTCRtpReceiver__jitter_buffer"
    if not hasattr(receiver, name) or not hasattr(receiver, "_RTCRtpReceiver__stop_decoder"):
        raise RuntimeError("this aiortc version does not match gikai's receiver tap")
    setattr(receiver, name, assembler)
    original_receive = receiver.receive

    async def receive(parameters: Any) -> None:
        await original_receive(parameters)
        # The decoder thread has nothing to do on the forwarding path: end it now.
        receiver._RTCRtpReceiver__stop_decoder()

    receiver.receive = receive  # type: ignore[method-assign]  # wrapped on this receiver only


def tap_sender(sender: RTCRtpSender, down: DownTrack) -> None:
    """Relay a subscriber's PLI/FIR to the publisher instead of the (unused) encoder, resend
    what the subscriber lost only as often as :class:`ResendGate` lets, and give the down-track
    the loss the subscriber reports for this stream (it chooses the layers)."""
    sender._send_keyframe = down.request_keyframe  # type: ignore[method-assign]  # no encoder to ask
    gate = ResendGate()
    resend = sender._retransmit

    async def retransmit(sequence_number: int) -> None:
        if gate.allow(sequence_number, time.monotonic()):
            await resend(sequence_number)

    sender._retransmit = retransmit  # type: ignore[method-assign]  # this sender only
    original = sender._handle_rtcp_packet

    async def handle_rtcp_packet(packet: Any) -> None:
        await original(packet)
        if isinstance(packet, (RtcpRrPacket, RtcpSrPacket)):
            for report in packet.reports:
                if report.ssrc == sender._ssrc:
                    down.receiver_report(report.fraction_lost / 256)

    sender._handle_rtcp_packet = handle_rtcp_packet  # type: ignore[method-assign]  # this sender only


def _stream_info(publisher_id: str, slot: str) -> dict[str, str]:
    """What an offer says of a send-only m-line: whose it is, its kind, and (for a screen
    share, which is video too) its slot."""
    info = {"participant": publisher_id, "kind": SLOTS[slot]}
    if slot != info["kind"]:
        info["slot"] = slot
    return info


def _directions(sdp: str) -> dict[str, str]:
    return {m.rtp.muxId: m.direction or "sendrecv" for m in SessionDescription.parse(sdp).media
            if m.kind in KINDS and m.rtp.muxId}


class Peer:
    def __init__(
        self,
        peer_id: str,
        send_offer: SendOffer,
        ice_servers: list[RTCIceServer] | None = None,
        on_failed: Callable[[Peer], None] | None = None,
        publish: bool = True,
    ) -> None:
        self.id = peer_id
        self.pc = RTCPeerConnection(
            RTCConfiguration(
                iceServers=ice_servers or [], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE
            )
        )
        self.ups: dict[str, UpTrack] = {}
        self.assemblers: dict[str, FrameAssembler] = {}
        self._send_offer = send_offer
        self._on_failed = on_failed
        self._subs: dict[tuple[str, str], tuple[RTCRtpTransceiver, DownTrack]] = {}
        self._free: dict[str, list[tuple[RTCRtpTransceiver, DownTrack]]] = {k: [] for k in KINDS}
        self._all_downs: list[DownTrack] = []
        self._revision = 0
        self._dirty = True
        self._negotiating: asyncio.Task[None] | None = None
        self._answered: asyncio.Future[None] | None = None
        self._offered: dict[str, str] = {}  # mid -> direction in the offer waiting for an answer
        self._failed = False
        self._closed = False
        self._tasks = TaskSet()  # keyframe requests on their way, a close after a failure
        self.receiving_video = True  # False: this participant asked for audio only
        # Called when one of this peer's video subscriptions stays at its lowest temporal layer
        # and still loses packets (the link is too weak even for that): suggest audio only.
        self.on_weak_link: Callable[[], None] | None = None
        if publish:  # a viewer (publish=False) has no receiving transceiver at all
            for slot, kind in SLOTS.items():
                self._add_publication(slot, kind)
        self.pc.on("connectionstatechange", self._on_connection_state)

    # -- publishing ---------------------------------------------------------------
    def _add_publication(self, slot: str, kind: str) -> None:
        transceiver = self.pc.addTransceiver(kind, direction="recvonly")
        _set_codec_preferences(transceiver)
        receiver = transceiver.receiver
        assembler: FrameAssembler | None = None

        def send_pli() -> None:
            if assembler is not None and assembler.ssrc is not None and not self._closed:
                self._tasks.spawn(receiver._send_rtcp_pli(assembler.ssrc), f"a keyframe request to peer {self.id}")

        up = UpTrack(kind, send_pli, slot)
        assembler = FrameAssembler(kind, up.push, on_loss=up.request_keyframe)
        tap_receiver(receiver, assembler)
        self.ups[slot] = up
        self.assemblers[slot] = assembler
        if slot == "screen":
            up.forwarding = False  # until the room lets this peer share its screen

    def camera_and_microphone(self) -> list[tuple[str, UpTrack]]:
        """The peer's microphone and camera publications (not its screen share)."""
        return [(kind, self.ups[kind]) for kind in KINDS if kind in self.ups]

    # -- subscribing --------------------------------------------------------------
    def subscribe(self, publisher_id: str, up: UpTrack) -> None:
        key = (publisher_id, up.slot)
        if self._closed or key in self._subs:
            return
        free = self._free[up.kind]
        if free:
            transceiver, down = free.pop()
        else:
            transceiver, down = self._add_down(up.kind)
        transceiver.sender._stream_id = publisher_id  # msid names the publisher
        down.set_receiving(self.receiving_video or up.kind != "video")
        down.bind(up)
        self._subs[key] = (transceiver, down)
        self.renegotiate()

    def _add_down(self, kind: str) -> tuple[RTCRtpTransceiver, DownTrack]:
        down = DownTrack(kind)
        transceiver = self.pc.addTransceiver(down, direction="sendonly")
        _set_codec_preferences(transceiver)
        tap_sender(transceiver.sender, down)
        down.on_struggling = self._weak_link
        # A send-only transceiver's receiver never receives: drop its bitrate estimator
        # (a thousand small objects each, which the garbage collector would walk forever).
        transceiver.receiver._RTCRtpReceiver__remote_bitrate_estimator = None  # type: ignore[attr-defined]
        self._all_downs.append(down)
        return transceiver, down

    def unsubscribe(self, publisher_id: str, slots: Iterable[str] = tuple(SLOTS)) -> None:
        changed = False
        for slot in slots:
            entry = self._subs.pop((publisher_id, slot), None)
            if entry is None:
                continue
            _, down = entry
            # The m-line stays send-only with nothing bound (no "inactive" and back): clients
            # that cannot change a transceiver's direction (GStreamer's webrtcbin) refused the
            # round trip. It leaves the offer's `streams`, so clients show nothing for it.
            down.unbind()
            self._free[down.kind].append(entry)
            changed = True
        if changed:
            self.renegotiate()

    def receive_video(self, receiving: bool) -> None:
        """Send this participant the others' video, or audio only (its own choice)."""
        self.receiving_video = receiving
        for _, down in self._subs.values():
            if down.kind == "video":
                down.set_receiving(receiving)

    def _weak_link(self) -> None:
        if self.on_weak_link is not None and not self._closed:
            self.on_weak_link()

    def subscriptions(self) -> dict[tuple[str, str], DownTrack]:
        return {key: down for key, (_, down) in self._subs.items()}

    # -- negotiation ----------------------------------------------------------------
    def renegotiate(self) -> None:
        """Schedule an offer; changes made while one is out go into the next one."""
        self._dirty = True
        if self._closed or (self._negotiating is not None and not self._negotiating.done()):
            return
        self._negotiating = asyncio.ensure_future(self._negotiate())

    async def _negotiate(self) -> None:
        try:
            while self._dirty and not self._closed:
                self._dirty = False
                await self.pc.setLocalDescription(await self.pc.createOffer())
                self._offered = _directions(self.pc.localDescription.sdp)
                self._revision += 1
                streams = {
                    transceiver.mid: _stream_info(publisher_id, slot)
                    for (publisher_id, slot), (transceiver, _) in self._subs.items()
                    if transceiver.mid is not None
                }
                self._answered = asyncio.get_running_loop().create_future()
                await self._send_offer(Offer(self.pc.localDescription.sdp, self._revision, streams))
                await asyncio.wait_for(asyncio.shield(self._answered), ANSWER_TIMEOUT)
        except TimeoutError:
            logger.warning("peer %s did not answer offer %d in time", self.id, self._revision)
            self._fail()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not self._closed:
                if isinstance(exc, (InvalidStateError, ConnectionError)) or self.pc.connectionState == "closed":
                    # aiortc shut the connection itself (consent expired, DTLS ended), or the
                    # socket that carries the offers went: nothing to report but the end
                    logger.info("peer %s went while negotiating (%s)", self.id, type(exc).__name__)
                elif isinstance(exc, MediaPortsExhausted):
                    # another peer took the range's last port between the join's check and this
                    # gathering: the member's connection fails and is retried, as after a drop
                    logger.warning("peer %s: %s", self.id, exc)
                else:
                    logger.exception("negotiation with peer %s failed", self.id)
                self._fail()

    async def accept_answer(self, sdp: str, revision: int) -> None:
        """Apply the client's answer to offer ``revision``."""
        answered = self.offer_waiting(revision)
        self._check_directions(sdp)
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        except Exception as exc:
            unsupported = "send parameters" in str(exc) or "receive parameters" in str(exc)
            self._fail()
            if unsupported:
                raise UnsupportedCodec("the answer accepts neither VP8 video nor Opus audio") from exc
            raise NegotiationError(f"the answer could not be applied: {exc}") from exc
        answered.set_result(None)

    def _check_directions(self, sdp: str) -> None:
        """aiortc applies an answer's directions as they come: a client answering "sendrecv"
        to a send-only m-line would make the server receive (and decode) what it sends."""
        try:
            answered = _directions(sdp)
        except Exception as exc:
            self._fail()
            raise NegotiationError(f"the answer could not be read: {exc}") from exc
        for mid, direction in answered.items():
            offered = self._offered.get(mid)
            if offered is not None and and_direction(direction, reverse_direction(offered)) != direction:
                self._fail()
                raise NegotiationError(f"m-line {mid} was offered {offered} and answered {direction}")

    def offer_waiting(self, revision: int) -> asyncio.Future[None]:
        """The answer awaited for offer ``revision``; raises if no such offer waits."""
        if self._closed:
            raise PeerClosed("the media connection is closed")
        answered = self._answered
        if answered is None or answered.done() or revision != self._revision:
            raise NegotiationError(f"no offer {revision} is waiting for an answer")
        return answered

    def refuse_offer(self, revision: int, reason: str) -> None:
        """The client says it cannot apply offer ``revision`` (``reason`` in its words): the
        connection ends now, as after an unanswered offer, instead of after 20 s of waiting."""
        self.offer_waiting(revision)
        logger.warning("peer %s refused offer %d: %r", self.id, revision, reason)  # quoted: one log line
        self._fail()

    # -- lifecycle ----------------------------------------------------------------
    def _on_connection_state(self) -> None:
        # "closed" without close(): aiortc shut the connection itself (ICE consent expired,
        # the remote ended DTLS). The peer is as dead as after "failed".
        if self.pc.connectionState in ("failed", "closed") and not self._closed:
            if not self._failed:
                logger.warning("peer %s: the media connection ended: %s", self.id, failure_reason(self.pc))
            self._fail()

    def _fail(self) -> None:
        if self._closed or self._failed:
            return
        self._failed = True  # "failed" and then "closed" report one failure
        if self._on_failed is not None:
            self._on_failed(self)
        else:
            self._tasks.spawn(self.close(), f"closing failed peer {self.id}")

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        current = asyncio.current_task()
        if self._negotiating is not None and self._negotiating is not current:
            self._negotiating.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._negotiating
        await self._tasks.close(cancel=True)
        for up in self.ups.values():
            up.close()
        for down in self._all_downs:
            down.stop()
        self._subs.clear()
        await self.pc.close()
