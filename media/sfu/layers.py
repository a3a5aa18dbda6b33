"""Temporal layers per subscriber: how many of a VP8 L1T3 stream's layers its link carries.

A publisher encoding L1T3 marks every frame with its temporal layer (TID): at 15 fps,
layer 0 alone is 3.75 fps, layers 0-1 are 7.5 fps, all three 15 fps. A frame never refers to
a frame of a higher layer, so a subscriber can be sent only the layers up to some maximum
and still decode every frame it gets. Both classes here are plain logic, driven by the
caller's clock and frames, so they are tested without an event loop.

- :class:`LayerChooser` picks the maximum layer from the subscriber's receiver reports:
  lower on sustained loss, higher again after a quiet period that doubles after each failed
  try (hysteresis, so a link that carries 7.5 fps is not flipped to 15 fps and back). The loss
  also measures the link: a report of 40% lost while 450 kbit/s were sent says about 270
  got through, so a layer set of more than that is not tried again until that estimate is old.
  A try that fails costs the subscriber the frames lost meanwhile (a short freeze and a
  keyframe): it is the one moment this design gives up smoothness, and the estimate keeps
  those moments rare.
- :class:`LayerRates` measures each layer's bit rate from the frames published.
- :class:`TemporalFilter` applies that choice frame by frame: lowering takes effect at once,
  raising waits for a frame of the next layer that refers to no earlier frame of that layer
  (the layer-sync bit), since the frames of that layer before it were never sent.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

TOP_LAYER = 2  # L1T3: layers 0, 1, 2
FRAME_RATE_SHARE = {0: 0.25, 1: 0.5, 2: 1.0}  # the share of the frames layers 0..n carry


@dataclass(frozen=True)
class LayerPolicy:
    """When the chooser moves. Fractions are of packets lost, as in an RTCP receiver report."""

    loss_high: float = 0.05  # a report with this much loss counts as congested
    loss_low: float = 0.02  # below this a report counts as quiet
    reports_to_lower: int = 2  # consecutive congested reports before a layer is dropped
    settle: float = 2.5  # s after a lowering during which reports still describe the old rate
    raise_after: float = 10.0  # s of quiet reports before trying one layer more
    max_raise_after: float = 120.0  # the quiet period doubles after a failed try, up to this
    struggle_after: float = 15.0  # s at layer 0 with congested reports before "struggling"
    headroom: float = 0.9  # a layer set is tried only if it needs at most this share of the estimate
    estimate_merge: float = 10.0  # s within which link estimates count as one episode (the best stands)


class LayerChooser:
    """The highest temporal layer one subscriber's link carries, from its receiver reports."""

    def __init__(self, policy: LayerPolicy | None = None, top: int = TOP_LAYER) -> None:
        self.policy = policy or LayerPolicy()
        self.top = top
        self.layer = top  # start optimistic: most links carry the whole stream
        self.changes = 0
        self._congested = 0  # consecutive congested reports
        self._quiet_since: float | None = None
        self._settle_until = float("-inf")
        self._raised_at: float | None = None
        self._raise_after = self.policy.raise_after
        self._bottom_loss_since: float | None = None  # at layer 0 and still congested, since
        self.capacity: float | None = None  # bit/s the link carried when it last lost packets
        self._capacity_at = float("-inf")

    @property
    def raise_after(self) -> float:
        """The quiet period the next try at a higher layer waits for."""
        return self._raise_after

    def struggling(self, now: float) -> bool:
        """At layer 0 and still losing packets for a while: even 3.75 fps is too much."""
        since = self._bottom_loss_since
        return since is not None and now - since >= self.policy.struggle_after

    def receiver_report(self, now: float, fraction_lost: float, rates: Sequence[float] | None = None) -> int:
        """Take one report's fraction of packets lost (0..1) at time ``now`` (seconds) and,
        if known, the bit rates of layers 0..n together (``rates[n]``); return the layer to
        forward up to."""
        p = self.policy
        congested = fraction_lost >= p.loss_high
        if congested and rates is not None and self.layer < len(rates) and now >= self._settle_until:
            carried = rates[self.layer] * (1 - fraction_lost)
            if self.capacity is not None and now - self._capacity_at < p.estimate_merge:
                # Loss soon after a lowering is partly the queue the higher rate left behind: it
                # understates the link, so the best of the recent estimates stands.
                carried = max(carried, self.capacity)
            self.capacity = carried
            self._capacity_at = now
        if self.layer == 0:
            if congested:
                if self._bottom_loss_since is None:
                    self._bottom_loss_since = now
            elif fraction_lost < p.loss_low:
                self._bottom_loss_since = None
        trying = self._raised_at is not None and now - self._raised_at < self._raise_after
        if now < self._settle_until:
            return self.layer  # the loss of the rate before the change, not of this one
        if congested or (trying and fraction_lost >= p.loss_low):
            self._quiet_since = None
            self._congested += 1
            # Right after a try the link was quiet before it: any loss is the try's.
            if (self._congested >= p.reports_to_lower or trying) and self.layer > 0:
                self._lower(now)
            return self.layer
        self._congested = 0
        if fraction_lost >= p.loss_low:
            self._quiet_since = None  # some loss: neither lower nor count towards a raise
            return self.layer
        if self._quiet_since is None:
            self._quiet_since = now
        raised = self._raised_at
        if raised is not None and now - raised >= self._raise_after:
            self._raised_at = None  # the last try held: the next one waits the normal time
            self._raise_after = p.raise_after
        if self.layer < self.top and now - self._quiet_since >= self._raise_after and self._fits(now, rates):
            self._raise(now)
        return self.layer

    def _fits(self, now: float, rates: Sequence[float] | None) -> bool:
        """Whether one layer more fits the link's last estimate (or the estimate is too old)."""
        if self.capacity is None or now - self._capacity_at >= self.policy.max_raise_after:
            return True
        if rates is None or self.layer + 1 >= len(rates):
            return True
        return rates[self.layer + 1] <= self.policy.headroom * self.capacity

    def _lower(self, now: float) -> None:
        if self._raised_at is not None and now - self._raised_at < self._raise_after:
            # The last try at this layer failed: wait longer before the next one.
            self._raise_after = min(self._raise_after * 2, self.policy.max_raise_after)
        self._raised_at = None
        self._change(now, self.layer - 1)
        if self.layer == 0:
            self._bottom_loss_since = now

    def _raise(self, now: float) -> None:
        self._raised_at = now
        self._bottom_loss_since = None
        self._change(now, self.layer + 1)
        self._settle_until = now  # the reports after a try are about the try

    def _change(self, now: float, layer: int) -> None:
        self.layer = layer
        self.changes += 1
        self._congested = 0
        self._quiet_since = None
        self._settle_until = now + self.policy.settle


