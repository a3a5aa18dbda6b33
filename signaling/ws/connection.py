"""One loop per WebSocket: validate, dispatch, reply; clean up whatever happens."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from gikai.media import MediaError, Offer, Peer
from gikai.orchestrator.domain.accounts import Account, AccountKind
from gikai.orchestrator.domain.errors import DomainError, NotFound
from gikai.orchestrator.service import remote
from gikai.orchestrator.service.ballots import BallotService
from gikai.orchestrator.service.directory import Directory, Seat
from gikai.orchestrator.service.presenting import PresentingService
from gikai.orchestrator.service.sittings import SittingService, utcnow
from gikai.signaling import errors, wire
from gikai.signaling.auth.tokens import JoinTokens
from gikai.signaling.tasks import Spawn
from gikai.signaling.turn import keep_renewing
from gikai.signaling.wire import ProtocolError
from gikai.signaling.ws import commands, protocol
from gikai.signaling.ws.hub import Attendee, Hub
from gikai.signaling.ws.media import MemberMedia
from gikai.signaling.ws.presenting import present
from gikai.signaling.ws.protocol import (
    Answer,
    AttendanceQuery,
    BallotAction,
    Command,
    Join,
    Leave,
    MediaState,
    Ping,
    Present,
    Reception,
    ReceptionMode,
    RefuseOffer,
    Request,
    Vote,
    VoteOptions,
)
from gikai.signaling.ws.views import attendance_view, latest_view, presentation_view, screen_view, sitting_view
from gikai.signaling.ws.voting import VoteDesk

logger = logging.getLogger(__name__)

RATE_PER_SECOND = 50
CLOSE_REPLACED = 4001
CLOSE_MEDIA_ENDED = 4002
SUGGEST_AUDIO_ONLY_EVERY = 300.0  # s: a member who declined is not asked again at once

After = Callable[[], Awaitable[None]] | None


class Seats:
    """Who a joining socket is: a rehearsal link's token, or the logged-in account's seat."""

    def __init__(self, tokens: JoinTokens, directory: Directory) -> None:
        self.tokens = tokens
        self.directory = directory

    async def seat(self, request: Join, account: Account | None) -> Seat:
        if request.token is not None:
            participant_id = self.tokens.verify(request.token)
            if participant_id is None:
                raise ProtocolError("invalid_token", "", request.id)
            try:
                seat = await self.directory.seat(participant_id)
            except NotFound:
                raise ProtocolError("invalid_token", "the participant no longer exists", request.id) from None
            if not seat.body.rehearsal:
                raise ProtocolError("invalid_token", "join links are for rehearsals only", request.id)
            return seat
        if account is None:
            raise ProtocolError("not_logged_in", "", request.id)
        try:
            return await self.directory.seat_for_account(
                request.meeting_id or "", account.member_id, account.kind is AccountKind.CLERK)
        except NotFound:
            raise ProtocolError("not_a_participant", "", request.id) from None


class Connection:
    """One member's socket: its requests, in order, and its clean-up."""

    def __init__(self, ws: web.WebSocketResponse, *, hub: Hub, sittings: SittingService, ballots: BallotService,
                 seats: Seats, media: MemberMedia, presenting: PresentingService, votes: VoteDesk,
                 spawn: Spawn, account: Account | None = None) -> None:
        self.ws = ws
        self.hub = hub
        self.sittings = sittings
        self.ballots = ballots
        self.seats = seats
        self.media = media
        self.presenting = presenting
        self.votes = votes
        self.spawn = spawn
        self.account = account
        self.attendee: Attendee | None = None
        self.meeting_id: str | None = None
        self.peer: Peer | None = None
        self._lock = asyncio.Lock()
        self._rate = wire.RateLimit(RATE_PER_SECOND)
        self._closing = False
        self._renewing: asyncio.Task[None] | None = None  # fresh TURN credentials while joined
        self.audio_only = False  # the member's choice: none of the others' video
        self._suggested_at = float("-inf")  # when audio only was last suggested

    async def send(self, message: dict[str, Any]) -> None:
        async with self._lock:
            if not self.ws.closed:
                await self.ws.send_json(message)

    async def send_text(self, text: str) -> None:
        """A message already encoded as JSON (broadcasts encode once for every socket)."""
        async with self._lock:
            if not self.ws.closed:
                await self.ws.send_str(text)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self._closing = True
        if not self.ws.closed:
            await self.ws.close(code=code, message=reason.encode()[:120])

    # -- the loop -------------------------------------------------------------------
    async def run(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type == WSMsgType.TEXT:
                    await self.handle_text(msg.data)
                elif msg.type == WSMsgType.BINARY:
                    await self.send(wire.error("bad_json", None, "binary frames are not used"))
                elif msg.type == WSMsgType.ERROR:
                    logger.info("socket error: %s", self.ws.exception())
                    break
                if self._closing:
                    break
        finally:
            # aiohttp may cancel this handler when the peer goes away: the clean-up
            # must run to the end regardless, or others keep a ghost in their roster.
            await asyncio.shield(self.spawn(self.cleanup()))

    async def handle_text(self, text: str) -> None:
        if not self._rate.allow():
            await self.send(wire.error("rate_limited"))
            return
        rid: wire.RequestId = None
        after: After = None
        try:
            request = protocol.parse(text)
            rid = request.id
            data, after = await self.dispatch(request)
            await self.send(wire.reply(rid, data))
        except ProtocolError as exc:
            await self.send(wire.error(exc.code, exc.request_id if rid is None else rid, exc.detail))
        except MediaError as exc:
            await self.send(wire.error(exc.code, rid, str(exc)))
        except DomainError as exc:
            await self.send(wire.error(exc.code, rid, exc.detail, errors.text_of(exc)))
        except Exception:
            logger.exception("request failed")
            await self.send(wire.error("internal", rid))
        if after is not None:
            await after()

    async def dispatch(self, request: Request) -> tuple[dict[str, Any], After]:
        if isinstance(request, Ping):
            return {"now": int(time.time() * 1000)}, None
        if isinstance(request, Join):
            return await self.join(request)
        if self.attendee is None:
            raise ProtocolError("not_joined", "send join first", request.id)
        if isinstance(request, Answer):
            if self.peer is None:
                raise ProtocolError("negotiation_failed", "no media connection", request.id)
            await self.peer.accept_answer(request.sdp, request.revision)
            return {}, None
        if isinstance(request, RefuseOffer):
            if self.peer is None:
                raise ProtocolError("negotiation_failed", "no media connection", request.id)
            self.peer.offer_waiting(request.revision)  # raises negotiation_failed if none waits
            peer = self.peer
            # the reply first; then the media connection ends (peer_closed, close 4002) and the
            # client reconnects with a fresh offer
            return {}, lambda: _refused(peer, request)
        if isinstance(request, MediaState):
            return {}, lambda: self.media_state(request)
        if isinstance(request, Leave):
            return {}, lambda: self.close(1000, "left")
        if isinstance(request, AttendanceQuery):
            assert self.meeting_id is not None
            sitting = await self.sittings.get(self.meeting_id)
            return {"intervals": attendance_view(sitting)}, None
        if isinstance(request, Reception):
            self.media.reception(self.attendee.participant.id, request.frames_decoded)
            return {}, None
        if isinstance(request, ReceptionMode):
            # Only ever this socket's own member: the request names no one else.
            self.audio_only = request.audio_only
            if self.peer is not None:
                self.peer.receive_video(not self.audio_only)
            return {"audio_only": self.audio_only}, None
        assert self.meeting_id is not None
        if isinstance(request, Command):
            actor = self.attendee.participant.id
            if request.name in commands.PAUSING:
                await self.ballots.require_none_open(self.meeting_id)
            if request.name == "remote_apply":
                await remote.apply_remote(self.sittings, self.meeting_id, actor, request.args["reason"],
                                          request.args["text"])
                return {}, None
            await self.sittings.execute(self.meeting_id, commands.bind(request.name, actor, request.args))
            return {}, None
        if isinstance(request, BallotAction):
            return await self.votes.ballot(self.meeting_id, self.attendee.participant.id, request), None
        if isinstance(request, VoteOptions):
            return await self.votes.options(self.meeting_id, self.attendee.participant, request), None
        if isinstance(request, Vote):
            return await self.votes.vote(self.meeting_id, self.attendee.participant, request), None
        if isinstance(request, Present):
            return await present(self.presenting, self.meeting_id, self.attendee.participant.id, request), None
        raise ProtocolError("unknown_type", "", request.id)

    # -- requests -------------------------------------------------------------------
    async def join(self, request: Join) -> tuple[dict[str, Any], After]:
        if self.attendee is not None:
            raise ProtocolError("already_joined", "", request.id)
        seat = await self.seats.seat(request, self.account)
        participant_id = seat.participant.id
        meeting_id = seat.meeting.id
        sitting = await self.sittings.get(meeting_id)
        if participant_id in sitting.removed:
            raise ProtocolError("removed", "", request.id)
        self.media.admit()
        hub = self.hub.meeting(meeting_id)
        previous = hub.attendees.get(participant_id)
        if previous is not None:
            # The same person joined again (a reload, a second tablet): the newest wins.
            await _quietly(previous.send(wire.error("replaced")))
            await _quietly(previous.close(CLOSE_REPLACED, "replaced"))
        self.attendee = Attendee(seat.participant, self.send, self.close, send_text=self.send_text)
        self.meeting_id = meeting_id
        hub.attendees[participant_id] = self.attendee
        p, m = seat.participant, seat.meeting
        data = {
            "participant": {"id": p.id, "name": p.name, "reading": p.reading, "role": p.role.value},
            "meeting": {"id": m.id, "title": m.title, "body": seat.body.name},
            "roster": hub.roster(),
            "participants": [
                {"id": q.id, "name": q.name, "reading": q.reading, "role": q.role.value, "seat": q.seat}
                for q in sitting.participants.values()
            ],
            "sitting": sitting_view(sitting, utcnow()),
            "ballot": latest_view(await self.ballots.latest(meeting_id), p, sitting.acting_chair_id()),
            "presentation": presentation_view(self.presenting.current(meeting_id)),
            "screen": screen_view(self.presenting.sharer(meeting_id)),
            "ice_servers": self.media.ice_servers(p.id),
            "captions": self.media.captions,
        }
        self._renewing = asyncio.ensure_future(keep_renewing(self.media.turn, p.id, self.send))
        return data, self._after_join

    async def _after_join(self) -> None:
        assert self.attendee is not None and self.meeting_id is not None
        pid = self.attendee.participant.id
        hub = self.hub.meeting(self.meeting_id)
        await hub.broadcast({"type": "participant_joined", "participant": self.attendee.state()}, exclude=pid)
        await self.sittings.execute(self.meeting_id, lambda s, now: s.connected(pid, now))
        await self.media.leave_previous(self.meeting_id, pid)
        if self.attendee is None or self.ws.closed:
            return  # gone while the previous peer was closing
        self.peer = self.media.attach(self.meeting_id, pid, self._send_offer)
        self.peer.receive_video(not self.audio_only)
        self.peer.on_weak_link = self._weak_link

    def _weak_link(self) -> None:
        """The SFU finds this member's link too weak even for the lowest frame rate: suggest
        audio only, unless they chose it already or were asked a short while ago."""
        now = time.monotonic()
        if self.audio_only or self.ws.closed or now - self._suggested_at < SUGGEST_AUDIO_ONLY_EVERY:
            return
        self._suggested_at = now
        self.spawn(_quietly(self.send({"type": "audio_only_suggested"})))

    async def _send_offer(self, offer: Offer) -> None:
        if self.ws.closed:
            raise ConnectionResetError("socket closed")
        await self.send({"type": "offer", "sdp": offer.sdp, "revision": offer.revision, "streams": offer.streams})

    async def media_state(self, request: MediaState) -> None:
        assert self.attendee is not None and self.meeting_id is not None
        self.attendee.audio_muted = request.audio_muted
        self.attendee.video_muted = request.video_muted
        await self.hub.meeting(self.meeting_id).broadcast(
            {"type": "participant_updated", "participant": self.attendee.state()}
        )

    # -- the end ------------------------------------------------------------------
    async def cleanup(self) -> None:
        attendee, meeting_id, peer = self.attendee, self.meeting_id, self.peer
        self.attendee = self.peer = None
        if self._renewing is not None:
            self._renewing.cancel()
        if attendee is not None and meeting_id is not None:
            pid = attendee.participant.id
            if self.hub.remove(meeting_id, pid, attendee):
                hub = self.hub.meetings.get(meeting_id)
                if hub is not None:
                    await hub.broadcast({"type": "participant_left", "id": pid})
                try:
                    await self.sittings.execute(meeting_id, lambda s, now: s.disconnected(pid, now))
                except Exception:
                    logger.exception("could not record that %s left", pid)
            if peer is not None:
                await self.media.detach(meeting_id, pid, peer)
        if not self.ws.closed:
            await self.ws.close()


async def _quietly(awaitable: Awaitable[Any]) -> None:
    try:
        await awaitable
    except Exception:
        logger.debug("ignored", exc_info=True)


async def _refused(peer: Peer, request: RefuseOffer) -> None:
    with contextlib.suppress(MediaError):  # the connection ended meanwhile: nothing left to end
        peer.refuse_offer(request.revision, request.reason)
