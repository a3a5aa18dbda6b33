"""The public broadcast's files (issue 19): ``/broadcast/<meeting id>/index.m3u8`` and the
segments it lists, as written by the encoder into ``<data>/broadcast/<meeting id>/``. Public, as
the gallery is. The playlist changes every second and is never cached; segment and init names are
unique per encoder run, so they are cached for a day (a CDN in front serves them to everyone)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from aiohttp import web

from gikai.signaling.config import CONFIG

MEETING_ID = re.compile(r"[0-9a-f]{32}")
FILE = re.compile(r"(init-[0-9a-f]{1,16}\.mp4|seg-[0-9a-f]{1,16}-[0-9]{6,9}\.m4s)")
PLAYLIST_HEADERS = {"Cache-Control": "no-cache, no-store", "Access-Control-Allow-Origin": "*"}
SEGMENT_HEADERS = {"Cache-Control": "public, max-age=86400, immutable", "Access-Control-Allow-Origin": "*"}
TYPES = {".mp4": "video/mp4", ".m4s": "video/iso.segment"}


def _folder(request: web.Request) -> Path:
    meeting_id = request.match_info["meeting_id"]
    if not MEETING_ID.fullmatch(meeting_id):
        raise web.HTTPNotFound(text="no such broadcast")
    return request.app[CONFIG].data_dir / "broadcast" / meeting_id


def _read(path: Path) -> bytes | None:
    """A file whole, or None. The encoder writes each aside and renames it, so it is always
    whole; a segment (~150 KB) is read at once, since the encoder deletes old ones."""
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None


async def playlist(request: web.Request) -> web.Response:
    data = await asyncio.to_thread(_read, _folder(request) / "index.m3u8")
    if data is None:
        raise web.HTTPNotFound(text="this sitting is not being broadcast", headers=PLAYLIST_HEADERS)
    return web.Response(body=data, content_type="application/vnd.apple.mpegurl", headers=PLAYLIST_HEADERS)


async def segment(request: web.Request) -> web.StreamResponse:
    name = request.match_info["segment"]
    folder = _folder(request)
    if not FILE.fullmatch(name):
        raise web.HTTPNotFound(text="no such segment")
    data = await asyncio.to_thread(_read, folder / name)
    if data is None:
        raise web.HTTPNotFound(text="no such segment (it may have rolled off the playlist)")
    return web.Response(body=data, content_type=TYPES[name[-4:]], headers=SEGMENT_HEADERS)


def setup_broadcast(app: web.Application) -> None:
    app.router.add_get("/broadcast/{meeting_id}/index.m3u8", playlist)
    app.router.add_get("/broadcast/{meeting_id}/{segment}", segment)
