"""Recording follows the sitting: on while open, off in recess or when the chair says so, every
finished segment on the record, a full disk stops it with an alert and the sitting goes on."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from gikai.signaling.app import create_app
from gikai.signaling.config import ServerConfig
from tests.signaling.test_sitting_ws import _join, latest
from tests.support.client import MediaClient
from tests.support.server import Parts
from tests.support.waiting import eventually


@pytest.fixture
async def recorded(aiohttp_client, tmp_path):
    def make(**config):
        return aiohttp_client(create_app(ServerConfig(
            data_dir=tmp_path, media_addresses=["127.0.0.1"], presence_detection=False,
            recording_segment_seconds=1.0, **config)))
    return make, tmp_path


async def _sitting(make, publishers: int):
    client = await make
    services = Parts(client.app)
    _, participants, _ = await services.directory.ensure_rehearsal()
    tokens = [services.tokens.issue(p.id) for p in participants]
    sessions = []
    for i, token in enumerate(tokens[:6]):
        media = MediaClient(f"p{i}") if i < publishers else None
        sessions.append(await _join(client, token, media))
    return client, services, sessions


def events_named(names: list[str], name: str) -> int:
    return sum(1 for n in names if n == name)


async def test_an_open_sitting_is_recorded_and_each_segment_is_on_the_record(recorded):
    make, root = recorded
    _client, services, sessions = await _sitting(make(), publishers=2)
    chair = sessions[0]
    try:
        meeting_id = None
        await eventually(lambda: latest(chair).get("quorum", {}).get("met"))
        assert not latest(chair)["recording"], "nothing is recorded before the opening"
        assert (await chair.request("command", name="open"))["ok"]
        await eventually(lambda: latest(chair).get("recording") is True)
        meeting_id = latest(chair)["meeting_id"]

        async def names() -> list[str]:
            return [e.name for e in await services.sittings.events(meeting_id)]

        names_now: list[str] = []

        async def segments_recorded() -> bool:
            names_now[:] = await names()
            return events_named(names_now, "recording_segment") >= 4

        await eventually(segments_recorded, message="four recording segments on the record", seen=lambda: names_now)

        # Recess: recording pauses; the chair's switch turns it off and on.
        assert (await chair.request("command", name="recess"))["ok"]
        await eventually(lambda: latest(chair)["recording"] is False)
        assert (await chair.request("command", name="resume"))["ok"]
        await eventually(lambda: latest(chair)["recording"] is True)
        assert (await sessions[2].request("command", name="recording", on=False))["code"] == "not_chair"
        assert (await chair.request("command", name="recording", on=False))["ok"]
        await eventually(lambda: latest(chair)["recording"] is False)

        events = [e for e in await services.sittings.events(meeting_id) if e.name == "recording_segment"]
        keys = {e.data["key"] for e in events}
        # Both cameras; only the chair's microphone: in floor mode the vice-chair is not heard.
        assert keys == {f"{sessions[0].me}-video", f"{sessions[1].me}-video", f"{sessions[0].me}-audio"}
        for e in events:
            path = Path(root) / "recordings" / meeting_id / e.data["path"]
            assert path.is_file() and len(e.data["sha256"]) == 64
            with av.open(str(path)) as container:
                assert sum(1 for _ in container.demux()) > 0
        video = sorted((e.data for e in events if e.data["kind"] == "video"), key=lambda d: d["start"])
        assert video[0]["start"] < 3.0, "the recording clock starts at the opening"
    finally:
        for s in sessions:
            await s.close()


async def test_a_full_disk_stops_recording_with_an_alert_and_the_sitting_goes_on(recorded):
    make, _ = recorded
    _client, _services, sessions = await _sitting(make(recording_min_free_bytes=1 << 62), publishers=1)
    chair = sessions[0]
    try:
        await eventually(lambda: latest(chair).get("quorum", {}).get("met"))
        assert (await chair.request("command", name="open"))["ok"]
        await eventually(lambda: any(e["name"] == "recording_failed" for p in chair.pushed("sitting")
                                   for e in p["events"]))
        failed = next(e for p in chair.pushed("sitting") for e in p["events"] if e["name"] == "recording_failed")
        assert failed["data"]["reason"] == "disk_full"
        assert latest(chair)["state"] == "open" and latest(chair)["recording"] is False
        assert (await chair.request("command", name="recess"))["ok"], "the sitting carries on"
    finally:
        for s in sessions:
            await s.close()


async def test_a_server_killed_while_recording_keeps_every_finished_segment_and_says_where_it_stopped(tmp_path):
    import aiohttp

    from gikai.orchestrator.persistence.database import Database, sqlite_url
    from gikai.orchestrator.persistence.record import RecordRepository
    from tests.e2e.conftest import start_server
    from tests.signaling.test_ballot_crash import _join_all
    from tests.signaling.test_ws import Session

    args = ["--no-presence-detection", "--recording-segment-seconds", "2"]
    server = start_server(tmp_path, extra=args)
    sessions = []
    try:
        async with aiohttp.ClientSession() as http:
            publisher = Session(await http.ws_connect(f"{server.base_url}/ws"), MediaClient("publisher"))
            assert (await publisher.request("join", token=server.links[1].split("#", 1)[1]))["ok"]
            sessions = [publisher] + await _join_all(http, server.base_url, [server.links[0], *server.links[2:6]])
            chair = sessions[1]
            assert (await chair.request("command", name="open"))["ok"]
            folder = server.data / "recordings"
            await eventually(lambda: len(list(folder.rglob("*.webm"))) >= 2)
            await eventually(lambda: len(list(folder.rglob("*.webm.part"))) >= 1)
            server.process.kill()
            server.process.wait()
            for s in sessions:
                await s.close()
            finished_before = {p.name for p in folder.rglob("*.webm")}
            for path in folder.rglob("*.webm"):
                with av.open(str(path)) as container:
                    assert sum(1 for _ in container.demux()) > 0, path

        server = start_server(tmp_path, port=server.port, log_name="server2.log", extra=args)
        assert not list(folder.rglob("*.webm.part")), "the open segment was recovered or removed"
        assert finished_before <= {p.name for p in folder.rglob("*.webm")}
        db = Database(sqlite_url(server.data))
        try:
            async with db.session() as session:
                meeting_id = next(iter(p.name for p in folder.iterdir()))
                entries = await RecordRepository(session).entries(meeting_id)
        finally:
            await db.close()
        interrupted = [e for e in entries if e["name"] == "recording_interrupted"]
        assert len(interrupted) == 1 and interrupted[0]["data"]["stopped_at"] > 0
        recovered = [e for e in entries if e["name"] == "recording_segment" and e["data"]["recovered"]]
        assert interrupted[0]["data"]["segments_recovered"] == len(recovered)
        for e in recovered:  # the segment open at the kill, if anything in it was readable
            with av.open(str(folder / meeting_id / e["data"]["path"])) as container:
                assert sum(1 for _ in container.demux()) > 0
    finally:
        for s in sessions:
            await s.close()
        server.process.kill()
        server.process.wait()
