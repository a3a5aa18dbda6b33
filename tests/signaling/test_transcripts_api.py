"""The minutes' words over HTTP with roles, and `gikai verify --minutes` on an export: a member
cannot correct, the clerk can; after finalising, corrections are refused with their code; the
exported record and minutes verify, and an edited minutes.json fails naming the speech."""

from __future__ import annotations

import hashlib
import json

import pytest

from gikai.orchestrator.domain.rules import SpeechKind
from gikai.orchestrator.service.archive import ArchiveService
from gikai.signaling.app import create_app
from gikai.signaling.auth.sessions import COOKIE
from gikai.signaling.cli.admin import verify_file
from gikai.signaling.config import ServerConfig
from gikai.signaling.http.state import TRANSCRIPTS
from tests.signaling.test_api import login_clerk
from tests.support.server import Parts

AUDIO = b"not played here"


class Drafter:
    async def draft(self, meeting_id, track_key, start, end, prompt):
        return [(start, start + 1, "除雪体制について質疑します。"), (start + 1, start + 2, "予算は十分ですか。")]


@pytest.fixture
async def adjourned(aiohttp_client, tmp_path):
    """The rehearsal sitting: one question by a member (with recorded audio), adjourned, drafted."""
    client = await aiohttp_client(create_app(ServerConfig(data_dir=tmp_path, media_addresses=["127.0.0.1"],
                                                          presence_detection=False)))
    services = Parts(client.app)
    meeting, participants, _ = await services.directory.ensure_rehearsal()
    chair, speaker = participants[0], participants[2]

    async def run(command):
        await services.sittings.execute(meeting.id, command)

    for p in participants[:7]:
        await run(lambda s, now, pid=p.id: s.connected(pid, now))
    await run(lambda s, now: s.open(chair.id, now))
    await run(lambda s, now: s.request_floor(speaker.id, SpeechKind.QUESTION, now))
    request = (await services.sittings.get(meeting.id)).queue.requests[0]
    await run(lambda s, now: s.grant(chair.id, request.id, now))
    await run(lambda s, now: s.end_speech(speaker.id, now))
    await run(lambda s, now: s.recording_event("recording_segment", now, {
        "key": f"{speaker.id}-audio", "start": 0, "end": 5, "sha256": hashlib.sha256(AUDIO).hexdigest(),
        "path": "a.webm", "kind": "audio"}))
    await run(lambda s, now: s.adjourn(chair.id, now))
    (tmp_path / "recordings" / meeting.id).mkdir(parents=True, exist_ok=True)
    (tmp_path / "recordings" / meeting.id / "a.webm").write_bytes(AUDIO)
    assert await client.app[TRANSCRIPTS].draft_minutes(meeting.id, Drafter(), "test") == 1
    clerk = await services.accounts.ensure_clerk()
    return client, services, meeting, speaker, clerk, tmp_path


async def as_member(client, services, member_id):
    account = await services.accounts.member_account(member_id)
    async with services.db.unit_of_work() as uow:
        token, login = await services.accounts._start_session(uow, account.id)
    client.session.cookie_jar.update_cookies({COOKIE: token})
    return login.csrf


async def test_anyone_reads_the_speeches_and_searches_them(adjourned):
    client, _services, meeting, speaker, _clerk, _ = adjourned
    got = await (await client.get(f"/api/archive/{meeting.id}/speeches")).json()
    [speech] = got["speeches"]
    assert got["finalised"] is None and speech["speaker_id"] == speaker.id and speech["kind"] == "question"
    assert [(s["text"], s["corrected"]) for s in speech["sentences"]] == [
        ("除雪体制について質疑します。", False), ("予算は十分ですか。", False)]
    found = await (await client.get("/api/archive/search", params={"q": "除雪体制", "speaker": "鈴木"})).json()
    assert [(r["meeting_id"], r["speech_index"], r["sentence_index"]) for r in found["results"]] == [(meeting.id, 0, 0)]
    assert found["results"][0]["start"] == speech["sentences"][0]["start"]
    assert (await (await client.get("/api/archive/search", params={"q": "予算"})).json())["results"]
    assert (await client.get("/api/archive/search", params={"q": " "})).status == 400
    listed = await (await client.get("/api/archive", params={"q": "除雪体制"})).json()
    assert [s["id"] for s in listed["sittings"]] == [meeting.id]


