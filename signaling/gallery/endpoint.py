"""The gallery viewers' socket, ``/gallery/ws``. (The page, /gallery/<meeting id>, is a route in
http/routes.py.)"""

from __future__ import annotations

import asyncio

from aiohttp import web

from gikai.signaling.gallery.seats import Gallery
from gikai.signaling.gallery.viewer import GalleryViewer
from gikai.signaling.tasks import Spawn
from gikai.signaling.turn import NO_TURN, TurnServers
from gikai.signaling.wire import accept

WS_MAX_FRAME = 128 * 1024
SOCKETS_PER_SEAT = 2  # open gallery sockets one address may have, per seat it may hold


class GallerySockets:
    def __init__(self, gallery: Gallery, spawn: Spawn, turn: TurnServers = NO_TURN) -> None:
        self.gallery = gallery
        self.spawn = spawn
        self.turn = turn

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        remote = request.remote or ""
        if self.gallery.sockets_from(remote) >= SOCKETS_PER_SEAT * self.gallery.max_per_address:
            # before the upgrade: a flood of sockets from one address costs it a refusal, not a seat
            raise web.HTTPTooManyRequests(text="too many gallery connections from this address")
        ws = await accept(request, WS_MAX_FRAME, "gallery")
        viewer = GalleryViewer(ws, self.gallery, self.spawn, remote, self.turn)
        self.gallery.sockets.add(viewer)
        try:
            await viewer.run()
        finally:
            self.gallery.sockets.discard(viewer)
            # aiohttp may cancel this handler when the viewer goes: leave regardless.
            await asyncio.shield(self.spawn(self.gallery.leave(viewer)))
            if not ws.closed:
                await ws.close()
        return ws


GALLERY_SOCKETS = web.AppKey("gallery_sockets", GallerySockets)


async def gallery_socket(request: web.Request) -> web.WebSocketResponse:
    return await request.app[GALLERY_SOCKETS].handle(request)


def setup_gallery(app: web.Application) -> None:
    """Before the page's route (/gallery/{meeting_id}): /gallery/ws is the socket."""
    app.router.add_get("/gallery/ws", gallery_socket)
