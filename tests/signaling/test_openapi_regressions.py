"""What schemathesis and the probes around it found in the HTTP API, each kept fixed: requests
that made the server answer 500 (and log a traceback) now get a clear 400 with a catalogue code.
On SQLite and on PostgreSQL, whose text cannot hold the NUL character."""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime

import pytest
from sqlalchemy import text

from gikai.orchestrator.domain.accounts import Credential
from gikai.orchestrator.persistence.database import Database
from gikai.orchestrator.persistence.rows import Base
from gikai.signaling.app import create_app
from gikai.signaling.config import ServerConfig
from tests.signaling.test_api import ROSTER, login_clerk
from tests.signaling.test_documents_api import BILL, new_sitting
from tests.signaling.test_http_edge import assert_security_headers
from tests.support.server import Parts

POSTGRES_URL = os.environ.get("GIKAI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


async def fresh_database(kind: str) -> str | None:
    """None for the SQLite file in the data folder; else the PostgreSQL database, emptied."""
    if kind == "sqlite":
        return None
    db = Database(POSTGRES_URL)
    async with db.engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    await db.close()
    return POSTGRES_URL


def server_trouble(records: list[logging.LogRecord]) -> list[str]:
    """Errors and tracebacks in the server's log ("Error handling request" is aiohttp's)."""
    return [f"{r.name} {r.levelname}: {r.getMessage()}" for r in records
            if r.levelno >= logging.ERROR or r.exc_info or "Error handling request" in r.getMessage()]


@pytest.fixture(params=DATABASES)
async def clerk(request, aiohttp_client, tmp_path, caplog):
    """The clerk logged in, with a committee's sitting; the test fails on any server error logged."""
    caplog.set_level(logging.WARNING)
    config = ServerConfig(data_dir=tmp_path, media_addresses=["127.0.0.1"], presence_detection=False,
                          database_url=await fresh_database(request.param))
    client = await aiohttp_client(create_app(config))
    services = Parts(client.app)
    username, password = await services.accounts.ensure_clerk()
    h = {"X-CSRF-Token": await login_clerk(client, username, password)}
    body_id, meeting_id, item_id = await new_sitting(client, h)
    yield client, h, {"body": body_id, "meeting": meeting_id, "item": item_id}
    assert not server_trouble(caplog.records)


async def refused(response, code: str) -> dict:
    assert response.status == 400, await response.text()
    body = await response.json()
    assert body["ok"] is False and body["code"] == code and body["message"]["en"], body
    return body


async def test_a_fixed_membership_no_number_column_holds_is_refused(clerk):
    client, h, _ = clerk
    for number in ("1e400", "Infinity", "100000000000000000000000", '"99999999999999999999999"', "0", "1001"):
        r = await client.post("/api/admin/bodies", data=f'{{"name": "総務委員会", "fixed_membership": {number}}}',
                              headers={**h, "Content-Type": "application/json"})
        await refused(r, "invalid_argument")
    r = await client.post("/api/admin/bodies", json={"name": "本会議", "kind": "plenary", "fixed_membership": 1000},
                          headers=h)
    assert r.status == 200


async def test_a_roster_seat_no_number_column_holds_is_refused(clerk):
    client, h, ids = clerk
    roster = "seat,name,reading,role\n100000000000000000000000,田中 次郎,たなか じろう,委員\n"
    body = await refused(await client.post(f"/api/admin/bodies/{ids['body']}/roster", json={"csv": roster},
                                           headers=h), "invalid_roster")
    assert "from 1 to 9999" in body["detail"]
    roster = "seat,name,reading,role\n9999,田中 次郎,たなか じろう,委員\n"
    r = await client.post(f"/api/admin/bodies/{ids['body']}/roster", json={"csv": roster}, headers=h)
    assert r.status == 200 and (await r.json())["imported"] == 1


async def test_a_roster_the_csv_module_cannot_read_is_refused_and_old_mac_line_ends_are_read(clerk):
    client, h, ids = clerk
    url = f"/api/admin/bodies/{ids['body']}/roster"
    too_long = "seat,name,reading,role\n4,\"" + "a" * 140_000 + "\",あ,委員\n"  # over the csv module's field limit
    body = await refused(await client.post(url, json={"csv": too_long}, headers=h), "invalid_roster")
    assert "not a CSV file" in body["detail"]
    # A carriage return alone ends a line, as in a CSV file from an old Excel for Mac (it was a 500).
    mac = "seat,name,reading,role\r4,田中 次郎,たなか じろう,委員\r5,中村 三郎,なかむら さぶろう,委員\r"
    r = await client.post(url, json={"csv": mac}, headers=h)
    assert r.status == 200 and (await r.json())["imported"] == 2, await r.text()


async def test_a_nul_character_in_json_text_is_refused_and_nothing_is_stored(clerk):
    client, h, ids = clerk
    changes = [
        ("/api/admin/bodies", {"name": "総務\x00委員会", "fixed_membership": 3}),
        (f"/api/admin/bodies/{ids['body']}/roster", {"csv": ROSTER.replace("山田", "山\x00田")}),
        ("/api/admin/meetings", {"body_id": ids["body"], "title": "第2回\x00", "scheduled_at": "2026-03-11T10:00"}),
        ("/api/admin/meetings", {"body_id": ids["body"] + "\x00", "title": "第2回", "scheduled_at": "2026-03-11"}),
        (f"/api/admin/meetings/{ids['meeting']}/agenda", {"title": "議案\x00第2号"}),
        (f"/api/admin/meetings/{ids['meeting']}/participants", {"name": "説明員", "reading": "せつめい\x00いん"}),
        ("/api/admin/bodies", {"name": "総務委員会", "fixed_membership": 3, "note\x00": "a key"}),
        ("/api/login", {"username": "clerk\x00", "password": "x"}),
        ("/api/enrol/options", {"token": "\x00"}),
    ]
    before = await (await client.get("/api/admin/overview")).json()
    for path, data in changes:
        body = await refused(await client.post(path, json=data, headers=h), "bad_request")
        assert "NUL" in body["detail"], (path, body)
    after = await (await client.get("/api/admin/overview")).json()
    assert after["bodies"] == before["bodies"] and after["meetings"] == before["meetings"]


async def test_a_nul_character_in_an_api_address_is_refused_before_any_lookup(clerk):
    client, h, ids = clerk
    meeting = ids["meeting"]
    for method, path in (("GET", f"/api/meetings/{meeting}%00/documents"),
                         ("GET", f"/api/meetings/{meeting}/documents?item=%00"),
                         ("GET", f"/api/meetings/{meeting}/documents/search?q=a%00b"),
                         ("GET", "/api/documents/x%00"),
                         ("GET", "/api/documents/x/pages/%00"),
                         ("GET", f"/api/archive/{meeting}%00"),
                         ("GET", "/api/archive?q=%00&speaker=%00"),
                         ("GET", "/api/archive/x%00/recordings/a%00b"),
                         ("POST", f"/api/admin/meetings/{meeting}%00/agenda"),
                         ("POST", "/api/admin/members/x%00/enrolment"),
                         ("POST", "/api/admin/members/x%00/revoke"),
                         ("DELETE", "/api/admin/documents/x%00")):
        r = await client.request(method, path, json={"title": "議案"}, headers=h)
        body = await refused(r, "bad_request")
        assert "NUL" in body["detail"], (path, body)
        assert_security_headers(r.headers, https=False)
    # the text "%00" itself, percent-encoded, is only text
    r = await client.get(f"/api/meetings/{meeting}/documents/search?q=%2500")
    assert r.status == 200 and (await r.json())["results"] == []
    assert (await client.get(f"/gallery/{meeting}%00")).status == 200  # a page: no lookup, no refusal


def multipart(title: bytes, filename: bytes) -> bytes:
    return (b"--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n" + title +
            b"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename +
            b"\"\r\nContent-Type: application/pdf\r\n\r\n" + BILL + b"\r\n--XyZ--\r\n")


async def test_an_upload_with_a_malformed_part_header_or_a_nul_in_its_names_is_refused(clerk):
    client, h, ids = clerk
    url = f"/api/admin/meetings/{ids['meeting']}/items/{ids['item']}/documents"
    headers = {**h, "Content-Type": "multipart/form-data; boundary=XyZ"}
    for title, filename in ((b"t", b"a\x00.pdf"),  # a NUL byte in a part's header: aiohttp's parser refuses it
                            (b"t\x00", b"a.pdf")):
        await refused(await client.post(url, data=multipart(title, filename), headers=headers), "bad_request")
    nul_name = multipart(b"t", b"a.pdf").replace(b'filename="a.pdf"', b"filename*=UTF-8''a%00.pdf")
    await refused(await client.post(url, data=nul_name, headers=headers), "bad_request")
    r = await client.get(f"/api/meetings/{ids['meeting']}/documents")
    assert (await r.json())["documents"] == []
    r = await client.post(url, data=multipart(b"\xe8\xad\xb0\xe6\xa1\x88", b"a.pdf"), headers=headers)
    assert r.status == 200, await r.text()
    assert json.loads(await r.text())["document"]["title"] == "議案"


async def test_a_passkey_response_of_the_wrong_shape_is_refused_as_a_failed_passkey(clerk):
    """py_webauthn refuses a response missing rawId or clientDataJSON with InvalidJSONStructure,
    which is not one of its Invalid...Response errors: it was a 500 in both ceremonies."""
    client, _, ids = clerk
    services = Parts(client.app)
    overview = await services.admin.overview()
    member = next(b for b in overview["bodies"] if b["id"] == ids["body"])["members"][0]
    enrolment = await services.accounts.issue_enrolment(member["id"])
    account = await services.accounts.enrolment_account(enrolment)
    await services.accounts.complete_enrolment(
        enrolment, Credential("cred-stored", account.id, b"key", 0, datetime.now()))
    wrong_shapes = ({"id": "cred-stored", "type": "public-key", "response": {}},
                    {"id": "cred-stored", "rawId": "Y3JlZA", "type": "public-key", "response": {"signature": "AA"}})
    for credential in wrong_shapes:
        ceremony = (await (await client.post("/api/passkey/options")).json())["ceremony"]
        r = await client.post("/api/passkey/verify", json={"ceremony": ceremony, "credential": credential})
        await refused(r, "passkey_failed")
    enrolment = await services.accounts.issue_enrolment(member["id"])
    ceremony = (await (await client.post("/api/enrol/options", json={"token": enrolment})).json())["ceremony"]
    r = await client.post("/api/enrol/verify", json={"token": enrolment, "ceremony": ceremony,
                                                     "credential": wrong_shapes[0]})
    await refused(r, "passkey_failed")

