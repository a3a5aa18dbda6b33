"""A room: the peers of one meeting, each subscribed to every other peer's tracks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Optional

from aiortc import RTCIceServer

from .peer import Peer, SendOffer

logger = logging.getLogger(__name__)


class Room:
    def __init__(
        self,
        room_id: str,
        ice_servers: Optional[list[RTCIceServer]] = None,
        on_peer_failed: Optional[Callable[[str, str], None]] = None,
        on_peers_changed: Optional[Callable[[str], None]] = None,
    ) -> None:
        self.id = room_id
        self.peers: dict[str, Peer] = {}
        self._ice_servers = ice_servers or []
        self._on_peer_failed = on_peer_failed
        # Told (with the room id) after a peer joined or left, so that viewers who are sent
        # a chosen publication can follow it to the new peer.
        self._on_peers_changed = on_peers_changed

    def add_peer(self, peer_id: str, send_offer: SendOffer) -> Peer:
        """Create the peer, wire it to everyone else, and start its first offer."""
        if peer_id in self.peers:
            raise ValueError(f"peer {peer_id} is already in room {self.id}")
        peer = Peer(peer_id, send_offer, self._ice_servers, on_failed=self._peer_failed)
        for other in self.peers.values():
            for up in other.ups.values():
                peer.subscribe(other.id, up)
            for up in peer.ups.values():
                other.subscribe(peer.id, up)
        self.peers[peer_id] = peer
        peer.renegotiate()
        self._changed()
        return peer

    async def remove_peer(self, peer_id: str, expected: Optional[Peer] = None) -> None:
        """Remove the peer (only if it is still ``expected``, when given) and close it."""
        peer = self.peers.get(peer_id)
        if peer is None or (expected is not None and peer is not expected):
            if expected is not None:
                await expected.close()
            return
        del self.peers[peer_id]
        for other in self.peers.values():
            other.unsubscribe(peer_id)
        self._changed()
        await peer.close()

    def set_forwarding(self, peer_id: str, kind: str, forwarding: bool) -> None:
        """Forward a publisher's track to subscribers or hold it back entirely."""
        peer = self.peers.get(peer_id)
        if peer is not None:
            peer.ups[kind].forwarding = forwarding

    def _changed(self) -> None:
        if self._on_peers_changed is not None:
            try:
                self._on_peers_changed(self.id)
            except Exception:  # an observer's bug must not break joining or leaving
                logger.exception("peers-changed observer of room %s failed", self.id)

    def _peer_failed(self, peer: Peer) -> None:
        if self.peers.get(peer.id) is not peer:
            asyncio.ensure_future(peer.close())
            return
        logger.info("peer %s in room %s failed; removing it", peer.id, self.id)
        asyncio.ensure_future(self.remove_peer(peer.id))
        if self._on_peer_failed is not None:
            self._on_peer_failed(self.id, peer.id)

    async def close(self) -> None:
        peers = list(self.peers)
        await asyncio.gather(*(self.remove_peer(p) for p in peers), return_exceptions=True)
