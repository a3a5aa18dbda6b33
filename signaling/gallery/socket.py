"""The public gallery (傍聴席): anyone may watch a sitting live at /gallery/<meeting id>.

A viewer is not an attendee. Viewers are kept here, never in the hub, so they appear in no
roster, count for nothing and are told nothing but the gallery view. A viewer's socket
(``/gallery/ws``) accepts ``watch``, ``answer`` and ``ping`` only; anything else is refused
with ``not_allowed`` and logged. A viewer's media peer only sends (media.peer.Viewer): the
floor holder's camera, or the presiding chair's while nobody holds the floor, and the
microphones the sitting's rules let be heard. Both only while the sitting is open: before
it opens, in recess and after adjournment members may talk freely, off the record, so the
gallery shows a notice and carries no media.

The view is one JSON text per sitting, built once per change and sent as it is to every
viewer; a viewer that reads slowly skips to the newest view and never holds anyone up.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from gikai.media import SFU, MediaError, Offer, Peer, UpTrack
from gikai.media.sfu.viewer import Viewer
from gikai.orchestrator.domain.errors import NotFound
from gikai.orchestrator.domain.model import MeetingState
from gikai.orchestrator.domain.sitting import Sitting
from gikai.orchestrator.domain.voting import Ballot, BallotKind, BallotState
from gikai.orchestrator.service.ballots import BallotService
from gikai.orchestrator.service.sittings import SittingService
from gikai.signaling.ws import protocol

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024  # an answer's SDP with a few m-lines is a few KiB
WS_MAX_FRAME = 128 * 1024
RATE_PER_SECOND = 10
SEND_TIMEOUT = 10.0
CLOSE_MEDIA_ENDED = 4002
CLOSE_FULL = 4004
SHUTDOWN = 1001
MESSAGES: dict[str, tuple[str, str]] = {
    "not_allowed": ("傍聴席からは、この操作はできません。", "The gallery can only watch and listen."),
    "gallery_full": ("満席です。しばらくしてから、もう一度お越しください。",
                     "The gallery is full. Please try again a little later."),
    "not_watching": ("まだ傍聴を始めていません。", "Start watching first."),
    "already_watching": ("すでに傍聴しています。", "Already watching."),
}

Spawn = Callable[[Coroutine[Any, Any, None]], "asyncio.Task[None]"]


def _error(code: str, rid: protocol.RequestId = None, detail: str = "") -> dict[str, Any]:
    return protocol.error(code, rid, detail, MESSAGES.get(code))


class GalleryRefusal(Exception):
    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code
        self.detail = detail


# -- what the gallery shows ------------------------------------------------------------
def _person(sitting: Sitting, participant_id: str | None) -> dict[str, Any] | None:
    p = sitting.participants.get(participant_id) if participant_id else None
    return {"name": p.name, "role": p.role.value} if p else None


def stage_view(sitting: Sitting) -> dict[str, Any]:
    """The public part of a sitting: no roster, queue, presence, attendance or timers."""
    speaker = _person(sitting, sitting.floor.holder_id) if sitting.floor else None
    if speaker is not None and sitting.floor is not None:
        speaker["kind"] = sitting.floor.kind.value
    return {
        "meeting_id": sitting.meeting.id,
        "title": sitting.meeting.title,
        "body": sitting.body.name,
        "plenary": sitting.plenary,
        "state": sitting.meeting.state.value,
        "agenda": [{"id": i.id, "position": i.position, "title": i.title, "state": i.state.value,
                    "result": i.result} for i in sitting.agenda.items],
        "current_item_id": sitting.agenda.current.id if sitting.agenda.current else None,
        "speaker": speaker,
        "chair": _person(sitting, sitting.acting_chair_id()),
    }


def result_view(sitting: Sitting, ballot: Ballot) -> dict[str, Any]:
    """A published ballot's result; a named ballot's votes by member name, in seat order."""
    assert ballot.state is BallotState.PUBLISHED, "only published results reach the gallery"
    t = ballot.tally()
    votes = None
    if ballot.kind is BallotKind.NAMED:
        people = [(sitting.participants.get(pid), choice.value) for pid, choice in ballot.named.items()]
        votes = [{"name": p.name, "choice": c} for p, c in
                 sorted(((p, c) for p, c in people if p is not None), key=lambda pc: (pc[0].seat or 0, pc[0].name))]
    return {"id": ballot.id, "motion": ballot.motion, "kind": ballot.kind.value, "majority": ballot.majority.value,
            "agenda_item_id": ballot.agenda_item_id, "outcome": t.outcome.value, "yes": t.yes, "no": t.no,
            "abstain": t.abstain, "decided_by_chair": t.decided_by_chair, "votes": votes}


@dataclass
class Stage:
    """One sitting's gallery: its viewers and what they are shown."""

    meeting_id: str
    base: dict[str, Any]
    speaker_id: str | None
    chair_id: str | None
    audible: set[str]
    result: dict[str, Any] | None = None
    on_screen: str | None = None  # "speaker" or "chair": whose camera the video is; "screen": a shared screen
    screen_of: str | None = None  # with a shared screen: "speaker" or "chair", whose it is
    viewers: set[GalleryViewer] = field(default_factory=set)
    text: str = ""

    @property
    def open(self) -> bool:
        return self.base["state"] == MeetingState.OPEN.value

    def take(self, sitting: Sitting) -> None:
        self.base = stage_view(sitting)
        self.speaker_id = sitting.floor.holder_id if sitting.floor else None
        self.chair_id = sitting.acting_chair_id()
        self.audible = set(sitting.audible())

    def view(self) -> dict[str, Any]:
        return {**self.base, "on_screen": self.on_screen, "screen_of": self.screen_of, "result": self.result}


