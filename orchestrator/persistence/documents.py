"""Documents attached to agenda items, and their pages' text (as extracted and as searched)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gikai.orchestrator.persistence.rows import AgendaItemRow, DocumentPageRow, DocumentRow


@dataclass(frozen=True)
class StoredDocument:
    id: str
    meeting_id: str
    agenda_item_id: str
    title: str
    filename: str
    sha256: str
    size: int
    pages: int
    media_type: str
    uploaded_at: datetime
    uploaded_by: str | None


@dataclass(frozen=True)
class StoredPage:
    width: float  # points, as displayed
    height: float
    text: str
    folded: str  # what a search matches against


@dataclass(frozen=True)
class PageFound:
    """A page whose searched text contains the query: its document and its text as extracted."""

    document_id: str
    agenda_item_id: str
    title: str
    page: int
    text: str


def _stored(row: DocumentRow, meeting_id: str) -> StoredDocument:
    return StoredDocument(row.id, meeting_id, row.agenda_item_id, row.name, row.filename, row.sha256, row.size,
                          row.pages, row.media_type, row.uploaded_at, row.uploaded_by)


def _with_meeting() -> Select[DocumentRow, str]:
    return (select(DocumentRow, AgendaItemRow.meeting_id)
            .join(AgendaItemRow, AgendaItemRow.id == DocumentRow.agenda_item_id))


class DocumentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, doc: StoredDocument, pages: list[StoredPage]) -> None:
        """A document and its pages (the document's row first: the pages refer to it)."""
        self.session.add(DocumentRow(
            id=doc.id, agenda_item_id=doc.agenda_item_id, name=doc.title, sha256=doc.sha256, size=doc.size,
            media_type=doc.media_type, filename=doc.filename, pages=doc.pages, uploaded_at=doc.uploaded_at,
            uploaded_by=doc.uploaded_by))
        await self.session.flush()
        for number, page in enumerate(pages, start=1):
            self.session.add(DocumentPageRow(document_id=doc.id, page=number, width=page.width,
                                             height=page.height, text=page.text, folded=page.folded))

    async def remove(self, document_id: str) -> bool:
        """A document and its pages; False when it was not there."""
        if await self.session.get(DocumentRow, document_id) is None:
            return False
        await self.session.execute(delete(DocumentPageRow).where(DocumentPageRow.document_id == document_id))
        await self.session.execute(delete(DocumentRow).where(DocumentRow.id == document_id))
        return True

    async def count_with_content(self, sha256: str) -> int:
        """How many documents have this content (they share one stored file)."""
        return int(await self.session.scalar(select(func.count()).select_from(DocumentRow)
                                             .where(DocumentRow.sha256 == sha256)) or 0)

    async def get(self, document_id: str) -> StoredDocument | None:
        found = (await self.session.execute(_with_meeting().where(DocumentRow.id == document_id))).first()
        return _stored(found[0], found[1]) if found else None

    async def in_meeting(self, meeting_id: str, item_id: str | None = None) -> list[StoredDocument]:
        """A sitting's documents in agenda order, oldest first within an item."""
        query = (_with_meeting().where(AgendaItemRow.meeting_id == meeting_id)
                 .order_by(AgendaItemRow.position, DocumentRow.uploaded_at, DocumentRow.id))
        if item_id is not None:
            query = query.where(DocumentRow.agenda_item_id == item_id)
        return [_stored(row, m) for row, m in (await self.session.execute(query)).all()]

    async def page_sizes(self, document_id: str) -> list[tuple[float, float]]:
        rows = await self.session.execute(select(DocumentPageRow.width, DocumentPageRow.height)
                                          .where(DocumentPageRow.document_id == document_id)
                                          .order_by(DocumentPageRow.page))
        return [(w, h) for w, h in rows]

    async def pages_containing(self, meeting_id: str, folded: str, limit: int) -> list[PageFound]:
        """Pages of the sitting's documents whose searched text contains ``folded``, in agenda order."""
        rows = (await self.session.execute(
            select(DocumentRow.id, DocumentRow.agenda_item_id, DocumentRow.name, DocumentPageRow.page,
                   DocumentPageRow.text)
            .join(DocumentRow, DocumentRow.id == DocumentPageRow.document_id)
            .join(AgendaItemRow, AgendaItemRow.id == DocumentRow.agenda_item_id)
            .where(AgendaItemRow.meeting_id == meeting_id,
                   DocumentPageRow.folded.contains(folded, autoescape=True))
            .order_by(AgendaItemRow.position, DocumentRow.uploaded_at, DocumentRow.id, DocumentPageRow.page)
            .limit(limit))).all()
        return [PageFound(doc_id, item_id, title, page, text) for doc_id, item_id, title, page, text in rows]
