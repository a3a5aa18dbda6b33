"""The SFU: rooms by id. The only object the signaling layer holds on to."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiortc import RTCIceServer

from gikai.media.sfu.consent import use_patient_consent
from gikai.media.sfu.dtls import use_rsa_peer_suites
from gikai.media.sfu.peer import Peer, SendOffer, use_fast_clock
from gikai.media.sfu.room import Room
from gikai.media.sfu.udp import drain_datagram_reads
from gikai.media.sfu.viewer import Viewer


class SFU:
    def __init__(
        self,
        ice_servers: list[RTCIceServer] | None = None,
        on_peer_failed: Callable[[str, str], None] | None = None,
    ) -> None:
        drain_datagram_reads()
        use_fast_clock()
        use_patient_consent()
        use_rsa_peer_suites()
        self.rooms: dict[str, Room] = {}
        self._ice_servers = ice_servers or []
        self._on_peer_failed = on_peer_failed
        # Called with a room id after a peer joined or left that room.
        self.peer_listeners: list[Callable[[str], None]] = []

    def _peers_changed(self, room_id: str) -> None:
        for listener in list(self.peer_listeners):
            listener(room_id)

    def room(self, room_id: str) -> Room:
        room = self.rooms.get(room_id)
        if room is None:
            room = self.rooms[room_id] = Room(
                room_id, self._ice_servers, self._on_peer_failed, self._peers_changed
            )
        return room

    def viewer(self, viewer_id: str, send_offer: SendOffer,
               on_failed: Callable[[Peer], None] | None = None) -> Viewer:
        """A receive-only peer in no room: its owner chooses what it is shown (Viewer.show)
        and closes it."""
        return Viewer(viewer_id, send_offer, self._ice_servers, on_failed)

    async def leave(self, room_id: str, peer_id: str, expected: Peer | None = None) -> None:
        room = self.rooms.get(room_id)
        if room is None:
            if expected is not None:
                await expected.close()
            return
        await room.remove_peer(peer_id, expected)
        if not room.peers:
            self.rooms.pop(room_id, None)

    async def close(self) -> None:
        rooms, self.rooms = list(self.rooms.values()), {}
        await asyncio.gather(*(room.close() for room in rooms), return_exceptions=True)