# -- the registry ------------------------------------------------------------------------
class Gallery:
    def __init__(self, sfu: SFU, sittings: SittingService, ballots: BallotService, max_viewers: int,
                 spawn: Spawn) -> None:
        self.sfu = sfu
        self.sittings = sittings
        self.ballots = ballots
        self.max_viewers = max_viewers
        self.stages: dict[str, Stage] = {}
        self._seats: set[GalleryViewer] = set()  # watching or about to: what the cap counts
        self._sockets: set[GalleryViewer] = set()
        self._published: dict[str, dict[str, Any]] = {}
        self._spawn = spawn
        sfu.peer_listeners.append(self._peers_changed)

    @property
    def viewers(self) -> int:
        return len(self._seats)

    async def watch(self, viewer: GalleryViewer, meeting_id: str) -> dict[str, Any]:
        if len(self._seats) >= self.max_viewers:
            raise GalleryRefusal("gallery_full", f"{self.max_viewers} viewers")
        self._seats.add(viewer)  # before any await: the cap holds under concurrent watches
        try:
            stage = await self._stage(meeting_id)
        except NotFound:
            self._seats.discard(viewer)
            raise GalleryRefusal("not_found", "no such meeting") from None
        except BaseException:
            self._seats.discard(viewer)
            raise
        if viewer.closed:
            self._seats.discard(viewer)
            raise GalleryRefusal("not_watching", "the socket closed")
        viewer.stage = stage
        viewer.peer = self.sfu.viewer(viewer.id, viewer.send_offer, on_failed=viewer.media_failed)
        stage.viewers.add(viewer)
        self._show(stage, [viewer])
        return stage.view()

    async def _stage(self, meeting_id: str) -> Stage:
        stage = self.stages.get(meeting_id)
        if stage is not None:
            return stage
        latest = await self.ballots.latest(meeting_id)
        # The last await before the stage exists: every later change reaches it by the hooks.
        sitting = await self.sittings.get(meeting_id)
        if latest is not None and latest.state is BallotState.PUBLISHED:
            self._published[meeting_id] = result_view(sitting, latest)
        stage = self.stages.get(meeting_id)  # another viewer may have made it meanwhile
        if stage is None:
            stage = Stage(meeting_id, {}, None, None, set(), self._published.get(meeting_id))
            stage.take(sitting)
            self.stages[meeting_id] = stage
            self._rebind(stage, post=False)
            stage.text = _push_text(stage)
        return stage

    async def leave(self, viewer: GalleryViewer) -> None:
        self._seats.discard(viewer)
        stage, peer = viewer.stage, viewer.peer
        viewer.stage = viewer.peer = None
        if stage is not None:
            stage.viewers.discard(viewer)
            if not stage.viewers and self.stages.get(stage.meeting_id) is stage:
                del self.stages[stage.meeting_id]
        if peer is not None:
            await peer.close()

    # -- hooks: called by the bridges after every committed change ------------------------
    def sitting_changed(self, sitting: Sitting) -> None:
        stage = self.stages.get(sitting.meeting.id)
        if stage is not None:
            stage.take(sitting)
            self._rebind(stage)

    def ballot_changed(self, sitting: Sitting, ballot: Ballot) -> None:
        if ballot.state is not BallotState.PUBLISHED:
            return  # an open or closed ballot's tally is not public
        result = self._published[sitting.meeting.id] = result_view(sitting, ballot)
        stage = self.stages.get(sitting.meeting.id)
        if stage is not None:
            stage.result = result
            self._post(stage)

    def set_audible(self, meeting_id: str, participant_ids: set[str]) -> None:
        """The SFU's forwarding changed. A microphone that may no longer be heard is cut at once;
        one that may now be heard waits for ``sitting_changed``, which always follows with the
        sitting's state (before opening or in recess the SFU forwards everyone to the members,
        but the gallery carries nothing)."""
        stage = self.stages.get(meeting_id)
        if stage is not None and not stage.audible <= participant_ids:
            stage.audible &= participant_ids
            self._rebind(stage)

    def _peers_changed(self, room_id: str) -> None:
        stage = self.stages.get(room_id)
        if stage is not None:
            self._rebind(stage)

    # -- media and pushes -----------------------------------------------------------------
    def _sources(self, stage: Stage) -> tuple[str | None, list[UpTrack], list[UpTrack]]:
        room = self.sfu.rooms.get(stage.meeting_id)
        if room is None or not stage.open:
            return None, [], []
        video: list[UpTrack] = []
        on_screen = None
        # A shared screen takes the stage, as it does on the members' screens.
        for who, pid in (("screen", room.screen), ("speaker", stage.speaker_id), ("chair", stage.chair_id)):
            peer = room.peers.get(pid) if pid else None
            slot = "screen" if who == "screen" else "video"
            if peer is not None and slot in peer.ups:
                on_screen, video = who, [peer.ups[slot]]
                break
        audio = [room.peers[pid].ups["audio"] for pid in sorted(stage.audible)
                 if pid in room.peers and "audio" in room.peers[pid].ups]
        return on_screen, video, audio

    def _show(self, stage: Stage, viewers: Any) -> None:
        _, video, audio = self._sources(stage)
        for viewer in viewers:
            if viewer.peer is not None:
                viewer.peer.show("video", video)
                viewer.peer.show("audio", audio)

    def _rebind(self, stage: Stage, post: bool = True) -> None:
        stage.on_screen = self._sources(stage)[0]
        room = self.sfu.rooms.get(stage.meeting_id)
        sharer = room.screen if room is not None and stage.on_screen == "screen" else None
        stage.screen_of = None if sharer is None else "speaker" if sharer == stage.speaker_id else "chair"
        self._show(stage, stage.viewers)
        if post:
            self._post(stage)

    def _post(self, stage: Stage) -> None:
        text = _push_text(stage)
        if text == stage.text:
            return  # attendance, presence, the queue: nothing the gallery shows
        stage.text = text
        for viewer in stage.viewers:
            viewer.post(text)

    async def close(self) -> None:
        sockets, self._sockets = list(self._sockets), set()
        await asyncio.gather(*(v.close(SHUTDOWN, "server stopping") for v in sockets), return_exceptions=True)
        await asyncio.gather(*(self.leave(v) for v in sockets), return_exceptions=True)


