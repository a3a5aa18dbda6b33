"""What the signaling edge needs at hand, kept in the app under one typed key."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Optional

from aiohttp import web

from media import SFU
from orchestrator.persistence.database import Database
from orchestrator.service.accounts import AccountService
from orchestrator.service.admin import AdminService
from orchestrator.service.ballots import BallotService
from orchestrator.service.directory import Directory
from orchestrator.service.sittings import SittingService

from .auth import JoinTokens
from .hub import Hub
from .passkeys import Ceremonies

if TYPE_CHECKING:
    from orchestrator.service.archive import ArchiveService

    from .render_jobs import RenderJobs
    from .bridges import SfuMediaControl
    from .gallery import Gallery
    from .presence_bridge import PresenceBridge
    from .presenting import Presenting
    from .ws import Connection


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("gikai-data")
    database_url: Optional[str] = None  # default: SQLite file in data_dir
    media_addresses: Optional[list[str]] = None  # None: every non-loopback interface
    public_url: Optional[str] = None  # base of printed links; default http://host:port
    presence_detection: bool = True  # attendance from cameras; off: from connections
    recording_segment_seconds: float = 300.0  # a crash loses at most the tail of one segment
    recording_min_free_bytes: int = 1 << 30  # recording stops (with an alert) below this much free disk
    gallery_max_viewers: int = 200  # public gallery viewers on this server, all sittings together


@dataclass
class Services:
    KEY: ClassVar[web.AppKey["Services"]]

    config: ServerConfig
    db: Database
    directory: Directory
    tokens: JoinTokens
    hub: Hub
    sfu: SFU
    sittings: SittingService
    media_control: "SfuMediaControl"
    accounts: AccountService
    admin: AdminService
    ceremonies: Ceremonies
    ballots: BallotService
    archive: "ArchiveService"
    render_jobs: "RenderJobs"
    presence: Optional["PresenceBridge"] = None
    gallery: Optional["Gallery"] = None
    presenting: Optional["Presenting"] = None
    connections: set["Connection"] = field(default_factory=set)
    background: set["asyncio.Task[None]"] = field(default_factory=set)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> "asyncio.Task[None]":
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
