"""The SFU: rooms by id. The only object the signaling layer holds on to."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Optional

from aiortc import RTCIceServer

from .peer import Peer
from .room import Room
from .udp import drain_datagram_reads


class SFU:
    def __init__(
        self,
        ice_servers: Optional[list[RTCIceServer]] = None,
        on_peer_failed: Optional[Callable[[str, str], None]] = None,
    ) -> None:
        drain_datagram_reads()
        self.rooms: dict[str, Room] = {}
        self._ice_servers = ice_servers or []
        self._on_peer_failed = on_peer_failed

    def room(self, room_id: str) -> Room:
        room = self.rooms.get(room_id)
        if room is None:
            room = self.rooms[room_id] = Room(room_id, self._ice_servers, self._on_peer_failed)
        return room

    async def leave(self, room_id: str, peer_id: str, expected: Optional[Peer] = None) -> None:
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
