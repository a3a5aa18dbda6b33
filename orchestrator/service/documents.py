"""Paperless documents (資料): PDFs the clerk attaches to agenda items, each one on the sitting's record.

A file is stored once under its SHA-256 (``<store>/<aa>/<sha256>.pdf``), written to a temporary
file first and renamed into place, so a half-written file never has a name. Every page's text
is kept in the database for search. Adding or removing a document appends ``document_added`` /
``document_removed`` to the sitting's signed record in the same transaction as the rows.

Reading PDFs is somebody else's job: a :class:`PdfInspector` (in gikai, media's sandboxed
PDFium) says how many pages a file has, how big they are and what text they hold, or raises
:class:`InvalidDocument`.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Protocol

from gikai.orchestrator.domain.agenda import Document
from gikai.orchestrator.domain.errors import DomainError, MeetingAdjourned, NotFound
from gikai.orchestrator.domain.events import Entry
from gikai.orchestrator.domain.model import MeetingState
from gikai.orchestrator.domain.sitting import Event, Sitting
from gikai.orchestrator.persistence.documents import StoredDocument, StoredPage
from gikai.orchestrator.service.ports import LiveSittings, Notifier
from gikai.orchestrator.service.signing import Signer
from gikai.orchestrator.service.sittings import utcnow
from gikai.orchestrator.service.unit_of_work import UnitOfWorkFactory

__all__ = ["DocumentService", "DocumentTooLarge", "InvalidDocument", "SearchHit", "StoredDocument", "fold"]

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
PDF = "application/pdf"
MAX_QUERY = 100
SNIPPET = 40  # characters either side of a match


class InvalidDocument(DomainError):
    """Not a PDF, or one that cannot be read safely. ``reason`` says which (see MESSAGES)."""

    code = "invalid_document"
    ja = "PDFファイルとして読み込めませんでした。"
    en = "The file could not be read as a PDF."
    MESSAGES: ClassVar[dict[str, tuple[str, str]]] = {
        "not_pdf": ("PDFファイルではありません。", "The file is not a PDF."),
        "unreadable": ("PDFファイルが壊れているため読み込めません。", "The PDF is damaged and cannot be read."),
        "encrypted": ("パスワードで保護されたPDFは登録できません。", "Password-protected PDFs cannot be added."),
        "too_many_pages": ("ページ数が多すぎます。分割して登録してください。",
                           "The PDF has too many pages. Please split it."),
        "no_such_page": ("そのページはありません。", "There is no such page."),
        "timeout": ("このPDFは処理に時間がかかりすぎるため登録できません。",
                    "This PDF takes too long to process and cannot be added."),
        "crashed": ("このPDFは安全に処理できないため登録できません。",
                    "This PDF cannot be processed safely and cannot be added."),
    }

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.ja, self.en = self.MESSAGES.get(reason, (InvalidDocument.ja, InvalidDocument.en))


class DocumentTooLarge(DomainError):
    code = "document_too_large"
    ja = "ファイルが大きすぎます。"
    en = "The file is too large."


class PageText(Protocol):
    @property
    def width(self) -> float: ...

    @property
    def height(self) -> float: ...

    @property
    def text(self) -> str: ...


class InspectedPdf(Protocol):
    @property
    def pages(self) -> Sequence[PageText]: ...


class PdfInspector(Protocol):
    async def inspect(self, path: Path) -> InspectedPdf:
        """What is in the file; raises InvalidDocument when it cannot (safely) be read."""
        ...


@dataclass(frozen=True)
class SearchHit:
    document_id: str
    agenda_item_id: str
    title: str
    page: int
    snippet: str
    matches: int  # on this page


def fold(text: str) -> tuple[str, list[int]]:
    """Text as searched, and for each of its characters the index it came from in ``text``.

    NFKC (全角ＡＢＣ１２３ and half-width ｶﾀｶﾅ match their usual forms), case-folded, and without
    white space, because PDF text breaks lines and spaces Japanese at random.
    """
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        for c in unicodedata.normalize("NFKC", char).casefold():
            if c.isspace():
                continue
            if unicodedata.combining(c) and out:  # ｶ + ﾞ: compose with the character before
                composed = unicodedata.normalize("NFC", out[-1] + c)
                if len(composed) == 1:
                    out[-1] = composed
                    continue
            out.append(c)
            origin.append(index)
    return "".join(out), origin


def snippet(text: str, folded_query: str) -> tuple[str, int]:
    """The first match in context (from the original text), and how many matches the page has."""
    folded, origin = fold(text)
    at = folded.find(folded_query)
    if at < 0:
        return "", 0
    start, end = origin[at], origin[at + len(folded_query) - 1] + 1
    left, right = max(0, start - SNIPPET), min(len(text), end + SNIPPET)
    piece = re.sub(r"\s+", " ", text[left:right]).strip()
    return ("…" if left > 0 else "") + piece + ("…" if right < len(text) else ""), folded.count(folded_query)


def clean_filename(name: str) -> str:
    name = re.split(r"[\\/]", name or "")[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    return name[:200] or "document.pdf"


class DocumentService:
    def __init__(self, units: UnitOfWorkFactory, sittings: LiveSittings, store: Path, inspector: PdfInspector,
                 max_bytes: int = DEFAULT_MAX_BYTES, *, signer: Signer, notifier: Notifier,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._units = units
        self._sittings = sittings
        self._signer = signer
        self._notifier = notifier
        self._clock = clock
        self.store = store
        self.inspector = inspector
        self.max_bytes = max_bytes
        # Placing or deleting a stored file and committing the rows that name it happen together.
        self._files = asyncio.Lock()

    # -- files -------------------------------------------------------------------------
    def new_upload(self) -> Path:
        """A fresh, private temporary file on the store's file system, for an upload to stream into."""
        folder = self.store / "tmp"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"upload-{uuid.uuid4().hex}.part"
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        return path

    def path_of(self, sha256: str) -> Path:
        return self.store / sha256[:2] / f"{sha256}.pdf"

    # -- the clerk -----------------------------------------------------------------------
    async def add(self, meeting_id: str, item_id: str, upload: Path, filename: str, title: str = "",
                  actor: str | None = None) -> StoredDocument:
        """Attach the uploaded file (which this call consumes) to an agenda item; all or nothing."""
        try:
            await self.check_item(meeting_id, item_id)
            size = await asyncio.to_thread(_pdf_size, upload, self.max_bytes)
            info = await self.inspector.inspect(upload)
            digest = await asyncio.to_thread(_sha256, upload)
            filename = clean_filename(filename)
            title = (title or "").strip()[:300] or os.path.splitext(filename)[0][:300] or filename
            return await self._commit_new(meeting_id, item_id, upload, info, digest, size, filename, title, actor)
        finally:
            # Here even when cancelled (an await could be cut short); one unlink does not block for long.
            upload.unlink(missing_ok=True)  # noqa: ASYNC240

    async def _commit_new(self, meeting_id: str, item_id: str, upload: Path, info: InspectedPdf, digest: str,
                          size: int, filename: str, title: str, actor: str | None) -> StoredDocument:
        async with self._sittings.hold(meeting_id) as sitting, self._files:
            if sitting.meeting.state is MeetingState.ADJOURNED:
                raise MeetingAdjourned("documents cannot change after the sitting")
            now = self._clock()
            doc = StoredDocument(uuid.uuid4().hex, meeting_id, item_id, title, filename, digest, size,
                                 len(info.pages), PDF, now, actor)
            final = self.path_of(digest)
            placed = not final.exists()
            if placed:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(upload, final)
            try:
                async with self._units() as uow:
                    await uow.documents.add(doc, [StoredPage(page.width, page.height, page.text, fold(page.text)[0])
                                                  for page in info.pages])
                    event = Event(Entry.DOCUMENT_ADDED, now, actor, {
                        "document_id": doc.id, "agenda_item_id": item_id, "title": title, "filename": filename,
                        "sha256": digest, "pages": doc.pages, "bytes": size}, item_id)
                    await uow.record.append(meeting_id, [event], self._signer.sign)
                    await uow.commit()
            except BaseException:
                if placed:
                    final.unlink(missing_ok=True)
                raise
            _live_documents(sitting, item_id).append(Document(title, digest, size, PDF))
        await self._notifier.sitting_changed(sitting, [event])
        return doc

    async def remove(self, document_id: str, actor: str | None = None) -> tuple[StoredDocument, bool]:
        """Detach a document; its file goes too unless another document has the same content.
        Returns the document and whether its file was deleted."""
        doc = await self.get(document_id)
        async with self._sittings.hold(doc.meeting_id) as sitting, self._files:
            if sitting.meeting.state is MeetingState.ADJOURNED:
                raise MeetingAdjourned("documents cannot change after the sitting")
            async with self._units() as uow:
                if not await uow.documents.remove(document_id):
                    raise NotFound(f"document {document_id}")  # removed meanwhile
                now = self._clock()
                event = Event(Entry.DOCUMENT_REMOVED, now, actor, {
                    "document_id": doc.id, "agenda_item_id": doc.agenda_item_id, "title": doc.title,
                    "sha256": doc.sha256}, doc.agenda_item_id)
                await uow.record.append(doc.meeting_id, [event], self._signer.sign)
                others = await uow.documents.count_with_content(doc.sha256)
                await uow.commit()
            deleted = not others
            if deleted:
                self.path_of(doc.sha256).unlink(missing_ok=True)
            live = _live_documents(sitting, doc.agenda_item_id)
            for kept in live:
                if (kept.sha256, kept.name) == (doc.sha256, doc.title):
                    live.remove(kept)
                    break
        await self._notifier.sitting_changed(sitting, [event])
        return doc, deleted

    # -- reading ---------------------------------------------------------------------
    async def get(self, document_id: str) -> StoredDocument:
        async with self._units() as uow:
            found = await uow.documents.get(document_id)
        if found is None:
            raise NotFound(f"document {document_id}")
        return found

    async def in_meeting(self, meeting_id: str, item_id: str | None = None) -> list[StoredDocument]:
        """A sitting's documents in agenda order, oldest first within an item."""
        async with self._units() as uow:
            return await uow.documents.in_meeting(meeting_id, item_id)

    async def page_sizes(self, document_id: str) -> list[tuple[float, float]]:
        async with self._units() as uow:
            return await uow.documents.page_sizes(document_id)

    async def search(self, meeting_id: str, query: str, limit: int = 50) -> list[SearchHit]:
        """Pages of the sitting's documents whose text contains ``query`` (see :func:`fold`)."""
        needle = fold(query[:MAX_QUERY])[0]
        if not needle:
            return []
        async with self._units() as uow:
            pages = await uow.documents.pages_containing(meeting_id, needle, limit)
        hits = []
        for found in pages:
            piece, count = snippet(found.text, needle)
            hits.append(SearchHit(found.document_id, found.agenda_item_id, found.title, found.page, piece, count))
        return hits

    async def check_item(self, meeting_id: str, item_id: str) -> None:
        """Raises NotFound unless the agenda item belongs to the sitting."""
        async with self._units() as uow:
            found = await uow.directory.meeting_of_agenda_item(item_id)
        if found != meeting_id:
            raise NotFound(f"agenda item {item_id}")


def _live_documents(sitting: Sitting, item_id: str) -> list[Document]:
    """The in-memory sitting's list for the item, kept in step with the rows."""
    for item in sitting.agenda.items:
        if item.id == item_id:
            return item.documents
    return []


def _pdf_size(path: Path, max_bytes: int) -> int:
    """The upload's size; raises unless it is small enough and starts like a PDF."""
    size = path.stat().st_size
    if size > max_bytes:
        raise DocumentTooLarge(f"{size} bytes, at most {max_bytes}")
    with open(path, "rb") as f:
        if f.read(5) != b"%PDF-":
            raise InvalidDocument("not_pdf", "the file does not start with %PDF-")
    return size


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
