"""Paperless documents over HTTP: the clerk uploads and removes PDFs; participants read them.

Who may read a sitting's documents: the clerk, a logged-in member who is a participant of that
sitting, or (rehearsals only, like the WebSocket's join) the holder of a participant's join
token, sent as ``?token=`` (so that ``<img src>`` and ``<iframe src>`` work) or ``X-Join-Token``.
Uploads and removals are the clerk's, with the session's CSRF token, like every admin change.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import BadHttpMessage

from gikai.media.pdf.sandbox import FORMATS, THUMBNAIL_WIDTH, DocumentRejected, clamp_width
from gikai.orchestrator.domain.accounts import AccountKind
from gikai.orchestrator.domain.errors import DomainError, NotFound
from gikai.orchestrator.service.documents import DocumentTooLarge, InvalidDocument, StoredDocument
from gikai.signaling import errors
from gikai.signaling.auth.sessions import current
from gikai.signaling.auth.tokens import MAX_TOKEN_CHARS
from gikai.signaling.http.common import fail, ok, require
from gikai.signaling.http.state import DIRECTORY, DOCUMENTS, TOKENS

logger = logging.getLogger(__name__)

CHUNK = 64 * 1024
MULTIPART_SLACK = 64 * 1024  # headers and the title around the file in a multipart body
DEFAULT_WIDTH = 800
MAX_TITLE_BYTES = 2000


def _domain(exc: DomainError, status: int = 400) -> web.HTTPException:
    if isinstance(exc, NotFound):
        status = 404
    elif isinstance(exc, DocumentTooLarge):
        status = 413
    return fail(status, exc.code, getattr(exc, "reason", exc.detail), errors.text_of(exc))


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _handler(fn: Handler) -> Handler:
    """Map this API's domain errors to their HTTP statuses (404, 413), the rest as the app does."""
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await fn(request)
        except (NotFound, DocumentTooLarge, InvalidDocument) as exc:
            raise _domain(exc) from None

    return wrapped


# -- who may read ----------------------------------------------------------------------------
async def _reader(request: web.Request, meeting_id: str) -> None:
    """Let the request through only for someone taking part in ``meeting_id`` (see the module doc)."""
    token = request.query.get("token") or request.headers.get("X-Join-Token")
    if token:
        participant_id = request.app[TOKENS].verify(token[:MAX_TOKEN_CHARS])
        try:
            seat = await request.app[DIRECTORY].seat(participant_id) if participant_id else None
        except NotFound:
            seat = None
        if seat is None or not seat.body.rehearsal:
            raise fail(403, "invalid_token")
        if seat.meeting.id != meeting_id:
            raise fail(403, "not_a_participant")
        return
    found = await current(request)
    if found is None:
        raise fail(401, "not_logged_in")
    account, _ = found
    if account.kind is AccountKind.CLERK:
        return
    try:
        await request.app[DIRECTORY].seat_for_account(meeting_id, account.member_id, clerk=False)
    except NotFound:
        raise fail(403, "not_a_participant") from None


async def _readable(request: web.Request) -> StoredDocument:
    doc = await request.app[DOCUMENTS].service.get(request.match_info["document_id"])
    await _reader(request, doc.meeting_id)
    return doc


async def _clerk_in(request: web.Request, meeting_id: str) -> str | None:
    """The clerk's participant id in the sitting (the actor on the record), if the sitting has one."""
    try:
        seat = await request.app[DIRECTORY].seat_for_account(meeting_id, None, clerk=True)
    except NotFound:
        return None
    return seat.participant.id


def _view(doc: StoredDocument) -> dict[str, Any]:
    return {"id": doc.id, "agenda_item_id": doc.agenda_item_id, "title": doc.title, "filename": doc.filename,
            "pages": doc.pages, "bytes": doc.size, "sha256": doc.sha256, "media_type": doc.media_type,
            "uploaded_at": doc.uploaded_at.isoformat(), "file": f"/api/documents/{doc.id}/file"}


