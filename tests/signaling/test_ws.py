"""The signaling WebSocket against a running app: bad input, joining, media, leaving."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription

from gikai.media.sfu.peer import Offer
from gikai.signaling.app import create_app
from gikai.signaling.config import ServerConfig
from tests.support.client import MediaClient
from tests.support.server import Parts
from tests.support.waiting import eventually, forwards_every_frame


@pytest.fixture
async def server(aiohttp_client, tmp_path):
    # Attendance from connections here; tests/signaling/test_presence.py runs with cameras.
    config = ServerConfig(data_dir=tmp_path, media_addresses=["127.0.0.1"], presence_detection=False)
    client = await aiohttp_client(create_app(config))
    services = Parts(client.app)
    _meeting, participants, _ = await services.directory.ensure_rehearsal()
    tokens = [services.tokens.issue(p.id) for p in participants]
    return client, services, participants, tokens


class Session:
    """A scripted participant: sends requests, collects replies and pushes."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, media: MediaClient | None = None,
                 answer_inactive: bool = False) -> None:
        self.ws = ws
        self.media = media
        # Without media, offers go unanswered (the SFU drops the member after ANSWER_TIMEOUT) unless
        # answered inactive, as a screen without camera or speaker would: for scripts that may run
        # longer than that on a busy machine.
        self.inactive: RTCPeerConnection | None = RTCPeerConnection() if answer_inactive and media is None else None
        self.pushes: list[dict] = []
        self.replies: dict = {}
        self._next = 0
        self._answers: set[asyncio.Task[None]] = set()  # kept until done: a task nobody holds may vanish
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            if data["type"] in ("reply", "error") and data.get("re") is not None:
                self.replies[data["re"]] = data
            else:
                self.pushes.append(data)
            if data["type"] == "offer" and (self.media is not None or self.inactive is not None):
                task = asyncio.ensure_future(self._answer(data))
                self._answers.add(task)
                task.add_done_callback(self._answers.discard)

    async def _answer(self, data: dict) -> None:
        if self.inactive is not None:
            await self.inactive.setRemoteDescription(RTCSessionDescription(sdp=data["sdp"], type="offer"))
            for transceiver in self.inactive.getTransceivers():
                transceiver.direction = "inactive"
            await self.inactive.setLocalDescription(await self.inactive.createAnswer())
            await self.request("answer", sdp=self.inactive.localDescription.sdp, revision=data["revision"])
            return
        offer = Offer(data["sdp"], data["revision"], data["streams"])
        sdp = await self.media.handle_offer(offer)
        await self.request("answer", sdp=sdp, revision=data["revision"])

    async def request(self, type_: str, **fields) -> dict:
        self._next += 1
        rid = self._next
        await self.ws.send_str(json.dumps({"v": 1, "id": rid, "type": type_, **fields}))
        await eventually(lambda: rid in self.replies or self.ws.closed,
                         message=f"a reply to {type_} #{rid}", seen=lambda: self.pushes[-3:])
        return self.replies.get(rid, {})

    async def raw(self, text: str) -> dict:
        before = len(self.pushes)
        await self.ws.send_str(text)
        await eventually(lambda: len(self.pushes) > before, message=f"a push after sending {text[:40]!r}")
        return self.pushes[-1]

    def pushed(self, type_: str) -> list[dict]:
        return [p for p in self.pushes if p["type"] == type_]

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        if self.media is not None:
            await self.media.close()
        if self.inactive is not None:
            await self.inactive.close()


async def test_each_bad_input_gets_a_stable_error_and_the_connection_carries_on(server):
    client, _, _, tokens = server
    s = Session(await client.ws_connect("/ws"))
    try:
        assert (await s.raw("{nope"))["code"] == "bad_json"
        await s.ws.send_bytes(b"\x00\x01")
        await eventually(lambda: s.pushes and s.pushes[-1]["code"] == "bad_json" and len(s.pushes) == 2)
        assert (await s.request("dance"))["code"] == "unknown_type"
        assert (await s.request("join", token=42))["code"] == "bad_message"
        assert (await s.request("answer", sdp="v=0", revision=1))["code"] == "not_joined"
        assert (await s.request("join", token="0" * 32 + "." + "A" * 43))["code"] == "invalid_token"
        big = json.dumps({"v": 1, "id": 77, "type": "join", "token": "x", "pad": "p" * (300 * 1024)})
        assert (await s.raw(big))["code"] == "too_large"  # too big to read: re is null
        assert (await s.raw(json.dumps({"v": 9, "id": None, "type": "ping"})))["code"] == "bad_version"
        # a lone surrogate (JSON's "\\ud800") parses but is no text: refused before any handler
        assert (await s.raw('{"v": 1, "id": 8, "type": "join", "token": "\\ud800"}'))["code"] == "bad_message"
        error = (await s.request("dance"))["message"]
        assert error["ja"] and error["en"]
        # ...and after all that, the same socket still joins and works.
        joined = await s.request("join", token=tokens[0])
        assert joined["ok"] and joined["data"]["participant"]["name"] == "山田 太郎"
        assert (await s.request("join", token=tokens[0]))["code"] == "already_joined"
        assert (await s.request("ping"))["ok"]
    finally:
        await s.close()


