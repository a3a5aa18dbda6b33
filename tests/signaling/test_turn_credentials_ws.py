"""TURN credentials over the sockets of a running app: a member's join reply and a gallery
viewer's watch reply carry them (each holder's own username, never the secret), and an open
socket gets fresh ones before they expire. Real aiortc media and sockets; no TURN server is
needed here (coturn's acceptance is tests/signaling/test_turn_relay.py)."""

from __future__ import annotations

import json

from gikai.signaling.app import create_app
from gikai.signaling.config import ServerConfig
from gikai.signaling.turn import TurnServers, credential
from tests.signaling.test_ws import Session
from tests.support.server import Parts
from tests.support.waiting import eventually

SECRET = "a-secret-shared-with-coturn-only"
URLS = ("turn:turn.gikai.test:3478?transport=udp", "turns:turn.gikai.test:443?transport=tcp")


def expiry(server: dict) -> int:
    return int(server["username"].split(":", 1)[0])


async def test_members_and_gallery_viewers_get_their_own_credentials_renewed_before_expiry(
        aiohttp_client, tmp_path) -> None:
    config = ServerConfig(data_dir=tmp_path, media_addresses=["127.0.0.1"], presence_detection=False,
                          turn=TurnServers(URLS, SECRET, ttl=2))  # renewed every second
    client = await aiohttp_client(create_app(config))
    services = Parts(client.app)
    meeting, participants, _ = await services.directory.ensure_rehearsal()
    member = Session(await client.ws_connect("/ws"))
    viewer = Session(await client.ws_connect("/gallery/ws"))
    try:
        joined = await member.request("join", token=services.tokens.issue(participants[0].id))
        (given,) = joined["data"]["ice_servers"]
        assert given["urls"] == list(URLS)
        assert given["username"].endswith(":" + participants[0].id)
        assert given["credential"] == credential(SECRET, given["username"])

        watching = await viewer.request("watch", meeting_id=meeting.id)
        (seen,) = watching["data"]["ice_servers"]
        assert seen["username"].split(":", 1)[1].startswith("gallery-")
        assert seen["credential"] == credential(SECRET, seen["username"])

        for session, first in ((member, given), (viewer, seen)):
            renewed = await eventually(lambda s=session, f=first: [
                p for p in s.pushes if p["type"] == "ice_servers" and expiry(p["ice_servers"][0]) > expiry(f)],
                message="fresh credentials pushed before the first expire")
            fresh = renewed[-1]["ice_servers"][0]
            assert fresh["username"].split(":", 1)[1] == first["username"].split(":", 1)[1]
            assert fresh["credential"] == credential(SECRET, fresh["username"])
        for session in (member, viewer):
            assert all(SECRET not in json.dumps(p) for p in session.pushes)
    finally:
        await member.close()
        await viewer.close()