# -- the clerk ---------------------------------------------------------------------------------
@_handler
async def upload(request: web.Request) -> web.Response:
    await require(request, clerk=True)
    meeting_id, item_id = request.match_info["meeting_id"], request.match_info["item_id"]
    docs = request.app[DOCUMENTS].service
    if request.content_length is not None and request.content_length > docs.max_bytes + MULTIPART_SLACK:
        raise DocumentTooLarge(f"{request.content_length} bytes, at most {docs.max_bytes}")
    if not request.content_type.startswith("multipart/form-data"):
        raise fail(400, "bad_request", "send multipart/form-data with a 'file' part")
    await docs.check_item(meeting_id, item_id)  # before reading megabytes for nothing
    title, path, filename = "", None, ""
    try:
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                raise fail(400, "bad_request", "nested multipart is not accepted")
            if part.name == "title":
                title = (await _read_small(part, MAX_TITLE_BYTES)).decode("utf-8", "replace")
            elif part.name == "file" and path is None:
                path, filename = docs.new_upload(), _filename(part)
                await _stream_to(part, path, docs.max_bytes)
            else:
                raise fail(400, "bad_request", f"unexpected part '{str(part.name)[:40]}'")
        if path is None:
            raise fail(400, "bad_request", "no 'file' part")
        if "\x00" in title or "\x00" in filename:  # no database's text holds it
            raise fail(400, "bad_request", "the title or the file name holds a NUL character")
        actor = await _clerk_in(request, meeting_id)
        doc = await docs.add(meeting_id, item_id, path, filename, title, actor)  # consumes the file
    except (ValueError, BadHttpMessage) as exc:  # a malformed multipart body, or a part's malformed header
        raise fail(400, "bad_request", str(exc)[:200]) from None
    finally:
        if path is not None:
            path.unlink(missing_ok=True)
    logger.info("document %s added to item %s: %d pages, %d bytes", doc.id, item_id, doc.pages, doc.size)
    return ok({"document": _view(doc)})


def _filename(part: BodyPartReader) -> str:
    """Browsers send the name as UTF-8; aiohttp's own client percent-encodes it: accept both."""
    name = part.filename or ""
    if name.isascii() and "%" in name:
        try:
            decoded = unquote(name, errors="strict")
        except UnicodeDecodeError:
            return name
        if not decoded.isascii():
            return decoded
    return name


async def _stream_to(part: BodyPartReader, path: Path, limit: int) -> None:
    """Write the part to ``path`` as it arrives, refusing as soon as it passes ``limit`` bytes."""
    written = 0
    f = await asyncio.to_thread(path.open, "wb")  # the disk in a thread: a slow disk holds no socket up
    try:
        while chunk := await part.read_chunk(CHUNK):
            written += len(chunk)
            if written > limit:
                raise DocumentTooLarge(f"more than {limit} bytes")
            await asyncio.to_thread(f.write, chunk)
    finally:
        await asyncio.to_thread(f.close)


async def _read_small(part: BodyPartReader, limit: int) -> bytes:
    data = b""
    while chunk := await part.read_chunk(CHUNK):
        data += chunk
        if len(data) > limit:
            raise fail(400, "bad_request", "title too long")
    return data


@_handler
async def remove(request: web.Request) -> web.Response:
    await require(request, clerk=True)
    edge = request.app[DOCUMENTS]
    doc = await edge.service.get(request.match_info["document_id"])
    doc, file_deleted = await edge.service.remove(doc.id, await _clerk_in(request, doc.meeting_id))
    if file_deleted:
        edge.renderer.forget(doc.sha256)
    return ok({"removed": doc.id})


# -- participants ---------------------------------------------------------------------------------
@_handler
async def list_documents(request: web.Request) -> web.Response:
    meeting_id = request.match_info["meeting_id"]
    await _reader(request, meeting_id)
    item_id = request.query.get("item") or None
    docs = await request.app[DOCUMENTS].service.in_meeting(meeting_id, item_id)
    return ok({"documents": [_view(d) for d in docs]})


