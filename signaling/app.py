"""The composition root: the only place that builds the server's objects and wires them together.

``create_app`` registers the routes; when the server starts, :func:`_build` makes every object in
dependency order, each with the collaborators it needs, and puts under a typed key what the
handlers look up. :func:`_subscribe` is the one place where reactions to committed changes are
registered: who hears of a sitting change, a ballot change, a change of who may be heard, and of a
peer that came or went, in that order.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from gikai.media import SFU, use_media_ports
from gikai.media.pdf.sandbox import DocumentRenderer
from gikai.media.sfu.ice import set_host_addresses, split_media_addresses
from gikai.orchestrator.domain.events import Entry
from gikai.orchestrator.domain.sitting import Event, Sitting
from gikai.orchestrator.domain.throttle import Guesses
from gikai.orchestrator.persistence.database import Database, sqlite_url
from gikai.orchestrator.service.accounts import AccountService
from gikai.orchestrator.service.admin import AdminService
from gikai.orchestrator.service.archive import ArchiveService
from gikai.orchestrator.service.ballots import BallotService
from gikai.orchestrator.service.directory import Directory
from gikai.orchestrator.service.documents import DocumentService
from gikai.orchestrator.service.minutes_signing import MinutesSigning
from gikai.orchestrator.service.presenting import PresentingService
from gikai.orchestrator.service.signing import Signer
from gikai.orchestrator.service.sittings import SittingService
from gikai.orchestrator.service.transcripts import TranscriptService
from gikai.signaling import wire
from gikai.signaling.adapters.bridges import SfuMediaControl, Subscribers
from gikai.signaling.adapters.captions import CaptionsBridge
from gikai.signaling.adapters.draft_jobs import DraftJobs
from gikai.signaling.adapters.drafter import RecordedSpeechDrafter
from gikai.signaling.adapters.pdf_inspector import SandboxInspector
from gikai.signaling.adapters.presence import PresenceBridge
from gikai.signaling.adapters.recordings import Recordings
from gikai.signaling.adapters.render_jobs import RenderJobs
from gikai.signaling.auth.passkeys import Ceremonies
from gikai.signaling.auth.sessions import ACCOUNTS
from gikai.signaling.auth.tokens import JoinTokens, load_or_create_secret
from gikai.signaling.config import CONFIG, ServerConfig
from gikai.signaling.gallery.broadcast import Broadcasts
from gikai.signaling.gallery.endpoint import GALLERY_SOCKETS, GallerySockets, setup_gallery
from gikai.signaling.gallery.seats import Gallery
from gikai.signaling.http import state
from gikai.signaling.http.api import domain_errors, setup_api
from gikai.signaling.http.archive import setup_archive
from gikai.signaling.http.broadcast import setup_broadcast
from gikai.signaling.http.captions import CAPTIONS, setup_captions
from gikai.signaling.http.common import storable_addresses
from gikai.signaling.http.documents import setup_documents_api
from gikai.signaling.http.routes import setup_routes
from gikai.signaling.ops.datafolder import prepare_data_folder, tighten_secrets
from gikai.signaling.ops.headers import security_headers
from gikai.signaling.ops.health import HEALTH_DATABASE, LOOP_LAG, LoopLag, healthz
from gikai.signaling.ops.metrics import METRICS, Metrics, Sources, count_http_errors, metrics
from gikai.signaling.ops.proxy import forwarded_headers
from gikai.signaling.tasks import Spawn, Tasks
from gikai.signaling.ws.connection import CLOSE_MEDIA_ENDED, Seats
from gikai.signaling.ws.endpoint import MEMBER_SOCKETS, MemberSockets, setup_member_socket
from gikai.signaling.ws.hub import Hub
from gikai.signaling.ws.media import MemberMedia
from gikai.signaling.ws.pushes import MemberPushes

logger = logging.getLogger(__name__)

TASKS = web.AppKey("tasks", Tasks)
BROADCASTS = web.AppKey("broadcasts", Broadcasts)  # tests and the benchmark look at the encoders
# Whisper's beam: greedy for live captions (bench/asr_cost.py, base model, 2 threads: p95 2.6 s
# instead of 3.7 s after the end of an utterance, CER 0.095 instead of 0.074 with the vocabulary);
# five beams for the 会議録 draft, which nobody waits for.
LIVE_BEAM, DRAFT_BEAM = 1, 5


# The database itself is handed to no handler: services work through units of work. Tests and the
# benchmark look at it.
DATABASE = web.AppKey("database", Database)

def create_app(config: ServerConfig) -> web.Application:
    # Outermost first: the forwarded view of the request (trusted proxies only) before anything
    # reads its address or scheme; security headers on every response, refusals included.
    app = web.Application(client_max_size=1024 * 1024, middlewares=[
        forwarded_headers, security_headers, count_http_errors, storable_addresses, domain_errors])
    app[CONFIG] = config
    app[wire.ERRORS] = wire.ErrorTally()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.cleanup_ctx.append(_server)
    app.on_shutdown.append(_close_sockets)
    setup_gallery(app)  # before setup_routes: /gallery/ws, then the page at /gallery/{meeting_id}
    setup_routes(app)
    setup_member_socket(app)
    setup_api(app)
    setup_documents_api(app)
    setup_archive(app)
    setup_captions(app)
    setup_broadcast(app)
    return app


async def _server(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    prepare_data_folder(config.data_dir, sqlite=config.database_url is None)
    bind, announce = split_media_addresses(config.media_addresses) if config.media_addresses else (None, [])
    set_host_addresses(bind)
    use_media_ports(config.media_ports, announce)
    tasks = app[TASKS] = Tasks()
    db = app[DATABASE] = app[HEALTH_DATABASE] = Database(config.database_url or sqlite_url(config.data_dir))
    await db.migrate()
    loop_lag = app[LOOP_LAG] = LoopLag()
    loop_lag.start()
    owned = _build(app, config, db, tasks)
    tighten_secrets(config.data_dir)
    sittings = app[state.SITTINGS]
    await _recover_recordings(owned.recordings, sittings)
    recovered = await sittings.recover_after_restart()
    if recovered:
        logger.info("closed %d attendance intervals left open by the previous run", recovered)
    ended = await sittings.end_presenting_after_restart()
    if ended:
        logger.info("ended %d presentations and screen shares left going by the previous run", ended)
    try:
        yield
    finally:
        await owned.renderer.close()
        await _close_sockets(app)
        await owned.captions.close()
        await owned.drafts.close()
        if owned.draft_engine is not None:
            await owned.draft_engine.close()
        await owned.recordings.close()
        await owned.render_jobs.close()
        await owned.broadcasts.close()
        await tasks.drain()  # the last segments' record entries
        if owned.presence is not None:
            await owned.presence.close()
        await owned.sfu.close()
        app[ACCOUNTS].close()
        await loop_lag.stop()
        await db.close()
        if config.media_ports or announce:
            use_media_ports(None)


@dataclass(frozen=True)
class _Owned:
    """What the server closes when it stops, besides the sockets and the database."""

    sfu: SFU
    recordings: Recordings
    render_jobs: RenderJobs
    renderer: DocumentRenderer
    presence: PresenceBridge | None
    captions: CaptionsBridge
    drafts: DraftJobs
    broadcasts: Broadcasts
    draft_engine: Any  # SpeechEngine | None (the optional speech extra)


def _build(app: web.Application, config: ServerConfig, db: Database, tasks: Tasks) -> _Owned:
    """Every object of the server, each made after what it needs. One cycle is real: the sitting
    service switches recording on and off, and the recorder reports its segments back to the
    sitting's record; the recorder's report is therefore a closure over the service made after it."""
    data = config.data_dir
    hub = Hub()
    subscribers = Subscribers()
    sfu = SFU(on_peer_failed=lambda room_id, peer_id: _peer_failed(hub, tasks, room_id, peer_id))
    recordings = Recordings(sfu, data / "recordings",
                            lambda meeting_id, name, report: _recorded(sittings, tasks, meeting_id, name, report),
                            config.recording_segment_seconds, config.recording_min_free_bytes)
    media_control = SfuMediaControl(sfu, recordings, hub.expel, subscribers.audible_changed)
    signer = Signer.load_or_create(data)
    units = db.unit_of_work
    sittings = SittingService(units, media_control, subscribers, presence_by_camera=config.presence_detection,
                              signer=signer)
    ballots = BallotService(units, sittings, signer=signer, notifier=subscribers, clock=sittings.clock)
    accounts = AccountService(units)
    archive = ArchiveService(units, signer, data / "recordings", data / "imported")
    renderer = DocumentRenderer(data / "documents-cache")
    documents = DocumentService(units, sittings, data / "documents", SandboxInspector(renderer),
                                signer=signer, notifier=subscribers, clock=sittings.clock)
    for stale in (data / "documents" / "tmp").glob("upload-*.part"):
        stale.unlink(missing_ok=True)  # uploads cut short by a previous run
    pushes = MemberPushes(hub)
    presenting = PresentingService(sittings, documents, media_control, pushes, tasks.spawn)
    gallery = Gallery(sfu, sittings, ballots, config.gallery_max_viewers, config.gallery_max_per_address,
                      config.gallery_claim_seconds)
    presence = PresenceBridge(sittings, tasks.spawn) if config.presence_detection else None
    tokens = JoinTokens(load_or_create_secret(data))
    directory = Directory(units)
    ceremonies = Ceremonies()
    render_jobs = RenderJobs(archive, data / "renders")
    captions = CaptionsBridge(sfu, _speech_engine(config, config.asr_model, LIVE_BEAM), tasks.spawn,
                              _tell_captions(hub, gallery, tasks.spawn))
    transcripts = TranscriptService(units, sittings, archive, signer, clock=sittings.clock)
    draft_model = config.asr_draft_model or config.asr_model
    draft_engine = _speech_engine(config, draft_model, DRAFT_BEAM)
    drafts = DraftJobs(transcripts, RecordedSpeechDrafter(archive, draft_engine) if draft_engine else None,
                       recordings, tasks, model=draft_model.name if draft_model else "")
    broadcasts = Broadcasts(sfu, data / "broadcast", tasks.spawn, enabled=config.broadcast)
    _subscribe(subscribers, sfu, gallery, pushes, presenting, captions, drafts, broadcasts)

    app[ACCOUNTS] = accounts
    app[state.ADMIN] = AdminService(units)
    app[state.ARCHIVE] = archive
    app[state.CEREMONIES] = ceremonies
    app[state.GUESSES] = Guesses()
    app[state.DIRECTORY] = directory
    app[state.DOCUMENTS] = state.Documents(documents, renderer)
    app[state.RENDER_JOBS] = render_jobs
    app[state.SIGNER] = signer
    app[state.SITTINGS] = sittings
    app[state.TOKENS] = tokens
    app[CAPTIONS] = captions
    app[state.TRANSCRIPTS] = transcripts
    app[state.MINUTES_SIGNING] = MinutesSigning(units, sittings, signer, clock=sittings.clock)
    app[state.DRAFT_JOBS] = drafts
    app[MEMBER_SOCKETS] = MemberSockets(
        hub, sittings, ballots, accounts, ceremonies, Seats(tokens, directory),
        MemberMedia(sfu, media_control, recordings, presence, config.turn, captions=captions.enabled),
        presenting, presence, tasks.spawn)
    app[GALLERY_SOCKETS] = GallerySockets(gallery, tasks.spawn, config.turn)
    app[METRICS] = Metrics(Sources(hub, gallery, sfu, sittings, ballots, recordings, app[LOOP_LAG], app[wire.ERRORS],
                                   captions))
    app[BROADCASTS] = broadcasts
    return _Owned(sfu, recordings, render_jobs, renderer, presence, captions, drafts, broadcasts, draft_engine)


def _speech_engine(config: ServerConfig, model: Path | None, beam: int) -> Any:
    """A recogniser (one worker process, started by its first call), or None without a model. The
    live captions and the minutes' draft have one each: a draft never delays a caption."""
    if model is None:
        return None
    from gikai.media.analysis.speech import SpeechEngine  # the optional speech extra

    return SpeechEngine(model, threads=config.asr_threads, beam_size=beam)


