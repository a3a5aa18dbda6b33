"""Wiring MediaClients to an SFU room directly (no WebSocket), for media tests."""

from __future__ import annotations

from gikai.media import Room

from .client import MediaClient


def join(room: Room, peer_id: str, client: MediaClient) -> None:
    async def send_offer(offer):
        sdp = await client.handle_offer(offer)
        await room.peers[peer_id].accept_answer(sdp, offer.revision)

    room.add_peer(peer_id, send_offer)


def sent_index(sent: list[bytes], frame: bytes, start: int = 0) -> int | None:
    for i in range(start, len(sent)):
        if sent[i] == frame:
            return i
    return None