def _push_text(stage: Stage) -> str:
    return json.dumps({"type": "gallery", "view": stage.view()}, ensure_ascii=False, separators=(",", ":"))


# -- one viewer's socket -------------------------------------------------------------------
class _RateLimit:
    def __init__(self, rate: int) -> None:
        self.rate, self.tokens, self.stamp = rate, float(rate), time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class GalleryViewer:
    def __init__(self, ws: web.WebSocketResponse, gallery: Gallery, remote: str = "") -> None:
        self.id = "gallery-" + secrets.token_hex(6)
        self.ws = ws
        self.gallery = gallery
        self.remote = remote
        self.stage: Stage | None = None
        self.peer: Viewer | None = None
        self.refused = 0
        self._lock = asyncio.Lock()
        self._rate = _RateLimit(RATE_PER_SECOND)
        self._view: str | None = None
        self._writer: asyncio.Task[None] | None = None

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

    def media_failed(self, peer: Peer) -> None:
        async def end() -> None:
            await _quietly(self.send(_error("peer_closed")))
            await _quietly(self.close(CLOSE_MEDIA_ENDED, "media ended"))

        self.gallery._spawn(end())

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if not self.ws.closed:
            await self.ws.close(code=code, message=reason.encode()[:120])

    async def run(self) -> None:
        async for msg in self.ws:
            if msg.type == WSMsgType.TEXT:
                await self.handle(msg.data)
            elif msg.type == WSMsgType.BINARY:
                await self.send(_error("bad_json", None, "binary frames are not used"))
            elif msg.type == WSMsgType.ERROR:
                break

    async def handle(self, text: str) -> None:
        if not self._rate.allow():
            await self.send(_error("rate_limited"))
            return
        rid: protocol.RequestId = None
        try:
            rid, kind, msg = _parse(text)
            data = await self.dispatch(rid, kind, msg)
            await self.send(protocol.reply(rid, data))
        except protocol.ProtocolError as exc:
            await self.send(_error(exc.code, exc.request_id if rid is None else rid, exc.detail))
        except GalleryRefusal as exc:
            await self.send(_error(exc.code, rid, exc.detail))
            if exc.code == "gallery_full":
                await self.close(CLOSE_FULL, "gallery full")
        except MediaError as exc:
            await self.send(_error(exc.code, rid, str(exc)))
        except Exception:
            logger.exception("gallery request failed")
            await self.send(_error("internal", rid))

    async def dispatch(self, rid: protocol.RequestId, kind: str, msg: dict[str, Any]) -> dict[str, Any]:
        if kind == "ping":
            return {"now": int(time.time() * 1000)}
        if kind == "watch":
            meeting_id = _text(msg, "meeting_id", rid, protocol.MAX_ID_CHARS)
            if self.stage is not None:
                raise GalleryRefusal("already_watching")
            return {"view": await self.gallery.watch(self, meeting_id)}
        if kind == "answer":
            sdp = _text(msg, "sdp", rid, protocol.MAX_SDP_CHARS)
            revision = msg.get("revision")
            if not isinstance(revision, int) or isinstance(revision, bool) or not 0 <= revision < 2**53:
                raise protocol.ProtocolError("bad_message", "field 'revision' must be int", rid)
            if self.peer is None:
                raise GalleryRefusal("not_watching")
            await self.peer.accept_answer(sdp, revision)
            return {}
        self.refused += 1
        logger.warning("gallery viewer %s (%s) sent '%s': not allowed", self.id, self.remote, kind[:40])
        raise GalleryRefusal("not_allowed", "the gallery only watches")