def _tell_captions(hub: Hub, gallery: Gallery, spawn: Spawn) -> Callable[[str, dict[str, Any], str], None]:
    """A live caption goes to the sitting's members and to each of its gallery viewers (every
    caption to each: unlike the gallery's view, captions are never coalesced)."""
    def tell(meeting_id: str, message: dict[str, Any], text: str) -> None:
        members = hub.meetings.get(meeting_id)
        if members is not None:
            spawn(members.broadcast(message))
        stage = gallery.stages.get(meeting_id)
        for viewer in list(stage.viewers) if stage is not None else []:
            spawn(_ignore_failure(viewer.send_text(text)))
    return tell


async def _ignore_failure(awaitable: Awaitable[None]) -> None:
    """A viewer that cannot take a message is closed by its own writer; nothing to do here."""
    try:
        await awaitable
    except Exception:
        logger.debug("a gallery viewer did not take a caption", exc_info=True)


def _subscribe(subscribers: Subscribers, sfu: SFU, gallery: Gallery, pushes: MemberPushes,
               presenting: PresentingService, captions: CaptionsBridge, drafts: DraftJobs,
               broadcasts: Broadcasts) -> None:
    """The reactions to committed changes, in the order they run."""
    # A sitting changed: the gallery's view first (no await), then the members' push, then the end
    # of a presentation or share its presenter may no longer show (pushed after the change).
    subscribers.on_sitting(gallery.sitting_changed)
    subscribers.on_sitting(pushes.sitting_changed)
    subscribers.on_sitting(presenting.sitting_changed)
    subscribers.on_sitting(captions.sitting_changed)  # whose microphone is captioned: the heard ones
    subscribers.on_sitting(drafts.sitting_changed)  # adjourned: the 会議録 draft from the recordings
    subscribers.on_sitting(broadcasts.sitting_changed)  # opened: the broadcast starts; adjourned: ends
    # A ballot changed: the gallery shows published results only; the members' pushes coalesce.
    subscribers.on_ballot(gallery.ballot_changed)
    subscribers.on_ballot(pushes.ballot_changed)
    # Whose microphone may be heard changed: the gallery cuts one that may not, at once.
    subscribers.on_audible(gallery.set_audible)
    subscribers.on_audible(captions.set_audible)
    subscribers.on_audible(broadcasts.set_audible)
    # A peer came or went: the gallery's sources, and a share whose sharer's media went.
    sfu.peer_listeners.append(gallery.peers_changed)
    sfu.peer_listeners.append(presenting.media_changed)
    sfu.peer_listeners.append(captions.peers_changed)
    sfu.peer_listeners.append(broadcasts.peers_changed)


