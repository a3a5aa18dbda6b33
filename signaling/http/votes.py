"""議員別賛否 over HTTP: ``/api/archive/{meeting_id}/votes.csv`` and ``votes.pdf``, the whole sitting
or one ballot (``?ballot=``). Read by whoever may read the sitting's archive (archive.py's
``readable``): anyone once adjourned, the clerk while live, when only published results show."""

from __future__ import annotations

import re
from urllib.parse import quote

from aiohttp import web

from gikai.orchestrator.domain.errors import InvalidArgument, NotFound
from gikai.orchestrator.reports.votes import ENCODINGS, VoteTable
from gikai.signaling.http.common import fail
from gikai.signaling.http.state import ARCHIVE
from gikai.signaling.http.transcripts import Readable

BALLOT_ID = re.compile(r"[0-9a-f]{32}")
_NOT_IN_A_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def attachment(ascii_name: str, name: str) -> str:
    """A Content-Disposition: an ASCII name for old clients, the real one in RFC 5987's UTF-8 form."""
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def _names(table: VoteTable, ballot_id: str | None, ext: str) -> tuple[str, str]:
    one = f"-{ballot_id[:8]}" if ballot_id else ""
    title = _NOT_IN_A_NAME.sub("_", f"議員別賛否_{table.date}_{table.body_name}_{table.title}").strip("_ .")
    return f"votes-{table.meeting_id}{one}.{ext}", f"{title[:120]}{one}.{ext}"


async def votes(readable: Readable, request: web.Request) -> web.Response:
    meeting_id = await readable(request)
    fmt = request.match_info["fmt"]
    q = request.query
    ballot_id = q.get("ballot") or None
    if ballot_id is not None and not BALLOT_ID.fullmatch(ballot_id):
        raise fail(404, "not_found", "no such ballot")
    encoding = q.get("encoding", "utf-8").lower().replace("-", "_").replace("utf_8", "utf-8")
    if fmt not in ("csv", "pdf"):
        raise fail(404, "not_found", "votes come as csv or pdf")
    if fmt == "csv" and encoding not in ENCODINGS:
        raise fail(400, "bad_request", "encoding is utf-8 or shift_jis")
    lang = q.get("lang", "ja") if q.get("lang") in ("ja", "en") else "ja"
    try:
        body, table = await request.app[ARCHIVE].votes(meeting_id, fmt, ballot_id, encoding, lang)
    except NotFound:
        raise fail(404, "not_found", "no such ballot, or its result is not published yet") from None
    except InvalidArgument as exc:
        raise fail(400, "bad_request", exc.detail) from None
    ascii_name, name = _names(table, ballot_id, fmt)
    headers = {"Content-Disposition": attachment(ascii_name, name), "Cache-Control": "no-store"}
    if fmt == "pdf":
        return web.Response(body=body, content_type="application/pdf", headers=headers)
    charset = "utf-8" if encoding == "utf-8" else "Shift_JIS"
    return web.Response(body=body, headers={**headers, "Content-Type": f"text/csv; charset={charset}"})


def setup_votes(app: web.Application, readable: Readable) -> None:
    async def handler(request: web.Request) -> web.Response:
        return await votes(readable, request)

    app.router.add_get("/api/archive/{meeting_id}/votes.{fmt}", handler)
