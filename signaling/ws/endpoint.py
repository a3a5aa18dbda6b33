"""The members' socket, ``/ws``: one :class:`Connection` per socket, made with the collaborators it
needs, and every one closed when the server stops."""

from __future__ import annotations

import logging

from aiohttp import web

from gikai.orchestrator.service.accounts import AccountService
from gikai.orchestrator.service.ballots import BallotService
from gikai.orchestrator.service.presenting import PresentingService
from gikai.orchestrator.service.sittings import SittingService
from gikai.signaling.adapters.presence import PresenceBridge
from gikai.signaling.auth.passkeys import Ceremonies
from gikai.signaling.auth.sessions import current
from gikai.signaling.config import request_origin, request_rp_id
from gikai.signaling.tasks import Spawn
from gikai.signaling.wire import accept
from gikai.signaling.ws.connection import Connection, Seats
from gikai.signaling.ws.hub import Hub
from gikai.signaling.ws.media import MemberMedia
from gikai.signaling.ws.voting import VoteDesk

logger = logging.getLogger(__name__)

WS_MAX_FRAME = 4 * 1024 * 1024
SHUTDOWN = 1001


class MemberSockets:
    def __init__(self, hub: Hub, sittings: SittingService, ballots: BallotService, accounts: AccountService,
                 ceremonies: Ceremonies, seats: Seats, media: MemberMedia, presenting: PresentingService,
                 presence: PresenceBridge | None, spawn: Spawn) -> None:
        self.hub = hub
        self.sittings = sittings
        self.ballots = ballots
        self.accounts = accounts
        self.ceremonies = ceremonies
        self.seats = seats
        self.media = media
        self.presenting = presenting
        self.presence = presence
        self.spawn = spawn
        self.connections: set[Connection] = set()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = await accept(request, WS_MAX_FRAME)
        found = await current(request)
        votes = VoteDesk(self.ballots, self.accounts, self.ceremonies, self.presence,
                         rp_id=request_rp_id(request), origin=request_origin(request))
        connection = Connection(ws, hub=self.hub, sittings=self.sittings, ballots=self.ballots, seats=self.seats,
                                media=self.media, presenting=self.presenting, votes=votes, spawn=self.spawn,
                                account=found[0] if found else None)
        self.connections.add(connection)
        try:
            await connection.run()
        finally:
            self.connections.discard(connection)
        return ws

    async def close_all(self) -> None:
        """Tell every member the server is stopping."""
        for connection in list(self.connections):
            try:
                await connection.close(SHUTDOWN, "server stopping")
            except Exception:
                logger.debug("close on shutdown failed", exc_info=True)


MEMBER_SOCKETS = web.AppKey("member_sockets", MemberSockets)


async def websocket_handler(request: web.Request) -> web.WebSocketResponse:
    return await request.app[MEMBER_SOCKETS].handle(request)


def setup_member_socket(app: web.Application) -> None:
    app.router.add_get("/ws", websocket_handler)
