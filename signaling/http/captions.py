"""The caption screen, ``/captions/<sitting>``: large live captions for a monitor in the chamber or the
sign-language interpreter, fed by server-sent events from ``/captions/<sitting>/events`` (a plain
HTTP stream: EventSource reconnects by itself, and it passes any reverse proxy that passes HTTP).

What it shows is what the public gallery hears, so it needs no login, like the gallery.
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from gikai.orchestrator.domain.errors import NotFound
from gikai.signaling.adapters.captions import CaptionsBridge
from gikai.signaling.http import state
from gikai.signaling.http.common import fail
from gikai.signaling.http.routes import page

CAPTIONS = web.AppKey("captions", CaptionsBridge)
KEEPALIVE = 15.0  # seconds between comments on a quiet stream: proxies close idle connections


async def caption_events(request: web.Request) -> web.StreamResponse:
    meeting_id = request.match_info["meeting_id"]
    try:
        sitting = await request.app[state.SITTINGS].get(meeting_id)
    except NotFound:
        raise fail(404, "not_found", "no such sitting") from None
    captions = request.app[CAPTIONS]
    queue = captions.listen(meeting_id)
    try:
        response = web.StreamResponse(headers={
            "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-store",
            "X-Accel-Buffering": "no"})  # nginx: pass each event on at once
        await response.prepare(request)
        hello = {"meeting_id": meeting_id, "title": sitting.meeting.title, "body": sitting.body.name,
                 "enabled": captions.enabled, "recent": captions.recent(meeting_id)}
        await response.write(_event("hello", json.dumps(hello, ensure_ascii=False)))
        while True:
            try:
                text = await asyncio.wait_for(queue.get(), KEEPALIVE)
            except TimeoutError:
                await response.write(b": keepalive\n\n")
                continue
            if not text:  # the server is stopping
                break
            await response.write(_event("caption", text))
    finally:
        captions.unlisten(meeting_id, queue)
    return response


def _event(name: str, data: str) -> bytes:
    return f"event: {name}\ndata: {data}\n\n".encode()


def setup_captions(app: web.Application) -> None:
    app.router.add_get("/captions/{meeting_id}/events", caption_events)
    app.router.add_get("/captions/{meeting_id}", page("captions.html"))


__all__ = ["CAPTIONS", "setup_captions"]
