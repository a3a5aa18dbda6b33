"""What the signaling edge needs at hand, kept in the app under one typed key."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import web

from gikai.media import SFU
from gikai.orchestrator.persistence.database import Database
from gikai.orchestrator.service.accounts import AccountService
from gikai.orchestrator.service.admin import AdminService
from gikai.orchestrator.service.ballots import BallotService
from gikai.orchestrator.service.directory import Directory
from gikai.orchestrator.service.sittings import SittingService
from gikai.signaling.auth.passkeys import Ceremonies
from gikai.signaling.auth.tokens import JoinTokens
from gikai.signaling.ws.hub import Hub

if TYPE_CHECKING:
    from gikai.orchestrator.service.archive import ArchiveService
    from gikai.signaling.adapters.bridges import SfuMediaControl
    from gikai.signaling.adapters.presence import PresenceBridge
    from gikai.signaling.adapters.render_jobs import RenderJobs
    from gikai.signaling.gallery.socket import Gallery
    from gikai.signaling.ws.connection import Connection
    from gikai.signaling.ws.presenting import Presenting


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("gikai-data")
    database_url: str | None = None  # default: SQLite file in data_dir
    media_addresses: list[str] | None = None  # None: every non-loopback interface
    public_url: str | None = None  # base of printed links; default http://host:port
    presence_detection: bool = True  # attendance from cameras; off: from connections
    recording_segment_seconds: float = 300.0  # a crash loses at most the tail of one segment
    recording_min_free_bytes: int = 1 << 30  # recording stops (with an alert) below this much free disk
    gallery_max_viewers: int = 200  # public gallery viewers on this server, all sittings together


@dataclass
class Services:
    KEY: ClassVar[web.AppKey[Services]]

    config: ServerConfig
    db: Database
    directory: Directory
    tokens: JoinTokens
    hub: Hub
    sfu: SFU
    sittings: SittingService
    media_control: SfuMediaControl
    accounts: AccountService
    admin: AdminService
    ceremonies: Ceremonies
    ballots: BallotService
    archive: ArchiveService
    render_jobs: RenderJobs
    presence: PresenceBridge | None = None
    gallery: Gallery | None = None
    presenting: Presenting | None = None
    connections: set[Connection] = field(default_factory=set)
    background: set[asyncio.Task[None]] = field(default_factory=set)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``coro`` as a task the server waits for at shutdown."""
        task = asyncio.ensure_future(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

    async def drain(self) -> None:
        while self.background:
            await asyncio.gather(*list(self.background), return_exceptions=True)

    def origin_allowed(self, origin: str, request: web.Request) -> bool:
        """A browser may connect only from a page this server served."""
        allowed = {f"{request.scheme}://{request.host}"}
        if self.config.public_url:
            allowed.add(self.config.public_url.rstrip("/"))
        return origin in allowed


Services.KEY = web.AppKey("services", Services)
