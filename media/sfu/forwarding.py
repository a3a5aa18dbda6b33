"""Encoded-frame fan-out: one up-track (a publication) feeds many down-tracks.

Nothing here decodes or encodes. Each subscriber has its own bounded queue, so a slow
or not-yet-connected subscriber only ever loses its own frames: when its queue
overflows it drops to the next keyframe and asks the publisher for one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from gikai.media.sfu.frames import EncodedFrame
from gikai.media.sfu.layers import SYNC_WAIT_FRAMES, LayerChooser, LayerRates, TemporalFilter

logger = logging.getLogger(__name__)

KEYFRAME_REQUEST_INTERVAL = 0.5  # seconds between keyframe requests sent to one publisher
QUEUE_CAPACITY = {"video": 30, "audio": 50}  # about 2 s of video, 1 s of audio
FRAME_STEP = {"video": 6000, "audio": 960}  # nominal pts step used when the source changes


class UpTrack:
    """A published track: frames come in once and go out to every bound down-track."""

    def __init__(self, kind: str, send_keyframe_request: Callable[[], None], slot: str = "") -> None:
        self.kind = kind
        self.slot = slot or kind  # which of the publisher's slots: "audio", "video" (camera), "screen"
        self.frames_in = 0
        self.forwarding = True  # False: frames arrive but reach no subscriber
        # Called with every frame, forwarded or not (presence analysis, recording).
        self.listeners: list[Callable[[EncodedFrame], None]] = []
        self.rates = LayerRates()  # of its temporal layers, if the publisher sends any
        self._downs: set[DownTrack] = set()
        self._send_keyframe_request = send_keyframe_request
        self._last_request = float("-inf")
        self._request_timer: asyncio.TimerHandle | None = None

    @property
    def subscribers(self) -> int:
        return len(self._downs)

    def push(self, frame: EncodedFrame) -> None:
        self.frames_in += 1
        if frame.layer is not None:
            self.rates.add(time.monotonic(), frame.layer, len(frame.data))
        for listener in self.listeners:
            listener(frame)
        if not self.forwarding:
            return
        for down in self._downs:
            down.put(frame)

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe, at most once per interval; never lose one."""
        if self.kind != "video" or self._request_timer is not None:
            return
        wait = self._last_request + KEYFRAME_REQUEST_INTERVAL - time.monotonic()
        if wait <= 0:
            self._fire_keyframe_request()
        else:
            loop = asyncio.get_running_loop()
            self._request_timer = loop.call_later(wait, self._fire_keyframe_request)

    def _fire_keyframe_request(self) -> None:
        self._request_timer = None
        self._last_request = time.monotonic()
        try:
            self._send_keyframe_request()
        except Exception:  # a closed transport must not break the forwarding path
            logger.debug("keyframe request failed", exc_info=True)

    def attach(self, down: DownTrack) -> None:
        self._downs.add(down)

    def detach(self, down: DownTrack) -> None:
        self._downs.discard(down)

    def close(self) -> None:
        if self._request_timer is not None:
            self._request_timer.cancel()
            self._request_timer = None
        for down in list(self._downs):
            down.unbind()


class DownTrack(MediaStreamTrack):
    """A subscription: the track an ``RTCRtpSender`` reads, fed with forwarded frames.

    It outlives the up-tracks it is bound to, so a transceiver can be reused for the
    next participant without touching the sender. Output timestamps stay continuous
    across source changes.
    """

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.frames_out = 0
        self.frames_dropped = 0
        self.frames_thinned = 0  # left out because of a temporal layer this link does not carry
        self.keyframe_requests = 0
        self.receiving = True  # False: the subscriber asked for no video (audio only)
        self.chooser = LayerChooser()
        self.layers = TemporalFilter()
        # Called once each time this link starts struggling at the lowest layer.
        self.on_struggling: Callable[[], None] | None = None
        self._struggling = False
        self._capacity = QUEUE_CAPACITY[kind]
        self._queue: deque[EncodedFrame] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._source: UpTrack | None = None
        self._started = False
        self._need_keyframe = kind == "video"
        self._rebase = True
        self._offset = 0
        self._last_pts: int | None = None

    @property
    def source(self) -> UpTrack | None:
        return self._source

    def bind(self, source: UpTrack) -> None:
        self.unbind()
        self._source = source
        self._rebase = True
        self._need_keyframe = self.kind == "video"
        source.attach(self)
        if self._started:
            source.request_keyframe()

    def unbind(self) -> None:
        if self._source is not None:
            self._source.detach(self)
            self._source = None
        self._queue.clear()

    def set_receiving(self, receiving: bool) -> None:
        """Send this subscription's frames, or none (a video subscription of an audio-only
        member). Sending again starts at the next keyframe, asked for at once."""
        if receiving == self.receiving:
            return
        self.receiving = receiving
        self._queue.clear()
        if receiving and self.kind == "video":
            self._need_keyframe = True
            if self._started and self._source is not None:
                self._source.request_keyframe()

    def receiver_report(self, fraction_lost: float, now: float | None = None) -> None:
        """The subscriber's RTCP receiver report for this stream: choose its temporal layers."""
        if self.kind != "video":
            return
        now = time.monotonic() if now is None else now
        rates = self._source.rates.cumulative(now) if self._source is not None else None
        self.layers.target = self.chooser.receiver_report(now, fraction_lost, rates)
        struggling = self.receiving and self.chooser.struggling(now)
        if struggling and not self._struggling and self.on_struggling is not None:
            try:
                self.on_struggling()
            except Exception:  # an observer's bug must not break the RTCP path
                logger.exception("struggling-link observer failed")
        self._struggling = struggling

    def request_keyframe(self) -> None:
        """The subscriber lost picture data (PLI/FIR): relay it to the publisher."""
        self.keyframe_requests += 1
        if self._source is not None:
            self._source.request_keyframe()

    def put(self, frame: EncodedFrame) -> None:
        if not self.receiving:
            return
        if self._need_keyframe:
            if not frame.keyframe:
                self.frames_dropped += 1
                return
            self._need_keyframe = False
        admitted = self.layers.admit(frame.layer, frame.sync, frame.keyframe)
        if self.layers.waited == SYNC_WAIT_FRAMES and self._source is not None:
            self._source.request_keyframe()  # no layer-sync frame came: a keyframe starts every layer
        if not admitted:
            self.frames_thinned += 1
            return
        if len(self._queue) >= self._capacity:
            # This subscriber is not keeping up: start again from a keyframe.
            self.frames_dropped += len(self._queue)
            self._queue.clear()
            if self.kind == "video" and not frame.keyframe:
                self._need_keyframe = True
                self.frames_dropped += 1
                if self._source is not None:
                    self._source.request_keyframe()
                return
        self._queue.append(frame)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def recv(self) -> EncodedFrame:  # type: ignore[override]  # the sender takes encoded frames too
        if not self._started:
            # The sender starts reading once the connection is up: begin afresh on a
            # keyframe rather than replaying what queued up meanwhile.
            self._started = True
            if self.kind == "video":
                self._queue.clear()
                self._need_keyframe = True
                if self._source is not None:
                    self._source.request_keyframe()
        while not self._queue:
            if self.readyState != "live":
                raise MediaStreamError
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        frame = self._queue.popleft()
        if self._rebase:
            start = 0 if self._last_pts is None else self._last_pts + FRAME_STEP[self.kind]
            self._offset = start - frame.pts
            self._rebase = False
        pts = frame.pts + self._offset
        self._last_pts = pts
        self.frames_out += 1
        return frame.with_pts(pts)

    def stop(self) -> None:
        super().stop()
        self.unbind()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
