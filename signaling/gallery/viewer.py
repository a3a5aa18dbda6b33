"""One gallery viewer's socket (``/gallery/ws``): it accepts ``watch``, ``answer`` and ``ping``
only; anything else is refused with ``not_allowed`` and logged. Views are written newest first:
a view not yet written is replaced, never piled up, so a slow reader holds nobody up."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Awaitable
from typing import Any

from aiohttp import WSMsgType, web

from gikai.media import MediaError, Offer, Peer, ensure_free_port
from gikai.media.sfu.viewer import Viewer
from gikai.signaling import wire
from gikai.signaling.gallery.seats import Gallery, GalleryRefusal
from gikai.signaling.gallery.stage import Stage
from gikai.signaling.tasks import Spawn
from gikai.signaling.turn import NO_TURN, TurnServers, keep_renewing
from gikai.signaling.wire import ProtocolError, RequestId

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024  # an answer's SDP with a few m-lines is a few KiB
MAX_SDP_CHARS = 200_000
RATE_PER_SECOND = 10
SEND_TIMEOUT = 10.0
CLOSE_MEDIA_ENDED = 4002
CLOSE_FULL = 4004
CLOSE_NO_MEDIA = 4005
NOT_FOUND_LIMIT = 3  # watches of sittings that do not exist before the socket is closed



class GalleryViewer:
    def __init__(self, ws: web.WebSocketResponse, gallery: Gallery, spawn: Spawn, remote: str = "",
                 turn: TurnServers = NO_TURN) -> None:
        self.id = "gallery-" + secrets.token_hex(6)
        self.ws = ws
        self.gallery = gallery
        self.spawn = spawn
        self.remote = remote
        self.stage: Stage | None = None
        self.peer: Viewer | None = None
        self.refused = 0
        self.not_found = 0
        self._lock = asyncio.Lock()
        self._rate = wire.RateLimit(RATE_PER_SECOND)
        self._view: str | None = None
        self._writer: asyncio.Task[None] | None = None
        self.turn = turn
        self._renewing: asyncio.Task[None] | None = None  # fresh TURN credentials while watching

    @property
    def closed(self) -> bool:
        return self.ws.closed

    async def send_text(self, text: str) -> None:
        async with self._lock:
            if not self.ws.closed:
                await asyncio.wait_for(self.ws.send_str(text), SEND_TIMEOUT)

    async def send(self, message: dict[str, Any]) -> None:
        await self.send_text(json.dumps(message, ensure_ascii=False))

    def post(self, text: str) -> None:
        """Queue the newest view; a view not yet written is replaced, never piled up."""
        self._view = text
        if self._writer is None or self._writer.done():
            self._writer = asyncio.ensure_future(self._write_views())

    async def _write_views(self) -> None:
        while self._view is not None and not self.ws.closed:
            text, self._view = self._view, None
            try:
                await self.send_text(text)
            except Exception:
                logger.info("gallery viewer %s does not read; closing it", self.id)
                await self.close(1008, "too slow")
                return

    async def send_offer(self, offer: Offer) -> None:
        if self.ws.closed:
            raise ConnectionResetError("socket closed")
        await self.send({"type": "offer", "sdp": offer.sdp, "revision": offer.revision})

    async def _claim_seat(self) -> None:
        """Keep the seat only if media starts flowing within the gallery's claim time: a socket
        that watches and never connects its media gives its seat back."""
        peer = self.peer
        if peer is None:
            return
        connected = asyncio.Event()

        def changed() -> None:
            if peer.pc.connectionState == "connected":
                connected.set()

        peer.pc.on("connectionstatechange", changed)
        changed()
        try:
            await asyncio.wait_for(connected.wait(), self.gallery.claim_seconds)
        except TimeoutError:
            if self.peer is peer and not self.ws.closed:
                logger.info("gallery viewer %s (%s): no media after %.0f s; seat released",
                            self.id, self.remote, self.gallery.claim_seconds)
                await _quietly(self.send(wire.error("gallery_media_timeout")))
                await self.close(CLOSE_NO_MEDIA, "media did not start")
        finally:
            peer.pc.remove_listener("connectionstatechange", changed)

    def media_failed(self, peer: Peer) -> None:
        async def end() -> None:
            await _quietly(self.send(wire.error("peer_closed")))
            await _quietly(self.close(CLOSE_MEDIA_ENDED, "media ended"))

        self.spawn(end())

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if not self.ws.closed:
            await self.ws.close(code=code, message=reason.encode()[:120])

    async def run(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type == WSMsgType.TEXT:
                    await self.handle(msg.data)
                elif msg.type == WSMsgType.BINARY:
                    await self.send(wire.error("bad_json", None, "binary frames are not used"))
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            if self._renewing is not None:
                self._renewing.cancel()

    async def handle(self, text: str) -> None:
        if not self._rate.allow():
            await self.send(wire.error("rate_limited"))
            return
        rid: RequestId = None
        try:
            rid, kind, msg = wire.envelope(text, MAX_MESSAGE_BYTES, id_required=False)
            data = await self.dispatch(rid, kind, msg)
            await self.send(wire.reply(rid, data))
        except ProtocolError as exc:
            await self.send(wire.error(exc.code, exc.request_id if rid is None else rid, exc.detail))
        except GalleryRefusal as exc:
            await self.send(wire.error(exc.code, rid, exc.detail))
            if exc.code == "not_found":
                self.not_found += 1
            if exc.code in ("gallery_full", "gallery_address_full"):
                await self.close(CLOSE_FULL, "gallery full")
            elif self.not_found >= NOT_FOUND_LIMIT:
                await self.close(1008, "no such sitting")
        except MediaError as exc:
            await self.send(wire.error(exc.code, rid, str(exc)))
        except Exception:
            logger.exception("gallery request failed")
            await self.send(wire.error("internal", rid))

    async def dispatch(self, rid: RequestId, kind: str, msg: dict[str, Any]) -> dict[str, Any]:
        if kind == "ping":
            return {"now": int(time.time() * 1000)}
        if kind == "watch":
            meeting_id = _text(msg, "meeting_id", rid, wire.MAX_ID_CHARS)
            media = msg.get("media", True)
            if not isinstance(media, bool):
                raise ProtocolError("bad_message", "field 'media' must be true or false", rid)
            if self.stage is not None:
                raise GalleryRefusal("already_watching")
            if not media:  # a chamber display: the view and its pushes, no picture or sound
                return {"view": await self.gallery.watch(self, meeting_id, media=False)}
            ensure_free_port()  # MediaPortsExhausted: the SFU has no media port left for a viewer
            view = await self.gallery.watch(self, meeting_id)
            self.spawn(self._claim_seat())
            self._renewing = asyncio.ensure_future(keep_renewing(self.turn, self.id, self.send))
            return {"view": view, "ice_servers": self.turn.ice_servers(self.id)}
        if kind == "answer":
            sdp = _text(msg, "sdp", rid, MAX_SDP_CHARS)
            revision = msg.get("revision")
            if not isinstance(revision, int) or isinstance(revision, bool) or not 0 <= revision < 2**53:
                raise ProtocolError("bad_message", "field 'revision' must be int", rid)
            if self.peer is None:
                raise GalleryRefusal("not_watching")
            await self.peer.accept_answer(sdp, revision)
            return {}
        if kind == "refuse_offer":
            revision = msg.get("revision")
            if not isinstance(revision, int) or isinstance(revision, bool) or not 0 <= revision < 2**53:
                raise ProtocolError("bad_message", "field 'revision' must be int", rid)
            reason = _text(msg, "reason", rid, 500)
            if self.peer is None:
                raise GalleryRefusal("not_watching")
            self.peer.refuse_offer(revision, reason)
            return {}
        self.refused += 1
        logger.warning("gallery viewer %s (%s) sent '%s': not allowed", self.id, self.remote, kind[:40])
        raise GalleryRefusal("not_allowed", "the gallery only watches")


def _text(msg: dict[str, Any], name: str, rid: RequestId, max_len: int) -> str:
    value = msg.get(name)
    if not isinstance(value, str) or len(value) > max_len:
        raise ProtocolError("bad_message", f"field '{name}' must be a string of at most {max_len}", rid)
    return value


async def _quietly(awaitable: Awaitable[Any]) -> None:
    try:
        await awaitable
    except Exception:
        logger.debug("ignored", exc_info=True)
