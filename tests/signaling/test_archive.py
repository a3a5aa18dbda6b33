"""The archive over HTTP and the CLI: a recorded sitting is found, read, played, rendered into
the publishable video, exported, and imported back; tampering with an export is named."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import av
import pytest

from gikai.orchestrator.service.archive import ArchiveError
from gikai.signaling.app import create_app
from gikai.signaling.config import ServerConfig
from tests.signaling.test_api import login_clerk
from tests.signaling.test_sitting_ws import _join, latest
from tests.support.client import MediaClient
from tests.support.server import Parts
from tests.support.waiting import eventually


@pytest.fixture
async def finished(aiohttp_client, tmp_path):
    """A rehearsal sitting with two publishers: opened, one speech of about three seconds by a
    member, a short recess, adjourned; recorded in one-second segments."""
    client = await aiohttp_client(create_app(ServerConfig(
        data_dir=tmp_path, media_addresses=["127.0.0.1"], presence_detection=False, recording_segment_seconds=1.0)))
    services = Parts(client.app)
    _, participants, _ = await services.directory.ensure_rehearsal()
    tokens = [services.tokens.issue(p.id) for p in participants]
    sessions = [await _join(client, t, MediaClient(f"p{i}") if i in (0, 2) else None) for i, t in enumerate(tokens[:6])]
    chair, speaker = sessions[0], sessions[2]
    try:
        await eventually(lambda: latest(chair).get("quorum", {}).get("met"))
        assert (await chair.request("command", name="open"))["ok"]
        item = latest(chair)["agenda"][0]["id"]
        assert (await chair.request("command", name="take_up", item_id=item))["ok"]
        await asyncio.sleep(1.5)
        assert (await speaker.request("command", name="request_floor", kind="question"))["ok"]
        await eventually(lambda: latest(chair)["queue"]["requests"])
        asked = time.monotonic()
        assert (await chair.request("command", name="grant", request_id=latest(chair)["queue"]["requests"][0]["id"]))["ok"]
        granted = time.monotonic()
        await asyncio.sleep(3.0)  # the speech
        ending = time.monotonic()
        assert (await chair.request("command", name="end_speech"))["ok"]
        # How long the speech can have lasted on the record, whatever the machine's load.
        speech_seconds = (ending - granted, time.monotonic() - asked)
        assert (await chair.request("command", name="recess"))["ok"]
        await asyncio.sleep(1.0)
        assert (await chair.request("command", name="resume"))["ok"]
        await asyncio.sleep(1.0)
        assert (await chair.request("command", name="adjourn"))["ok"]
        meeting_id = latest(chair)["meeting_id"]
    finally:
        for s in sessions:
            await s.close()

    async def segments_all_on_record() -> bool:
        files = list(tmp_path.rglob("*.webm"))
        entries = [e for e in await services.sittings.events(meeting_id) if e.name == "recording_segment"]
        return bool(files) and not list(tmp_path.rglob("*.webm.part")) and len(entries) == len(files)

    await eventually(segments_all_on_record, message="every finished segment on the record, none still being written")
    username, password = await services.accounts.ensure_clerk()
    return client, services, meeting_id, speaker.me, (username, password), tmp_path, speech_seconds


async def test_the_archive_of_a_finished_sitting(finished):
    client, _services, meeting_id, speaker, clerk, root, (shortest, longest) = finished
    listed = await (await client.get("/api/archive", params={"q": "議案"})).json()
    assert [s["id"] for s in listed["sittings"]] == [meeting_id]
    assert (await (await client.get("/api/archive", params={"q": "存在しない"})).json())["sittings"] == []
    assert (await client.get("/api/archive", params={"date": "yesterday"})).status == 400

    sitting = (await (await client.get(f"/api/archive/{meeting_id}")).json())["sitting"]
    [speech] = sitting["speeches"]
    assert speech["holder_id"] == speaker
    assert shortest - 0.05 <= speech["end"] - speech["start"] <= longest + 0.05, (speech, shortest, longest)
    assert len(sitting["recesses"]) == 1
    keys = {t["key"] for t in sitting["tracks"]}
    assert f"{speaker}-video" in keys and f"{speaker}-audio" in keys
    video = next(t for t in sitting["tracks"] if t["key"] == f"{speaker}-video")
    gap = [s for s in video["segments"] if sitting["recesses"][0][0] < s["start"] < sitting["recesses"][0][1] - 0.2]
    assert not gap, "nothing is recorded in recess"

    svg = await (await client.get(f"/api/archive/{meeting_id}/timeline.svg")).text()
    assert ET.fromstring(svg).tag.endswith("svg") and "data-t" in svg
    root_svg = ET.fromstring(svg)
    assert float(root_svg.get("data-seconds")) >= sitting["duration"] - 0.01
    exported = await (await client.get(f"/api/archive/{meeting_id}/record.json")).json()
    from gikai.orchestrator.domain.audit import audit
    from gikai.orchestrator.domain.ledger import verify_chain
    from gikai.orchestrator.service.signing import signature_checker
    assert verify_chain(meeting_id, exported["entries"], signature_checker(exported["public_key"])) is None
    assert audit(exported["entries"])[0] is None
    pdf = await (await client.get(f"/api/archive/{meeting_id}/minutes.pdf")).read()
    assert pdf.startswith(b"%PDF")
    html = await (await client.get(f"/api/archive/{meeting_id}/minutes.html", params={"lang": "en"})).text()
    assert "Minutes" in html or "minutes" in html
    assert (await client.get(f"/api/archive/{meeting_id}/minutes.doc")).status == 404

    segment = video["segments"][0]["path"]
    part = await client.get(f"/api/archive/{meeting_id}/recordings/{segment}", headers={"Range": "bytes=0-99"})
    assert part.status == 206 and len(await part.read()) == 100
    assert (await client.get(f"/api/archive/{meeting_id}/recordings/../../secret.key")).status == 404

    # The publishable video: the clerk starts it, anyone watches the progress, then downloads.
    assert (await client.post(f"/api/archive/{meeting_id}/render")).status == 401
    csrf = await login_clerk(client, *clerk)
    started = await client.post(f"/api/archive/{meeting_id}/render", headers={"X-CSRF-Token": csrf})
    assert (await started.json())["render"]["state"] in ("running", "done")

    async def render_finished() -> dict:
        status = (await (await client.get(f"/api/archive/{meeting_id}/render")).json())["render"]
        return status if status["state"] != "running" else {}

    status = await eventually(render_finished, bound=120, interval=0.2, message="the render to finish")
    assert status["state"] == "done" and status["ready"], status
    mp4 = root / "out.mp4"
    mp4.write_bytes(await (await client.get(f"/api/archive/{meeting_id}/video.mp4")).read())
    with av.open(str(mp4)) as container:
        assert {s.codec_context.name for s in container.streams} >= {"h264", "aac"}
        assert abs(float(container.duration / 1_000_000) - sitting["duration"]) < 1.5


async def test_an_open_sitting_is_not_public(aiohttp_client, tmp_path):
    client = await aiohttp_client(create_app(ServerConfig(data_dir=tmp_path, media_addresses=["127.0.0.1"],
                                                          presence_detection=False)))
    services = Parts(client.app)
    meeting, participants, _ = await services.directory.ensure_rehearsal()
    for p in participants[:7]:
        await services.sittings.execute(meeting.id, lambda s, now, pid=p.id: s.connected(pid, now))
    await services.sittings.execute(meeting.id, lambda s, now: s.open(participants[0].id, now))
    assert (await (await client.get("/api/archive")).json())["sittings"] == []
    refused = await client.get(f"/api/archive/{meeting.id}")
    assert refused.status == 403 and (await refused.json())["message"]["ja"]
    assert (await client.get("/api/archive/nonexistent")).status == 404


async def test_an_export_imports_elsewhere_and_any_edit_is_named(finished, tmp_path_factory):
    _client, services, meeting_id, *_ = finished
    out = tmp_path_factory.mktemp("export")
    manifest = await services.archive.export(meeting_id, out)
    assert {"record.json", "minutes.pdf", "minutes.html", "minutes.json"} <= set(manifest["files"])
    assert any(name.startswith("recordings/") for name in manifest["files"])

    from gikai.orchestrator.service.archive import ArchiveService

    elsewhere = tmp_path_factory.mktemp("elsewhere")
    other = ArchiveService(services.db.unit_of_work, services.sittings.signer, elsewhere / "recordings", elsewhere / "imported")
    assert other.import_folder(out) == meeting_id
    assert (await other.chronicle(meeting_id)).chain_head == manifest["chain_head"]

    def tampered(change) -> str:
        copy = tmp_path_factory.mktemp("tampered") / "x"
        shutil.copytree(out, copy)
        change(copy)
        with pytest.raises(ArchiveError) as caught:
            other.import_folder(copy)
        return str(caught.value)

    first = next(n for n in manifest["files"] if n.startswith("recordings/"))
    assert first in tampered(lambda d: (d / first).write_bytes(b"not a video"))

    def edit_record(d):
        record = json.loads((d / "record.json").read_text(encoding="utf-8"))
        record["entries"][3]["data"]["x"] = 1
        text = json.dumps(record, ensure_ascii=False)
        (d / "record.json").write_text(text, encoding="utf-8")
        files = json.loads((d / "archive.json").read_text(encoding="utf-8"))
        import hashlib
        files["files"]["record.json"] = hashlib.sha256(text.encode()).hexdigest()
        (d / "archive.json").write_text(json.dumps(files, ensure_ascii=False), encoding="utf-8")

    assert "entry 4" in tampered(edit_record)


def _gikai(*args: str) -> subprocess.CompletedProcess[str]:
    """The gikai command, as an operator types it."""
    done = subprocess.run([sys.executable, "-m", "gikai", *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done


async def test_a_sitting_moved_to_a_new_server_is_listed_searchable_exportable_and_verifies(
        finished, aiohttp_client, tmp_path_factory):
    _client, services, meeting_id, speaker, *_ = finished
    out = tmp_path_factory.mktemp("export") / "sitting"
    await services.archive.export(meeting_id, out)
    speaker_name = next(p.name for p in await services.directory.participants(meeting_id) if p.id == speaker)

    # a new server: its own data folder, database and signing key
    new = tmp_path_factory.mktemp("new-server")
    _gikai("archive", "import", str(out), "--data", str(new))
    client = await aiohttp_client(create_app(ServerConfig(data_dir=new, media_addresses=["127.0.0.1"],
                                                          presence_detection=False)))
    listed = (await (await client.get("/api/archive")).json())["sittings"]
    assert [s["id"] for s in listed] == [meeting_id]
    for query in ({"q": "議案"}, {"speaker": speaker_name[:2]}, {"body": listed[0]["body"]},
                  {"date": listed[0]["scheduled_at"][:10]}):
        found = (await (await client.get("/api/archive", params=query)).json())["sittings"]
        assert [s["id"] for s in found] == [meeting_id], query
    assert (await (await client.get("/api/archive", params={"speaker": "存在しない人"})).json())["sittings"] == []
    sitting = (await (await client.get(f"/api/archive/{meeting_id}")).json())["sitting"]
    assert [s["holder_id"] for s in sitting["speeches"]] == [speaker]

    # its record verifies with the key of the server that held it, over HTTP and from the CLI
    downloaded = new / "downloaded.json"
    downloaded.write_bytes(await (await client.get(f"/api/archive/{meeting_id}/record.json")).read())
    assert "ok:" in _gikai("verify", str(downloaded)).stdout
    exported = new / "record.json"
    _gikai("record", "export", meeting_id, "--out", str(exported), "--data", str(new))
    assert "ok:" in _gikai("verify", str(exported)).stdout
    assert json.loads(exported.read_text(encoding="utf-8"))["public_key"] == services.sittings.signer.public_pem()

    # and it moves on again, whole: a third server imports the second one's export
    again = new / "again"
    _gikai("archive", "export", meeting_id, "--out", str(again), "--data", str(new))
    third = tmp_path_factory.mktemp("third-server")
    _gikai("archive", "import", str(again), "--data", str(third))
    assert (third / "imported" / meeting_id / "record.json").is_file()
