"""Documents persisted on SQLite and PostgreSQL: stored once by content hash, every page's text
searchable, each addition and removal on the signed record, and a refused upload changes nothing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest
from sqlalchemy import select, update

from gikai.orchestrator.domain.errors import MeetingAdjourned, NotFound
from gikai.orchestrator.domain.ledger import verify_chain
from gikai.orchestrator.persistence.record import RecordRepository
from gikai.orchestrator.persistence.rows import DocumentPageRow, DocumentRow, MeetingRow
from gikai.orchestrator.service.admin import AdminService
from gikai.orchestrator.service.documents import (
    DocumentService,
    DocumentTooLarge,
    InvalidDocument,
    fold,
)
from gikai.orchestrator.service.signing import signature_checker
from gikai.orchestrator.service.sittings import SittingService
from tests.persistence.test_sittings import Clock, Recorder, setup


@dataclass(frozen=True)
class Page:
    width: float
    height: float
    text: str


@dataclass(frozen=True)
class Inspected:
    pages: tuple[Page, ...]


class FakeInspector:
    """Stands in for media's PDFium: says what the next file holds, or refuses it."""

    def __init__(self, *texts: str) -> None:
        self.pages = tuple(Page(595.0, 842.0, t) for t in texts) or (Page(595.0, 842.0, ""),)
        self.refuse: str | None = None
        self.seen = 0

    async def inspect(self, path):
        self.seen += 1
        if self.refuse:
            raise InvalidDocument(self.refuse, "as told")
        return Inspected(self.pages)


BILL = ["議案第１号　町道の認定について\n町道 東１号線を認定する。", "理由\nROAD ACT 第8条による。"]


async def world(database, tmp_path, *texts: str, max_bytes: int = 1 << 20):
    meeting_id, roles = await setup(database)
    recorder = Recorder()
    sittings = SittingService(database.unit_of_work, recorder, recorder, Clock())
    inspector = FakeInspector(*(texts or BILL))
    docs = DocumentService(database.unit_of_work, sittings, tmp_path / "store", inspector, max_bytes=max_bytes,
                           signer=sittings.signer, notifier=recorder, clock=sittings.clock)
    items = (await sittings.get(meeting_id)).agenda.items
    return docs, sittings, inspector, recorder, meeting_id, roles["clerk"][0], [i.id for i in items]


def upload(docs: DocumentService, data: bytes):
    path = docs.new_upload()
    path.write_bytes(data)
    return path


PDF_BYTES = b"%PDF-1.7\n% not parsed here: the inspector is a fake\n"


async def test_an_upload_is_stored_by_its_hash_and_goes_on_the_signed_record(database, tmp_path):
    docs, sittings, _, recorder, meeting_id, clerk, items = await world(database, tmp_path)
    temp = upload(docs, PDF_BYTES)
    doc = await docs.add(meeting_id, items[0], temp, "議案第1号.pdf", "", actor=clerk)
    digest = hashlib.sha256(PDF_BYTES).hexdigest()
    assert (doc.sha256, doc.size, doc.pages, doc.title, doc.filename) == (digest, len(PDF_BYTES), 2, "議案第1号", "議案第1号.pdf")
    assert (tmp_path / "store" / digest[:2] / f"{digest}.pdf").read_bytes() == PDF_BYTES
    assert not temp.exists() and list((tmp_path / "store" / "tmp").iterdir()) == []
    async with database.session() as session:
        pages = (await session.scalars(select(DocumentPageRow).order_by(DocumentPageRow.page))).all()
        assert [(p.page, p.text) for p in pages] == [(1, BILL[0]), (2, BILL[1])]
        record = await RecordRepository(session).entries(meeting_id)
    added = record[-1]
    assert added["name"] == "document_added" and added["actor_id"] == clerk and added["agenda_item_id"] == items[0]
    assert added["data"] == {"document_id": doc.id, "agenda_item_id": items[0], "title": "議案第1号",
                             "filename": "議案第1号.pdf", "sha256": digest, "pages": 2, "bytes": len(PDF_BYTES)}
    assert verify_chain(meeting_id, record, signature_checker(sittings.signer.public_pem())) is None
    assert recorder.told[-1] == ["document_added"], "clients are told after the commit"
    live = (await sittings.get(meeting_id)).agenda.item(items[0]).documents
    assert [(d.name, d.sha256) for d in live] == [("議案第1号", digest)]
    second = await docs.add(meeting_id, items[1], upload(docs, PDF_BYTES + b"%%EOF\n"), "b.pdf", "予算書")
    assert [d.id for d in await docs.in_meeting(meeting_id)] == [doc.id, second.id], "agenda order"
    assert [d.id for d in await docs.in_meeting(meeting_id, items[1])] == [second.id]
    assert (await docs.get(doc.id)).meeting_id == meeting_id
    assert await docs.page_sizes(doc.id) == [(595.0, 842.0), (595.0, 842.0)]


async def test_search_matches_japanese_regardless_of_width_case_and_line_breaks(database, tmp_path):
    docs, sittings, _, _, meeting_id, _, items = await world(database, tmp_path)
    doc = await docs.add(meeting_id, items[0], upload(docs, PDF_BYTES), "bill.pdf", "議案第1号")

    async def pages(q):
        return [(h.document_id, h.page) for h in await docs.search(meeting_id, q)]

    assert await pages("第1号") == [(doc.id, 1)], "全角１ and half-width 1 are the same digit"
    assert await pages("町道の認定") == [(doc.id, 1)]
    assert await pages("認定について町道") == [(doc.id, 1)], "a line break is no obstacle"
    assert await pages("road act") == [(doc.id, 2)], "case-insensitive"
    assert await pages("町道") == [(doc.id, 1)]
    [hit] = await docs.search(meeting_id, "町道")
    assert hit.matches == 2 and hit.title == "議案第1号" and hit.agenda_item_id == items[0]
    assert "町道の認定について" in hit.snippet, "the snippet is the original text"
    assert await pages("%") == [] and await pages("_") == [], "LIKE wildcards are literal"
    assert await pages("補正予算") == [] and await pages("   ") == []
    other = await AdminService(database.unit_of_work).create_meeting(
        (await sittings.get(meeting_id)).body.id, "別の会議", sittings.clock())
    assert await docs.search(other.id, "町道") == [], "only the sitting's own documents"


