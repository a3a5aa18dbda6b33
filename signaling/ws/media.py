"""A member's media connection: their SFU peer, the microphone forwarded as the sitting's rules
say, the tracks recorded while the sitting is, and the camera analysed for presence."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from gikai.media import SFU, Offer, Peer, ensure_free_port
from gikai.signaling.adapters.bridges import SfuMediaControl
from gikai.signaling.adapters.presence import PresenceBridge
from gikai.signaling.adapters.recordings import Recordings
from gikai.signaling.turn import NO_TURN, TurnServers

SendOffer = Callable[[Offer], Awaitable[None]]


class MemberMedia:
    def __init__(self, sfu: SFU, media_control: SfuMediaControl, recordings: Recordings,
                 presence: PresenceBridge | None, turn: TurnServers = NO_TURN, captions: bool = False) -> None:
        self.sfu = sfu
        self.captions = captions  # live captions are made (a speech model is installed)
        self.turn = turn
        self.media_control = media_control
        self.recordings = recordings
        self.presence = presence

    def admit(self) -> None:
        """Refuse a joining member now (MediaPortsExhausted) when the SFU has no media port left."""
        ensure_free_port()

    def ice_servers(self, participant_id: str) -> list[dict[str, Any]]:
        """The TURN servers and this member's credentials, for the browser's RTCPeerConnection."""
        return self.turn.ice_servers(participant_id)

    async def leave_previous(self, meeting_id: str, participant_id: str) -> None:
        """The participant's peer from an earlier socket (a reload, another tablet) goes first."""
        previous = self.sfu.room(meeting_id).peers.get(participant_id)
        if previous is not None:
            await self.sfu.leave(meeting_id, participant_id, previous)

    def attach(self, meeting_id: str, participant_id: str, send_offer: SendOffer) -> Peer:
        # Look the room up again: it may have been emptied and dropped meanwhile.
        room = self.sfu.room(meeting_id)
        peer = room.add_peer(participant_id, send_offer)
        room.set_forwarding(participant_id, "audio", self.media_control.may_be_heard(meeting_id, participant_id))
        self.recordings.track_peer(meeting_id, participant_id, peer.ups)
        if self.presence is not None:
            self.presence.watch(meeting_id, participant_id, peer.ups)
        return peer

    async def detach(self, meeting_id: str, participant_id: str, peer: Peer) -> None:
        if self.sfu.room(meeting_id).peers.get(participant_id) in (None, peer):
            if self.presence is not None:
                self.presence.unwatch(participant_id)
            self.recordings.untrack_peer(meeting_id, participant_id)
        await self.sfu.leave(meeting_id, participant_id, peer)

    def reception(self, participant_id: str, frames_decoded: int) -> None:
        if self.presence is not None:
            self.presence.reception(participant_id, frames_decoded)
