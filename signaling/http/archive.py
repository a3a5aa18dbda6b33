"""The archive over HTTP: find sittings, read one (timeline, minutes, recordings), and the
publishable video job. Adjourned sittings are public, like a council's published record;
a sitting not yet adjourned is shown to the clerk only. Starting or cancelling a render
needs the clerk (with the CSRF token)."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web

from gikai.orchestrator.domain.accounts import AccountKind
from gikai.orchestrator.domain.chronicle import Chronicle
from gikai.orchestrator.domain.errors import NotFound
from gikai.orchestrator.service.archive import tracks_of
from gikai.signaling.auth.sessions import current
from gikai.signaling.http.common import fail, ok, require
from gikai.signaling.http.minutes_signing import setup_minutes_signing
from gikai.signaling.http.policy import document_csp
from gikai.signaling.http.routes import page
from gikai.signaling.http.state import ARCHIVE, DRAFT_JOBS, RENDER_JOBS
from gikai.signaling.http.transcripts import setup_transcripts
from gikai.signaling.http.votes import setup_votes

LANGS = ("ja", "en")


def _lang(request: web.Request) -> str:
    lang = request.query.get("lang", "ja")
    return lang if lang in LANGS else "ja"


async def _readable(request: web.Request) -> str:
    meeting_id = request.match_info["meeting_id"]
    try:
        facts, _ = await request.app[ARCHIVE].record(meeting_id)
    except NotFound:
        raise fail(404, "not_found", "no record of that sitting") from None
    if facts.get("state", "adjourned") != "adjourned":
        found = await current(request)
        if found is None or found[0].kind is not AccountKind.CLERK:
            raise fail(403, "not_adjourned")
    return meeting_id


def chronicle_view(c: Chronicle) -> dict[str, Any]:
    """What the archive page draws and seeks by: seconds from the opening."""
    def t(at: Any) -> float:
        return round(c.offset(at), 3)

    return {
        "id": c.meeting_id, "title": c.title, "body": c.body_name, "body_kind": c.body_kind, "place": c.place,
        "start": c.start.isoformat(), "duration": t(c.end), "chain_head": c.chain_head,
        "people": [{"id": p.id, "name": p.name, "role": p.role, "seat": p.seat} for p in c.people.values()],
        "items": [{"id": i.id, "title": i.title, "result": i.result,
                   "spans": [[t(s.start), t(s.end)] for s in i.spans]} for i in c.items],
        "speeches": [{"holder_id": s.holder_id, "name": c.person(s.holder_id).name, "kind": s.kind,
                      "start": t(s.start), "end": t(s.end), "agenda_item_id": s.agenda_item_id}
                     for s in c.speeches],
        "recesses": [[t(r.start), t(r.end)] for r in c.recesses],
        "ballots": [{"id": b.id, "motion": b.motion, "kind": b.kind, "outcome": b.outcome,
                     "yes": b.yes, "no": b.no, "abstain": b.abstain,
                     "at": t(b.closed_at or b.opened_at) if (b.closed_at or b.opened_at) else None}
                    for b in c.ballots],
        "tracks": [{"key": tr.key, "participant_id": tr.participant_id, "kind": tr.kind, "segments": tr.segments}
                   for tr in tracks_of(c)],
    }


async def list_sittings(request: web.Request) -> web.Response:
    q = request.query
    try:
        on = date.fromisoformat(q["date"]) if q.get("date") else None
    except ValueError:
        raise fail(400, "bad_request", "date must be YYYY-MM-DD") from None
    found = await request.app[ARCHIVE].sittings(q.get("q", "")[:200], q.get("body", "")[:200], on,
                                                q.get("speaker", "")[:200])
    account = await current(request)
    if account is None or account[0].kind is not AccountKind.CLERK:
        found = [f for f in found if f["state"] == "adjourned"]
    return ok({"sittings": found})


async def one_sitting(request: web.Request) -> web.Response:
    meeting_id = await _readable(request)
    c = await request.app[ARCHIVE].chronicle(meeting_id)
    return ok({"sitting": chronicle_view(c), "render": request.app[RENDER_JOBS].status(meeting_id)})


async def timeline(request: web.Request) -> web.Response:
    meeting_id = await _readable(request)
    svg = await request.app[ARCHIVE].timeline(meeting_id, _lang(request))
    return web.Response(text=svg, content_type="image/svg+xml")


async def minutes(request: web.Request) -> web.Response:
    meeting_id = await _readable(request)
    fmt = request.match_info["fmt"]
    try:
        body, content_type = await request.app[ARCHIVE].minutes(meeting_id, fmt, _lang(request))
    except NotFound:
        raise fail(404, "not_found", "minutes come as html, pdf or json") from None
    headers = {}
    if fmt == "html":  # a standalone document: its inline style sheet is allowed by its hash
        headers["Content-Security-Policy"] = document_csp(body.decode("utf-8"))
    if fmt == "pdf":
        headers["Content-Disposition"] = f'attachment; filename="minutes-{meeting_id}.pdf"'
    return web.Response(body=body, content_type=content_type.split(";")[0],
                        charset="utf-8" if "charset" in content_type else None,
                        headers=headers)


async def recording(request: web.Request) -> web.StreamResponse:
    meeting_id = await _readable(request)
    try:
        path = request.app[ARCHIVE].recording_file(meeting_id, request.match_info["path"])
    except NotFound:
        raise fail(404, "not_found", "no such recording") from None
    return web.FileResponse(path, headers={"Content-Type": "video/webm", "Cache-Control": "max-age=86400"})


async def record(request: web.Request) -> web.Response:
    """The sitting's signed record, as `gikai record export` writes it, for `gikai verify`."""
    meeting_id = await _readable(request)
    body = await request.app[ARCHIVE].signed_record(meeting_id)
    return web.json_response(body, headers={
        "Content-Disposition": f'attachment; filename="record-{meeting_id}.json"'})