def test_folding_keeps_track_of_where_each_character_came_from():
    assert fold("ＡＢＣ　ｶﾞｽ\n料金") == ("abcガス料金", [0, 1, 2, 4, 6, 8, 9])


@pytest.mark.parametrize("data, refuse, error", [
    (b"GIF89a not a pdf", None, "not_pdf"),
    (PDF_BYTES, "crashed", "crashed"),
    (PDF_BYTES, "timeout", "timeout"),
    (PDF_BYTES + b"x" * 2000, None, "too_large"),
])
async def test_a_refused_upload_changes_nothing(database, tmp_path, data, refuse, error):
    docs, sittings, inspector, recorder, meeting_id, clerk, items = await world(database, tmp_path, max_bytes=1000)
    inspector.refuse = refuse
    before = await sittings.export_record(meeting_id)
    temp = upload(docs, data)
    with pytest.raises(DocumentTooLarge if error == "too_large" else InvalidDocument) as refused:
        await docs.add(meeting_id, items[0], temp, "x.pdf", actor=clerk)
    if error != "too_large":
        assert refused.value.reason == error and refused.value.en != InvalidDocument.en
    assert inspector.seen == (1 if refuse else 0), "size and type are checked before PDFium"
    assert not temp.exists(), "the upload is cleaned up"
    assert [p.name for p in (tmp_path / "store").rglob("*") if p.is_file()] == []
    assert await docs.in_meeting(meeting_id) == [] and recorder.told == []
    assert (await sittings.export_record(meeting_id))["entries"] == before["entries"]


async def test_a_failed_commit_leaves_no_file_behind(database, tmp_path, monkeypatch):
    docs, sittings, _, _, meeting_id, _, items = await world(database, tmp_path)

    async def broken(self, *args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(RecordRepository, "append", broken)
    with pytest.raises(RuntimeError):
        await docs.add(meeting_id, items[0], upload(docs, PDF_BYTES), "x.pdf")
    assert [p for p in (tmp_path / "store").rglob("*") if p.is_file()] == []
    assert await docs.in_meeting(meeting_id) == []
    assert (await sittings.get(meeting_id)).agenda.item(items[0]).documents == []


async def test_removing_keeps_the_file_while_another_document_shares_its_content(database, tmp_path):
    docs, sittings, _, _, meeting_id, clerk, items = await world(database, tmp_path)
    first = await docs.add(meeting_id, items[0], upload(docs, PDF_BYTES), "a.pdf", "資料1")
    second = await docs.add(meeting_id, items[1], upload(docs, PDF_BYTES), "b.pdf", "資料2")
    stored = docs.path_of(first.sha256)
    assert first.sha256 == second.sha256 and stored.exists()
    removed, file_deleted = await docs.remove(first.id, actor=clerk)
    assert removed.id == first.id and not file_deleted and stored.exists()
    assert [d.id for d in await docs.in_meeting(meeting_id)] == [second.id]
    assert [h.document_id for h in await docs.search(meeting_id, "町道")] == [second.id]
    _, file_deleted = await docs.remove(second.id, actor=clerk)
    assert file_deleted and not stored.exists()
    with pytest.raises(NotFound):
        await docs.get(first.id)
    with pytest.raises(NotFound):
        await docs.remove(first.id)
    record = (await sittings.export_record(meeting_id))["entries"]
    assert [e["name"] for e in record] == ["document_added"] * 2 + ["document_removed"] * 2
    assert record[2]["data"] == {"document_id": first.id, "agenda_item_id": items[0], "title": "資料1",
                                 "sha256": first.sha256}
    async with database.session() as session:
        assert (await session.scalars(select(DocumentPageRow))).all() == []
        assert (await session.scalars(select(DocumentRow))).all() == []
    assert (await sittings.get(meeting_id)).agenda.item(items[0]).documents == []


async def test_documents_belong_to_an_item_of_that_sitting_and_stop_changing_after_it(database, tmp_path):
    docs, sittings, _, _, meeting_id, _, items = await world(database, tmp_path)
    other = await AdminService(database.unit_of_work).create_meeting(
        (await sittings.get(meeting_id)).body.id, "別の会議", sittings.clock())
    with pytest.raises(NotFound):
        await docs.add(other.id, items[0], upload(docs, PDF_BYTES), "x.pdf")
    doc = await docs.add(meeting_id, items[0], upload(docs, PDF_BYTES), "x.pdf")
    async with database.session() as session:
        await session.execute(update(MeetingRow).where(MeetingRow.id == meeting_id).values(state="adjourned"))
        await session.commit()
    sittings.forget(meeting_id)
    with pytest.raises(MeetingAdjourned):
        await docs.add(meeting_id, items[0], upload(docs, PDF_BYTES + b"2"), "y.pdf")
    with pytest.raises(MeetingAdjourned):
        await docs.remove(doc.id)
    assert [d.id for d in await docs.in_meeting(meeting_id)] == [doc.id]
    assert [p.name for p in (tmp_path / "store").rglob("*.pdf")] == [f"{doc.sha256}.pdf"]
