"""Attendance from the cameras over the whole stack: seen faces count, an empty room does not."""

from __future__ import annotations

import pytest

from gikai.signaling.app import create_app
from gikai.signaling.config import ServerConfig
from tests.signaling.test_ws import Session
from tests.support import scenes
from tests.support.client import MediaClient
from tests.support.encoded import EncodedSourceTrack
from tests.support.server import Parts
from tests.support.waiting import eventually


def member(name: str, scene: str = "face") -> MediaClient:
    # 320x180: the analysis looks at 160x90, and seven members' video forwarded to each other in
    # the test's one process is then a third of the packets.
    return MediaClient(name, video=EncodedSourceTrack("video", scenes.video(scene, 320, 180), 15),
                       audio=EncodedSourceTrack("audio", scenes.audio("speech" if scene == "face" else "silence"), 50),
                       keep_frames=False)


@pytest.fixture
async def server(aiohttp_client, tmp_path):
    client = await aiohttp_client(create_app(ServerConfig(data_dir=tmp_path, media_addresses=["127.0.0.1"])))
    services = Parts(client.app)
    _, participants, _ = await services.directory.ensure_rehearsal()
    return client, services, [services.tokens.issue(p.id) for p in participants]


# Attendance comes from analysing every camera, and here seven members' media, the server and
# the test share one process: beside two CPU-burning processes, a quorum took more than 60 s once.
PRESENCE_BOUND = 120.0


def presence(s: Session) -> dict:
    """Each participant's presence, and the quorum's not counted with their reasons."""
    view = sitting(s)
    return {"presence": {pid: p.get("state") for pid, p in view.get("presence", {}).items()},
            "not_counted": view.get("quorum", {}).get("not_counted"), "attendance": view.get("attendance")}


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
        await eventually(lambda: sitting(chair).get("quorum", {}).get("met"), bound=PRESENCE_BOUND,
                         message="the quorum met from the cameras", seen=lambda: presence(chair))
        view = sitting(chair)
        assert len(view["quorum"]["counted"]) == 6 and empty.me not in view["quorum"]["counted"]
        await eventually(lambda: sitting(chair)["presence"].get(empty.me, {}).get("state") == "away",
                         bound=PRESENCE_BOUND, seen=lambda: presence(chair))
        assert (await chair.request("command", name="open"))["ok"]

        # One member's camera stops: after the grace period they are no longer counted.
        leaver = sessions[5]
        for t in leaver.media.pc.getTransceivers():
            if t.sender.track is leaver.media.video:
                t.sender.replaceTrack(None)
        await eventually(lambda: sitting(chair)["presence"][leaver.me]["state"] == "camera_off",
                         bound=PRESENCE_BOUND, seen=lambda: presence(chair))
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


async def test_a_vote_needs_the_voter_on_camera_and_keeps_a_still_of_them(server):
    import cv2
    import numpy as np

    from gikai.orchestrator.persistence.rows import NamedVoteRow
    from tests.signaling.test_voting_ws import enrol, vote

    client, services, tokens = server
    _, participants, _ = await services.directory.ensure_rehearsal()
    keys = {i: await enrol(client, services, participants[i]) for i in (1, 2, 6)}
    sessions = []
    try:
        for i, token in enumerate(tokens[:7]):
            s = Session(await client.ws_connect("/ws"), member(f"m{i}", "empty" if i == 6 else "face"))
            s.me = (await s.request("join", token=token))["data"]["participant"]["id"]
            sessions.append(s)
        chair, voter, leaver, empty = sessions[0], sessions[1], sessions[2], sessions[6]
        await eventually(lambda: sitting(chair).get("quorum", {}).get("met"), bound=PRESENCE_BOUND,
                         message="the quorum met from the cameras", seen=lambda: presence(chair))
        assert (await chair.request("command", name="open"))["ok"]
        opened = await chair.request("ballot", action="open", motion="議案第3号", kind="named",
                                     majority="simple", abstain_allowed=False)
        bid = opened["data"]["ballot"]["id"]
        assert empty.me not in opened["data"]["ballot"]["entitled"] and leaver.me in opened["data"]["ballot"]["entitled"]

        # Seen on camera: the vote counts, with a still of the voter at that moment.
        assert (await vote(voter, keys[1], bid, "yes"))["ok"]
        async with services.db.session() as session:
            row = await session.get(NamedVoteRow, (bid, voter.me))
        picture = cv2.imdecode(np.frombuffer(row.evidence_jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert picture is not None and picture.shape[1] == 320
        import hashlib
        assert row.evidence_sha256 == hashlib.sha256(row.evidence_jpeg).hexdigest()

        # An empty room never counted: refused. A member entitled at opening whose camera then
        # stops is refused too, although the grace period has not yet ended their attendance.
        assert (await vote(empty, keys[6], bid, "no"))["code"] == "not_entitled"
        for t in leaver.media.pc.getTransceivers():
            if t.sender.track is leaver.media.video:
                t.sender.replaceTrack(None)
        meeting_id = sitting(chair)["meeting_id"]

        async def not_on_camera() -> bool:
            live = await services.sittings.get(meeting_id)
            return not live.presence[leaver.me].on_camera(services.sittings.clock())

        await eventually(not_on_camera, bound=PRESENCE_BOUND, message="the leaver's camera to count as gone")
        assert (await vote(leaver, keys[2], bid, "no"))["code"] == "not_present"
        events = await services.sittings.events(meeting_id)
        assert [e.name for e in events].count("vote_cast") == 1
        refused = [(e.actor_id, e.data["reason"]) for e in events if e.name == "vote_refused"]
        assert refused == [(empty.me, "not_entitled"), (leaver.me, "not_present")]
    finally:
        for s in sessions:
            await s.close()
