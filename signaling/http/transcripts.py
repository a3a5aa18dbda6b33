"""The minutes' words over HTTP: a body's vocabulary (the clerk's), the speeches' texts of a sitting
in the archive (anyone who may read the sitting), a sentence's correction and finalising (the
clerk's, with the CSRF token), and the search by words spoken."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from aiohttp import web

from gikai.orchestrator.domain.accounts import AccountKind
from gikai.orchestrator.domain.errors import NotFound
from gikai.signaling.auth.sessions import current
from gikai.signaling.http.common import fail, json_body, ok, require, text_field
from gikai.signaling.http.state import TRANSCRIPTS

MAX_SENTENCE = 2000

Readable = Callable[[web.Request], Awaitable[str]]  # the sitting's id, if the request may read it


def _index(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    if not raw.isdigit() or len(raw) > 6:
        raise fail(400, "bad_request", f"{name} must be a whole number")
    return int(raw)


async def get_vocabulary(request: web.Request) -> web.Response:
    await require(request, clerk=True)
    try:
        terms = await request.app[TRANSCRIPTS].vocabulary(request.match_info["body_id"])
    except NotFound:
        raise fail(404, "not_found", "no such body") from None
    return ok({"terms": terms})


async def put_vocabulary(request: web.Request) -> web.Response:
    await require(request, clerk=True)
    data = await json_body(request)
    try:
        terms = await request.app[TRANSCRIPTS].set_vocabulary(request.match_info["body_id"], data.get("terms"))
    except NotFound:
        raise fail(404, "not_found", "no such body") from None
    return ok({"terms": terms})


async def speeches(readable: Readable, request: web.Request) -> web.Response:
    meeting_id = await readable(request)
    return ok(await request.app[TRANSCRIPTS].editor(meeting_id))


async def correct_sentence(readable: Readable, request: web.Request) -> web.Response:
    account, _ = await require(request, clerk=True)
    meeting_id = await readable(request)
    text = text_field(await json_body(request), "text", MAX_SENTENCE)
    try:
        speech = await request.app[TRANSCRIPTS].correct(meeting_id, _index(request, "speech"),
                                                        _index(request, "sentence"), text, account.id)
    except NotFound:
        raise fail(404, "not_found", "no such sentence") from None
    return ok({"speech_index": speech.speech_index,
               "sentences": [{"index": n, "start": a, "end": b, "text": t, "corrected": fixed}
                             for n, (a, b, t, fixed) in enumerate(speech.lines())]})


async def finalise(readable: Readable, request: web.Request) -> web.Response:
    account, _ = await require(request, clerk=True)
    meeting_id = await readable(request)
    try:
        digest = await request.app[TRANSCRIPTS].finalise(meeting_id, account.id)
    except NotFound:
        raise fail(404, "not_found", "no sitting held here by that id") from None
    return ok({"sha256": digest})


async def search(request: web.Request) -> web.Response:
    q, speaker = request.query.get("q", "")[:200], request.query.get("speaker", "")[:200]
    if not q.strip():
        raise fail(400, "bad_request", "q: the words to find")
    found = await request.app[TRANSCRIPTS].search(q, speaker)
    account = await current(request)
    if account is None or account[0].kind is not AccountKind.CLERK:
        found = [f for f in found if f["state"] == "adjourned"]
    return ok({"results": found})


def setup_transcripts(app: web.Application, readable: Readable) -> None:
    """Before the archive's ``/api/archive/{meeting_id}``: ``/api/archive/search`` is not a sitting.
    ``readable`` is the archive's check of who may read a sitting (archive.py)."""
    r = app.router
    r.add_get("/api/bodies/{body_id}/vocabulary", get_vocabulary)
    r.add_put("/api/bodies/{body_id}/vocabulary", put_vocabulary)
    r.add_get("/api/archive/search", search)
    r.add_get("/api/archive/{meeting_id}/speeches", partial(speeches, readable))
    r.add_put("/api/archive/{meeting_id}/speeches/{speech}/sentences/{sentence}", partial(correct_sentence, readable))
    r.add_post("/api/archive/{meeting_id}/minutes/finalise", partial(finalise, readable))