async def render_status(request: web.Request) -> web.Response:
    meeting_id = await _readable(request)
    return ok({"render": request.app[RENDER_JOBS].status(meeting_id)})


async def render_start(request: web.Request) -> web.Response:
    await require(request, clerk=True)
    meeting_id = await _readable(request)
    return ok({"render": await request.app[RENDER_JOBS].start(meeting_id, _lang(request))})


async def render_cancel(request: web.Request) -> web.Response:
    await require(request, clerk=True)
    meeting_id = await _readable(request)
    return ok({"render": request.app[RENDER_JOBS].cancel(meeting_id)})


async def draft_status(request: web.Request) -> web.Response:
    meeting_id = await _readable(request)
    return ok({"draft": request.app[DRAFT_JOBS].status(meeting_id)})


async def draft_start(request: web.Request) -> web.Response:
    """The clerk asks for the draft again (after a restart, a new vocabulary, a failed job)."""
    await require(request, clerk=True)
    meeting_id = await _readable(request)
    return ok({"draft": request.app[DRAFT_JOBS].start(meeting_id)})


async def video(request: web.Request) -> web.StreamResponse:
    meeting_id = await _readable(request)
    path = request.app[RENDER_JOBS].output(meeting_id)
    if not path.is_file():
        raise fail(404, "not_found", "the video has not been made yet")
    return web.FileResponse(path, headers={"Content-Type": "video/mp4",
                                           "Content-Disposition": f'attachment; filename="sitting-{meeting_id}.mp4"'})


def setup_archive(app: web.Application) -> None:
    setup_transcripts(app, _readable)  # first: /api/archive/search is not a sitting's id
    setup_minutes_signing(app, _readable)
    r = app.router
    r.add_get("/archive", page("archive.html"))
    r.add_get("/archive/{meeting_id}", page("sitting-archive.html"))
    r.add_get("/api/archive", list_sittings)
    r.add_get("/api/archive/{meeting_id}", one_sitting)
    r.add_get("/api/archive/{meeting_id}/timeline.svg", timeline)
    r.add_get("/api/archive/{meeting_id}/minutes.{fmt}", minutes)
    setup_votes(app, _readable)  # /api/archive/{meeting_id}/votes.{csv,pdf}
    r.add_get("/api/archive/{meeting_id}/recordings/{path:.+}", recording)
    r.add_get("/api/archive/{meeting_id}/record.json", record)
    r.add_get("/api/archive/{meeting_id}/render", render_status)
    r.add_post("/api/archive/{meeting_id}/render", render_start)
    r.add_delete("/api/archive/{meeting_id}/render", render_cancel)
    r.add_get("/api/archive/{meeting_id}/video.mp4", video)
    r.add_get("/api/archive/{meeting_id}/draft", draft_status)
    r.add_post("/api/archive/{meeting_id}/draft", draft_start)

