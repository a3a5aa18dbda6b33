"""One loop per WebSocket: validate, dispatch, reply; clean up whatever happens."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Optional

from aiohttp import WSMsgType, web

from gikai.media import MediaError, Offer, Peer
from gikai.orchestrator.domain.accounts import Account, AccountKind
from gikai.orchestrator.domain.errors import DomainError, NotFound
from gikai.orchestrator.service.directory import Seat
from gikai.orchestrator.service.sittings import utcnow
from gikai.signaling.http.api import current
from gikai.signaling.services import Services
from gikai.signaling.ws import commands, protocol
from gikai.signaling.ws.hub import Attendee
from gikai.signaling.ws.presenting import Presenting
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
    ProtocolError,
    Reception,
    Request,
    Vote,
    VoteOptions,
)
from gikai.signaling.ws.views import attendance_view, sitting_view
from gikai.signaling.ws.voting import VoteDesk, latest_view

logger = logging.getLogger(__name__)

WS_MAX_FRAME = 4 * 1024 * 1024
RATE_PER_SECOND = 50
CLOSE_REPLACED = 4001
CLOSE_MEDIA_ENDED = 4002

After = Optional[Callable[[], Awaitable[None]]]


class _RateLimit:
    """A token bucket: bursts up to ``rate`` messages, refilled at ``rate`` per second."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.tokens = float(rate)
        self.stamp = time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class Connection:
    def __init__(self, ws: web.WebSocketResponse, services: Services, account: Account | None = None,
                 rp_id: str = "localhost", origin: str = "") -> None:
        self.ws = ws
        self.votes = VoteDesk(services, rp_id, origin)
        assert services.presenting is not None, "the app makes the Presenting"
        self.presenting: Presenting = services.presenting
        self.account = account
        self.s = services
        self.attendee: Attendee | None = None
        self.meeting_id: str | None = None
        self.peer: Peer | None = None
        self._lock = asyncio.Lock()
        self._rate = _RateLimit(RATE_PER_SECOND)
        self._closing = False

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
                    await self.send(protocol.error("bad_json", None, "binary frames are not used"))
                elif msg.type == WSMsgType.ERROR:
                    logger.info("socket error: %s", self.ws.exception())
                    break
                if self._closing:
                    break
        finally:
            # aiohttp may cancel this handler when the peer goes away: the clean-up
            # must run to the end regardless, or others keep a ghost in their roster.
            await asyncio.shield(self.s.spawn(self.cleanup()))

    async def handle_text(self, text: str) -> None:
        if not self._rate.allow():
            await self.send(protocol.error("rate_limited"))
            return
        rid: protocol.RequestId = None
        after: After = None
        try:
            request = protocol.parse(text)
            rid = request.id
            data, after = await self.dispatch(request)
            await self.send(protocol.reply(rid, data))
        except ProtocolError as exc:
            await self.send(protocol.error(exc.code, exc.request_id if rid is None else rid, exc.detail))
        except MediaError as exc:
            await self.send(protocol.error(exc.code, rid, str(exc)))
        except DomainError as exc:
            await self.send(protocol.error(exc.code, rid, exc.detail, (exc.ja, exc.en)))
        except Exception:
            logger.exception("request failed")
            await self.send(protocol.error("internal", rid))
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
        if isinstance(request, MediaState):
            return {}, lambda: self.media_state(request)
        if isinstance(request, Leave):
            return {}, lambda: self.close(1000, "left")
        if isinstance(request, AttendanceQuery):
            assert self.meeting_id is not None
            sitting = await self.s.sittings.get(self.meeting_id)
            return {"intervals": attendance_view(sitting)}, None
        if isinstance(request, Reception):
            if self.s.presence is not None:
                self.s.presence.reception(self.attendee.participant.id, request.frames_decoded)
            return {}, None
        assert self.meeting_id is not None
        if isinstance(request, Command):
            actor = self.attendee.participant.id
            await self.s.sittings.execute(self.meeting_id, commands.bind(request.name, actor, request.args))
            return {}, None
        if isinstance(request, BallotAction):
            return await self.votes.ballot(self.meeting_id, self.attendee.participant.id, request), None
        if isinstance(request, VoteOptions):
            return await self.votes.options(self.meeting_id, self.attendee.participant, request), None
        if isinstance(request, Vote):
            return await self.votes.vote(self.meeting_id, self.attendee.participant, request), None
        if isinstance(request, Present):
            return await self.presenting.handle(self.meeting_id, self.attendee.participant.id, request), None
        raise ProtocolError("unknown_type", "", request.id)

    # -- requests -------------------------------------------------------------------
    async def join(self, request: Join) -> tuple[dict[str, Any], After]:
        if self.attendee is not None:
            raise ProtocolError("already_joined", "", request.id)
        seat = await self._seat(request)
        participant_id = seat.participant.id
        meeting_id = seat.meeting.id
        sitting = await self.s.sittings.get(meeting_id)
        if participant_id in sitting.removed:
            raise ProtocolError("removed", "", request.id)
        hub = self.s.hub.meeting(meeting_id)
        previous = hub.attendees.get(participant_id)
        if previous is not None:
            # The same person joined again (a reload, a second tablet): the newest wins.
            await _quietly(previous.send(protocol.error("replaced")))
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
            "ballot": latest_view(await self.s.ballots.latest(meeting_id), p, sitting.acting_chair_id()),
            "presentation": self.presenting.current(meeting_id),
            "screen": self.presenting.screen(meeting_id),
        }
        return data, self._after_join

    async def _seat(self, request: Join) -> Seat:
        if request.token is not None:
            participant_id = self.s.tokens.verify(request.token)
            if participant_id is None:
                raise ProtocolError("invalid_token", "", request.id)
            try:
                seat = await self.s.directory.seat(participant_id)
            except NotFound:
                raise ProtocolError("invalid_token", "the participant no longer exists", request.id) from None
            if not seat.body.rehearsal:
                raise ProtocolError("invalid_token", "join links are for rehearsals only", request.id)
            return seat
        if self.account is None:
            raise ProtocolError("not_logged_in", "", request.id)
        try:
            return await self.s.directory.seat_for_account(
                request.meeting_id or "", self.account.member_id, self.account.kind is AccountKind.CLERK)
        except NotFound:
            raise ProtocolError("not_a_participant", "", request.id) from None

    async def _after_join(self) -> None:
        assert self.attendee is not None and self.meeting_id is not None
        pid = self.attendee.participant.id
        hub = self.s.hub.meeting(self.meeting_id)
        await hub.broadcast({"type": "participant_joined", "participant": self.attendee.state()}, exclude=pid)
        await self.s.sittings.execute(self.meeting_id, lambda s, now: s.connected(pid, now))
        previous_peer = self.s.sfu.room(self.meeting_id).peers.get(pid)
        if previous_peer is not None:
            await self.s.sfu.leave(self.meeting_id, pid, previous_peer)
        if self.attendee is None or self.ws.closed:
            return  # gone while the previous peer was closing
        # Look the room up again: it may have been emptied and dropped meanwhile.
        room = self.s.sfu.room(self.meeting_id)
        self.peer = room.add_peer(pid, self._send_offer)
        room.set_forwarding(pid, "audio", self.s.media_control.may_be_heard(self.meeting_id, pid))
        if self.s.media_control.recordings is not None:
            self.s.media_control.recordings.track_peer(self.meeting_id, pid, self.peer.ups)
        if self.s.presence is not None:
            self.s.presence.watch(self.meeting_id, pid, self.peer.ups)

    async def _send_offer(self, offer: Offer) -> None:
        if self.ws.closed:
            raise ConnectionResetError("socket closed")
        await self.send({"type": "offer", "sdp": offer.sdp, "revision": offer.revision, "streams": offer.streams})

    async def media_state(self, request: MediaState) -> None:
        assert self.attendee is not None and self.meeting_id is not None
        self.attendee.audio_muted = request.audio_muted
        self.attendee.video_muted = request.video_muted
        await self.s.hub.meeting(self.meeting_id).broadcast(
            {"type": "participant_updated", "participant": self.attendee.state()}
        )

    # -- the end ------------------------------------------------------------------
    async def cleanup(self) -> None:
        attendee, meeting_id, peer = self.attendee, self.meeting_id, self.peer
        self.attendee = self.peer = None
        if attendee is not None and meeting_id is not None:
            pid = attendee.participant.id
            if self.s.hub.remove(meeting_id, pid, attendee):
                hub = self.s.hub.meetings.get(meeting_id)
                if hub is not None:
                    await hub.broadcast({"type": "participant_left", "id": pid})
                try:
                    await self.s.sittings.execute(meeting_id, lambda s, now: s.disconnected(pid, now))
                except Exception:
                    logger.exception("could not record that %s left", pid)
            if peer is not None:
                if self.s.sfu.room(meeting_id).peers.get(pid) in (None, peer):
                    if self.s.presence is not None:
                        self.s.presence.unwatch(pid)
                    if self.s.media_control.recordings is not None:
                        self.s.media_control.recordings.untrack_peer(meeting_id, pid)
                await self.s.sfu.leave(meeting_id, pid, peer)
        if not self.ws.closed:
            await self.ws.close()


async def _quietly(awaitable: Awaitable[Any]) -> None:
    try:
        await awaitable
    except Exception:
        logger.debug("ignored", exc_info=True)


async def websocket_handler(request: web.Request) -> web.WebSocketResponse:
    services = request.app[Services.KEY]
    origin = request.headers.get("Origin")
    if origin is not None and not services.origin_allowed(origin, request):
        raise web.HTTPForbidden(text="origin not allowed")
    ws = web.WebSocketResponse(max_msg_size=WS_MAX_FRAME, heartbeat=20.0)
    await ws.prepare(request)
    found = await current(request)
    connection = Connection(ws, services, found[0] if found else None,
                            rp_id=request.url.host or "localhost", origin=f"{request.scheme}://{request.host}")
    services.connections.add(connection)
    try:
        await connection.run()
    finally:
        services.connections.discard(connection)
    return ws