def _parse(text: str) -> tuple[protocol.RequestId, str, dict[str, Any]]:
    if len(text) > MAX_MESSAGE_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_MESSAGE_BYTES:
        raise protocol.ProtocolError("too_large", f"over {MAX_MESSAGE_BYTES} bytes")
    try:
        msg = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise protocol.ProtocolError("bad_json", str(exc)[:200]) from None
    if not isinstance(msg, dict):
        raise protocol.ProtocolError("bad_json", "not an object")
    rid = msg.get("id")
    if isinstance(rid, bool) or not (rid is None or (isinstance(rid, int) and 0 <= rid < 2**53)
                                     or (isinstance(rid, str) and len(rid) <= protocol.MAX_ID_CHARS)):
        raise protocol.ProtocolError("bad_message", "field 'id' must be an integer or a short string")
    if msg.get("v") != protocol.VERSION:
        raise protocol.ProtocolError("bad_version", f"expected v={protocol.VERSION}", rid)
    kind = msg.get("type")
    if not isinstance(kind, str):
        raise protocol.ProtocolError("bad_message", "field 'type' must be str", rid)
    return rid, kind, msg


def _text(msg: dict[str, Any], name: str, rid: protocol.RequestId, max_len: int) -> str:
    value = msg.get(name)
    if not isinstance(value, str) or len(value) > max_len:
        raise protocol.ProtocolError("bad_message", f"field '{name}' must be a string of at most {max_len}", rid)
    return value


async def _quietly(awaitable: Any) -> None:
    try:
        await awaitable
    except Exception:
        logger.debug("ignored", exc_info=True)


# -- HTTP ------------------------------------------------------------------------------------
async def gallery_socket(request: web.Request) -> web.WebSocketResponse:
    from gikai.signaling.services import Services

    services = request.app[Services.KEY]
    gallery = services.gallery
    origin = request.headers.get("Origin")
    if origin is not None and not services.origin_allowed(origin, request):
        raise web.HTTPForbidden(text="origin not allowed")
    if gallery is None:
        raise web.HTTPServiceUnavailable(text="the gallery is not running")
    ws = web.WebSocketResponse(max_msg_size=WS_MAX_FRAME, heartbeat=20.0)
    await ws.prepare(request)
    viewer = GalleryViewer(ws, gallery, request.remote or "")
    gallery._sockets.add(viewer)
    try:
        await viewer.run()
    finally:
        gallery._sockets.discard(viewer)
        # aiohttp may cancel this handler when the viewer goes: leave regardless.
        await asyncio.shield(services.spawn(gallery.leave(viewer)))
        if not ws.closed:
            await ws.close()
    return ws


def setup_gallery(app: web.Application) -> None:
    """The viewers' socket. (The page, /gallery/<meeting id>, is a route in routes.py.)"""
    app.router.add_get("/gallery/ws", gallery_socket)
