"""Documents over HTTP against a running app: the clerk uploads and removes, participants read pages,
files and search results; bad PDFs get a clear refusal and the server keeps serving."""

from __future__ import annotations

import asyncio
import io
import time
from datetime import datetime

import pytest
from aiohttp import FormData
from PIL import Image

from gikai.media.pdf.sandbox import Limits
from gikai.orchestrator.domain.accounts import Credential
from gikai.signaling.app import create_app
from gikai.signaling.config import ServerConfig
from gikai.signaling.http.state import DOCUMENTS
from tests.signaling.test_api import ROSTER, login_clerk
from tests.support.server import Parts
from tests.support.waiting import eventually
from tests.unit.test_documents_render import HOSTILE_WORKER, decompression_bomb_pdf, garbage_pdf, hostile_pdf, make_pdf

BILL = make_pdf(["議案第1号 町道の認定について\n町道 東1号線", "理由\n道路法第8条による。"])


@pytest.fixture
async def app_client(aiohttp_client, tmp_path):
    app = create_app(ServerConfig(data_dir=tmp_path, media_addresses=["127.0.0.1"], presence_detection=False))
    client = await aiohttp_client(app)
    services = Parts(client.app)
    username, password = await services.accounts.ensure_clerk()
    csrf = await login_clerk(client, username, password)
    return client, services, {"X-CSRF-Token": csrf}


async def new_sitting(client, h, name="総務委員会"):
    body = (await (await client.post("/api/admin/bodies", json={"name": name, "fixed_membership": 3},
                                     headers=h)).json())["body"]
    await client.post(f"/api/admin/bodies/{body['id']}/roster", json={"csv": ROSTER}, headers=h)
    meeting = (await (await client.post("/api/admin/meetings", json={
        "body_id": body["id"], "title": "第1回", "scheduled_at": "2026-03-10T10:00"}, headers=h)).json())["meeting"]
    item = (await (await client.post(f"/api/admin/meetings/{meeting['id']}/agenda", json={"title": "議案第1号"},
                                     headers=h)).json())["item"]
    return body["id"], meeting["id"], item["id"]


def form(data: bytes, filename: str = "議案第1号.pdf", title: str | None = None) -> FormData:
    f = FormData()
    if title is not None:
        f.add_field("title", title)
    # (as a file object: aiohttp warns about large bytes bodies, and warnings are errors here)
    f.add_field("file", io.BytesIO(data), filename=filename, content_type="application/pdf")
    return f


async def post_pdf(client, h, meeting_id, item_id, data: bytes, **kw):
    return await client.post(f"/api/admin/meetings/{meeting_id}/items/{item_id}/documents", data=form(data, **kw),
                             headers=h)


async def member_client(aiohttp_client, client, services, body_id):
    """A second browser, logged in as the body's second member (enrolled directly, no WebAuthn here)."""
    overview = await services.admin.overview()
    member = next(b for b in overview["bodies"] if b["id"] == body_id)["members"][1]
    token = await services.accounts.issue_enrolment(member["id"])
    account = await services.accounts.enrolment_account(token)
    session_token, login = await services.accounts.complete_enrolment(
        token, Credential(f"cred-{member['id']}", account.id, b"key", 0, datetime.now()))
    other = await aiohttp_client(client.server)
    other.session.cookie_jar.update_cookies({"gikai_session": session_token})
    return other, {"X-CSRF-Token": login.csrf}


