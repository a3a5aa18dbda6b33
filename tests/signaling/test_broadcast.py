"""The public broadcast follows the sitting: a rehearsal sitting with three aiortc members
publishing flat-coloured cameras and tones (the chair green at 880 Hz, member A red at 440 Hz,
member B blue at 660 Hz); the HLS stream read over HTTP as a player would and decoded with
``av`` shows and sounds like the chair, then A with the floor, then B, then the chair again, and
ends with the sitting."""

from __future__ import annotations

import time

import pytest

from gikai.signaling.app import BROADCASTS, create_app
from gikai.signaling.config import ServerConfig
from tests.signaling.test_sitting_ws import _join, latest
from tests.support.client import MediaClient
from tests.support.encoded import EncodedSourceTrack, encode_opus, encode_solid_vp8
from tests.support.hls import Segment, decode_segment, heard, parse_playlist, shows
from tests.support.server import Parts
from tests.support.waiting import eventually

PALETTE = {"chair": (30, 190, 60), "a": (220, 30, 30), "b": (30, 40, 220), "slate": (40, 44, 52)}
TONES = {"chair": 880.0, "a": 440.0, "b": 660.0}
FOLLOW_BOUND = 40.0  # seconds for a switch to show in a newly listed segment on a busy machine


def coloured(name: str) -> MediaClient:
    return MediaClient(name, video=EncodedSourceTrack("video", encode_solid_vp8(PALETTE[name]), 15, record=False),
                       audio=EncodedSourceTrack("audio", encode_opus(seconds=2.0, hz=TONES[name]), 50, record=False),
                       keep_frames=False)


class Viewer:
    """Reads the broadcast over HTTP: the playlist, then every segment it lists not read yet."""

    def __init__(self, client, meeting_id: str) -> None:
        self.client, self.base = client, f"/broadcast/{meeting_id}/"
        self.read: dict[str, Segment] = {}
        self.init: bytes | None = None
        self.ended = False

    async def poll(self) -> list[Segment]:
        response = await self.client.get(self.base + "index.m3u8")
        if response.status == 404:
            return []
        assert response.status == 200
        assert response.content_type == "application/vnd.apple.mpegurl"
        assert "no-store" in response.headers["Cache-Control"]
        listed = parse_playlist(await response.text())
        self.ended = listed.ended
        if self.init is None and listed.init is not None:
            init = await self.client.get(self.base + listed.init)
            assert init.status == 200 and init.content_type == "video/mp4"
            self.init = await init.read()
        fresh = []
        for name in listed.segments:
            if name in self.read or self.init is None:
                continue
            got = await self.client.get(self.base + name)
            if got.status == 404:
                continue  # rolled off meanwhile
            assert got.content_type == "video/iso.segment" and "max-age" in got.headers["Cache-Control"]
            self.read[name] = decode_segment(name, self.init, await got.read())
            fresh.append(self.read[name])
        return fresh

    async def until(self, who: str, voices: set[str], message: str) -> Segment:
        """The first newly listed segment that shows ``who`` throughout and sounds like ``voices``."""
        seen: list[tuple[str | None, set[str]]] = []

        async def found() -> Segment | None:
            for segment in await self.poll():
                seen.append((shows(segment, PALETTE), heard(segment, TONES)))
                if seen[-1] == (who, voices):
                    return segment
            return None

        return await eventually(found, bound=FOLLOW_BOUND, interval=0.3, message=message, seen=lambda: seen[-8:])


@pytest.fixture
async def broadcast_server(aiohttp_client, tmp_path):
    client = await aiohttp_client(create_app(ServerConfig(
        data_dir=tmp_path, media_addresses=["127.0.0.1"], presence_detection=False, broadcast=True)))
    return client, Parts(client.app), tmp_path


async def test_the_broadcast_follows_the_floor_and_ends_with_the_sitting(broadcast_server):
    client, services, root = broadcast_server
    _, participants, _ = await services.directory.ensure_rehearsal()
    tokens = [services.tokens.issue(p.id) for p in participants]
    media = {0: coloured("chair"), 2: coloured("a"), 3: coloured("b")}
    sessions = [await _join(client, t, media.get(i)) for i, t in enumerate(tokens[:6])]
    chair, a, b = sessions[0], sessions[2], sessions[3]
    broadcasts = client.app[BROADCASTS]
    try:
        await eventually(lambda: latest(chair).get("quorum", {}).get("met"))
        meeting_id = latest(chair)["meeting_id"]
        assert (await client.get(f"/broadcast/{meeting_id}/index.m3u8")).status == 404, "nothing before the opening"
        assert (await chair.request("command", name="open"))["ok"]
        item = latest(chair)["agenda"][0]["id"]
        assert (await chair.request("command", name="take_up", item_id=item))["ok"]
        viewer = Viewer(client, meeting_id)
        await viewer.until("chair", {"chair"}, "the chair, heard alone, while nobody holds the floor")

        for speaker, name in ((a, "a"), (b, "b")):
            assert (await speaker.request("command", name="request_floor", kind="question"))["ok"]
            await eventually(lambda: latest(chair)["queue"]["requests"])
            request_id = latest(chair)["queue"]["requests"][0]["id"]
            granted = time.monotonic()
            assert (await chair.request("command", name="grant", request_id=request_id))["ok"]
            await viewer.until(name, {name, "chair"}, f"{name} on screen, heard with the chair, after the grant")
            delay = time.monotonic() - granted
            assert delay < FOLLOW_BOUND
            assert (await chair.request("command", name="end_speech"))["ok"]

        await viewer.until("chair", {"chair"}, "the chair again once the floor is free")
        live = broadcasts.live[meeting_id]
        assert live.pid is not None and live.dropped == 0

        assert (await chair.request("command", name="adjourn"))["ok"]
        await eventually(lambda: live.process.poll() is not None, message="the encoder process ends")
        await viewer.poll()
        assert viewer.ended, "the playlist says the broadcast has ended"
        assert meeting_id not in broadcasts.live
        assert (root / "broadcast" / meeting_id / "index.m3u8").is_file()
    finally:
        for s in sessions:
            await s.close()


async def test_broadcast_files_are_refused_for_bad_names(broadcast_server):
    client, _services, _root = broadcast_server
    for path in ("/broadcast/nothex/index.m3u8", "/broadcast/" + "a" * 32 + "/index.m3u8",
                 "/broadcast/" + "a" * 32 + "/secret.key", "/broadcast/" + "a" * 32 + "/..%2Fsecret.key"):
        assert (await client.get(path)).status == 404, path
