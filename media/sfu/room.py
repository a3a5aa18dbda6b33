"""A room: the peers of one meeting, each subscribed to every other peer's camera and
microphone, and to the one screen being shared, if any."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiortc import RTCIceServer

from gikai.media.sfu.forwarding import UpTrack
from gikai.media.sfu.peer import Peer, SendOffer
from gikai.media.sfu.tasks import TaskSet

logger = logging.getLogger(__name__)


class Room:
    def __init__(
        self,
        room_id: str,
        ice_servers: list[RTCIceServer] | None = None,
        on_peer_failed: Callable[[str, str], None] | None = None,
        on_peers_changed: Callable[[str], None] | None = None,
    ) -> None:
        self.id = room_id
        self.peers: dict[str, Peer] = {}
        self._ice_servers = ice_servers or []
        self._on_peer_failed = on_peer_failed
        # Told (with the room id) after a peer joined or left, so that viewers who are sent
        # a chosen publication can follow it to the new peer.
        self._on_peers_changed = on_peers_changed
        self.screen: str | None = None  # the peer whose screen share everyone receives
        self._closing = TaskSet()  # failed peers being removed and closed

    def add_peer(self, peer_id: str, send_offer: SendOffer) -> Peer:
        """Create the peer, wire it to everyone else, and start its first offer."""
        if peer_id in self.peers:
            raise ValueError(f"peer {peer_id} is already in room {self.id}")
        peer = Peer(peer_id, send_offer, self._ice_servers, on_failed=self._peer_failed)
        for other in self.peers.values():
            for up in self._shown(other):
                peer.subscribe(other.id, up)
            for up in self._shown(peer):
                other.subscribe(peer.id, up)
        self.peers[peer_id] = peer
        peer.renegotiate()
        self._changed()
        return peer

    async def remove_peer(self, peer_id: str, expected: Peer | None = None) -> None:
        """Remove the peer (only if it is still ``expected``, when given) and close it."""
        peer = self.peers.get(peer_id)
        if peer is None or (expected is not None and peer is not expected):
            if expected is not None:
                await expected.close()
            return
        del self.peers[peer_id]
        if self.screen == peer_id:
            self.screen = None
        for other in self.peers.values():
            other.unsubscribe(peer_id)
        self._changed()
        await peer.close()

    def set_forwarding(self, peer_id: str, slot: str, forwarding: bool) -> None:
        """Forward a publisher's track to subscribers or hold it back entirely."""
        peer = self.peers.get(peer_id)
        if peer is not None:
            peer.ups[slot].forwarding = forwarding

    def receive_video(self, peer_id: str, receiving: bool) -> bool:
        """Send ``peer_id`` the others' video, or only their audio. False if that peer is not here."""
        peer = self.peers.get(peer_id)
        if peer is None:
            return False
        peer.receive_video(receiving)
        return True

    def share_screen(self, peer_id: str | None) -> bool:
        """Send ``peer_id``'s screen share to every other peer (None: nobody's). One screen at a
        time: the previous one stops reaching anyone. False if that peer is not here."""
        if peer_id is not None and peer_id not in self.peers:
            return False
        previous = self.peers.get(self.screen) if self.screen is not None else None
        if previous is not None and "screen" in previous.ups:
            previous.ups["screen"].forwarding = False
            for other in self.peers.values():
                if other is not previous:
                    other.unsubscribe(previous.id, ("screen",))
        self.screen = peer_id
        sharer = self.peers.get(peer_id) if peer_id is not None else None
        if sharer is not None and "screen" in sharer.ups:
            up = sharer.ups["screen"]
            up.forwarding = True
            for other in self.peers.values():
                if other is not sharer:
                    other.subscribe(sharer.id, up)
            up.request_keyframe()
        self._changed()
        return True

    def _shown(self, peer: Peer) -> list[UpTrack]:
        """What of ``peer`` the others receive: camera and microphone, and its screen if shared."""
        return [up for slot, up in peer.ups.items() if slot != "screen" or self.screen == peer.id]

    def _changed(self) -> None:
        if self._on_peers_changed is not None:
            try:
                self._on_peers_changed(self.id)
            except Exception:  # an observer's bug must not break joining or leaving
                logger.exception("peers-changed observer of room %s failed", self.id)

    def _peer_failed(self, peer: Peer) -> None:
        if self.peers.get(peer.id) is not peer:
            self._closing.spawn(peer.close(), f"closing failed peer {peer.id}")
            return
        logger.info("peer %s in room %s failed; removing it", peer.id, self.id)
        self._closing.spawn(self.remove_peer(peer.id), f"removing failed peer {peer.id} from room {self.id}")
        if self._on_peer_failed is not None:
            self._on_peer_failed(self.id, peer.id)

    async def close(self) -> None:
        peers = list(self.peers)
        await asyncio.gather(*(self.remove_peer(p) for p in peers), return_exceptions=True)
        # Failed peers still being closed are waited for, not cancelled: a close cut short
        # would leave the peer's connection open.
        await self._closing.close(cancel=False)