def image(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


async def test_the_clerk_uploads_a_pdf_and_participants_read_it(app_client, aiohttp_client):
    client, services, h = app_client
    body_id, meeting_id, item_id = await new_sitting(client, h)
    r = await post_pdf(client, h, meeting_id, item_id, BILL, title="議案第1号 町道の認定")
    assert r.status == 200, await r.text()
    doc = (await r.json())["document"]
    assert (doc["title"], doc["filename"], doc["pages"], doc["bytes"]) == ("議案第1号 町道の認定", "議案第1号.pdf", 2, len(BILL))
    assert [e.name for e in await services.sittings.events(meeting_id)] == ["document_added"]

    member, _ = await member_client(aiohttp_client, client, services, body_id)
    for reader in (client, member):
        listed = await (await reader.get(f"/api/meetings/{meeting_id}/documents")).json()
        assert [d["id"] for d in listed["documents"]] == [doc["id"]]
    page = await member.get(f"/api/documents/{doc['id']}/pages/1")
    assert page.status == 200 and page.content_type == "image/png"
    assert image(await page.read()).size[0] == 800
    again = await member.get(f"/api/documents/{doc['id']}/pages/1", headers={"If-None-Match": page.headers["ETag"]})
    assert again.status == 304
    wide = await member.get(f"/api/documents/{doc['id']}/pages/2?width=5000&format=webp")
    assert wide.content_type == "image/webp" and image(await wide.read()).size[0] == 1600
    thumb = await member.get(f"/api/documents/{doc['id']}/thumbnails/2")
    assert image(await thumb.read()).size[0] == 240
    assert (await member.get(f"/api/documents/{doc['id']}/pages/3")).status == 404
    assert (await member.get(f"/api/documents/{doc['id']}/pages/one")).status == 400
    pdf = await member.get(f"/api/documents/{doc['id']}/file")
    assert pdf.content_type == "application/pdf" and await pdf.read() == BILL
    assert pdf.headers["Content-Disposition"].startswith("inline;")
    assert "filename*=UTF-8''%E8%AD%B0" in pdf.headers["Content-Disposition"]
    described = (await (await member.get(f"/api/documents/{doc['id']}")).json())["document"]
    assert described["page_sizes"] == [[595.0, 842.0], [595.0, 842.0]]
    found = await (await member.get(f"/api/meetings/{meeting_id}/documents/search", params={"q": "道路法"})).json()
    assert [(x["document_id"], x["page"]) for x in found["results"]] == [(doc["id"], 2)]
    assert "道路法第8条" in found["results"][0]["snippet"]
    assert (await member.get(f"/api/meetings/{meeting_id}/documents/search?q=")).status == 400

    # Not a participant of that sitting, or not logged in: nothing.
    _, other_meeting, other_item = await new_sitting(client, h, "建設委員会")
    await post_pdf(client, h, other_meeting, other_item, BILL)
    assert (await member.get(f"/api/meetings/{other_meeting}/documents")).status == 403
    other_doc = (await (await client.get(f"/api/meetings/{other_meeting}/documents")).json())["documents"][0]
    for path in ("file", "pages/1", "thumbnails/1"):
        assert (await member.get(f"/api/documents/{other_doc['id']}/{path}")).status == 403
    assert (await member.get(f"/api/meetings/{other_meeting}/documents/search?q=町道")).status == 403
    anonymous = await aiohttp_client(client.server)
    r = await anonymous.get(f"/api/documents/{doc['id']}/pages/1")
    assert r.status == 401 and (await r.json())["code"] == "not_logged_in"


async def test_rehearsal_join_tokens_read_only_their_own_sitting(app_client, aiohttp_client):
    client, services, h = app_client
    meeting, participants, _ = await services.directory.ensure_rehearsal()
    item_id = (await services.sittings.get(meeting.id)).agenda.items[0].id
    doc = (await (await post_pdf(client, h, meeting.id, item_id, BILL)).json())["document"]
    token = services.tokens.issue(participants[0].id)
    guest = await aiohttp_client(client.server)
    listed = await guest.get(f"/api/meetings/{meeting.id}/documents", params={"token": token})
    assert [d["id"] for d in (await listed.json())["documents"]] == [doc["id"]]
    assert (await guest.get(f"/api/documents/{doc['id']}/pages/1?token={token}")).status == 200
    assert (await guest.get(f"/api/documents/{doc['id']}/file", headers={"X-Join-Token": token})).status == 200
    forged = await guest.get(f"/api/meetings/{meeting.id}/documents", params={"token": token[:-2] + "xx"})
    assert forged.status == 403 and (await forged.json())["code"] == "invalid_token"
    _, real_meeting, _ = await new_sitting(client, h)
    elsewhere = await guest.get(f"/api/meetings/{real_meeting}/documents", params={"token": token})
    assert elsewhere.status == 403 and (await elsewhere.json())["code"] == "not_a_participant"
    real_participant = (await services.directory.participants(real_meeting))[0].id
    not_rehearsal = await guest.get(f"/api/meetings/{real_meeting}/documents",
                                    params={"token": services.tokens.issue(real_participant)})
    assert not_rehearsal.status == 403, "join links are for rehearsals only"


async def test_bad_uploads_get_a_clear_refusal_and_change_nothing(app_client, tmp_path):
    client, services, h = app_client
    _, meeting_id, item_id = await new_sitting(client, h)
    edge = client.app[DOCUMENTS]
    edge.service.max_bytes = 3 << 20
    edge.renderer.inspector.worker = HOSTILE_WORKER  # a marked PDF makes it abort or hang

    async def refused(data: bytes, worker_limit: float = 30):
        edge.renderer.inspector.limits = Limits(timeout=worker_limit)
        r = await post_pdf(client, h, meeting_id, item_id, data)
        body = await r.json()
        assert set(body["message"]) == {"ja", "en"} and body["message"]["ja"]
        return r.status, body["code"], body["detail"]

    assert await refused(b"\x89PNG\r\n\x1a\n" + b"\0" * 100) == (400, "invalid_document", "not_pdf")
    assert await refused(garbage_pdf()) == (400, "invalid_document", "unreadable")
    assert await refused(decompression_bomb_pdf(2)) == (400, "invalid_document", "crashed")
    assert await refused(hostile_pdf("abort", BILL)) == (400, "invalid_document", "crashed")
    started = time.monotonic()
    assert await refused(hostile_pdf("hang", BILL), worker_limit=2) == (400, "invalid_document", "timeout")
    assert time.monotonic() - started < 10
    assert (await refused(BILL + b"%" * (4 << 20)))[:2] == (413, "document_too_large")

    assert (await (await client.get(f"/api/meetings/{meeting_id}/documents")).json())["documents"] == []
    assert await services.sittings.events(meeting_id) == []
    assert [p for p in (tmp_path / "documents").rglob("*") if p.is_file()] == []
    assert (await client.get("/healthz")).status == 200
    assert (await post_pdf(client, h, meeting_id, item_id, BILL)).status == 200, "and the next good one is taken"


async def test_the_size_limit_holds_while_the_upload_is_still_arriving(app_client, tmp_path):
    """No Content-Length, and the rest of the body held back: the refusal comes before it is sent."""
    client, _, h = app_client
    _, meeting_id, item_id = await new_sitting(client, h)
    client.app[DOCUMENTS].service.max_bytes = 1 << 20
    multipart = form(BILL + b"%" * (3 << 20))()
    buffer = io.BytesIO()

    class Sink:
        async def write(self, data):
            buffer.write(data)

    await multipart.write(Sink())
    data, piece = buffer.getvalue(), 128 * 1024
    released = asyncio.Event()

    async def body():
        for start in range(0, len(data), piece):
            if start > (3 << 19):  # 1.5 MiB sent: hold the rest back until the answer is in
                await asyncio.wait_for(released.wait(), 20)
            yield data[start:start + piece]

    sending = asyncio.ensure_future(client.post(
        f"/api/admin/meetings/{meeting_id}/items/{item_id}/documents", data=body(),
        headers={**h, "Content-Type": multipart.content_type}))
    try:
        r = await asyncio.wait_for(asyncio.shield(sending), 10)
    finally:
        released.set()
    assert r.status == 413 and (await r.json())["code"] == "document_too_large"
    assert [p for p in (tmp_path / "documents").rglob("*") if p.is_file()] == []


async def test_pages_are_served_while_an_upload_hangs_the_inspector(app_client):
    client, _, h = app_client
    _, meeting_id, item_id = await new_sitting(client, h)
    edge = client.app[DOCUMENTS]
    edge.renderer.inspector.worker = HOSTILE_WORKER  # a marked PDF makes it hang
    doc = (await (await post_pdf(client, h, meeting_id, item_id, BILL)).json())["document"]
    # The inspector hangs for 10 s; a page drawn meanwhile (in well under that, even on a busy
    # machine) did not wait for it.
    edge.renderer.inspector.limits = Limits(timeout=10)
    inspector = edge.renderer.inspector
    asked: list[str] = []
    call = inspector.call

    async def call_noted(op, *args, **kwargs):
        asked.append(op)
        return await call(op, *args, **kwargs)

    inspector.call = call_noted
    hanging = asyncio.ensure_future(post_pdf(client, h, meeting_id, item_id, hostile_pdf("hang", BILL)))
    await eventually(lambda: "inspect" in asked, message="the upload to reach the inspector", seen=lambda: asked)
    started = time.monotonic()
    page = await client.get(f"/api/documents/{doc['id']}/pages/2?width=640")
    assert page.status == 200 and time.monotonic() - started < 8, "drawing does not wait for the inspector"
    assert not hanging.done()
    r = await hanging
    assert r.status == 400 and (await r.json())["detail"] == "timeout"


async def test_only_the_clerk_with_the_csrf_token_adds_and_removes(app_client, aiohttp_client, tmp_path):
    client, services, h = app_client
    body_id, meeting_id, item_id = await new_sitting(client, h)
    assert (await post_pdf(client, {}, meeting_id, item_id, BILL)).status == 403
    evil = await post_pdf(client, {**h, "Origin": "http://evil.example"}, meeting_id, item_id, BILL)
    assert evil.status == 403
    member, member_h = await member_client(aiohttp_client, client, services, body_id)
    r = await post_pdf(member, member_h, meeting_id, item_id, BILL)
    assert r.status == 403 and (await r.json())["code"] == "not_clerk"
    _, other_meeting, _ = await new_sitting(client, h, "建設委員会")
    assert (await post_pdf(client, h, other_meeting, item_id, BILL)).status == 404, "the item is another sitting's"
    not_form = await client.post(f"/api/admin/meetings/{meeting_id}/items/{item_id}/documents", data=BILL,
                                 headers={**h, "Content-Type": "application/pdf"})
    assert not_form.status == 400

    doc = (await (await post_pdf(client, h, meeting_id, item_id, BILL)).json())["document"]
    assert (await client.get(f"/api/documents/{doc['id']}/pages/1")).status == 200
    assert list((tmp_path / "documents-cache").rglob(f"{doc['sha256']}-*"))
    assert (await client.delete(f"/api/admin/documents/{doc['id']}")).status == 403, "no CSRF token"
    assert (await member.delete(f"/api/admin/documents/{doc['id']}", headers=member_h)).status == 403
    gone = await client.delete(f"/api/admin/documents/{doc['id']}", headers=h)
    assert gone.status == 200 and (await gone.json())["removed"] == doc["id"]
    assert (await client.get(f"/api/documents/{doc['id']}/file")).status == 404
    assert (await client.delete(f"/api/admin/documents/{doc['id']}", headers=h)).status == 404
    assert not list((tmp_path / "documents-cache").rglob(f"{doc['sha256']}-*")), "its pages left the cache"
    assert not list((tmp_path / "documents").rglob("*.pdf"))
    clerk = next(p.id for p in await services.directory.participants(meeting_id) if p.role.value == "clerk")
    events = await services.sittings.events(meeting_id)
    assert [(e.name, e.actor_id) for e in events] == [("document_added", clerk), ("document_removed", clerk)]


async def test_a_browser_s_utf8_file_name_is_kept(app_client):
    client, _, h = app_client
    _, meeting_id, item_id = await new_sitting(client, h)
    boundary = "----gikaitest"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"予算書（案）.pdf\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode() + BILL + f"\r\n--{boundary}--\r\n".encode()
    r = await client.post(f"/api/admin/meetings/{meeting_id}/items/{item_id}/documents", data=body,
                          headers={**h, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    doc = (await r.json())["document"]
    assert (doc["filename"], doc["title"]) == ("予算書（案）.pdf", "予算書（案）")


async def test_a_page_that_crashes_pdfium_is_refused_and_the_next_one_is_drawn(app_client, tmp_path):
    client, _, h = app_client
    _, meeting_id, item_id = await new_sitting(client, h)
    painter = client.app[DOCUMENTS].renderer.painter
    painter.worker = HOSTILE_WORKER  # a marked PDF makes it abort
    doc = (await (await post_pdf(client, h, meeting_id, item_id, BILL)).json())["document"]
    real_call = painter.call
    crashing_file = tmp_path / "abort.pdf"
    crashing_file.write_bytes(hostile_pdf("abort", BILL))

    async def crashing(op, args):
        return await real_call(op, {**args, "path": str(crashing_file)})

    painter.call = crashing
    r = await client.get(f"/api/documents/{doc['id']}/pages/1")
    assert r.status == 422 and (await r.json())["detail"] == "crashed"
    painter.call = real_call
    r = await client.get(f"/api/documents/{doc['id']}/pages/1")
    assert r.status == 200 and painter.restarts == 1