async def test_a_member_cannot_correct_or_finalise_or_set_the_vocabulary(adjourned):
    client, services, meeting, speaker, _clerk, _ = adjourned
    url = f"/api/archive/{meeting.id}/speeches/0/sentences/1"
    assert (await client.put(url, json={"text": "直す"})).status == 401
    csrf = await as_member(client, services, speaker.member_id)
    refused = await client.put(url, json={"text": "直す"}, headers={"X-CSRF-Token": csrf})
    assert refused.status == 403 and (await refused.json())["code"] == "not_clerk"
    refused = await client.post(f"/api/archive/{meeting.id}/minutes/finalise", headers={"X-CSRF-Token": csrf})
    assert (await refused.json())["code"] == "not_clerk"
    body = await services.admin.body_of(meeting.id)
    assert (await client.get(f"/api/bodies/{body.id}/vocabulary")).status == 403


async def test_the_clerk_corrects_finalises_and_then_corrections_are_refused(adjourned):
    client, services, meeting, _speaker, clerk, root = adjourned
    h = {"X-CSRF-Token": await login_clerk(client, *clerk)}
    body = await services.admin.body_of(meeting.id)
    vocab = await client.put(f"/api/bodies/{body.id}/vocabulary", json={"terms": ["除雪", " 除雪 ", "補正予算"]}, headers=h)
    assert (await vocab.json())["terms"] == ["除雪", "補正予算"]
    assert (await (await client.get(f"/api/bodies/{body.id}/vocabulary")).json())["terms"] == ["除雪", "補正予算"]
    bad = await client.put(f"/api/bodies/{body.id}/vocabulary", json={"terms": ["あ" * 41]}, headers=h)
    assert (await bad.json())["code"] == "invalid_vocabulary"

    url = f"/api/archive/{meeting.id}/speeches/0/sentences/1"
    fixed = await client.put(url, json={"text": "予算は足りていますか。"}, headers=h)
    assert fixed.status == 200, await fixed.text()
    sentence = (await fixed.json())["sentences"][1]
    assert (sentence["index"], sentence["text"], sentence["corrected"]) == (1, "予算は足りていますか。", True)
    assert (await client.put(f"/api/archive/{meeting.id}/speeches/0/sentences/9", json={"text": "x"},
                             headers=h)).status == 404
    assert (await client.put(f"/api/archive/{meeting.id}/speeches/x/sentences/0", json={"text": "x"},
                             headers=h)).status == 400

    done = await client.post(f"/api/archive/{meeting.id}/minutes/finalise", headers=h)
    digest = (await done.json())["sha256"]
    refused = await client.put(url, json={"text": "もう一度直す"}, headers=h)
    assert refused.status == 400 and (await refused.json())["code"] == "minutes_finalised"
    assert (await refused.json())["message"]["ja"].startswith("この会議録はすでに確定")
    got = await (await client.get(f"/api/archive/{meeting.id}/speeches")).json()
    assert got["finalised"]["sha256"] == digest

    # The export carries the texts; verify recomputes their hash, and names an edited speech.
    out = root / "export"
    await services.archive.export(meeting.id, out)
    minutes = json.loads((out / "minutes.json").read_text(encoding="utf-8"))
    assert minutes["speeches"][0]["text"] == "除雪体制について質疑します。予算は足りていますか。"
    assert "予算は足りていますか。" in (out / "minutes.html").read_text(encoding="utf-8")
    assert verify_file(out / "record.json", None, (), out / "minutes.json") == 0
    # another server imports the export: its minutes carry the same final texts
    elsewhere = ArchiveService(services.db.unit_of_work, services.archive.signer, root / "rec2", root / "imp2")
    assert elsewhere.import_folder(out) == meeting.id
    words = await elsewhere.words(meeting.id)
    assert words.texts[0].text == minutes["speeches"][0]["text"] and words.finalised["sha256"] == digest
    minutes["speeches"][0]["text"] = "除雪体制について質疑します。予算は十分ですか。"
    (out / "edited.json").write_text(json.dumps(minutes, ensure_ascii=False), encoding="utf-8")
    assert verify_file(out / "record.json", None, (), out / "edited.json") == 1


async def test_verify_names_the_edited_speech(adjourned, capsys):
    client, services, meeting, _speaker, clerk, root = adjourned
    h = {"X-CSRF-Token": await login_clerk(client, *clerk)}
    assert (await client.post(f"/api/archive/{meeting.id}/minutes/finalise", headers=h)).status == 200
    out = root / "export"
    await services.archive.export(meeting.id, out)
    minutes = json.loads((out / "minutes.json").read_text(encoding="utf-8"))
    minutes["speeches"][0]["sentences"][1]["text"] = "予算は余っています。"  # the sentence, not the whole text
    (out / "minutes.json").write_text(json.dumps(minutes, ensure_ascii=False), encoding="utf-8")
    capsys.readouterr()
    assert verify_file(out / "record.json", None, (), out / "minutes.json") == 1
    assert "speech 1 (鈴木 一郎)" in capsys.readouterr().err