def _peer_failed(hub: Hub, tasks: Tasks, room_id: str, peer_id: str) -> None:
    """A member's media connection died (ICE failed): tell the client, which reconnects."""
    attendee = hub.find(room_id, peer_id)
    if attendee is not None:
        tasks.spawn(_end_media(attendee.send, attendee.close))


def _recorded(sittings: SittingService, tasks: Tasks, meeting_id: str, name: str, data: dict[str, Any]) -> None:
    """What the recorder reported (a segment, a failure) goes on the sitting's record."""
    def command(s: Sitting, now: datetime) -> list[Event]:
        return s.recording_failed(now, data) if name == Entry.RECORDING_FAILED else s.recording_event(name, now, data)

    tasks.spawn(_quietly(sittings.execute(meeting_id, command)))


async def _close_sockets(app: web.Application) -> None:
    """Runs before aiohttp waits for handlers: tell every client the server is stopping."""
    if GALLERY_SOCKETS in app:
        await app[GALLERY_SOCKETS].gallery.close()
    if MEMBER_SOCKETS in app:
        await app[MEMBER_SOCKETS].close_all()
    if CAPTIONS in app:
        app[CAPTIONS].end_screens()
    if TASKS in app:
        await app[TASKS].drain()


async def _recover_recordings(recordings: Recordings, sittings: SittingService) -> None:
    """Segments a killed server left open are finished and put on the record, with where
    recording stopped."""
    def event(name: str, data: dict[str, Any]) -> Callable[[Sitting, datetime], list[Event]]:
        return lambda s, now: s.recording_event(name, now, data)

    for meeting_id, (segments, stopped) in recordings.recover_all().items():
        try:
            for data in segments:
                await sittings.execute(meeting_id, event(Entry.RECORDING_SEGMENT, data))
            await sittings.execute(meeting_id, event(
                Entry.RECORDING_INTERRUPTED, {"stopped_at": stopped, "segments_recovered": len(segments)}))
        except Exception:
            logger.exception("could not record the recovery of %s's recordings", meeting_id)


async def _quietly(awaitable: Awaitable[Any]) -> None:
    try:
        await awaitable
    except Exception:
        logger.exception("could not record what the recorder reported")


async def _end_media(send: Callable[[dict[str, Any]], Awaitable[None]],
                     close: Callable[[int, str], Awaitable[None]]) -> None:
    try:
        await send(wire.error("peer_closed"))
        await close(CLOSE_MEDIA_ENDED, "media ended")
    except Exception:
        logger.debug("could not end media", exc_info=True)
