"""What the SFU is forwarding, counted when asked (a metrics scrape), not on the forwarding path.

Packets and bytes come from each RTP sender's own statistics (aiortc counts what it sent), so
nothing is added to the per-frame path. A sender that went away since the last count leaves
its last-seen totals behind, so the totals only grow (Prometheus counters); what a departing
sender sent after the last count and before it left is not counted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from aiortc import RTCRtpSender

from gikai.media.sfu.room import Room

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ForwardingCount:
    rooms: int
    peers: int
    streams: int  # subscriptions bound to a publication that is being forwarded
    packets: int  # RTP packets sent to subscribers since the server started
    bytes: int  # their payload and header bytes


async def _sent(sender: RTCRtpSender) -> tuple[int, int]:
    try:
        report = await sender.getStats()
    except Exception:  # a sender torn down mid-count counts as what it had
        logger.debug("no stats from a sender", exc_info=True)
        return 0, 0
    for stats in report.values():
        if getattr(stats, "type", "") == "outbound-rtp":
            return int(stats.packetsSent or 0), int(stats.bytesSent or 0)
    return 0, 0


class ForwardingTally:
    """Totals over every sender the SFU ever had, counted at each call of :meth:`count`."""

    def __init__(self) -> None:
        self._seen: dict[RTCRtpSender, tuple[int, int]] = {}
        self._gone = (0, 0)

    async def count(self, rooms: Iterable[Room]) -> ForwardingCount:
        rooms = list(rooms)
        peers = [peer for room in rooms for peer in room.peers.values()]
        streams = sum(1 for peer in peers for down in peer.subscriptions().values()
                      if down.source is not None and down.source.forwarding)
        senders = [sender for peer in peers for sender in peer.pc.getSenders()]
        sent = await asyncio.gather(*(_sent(sender) for sender in senders))
        now = dict(zip(senders, sent, strict=True))
        for sender, last in self._seen.items():
            if sender not in now:
                self._gone = (self._gone[0] + last[0], self._gone[1] + last[1])
        # A count never goes down, even if a sender's own were reset.
        self._seen = {s: (max(p, self._seen.get(s, (0, 0))[0]), max(b, self._seen.get(s, (0, 0))[1]))
                      for s, (p, b) in now.items()}
        packets = self._gone[0] + sum(p for p, _ in self._seen.values())
        octets = self._gone[1] + sum(b for _, b in self._seen.values())
        return ForwardingCount(len(rooms), len(peers), streams, packets, octets)
