"""What the HTTP handlers find in the application, each under its own typed key (set by
signaling/app.py when the server starts)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from gikai.media.pdf.sandbox import DocumentRenderer
from gikai.orchestrator.domain.throttle import Guesses
from gikai.orchestrator.service.admin import AdminService
from gikai.orchestrator.service.archive import ArchiveService
from gikai.orchestrator.service.directory import Directory
from gikai.orchestrator.service.documents import DocumentService
from gikai.orchestrator.service.minutes_signing import MinutesSigning
from gikai.orchestrator.service.signing import Signer
from gikai.orchestrator.service.sittings import SittingService
from gikai.orchestrator.service.transcripts import TranscriptService
from gikai.signaling.adapters.draft_jobs import DraftJobs
from gikai.signaling.adapters.render_jobs import RenderJobs
from gikai.signaling.auth.passkeys import Ceremonies
from gikai.signaling.auth.tokens import JoinTokens


@dataclass(frozen=True)
class Documents:
    """The documents' service and the sandboxed renderer of their pages."""

    service: DocumentService
    renderer: DocumentRenderer


ADMIN = web.AppKey("admin", AdminService)
ARCHIVE = web.AppKey("archive", ArchiveService)
CEREMONIES = web.AppKey("ceremonies", Ceremonies)
DIRECTORY = web.AppKey("directory", Directory)
DOCUMENTS = web.AppKey("documents", Documents)
RENDER_JOBS = web.AppKey("render_jobs", RenderJobs)
DRAFT_JOBS = web.AppKey("draft_jobs", DraftJobs)  # the 会議録 draft from the recordings
SIGNER = web.AppKey("signer", Signer)
SITTINGS = web.AppKey("sittings", SittingService)
TOKENS = web.AppKey("tokens", JoinTokens)
TRANSCRIPTS = web.AppKey("transcripts", TranscriptService)
MINUTES_SIGNING = web.AppKey("minutes_signing", MinutesSigning)  # 会議録の署名
# Failed logins and passkey ceremonies, per client address and per account name.
GUESSES = web.AppKey("guesses", Guesses)