class LayerRates:
    """The bit rate of each temporal layer of one publication, over the last ``window`` seconds;
    ``cumulative`` gives layers 0..n together, as the chooser wants them."""

    def __init__(self, window: float = 5.0, top: int = TOP_LAYER) -> None:
        self.window = window
        self.top = top
        self._frames: deque[tuple[float, int, int]] = deque()  # (time, layer, bytes)

    def add(self, now: float, layer: int, size: int) -> None:
        self._frames.append((now, layer, size))
        while self._frames and self._frames[0][0] < now - self.window:
            self._frames.popleft()

    def cumulative(self, now: float) -> list[float] | None:
        frames = [f for f in self._frames if f[0] >= now - self.window]
        if not frames:
            return None
        bits = [0.0] * (self.top + 1)
        for _, layer, size in frames:
            for n in range(min(layer, self.top), self.top + 1):
                bits[n] += size * 8
        return [b / self.window for b in bits]


SYNC_WAIT_FRAMES = 45  # 3 s at 15 fps: then a keyframe is asked for instead


class TemporalFilter:
    """Which frames of a temporally layered stream one subscriber is sent.

    ``target`` is the chosen maximum layer; ``current`` the one in effect. Frames without a
    layer (a publisher that does not layer its stream) always pass. ``waited`` counts the
    frames seen since a raise began waiting for a layer-sync frame: an encoder that never marks
    one leaves the caller to ask for a keyframe after ``SYNC_WAIT_FRAMES``.
    """

    def __init__(self, top: int = TOP_LAYER) -> None:
        self.target = top
        self.current = top
        self.waited = 0

    def admit(self, layer: int | None, sync: bool, keyframe: bool) -> bool:
        if layer is None:
            return True
        self.waited = self.waited + 1 if self.target > self.current else 0
        if keyframe or self.target < self.current:
            # A keyframe refers to nothing: every layer may start here. Lowering is safe at
            # any frame, since no frame refers to one of a higher layer.
            self.current = self.target
        elif self.target > self.current and layer == self.current + 1 and sync:
            self.current = layer  # one layer up, at a frame that needs none of its layer's past
        return layer <= self.current
