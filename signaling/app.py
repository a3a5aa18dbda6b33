"""The composition root: builds the aiohttp app with its database, SFU and hub."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from aiohttp import web

from gikai.media import SFU
from gikai.media.sfu.ice import set_host_addresses
from gikai.orchestrator.domain.sitting import Event, Sitting
from gikai.orchestrator.persistence.database import Database, sqlite_url
from gikai.orchestrator.service.accounts import AccountService
from gikai.orchestrator.service.admin import AdminService
from gikai.orchestrator.service.archive import ArchiveService
from gikai.orchestrator.service.ballots import BallotService
from gikai.orchestrator.service.directory import Directory
from gikai.orchestrator.service.signing import Signer
from gikai.orchestrator.service.sittings import SittingService
from gikai.signaling.adapters.bridges import HubNotifier, SfuMediaControl
from gikai.signaling.adapters.presence import PresenceBridge
from gikai.signaling.adapters.recordings import Recordings
from gikai.signaling.adapters.render_jobs import RenderJobs
from gikai.signaling.auth.passkeys import Ceremonies
from gikai.signaling.auth.tokens import JoinTokens, load_or_create_secret
from gikai.signaling.gallery.socket import Gallery, setup_gallery
from gikai.signaling.http.api import domain_errors, setup_api
from gikai.signaling.http.archive import setup_archive
from gikai.signaling.http.documents import setup_documents_api
from gikai.signaling.http.routes import setup_routes
from gikai.signaling.services import ServerConfig, Services
from gikai.signaling.ws import protocol
from gikai.signaling.ws.connection import CLOSE_MEDIA_ENDED
from gikai.signaling.ws.hub import Hub
from gikai.signaling.ws.presenting import Presenting

logger = logging.getLogger(__name__)

SHUTDOWN = 1001


def create_app(config: ServerConfig) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024, middlewares=[domain_errors])
    app[CONFIG] = config
    app.cleanup_ctx.append(_services)
    app.on_shutdown.append(_close_connections)
    setup_gallery(app)  # before setup_routes: /gallery/ws, then the page at /gallery/{meeting_id}
    setup_routes(app)
    setup_api(app)
    setup_documents_api(app)
    setup_archive(app)
    return app


CONFIG = web.AppKey("config", ServerConfig)


async def _services(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    config.data_dir.mkdir(parents=True, exist_ok=True)
    set_host_addresses(config.media_addresses)
    db = Database(config.database_url or sqlite_url(config.data_dir))
    await db.migrate()
    hub = Hub()

    def peer_failed(room_id: str, peer_id: str) -> None:
        # The media connection died (ICE failed): tell the client, which reconnects.
        attendee = hub.find(room_id, peer_id)
        if attendee is not None:
            app[Services.KEY].spawn(_end_media(attendee.send, attendee.close))

    sfu = SFU(on_peer_failed=peer_failed)

    def recording_report(meeting_id: str, name: str, data: dict[str, Any]) -> None:
        def command(s: Sitting, now: datetime) -> list[Event]:
            return s.recording_failed(now, data) if name == "recording_failed" else s.recording_event(name, now, data)

        app[Services.KEY].spawn(_quietly(app[Services.KEY].sittings.execute(meeting_id, command)))

    recordings = Recordings(sfu, config.data_dir / "recordings", recording_report,
                            config.recording_segment_seconds, config.recording_min_free_bytes)
    media_control = SfuMediaControl(sfu, hub, recordings)
    notifier = HubNotifier(hub)
    sittings = SittingService(db.unit_of_work, media_control, notifier,
                              presence_by_camera=config.presence_detection,
                              signer=Signer.load_or_create(config.data_dir))
    tokens = JoinTokens(load_or_create_secret(config.data_dir))
    archive = ArchiveService(db.unit_of_work, sittings.signer, config.data_dir / "recordings", config.data_dir / "imported")
    ballots = BallotService(db.unit_of_work, sittings, signer=sittings.signer, notifier=notifier, clock=sittings.clock)
    services = Services(config, db, Directory(db.unit_of_work), tokens, hub, sfu, sittings, media_control,
                        AccountService(db.unit_of_work), AdminService(db.unit_of_work), Ceremonies(), ballots,
                        archive, RenderJobs(archive, config.data_dir / "renders"))
    app[Services.KEY] = services
    services.gallery = media_control.gallery = notifier.gallery = Gallery(
        sfu, sittings, services.ballots, config.gallery_max_viewers, services.spawn)
    services.presenting = notifier.presenting = Presenting(services)
    if config.presence_detection:
        services.presence = PresenceBridge(sittings, services.spawn)
    await _recover_recordings(recordings, sittings)
    recovered = await sittings.recover_after_restart()
    if recovered:
        logger.info("closed %d attendance intervals left open by the previous run", recovered)
    ended = await sittings.end_presenting_after_restart()
    if ended:
        logger.info("ended %d presentations and screen shares left going by the previous run", ended)
    try:
        yield
    finally:
        await _close_connections(app)
        await recordings.close()
        await services.render_jobs.close()
        await services.drain()  # the last segments' record entries
        if services.presence is not None:
            await services.presence.close()
        await sfu.close()
        await db.close()


async def _close_connections(app: web.Application) -> None:
    """Runs before aiohttp waits for handlers: tell every client the server is stopping."""
    services = app[Services.KEY]
    if services.gallery is not None:
        await services.gallery.close()
    for connection in list(services.connections):
        try:
            await connection.close(SHUTDOWN, "server stopping")
        except Exception:
            logger.debug("close on shutdown failed", exc_info=True)
    await services.drain()


async def _recover_recordings(recordings: Recordings, sittings: SittingService) -> None:
    """Segments a killed server left open are finished and put on the record, with where
    recording stopped."""
    for meeting_id, (segments, stopped) in recordings.recover_all().items():
        try:
            for data in segments:
                await sittings.execute(meeting_id, lambda s, now, d=data: s.recording_event("recording_segment", now, d))
            await sittings.execute(meeting_id, lambda s, now, at=stopped, n=len(segments): s.recording_event(
                "recording_interrupted", now, {"stopped_at": at, "segments_recovered": n}))
        except Exception:
            logger.exception("could not record the recovery of %s's recordings", meeting_id)


async def _quietly(awaitable: Any) -> None:
    try:
        await awaitable
    except Exception:
        logger.exception("could not record what the recorder reported")


async def _end_media(send, close) -> None:  # type: ignore[no-untyped-def]
    try:
        await send(protocol.error("peer_closed"))
        await close(CLOSE_MEDIA_ENDED, "media ended")
    except Exception:
        logger.debug("could not end media", exc_info=True)