async def test_a_flood_of_messages_is_rate_limited_without_dropping_the_socket(server):
    client, _, _, _ = server
    s = Session(await client.ws_connect("/ws"))
    try:
        for i in range(80):
            await s.ws.send_str(json.dumps({"v": 1, "id": 1000 + i, "type": "ping"}))
        await eventually(lambda: any(p.get("code") == "rate_limited" for p in s.pushes),
                         seen=lambda: s.pushes[-3:])
        # The limiter refills with time; on a busy machine the flood may still be being answered
        # after a second, so ask again until a ping is served, on the same socket throughout.
        deadline = asyncio.get_running_loop().time() + 30
        while not (reply := await s.request("ping")).get("ok") and asyncio.get_running_loop().time() < deadline:
            assert reply.get("code") == "rate_limited" and not s.ws.closed, reply
            await asyncio.sleep(1.1)
        assert reply["ok"], reply
    finally:
        await s.close()


async def test_a_page_from_another_site_cannot_open_the_socket(server):
    client, _, _, _ = server
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await client.ws_connect("/ws", headers={"Origin": "http://evil.example"})
    assert info.value.status == 403


async def test_participants_see_each_other_and_a_misbehaving_client_disturbs_no_one(server):
    client, services, participants, tokens = server
    a = Session(await client.ws_connect("/ws"), MediaClient("a"))
    b = Session(await client.ws_connect("/ws"), MediaClient("b"))
    rogue = Session(await client.ws_connect("/ws"))
    try:
        assert (await a.request("join", token=tokens[0]))["ok"]
        joined_b = await b.request("join", token=tokens[1])
        assert [p["name"] for p in joined_b["data"]["roster"]] == ["山田 太郎", "佐藤 花子"]
        await eventually(lambda: a.pushed("participant_joined"))
        pa, pb = participants[0].id, participants[1].id
        await eventually(lambda: a.media.frame_counts[(pb, "video")] > 5 and b.media.frame_counts[(pa, "video")] > 5)
        for junk in ["{", "[]", json.dumps({"v": 1, "id": 1, "type": "answer", "sdp": "x", "revision": 1})]:
            await rogue.ws.send_str(junk)
        await rogue.request("join", token=tokens[2])
        await rogue.request("answer", sdp="v=0\r\ngarbage", revision=1)
        await forwards_every_frame(a.media.video, b.media, pa, message="b kept receiving a at full rate")
        assert (await a.request("media_state", audio_muted=True, video_muted=False))["ok"]
        await eventually(lambda: any(p["participant"]["audio_muted"] for p in b.pushed("participant_updated")))
        assert (await b.request("leave"))["ok"]
        await eventually(lambda: b.ws.closed)
        await eventually(lambda: any(p["id"] == pb for p in a.pushed("participant_left")))
        await eventually(lambda: pb not in services.sfu.room(a_room(services)).peers)
    finally:
        for s in (a, b, rogue):
            await s.close()


def a_room(services: Parts) -> str:
    return next(iter(services.sfu.rooms))


async def test_joining_again_from_another_screen_replaces_the_first(server):
    client, services, _, tokens = server
    first = Session(await client.ws_connect("/ws"), MediaClient("first"))
    second = Session(await client.ws_connect("/ws"), MediaClient("second"))
    try:
        assert (await first.request("join", token=tokens[2]))["ok"]
        assert (await second.request("join", token=tokens[2]))["ok"]
        await eventually(lambda: first.ws.closed)
        assert any(p.get("code") == "replaced" for p in first.pushes)
        assert first.ws.close_code == 4001
        room = services.sfu.rooms[next(iter(services.sfu.rooms))]
        await eventually(lambda: len(room.peers) == 1, message="the first screen's peer to go", seen=lambda: room.peers)
        assert not room.peers[next(iter(room.peers))].closed
    finally:
        await first.close()
        await second.close()


async def test_scripts_are_revalidated_on_every_load_so_an_upgrade_reaches_every_tablet(server):
    client, _, _, _ = server
    first = await client.get("/static/js/peer.js")
    assert first.status == 200 and first.headers["Cache-Control"] == "no-cache"
    again = await client.get("/static/js/peer.js", headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert again.status == 304, "unchanged: nothing sent again"
    page = await client.get("/join")
    assert page.headers["Cache-Control"] == "no-store", "the page itself is never stored"


async def test_a_client_that_cannot_apply_an_offer_says_so_and_is_not_left_waiting(server, caplog):
    """A client that is not a browser may be unable to apply an offer: `refuse_offer` is answered,
    logged with the client's reason, and the media connection ends at once (close 4002, then the
    client reconnects) rather than after the 20 s an unanswered offer waits."""
    client, _, _, tokens = server
    s = Session(await client.ws_connect("/ws"))  # no media: offers stay unanswered
    try:
        assert (await s.request("join", token=tokens[1]))["ok"]
        offer = (await eventually(lambda: s.pushed("offer")))[0]
        wrong = await s.request("refuse_offer", revision=offer["revision"] + 5, reason="x")
        assert wrong["code"] == "negotiation_failed" and not s.ws.closed
        assert (await s.request("refuse_offer", revision=offer["revision"], reason=7))["code"] == "bad_message"
        started = asyncio.get_running_loop().time()
        refused = await s.request("refuse_offer", revision=offer["revision"],
                                  reason="transceiver direction changes are not implemented")
        assert refused["ok"]
        await eventually(lambda: s.ws.closed, message="the socket closed after the refusal")
        assert s.ws.close_code == 4002 and any(p.get("code") == "peer_closed" for p in s.pushes)
        assert asyncio.get_running_loop().time() - started < 15, "well before the 20 s an unanswered offer waits"
        warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        assert any("refused offer" in m and "direction changes are not implemented" in m for m in warnings), warnings
    finally:
        await s.close()
