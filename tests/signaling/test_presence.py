"""Attendance from the cameras over the whole stack: seen faces count, an empty room does not."""

from __future__ import annotations

import pytest

from signaling.app import create_app
from signaling.services import ServerConfig, Services
from tests.signaling.test_ws import Session
from tests.support import scenes
from tests.support.client import MediaClient
from tests.support.encoded import EncodedSourceTrack
from tests.support.room import wait_for


def member(name: str, scene: str = "face") -> MediaClient:
    return MediaClient(name, video=EncodedSourceTrack("video", scenes.video(scene), 15),
                       audio=EncodedSourceTrack("audio", scenes.audio("speech" if scene == "face" else "silence"), 50),
                       keep_frames=False)


@pytest.fixture
async def server(aiohttp_client, tmp_path):
    client = await aiohttp_client(create_app(ServerConfig(data_dir=tmp_path, media_addresses=["127.0.0.1"])))
    services = client.app[Services.KEY]
    _, participants, _ = await services.directory.ensure_rehearsal()
    return client, services, [services.tokens.issue(p.id) for p in participants]


def sitting(s: Session) -> dict:
    pushes = s.pushed("sitting")
    return pushes[-1]["sitting"] if pushes else {}


async def test_members_seen_on_camera_make_the_quorum_and_an_empty_chair_does_not(server):
    client, services, tokens = server
    sessions = []
    try:
        for i, token in enumerate(tokens[:6]):
            s = Session(await client.ws_connect("/ws"), member(f"m{i}"))
            reply = await s.request("join", token=token)
            s.me = reply["data"]["participant"]["id"]
            sessions.append(s)
        empty = Session(await client.ws_connect("/ws"), member("empty", "empty"))
        empty.me = (await empty.request("join", token=tokens[6]))["data"]["participant"]["id"]
        sessions.append(empty)
        chair = sessions[0]
        assert not sitting(chair).get("quorum", {}).get("met"), "joining is not attending"
        await wait_for(lambda: sitting(chair).get("quorum", {}).get("met"), timeout=20)
        view = sitting(chair)
        assert len(view["quorum"]["counted"]) == 6 and empty.me not in view["quorum"]["counted"]
        await wait_for(lambda: sitting(chair)["presence"].get(empty.me, {}).get("state") == "away", timeout=10)
        assert (await chair.request("command", name="open"))["ok"]

        # One member's camera stops: after the grace period they are no longer counted.
        leaver = sessions[5]
        for t in leaver.media.pc.getTransceivers():
            if t.sender.track is leaver.media.video:
                t.sender.replaceTrack(None)
        await wait_for(lambda: sitting(chair)["presence"][leaver.me]["state"] == "camera_off", timeout=15)
        view = sitting(chair)
        assert leaver.me not in view["quorum"]["counted"] and not view["quorum"]["met"]
        names = [e.name for e in await services.sittings.events(view["meeting_id"])]
        assert "presence_changed" in names and names.count("attendance_started") >= 6
        assert "quorum_lost" in names, "losing quorum in session is on the record"
        sitting_now = await services.sittings.get(view["meeting_id"])
        ended = [i for i in sitting_now.attendance.intervals if i.participant_id == leaver.me]
        assert len(ended) == 1 and ended[0].end is not None
        table = (await chair.request("attendance"))["data"]["intervals"]
        mine = [i for i in table if i["participant_id"] == leaver.me]
        assert len(mine) == 1 and mine[0]["mode"] == "remote" and mine[0]["end"] > mine[0]["start"]
    finally:
        for s in sessions:
            await s.close()