@_handler
async def describe(request: web.Request) -> web.Response:
    doc = await _readable(request)
    sizes = await request.app[DOCUMENTS].service.page_sizes(doc.id)
    return ok({"document": {**_view(doc), "page_sizes": [[w, h] for w, h in sizes]}})


@_handler
async def search(request: web.Request) -> web.Response:
    meeting_id = request.match_info["meeting_id"]
    await _reader(request, meeting_id)
    q = request.query.get("q", "")
    if not q.strip() or len(q) > 100:
        raise fail(400, "bad_request", "q must be 1 to 100 characters")
    hits = await request.app[DOCUMENTS].service.search(meeting_id, q)
    return ok({"results": [{"document_id": h.document_id, "agenda_item_id": h.agenda_item_id, "title": h.title,
                             "page": h.page, "snippet": h.snippet, "matches": h.matches} for h in hits]})


@_handler
async def file(request: web.Request) -> web.StreamResponse:
    doc = await _readable(request)
    path = request.app[DOCUMENTS].service.path_of(doc.sha256)
    if not path.exists():
        raise NotFound(f"file of document {doc.id}")
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in doc.filename)
    return web.FileResponse(path, headers={
        "Content-Type": "application/pdf",
        "Content-Disposition": f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(doc.filename)}",
        "Cache-Control": "private, max-age=3600",
        "X-Content-Type-Options": "nosniff",
    })


async def _image(request: web.Request, width: int) -> web.Response:
    doc = await _readable(request)
    try:
        page = int(request.match_info["page"])
    except ValueError:
        raise fail(400, "bad_request", "the page is a number from 1") from None
    if not 1 <= page <= doc.pages:
        raise NotFound(f"page {page} of {doc.pages}")
    fmt = request.query.get("format", "png")
    if fmt not in FORMATS:
        raise fail(400, "bad_request", f"format must be one of {', '.join(sorted(FORMATS))}")
    etag = f'"{doc.sha256[:32]}-{page}-{width}-{fmt}"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=86400, immutable", "X-Content-Type-Options": "nosniff"}
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        return web.Response(status=304, headers=headers)
    edge = request.app[DOCUMENTS]
    path = edge.service.path_of(doc.sha256)
    if not path.exists():
        raise NotFound(f"file of document {doc.id}")
    try:
        image = await edge.renderer.render_page(path, page, width, fmt, doc.sha256)
    except DocumentRejected as exc:
        raise fail(422, "invalid_document", exc.reason, errors.text_of(InvalidDocument(exc.reason))) from None
    return web.Response(body=image, content_type=FORMATS[fmt], headers=headers)


@_handler
async def page_image(request: web.Request) -> web.Response:
    try:
        width = clamp_width(int(request.query.get("width", DEFAULT_WIDTH)))
    except ValueError:
        raise fail(400, "bad_request", "width is a number of pixels") from None
    return await _image(request, width)


@_handler
async def thumbnail(request: web.Request) -> web.Response:
    return await _image(request, THUMBNAIL_WIDTH)


# -- routes ---------------------------------------------------------------------------------------
def setup_documents_api(app: web.Application) -> None:
    """The documents' routes (their service and renderer are made by signaling/app.py)."""
    r = app.router
    r.add_post("/api/admin/meetings/{meeting_id}/items/{item_id}/documents", upload)
    r.add_delete("/api/admin/documents/{document_id}", remove)
    r.add_get("/api/meetings/{meeting_id}/documents", list_documents)
    r.add_get("/api/meetings/{meeting_id}/documents/search", search)
    r.add_get("/api/documents/{document_id}", describe)
    r.add_get("/api/documents/{document_id}/file", file)
    r.add_get("/api/documents/{document_id}/pages/{page}", page_image)
    r.add_get("/api/documents/{document_id}/thumbnails/{page}", thumbnail)
