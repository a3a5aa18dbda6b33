"""The public gallery (傍聴席) against a running app, with real aiortc peers on loopback.

Publishers are told apart by what they send: each has its own VP8 picture (its own blue)
and its own Opus tone, so every frame a viewer receives can be traced to its publisher
byte for byte, and a decoded picture shows whose camera it is.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections import defaultdict
from typing import Any

import aiohttp
import av
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcconfiguration import RTCBundlePolicy

from gikai.media.sfu.assembler import FrameAssembler
from gikai.media.sfu.frames import EncodedFrame
from gikai.media.sfu.peer import Offer, tap_receiver
from gikai.signaling.app import create_app
from gikai.signaling.config import ServerConfig
from tests.signaling.test_voting_ws import enrol, vote
from tests.signaling.test_ws import Session
from tests.support.client import MediaClient
from tests.support.encoded import EncodedSourceTrack, encode_opus, encode_vp8
from tests.support.server import Parts
from tests.support.waiting import eventually, quiet_while_live

# Rehearsal participants in order: 0 委員長 山田 太郎, 1 副委員長 佐藤 花子, 2 鈴木 一郎, 3 高橋 美咲, ...
CHAIR, SPEAKER, OTHER = 0, 2, 3
QUIET = (4, 5, 6)  # three more members for a quorum of six; they send nothing
BLUE = {CHAIR: 30, SPEAKER: 225, OTHER: 128}
TONE = {CHAIR: 440.0, SPEAKER: 880.0, OTHER: 1320.0}


@pytest.fixture
async def server(aiohttp_client, tmp_path):
    config = ServerConfig(data_dir=tmp_path, media_addresses=["127.0.0.1"], presence_detection=False,
                          gallery_max_viewers=2)
    client = await aiohttp_client(create_app(config))
    services = Parts(client.app)
    meeting, participants, _ = await services.directory.ensure_rehearsal()
    tokens = [services.tokens.issue(p.id) for p in participants]
    return client, services, participants, tokens, meeting.id


def publisher(n: int) -> MediaClient:
    video = EncodedSourceTrack("video", encode_vp8(colour=(0, 0, BLUE[n])), 15)
    audio = EncodedSourceTrack("audio", encode_opus(hz=TONE[n]), 50)
    # The speaker also has a screen to share (sent all along; forwarded only once shared).
    screen = EncodedSourceTrack("video", screen_packets(), 10) if n == SPEAKER else None
    return MediaClient(f"p{n}", video=video, audio=audio, keep_frames=False, screen=screen)


def screen_packets() -> tuple[bytes, ...]:
    return encode_vp8(width=320, height=180, frames=30, gop=10, colour=(230, 230, 230))


class Silent:
    """A member's client that answers every offer with nothing to send or receive."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))

    async def handle_offer(self, offer: Offer) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer.sdp, type="offer"))
        for t in self.pc.getTransceivers():
            t.direction = "inactive"
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return self.pc.localDescription.sdp

    async def close(self) -> None:
        await self.pc.close()


async def join(client, token: str, media: Any = None) -> Session:
    s = Session(await client.ws_connect("/ws"), media or Silent())
    reply = await s.request("join", token=token)
    assert reply["ok"], reply
    s.me = reply["data"]["participant"]["id"]
    return s


class Watcher:
    """A citizen in the gallery: the gallery socket and a receive-only aiortc peer."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, answer_as: str | None = None) -> None:
        self.ws = ws
        self.pushes: list[dict] = []
        self.replies: dict[Any, dict] = {}
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
        self.frames: dict[str, list[tuple[EncodedFrame, float]]] = defaultdict(list)  # kind -> arrivals
        self.answer_as = answer_as  # rewrite the answer's direction (a rogue client)
        self._tapped: set[int] = set()
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
            if data["type"] == "offer":
                task = asyncio.ensure_future(self._answer(data))
                self._answers.add(task)
                task.add_done_callback(self._answers.discard)

    def _sink(self, kind: str):
        def sink(frame: EncodedFrame) -> None:
            self.frames[kind].append((frame, time.monotonic()))
        return sink

    async def _answer(self, offer: dict) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type="offer"))
        for t in self.pc.getTransceivers():
            t.direction = "recvonly"
            if id(t.receiver) not in self._tapped:
                self._tapped.add(id(t.receiver))
                tap_receiver(t.receiver, FrameAssembler(t.kind, self._sink(t.kind)))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        sdp = self.pc.localDescription.sdp
        if self.answer_as:
            sdp = sdp.replace("a=recvonly", f"a={self.answer_as}")
        await self.request("answer", sdp=sdp, revision=offer["revision"])

    async def request(self, type_: str, **fields) -> dict:
        self._next += 1
        rid = self._next
        await self.ws.send_str(json.dumps({"v": 1, "id": rid, "type": type_, **fields}))
        await eventually(lambda: rid in self.replies or self.ws.closed, message=f"a reply to {type_} #{rid}")
        return self.replies.get(rid, {})

    def view(self) -> dict:
        views = [p["view"] for p in self.pushes if p["type"] == "gallery"]
        return views[-1] if views else self.first_view

    def since(self, kind: str, t0: float) -> list[EncodedFrame]:
        return [f for f, at in self.frames[kind] if at >= t0]

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        await self.pc.close()


async def watch(client, meeting_id: str, **options) -> Watcher:
    w = Watcher(await client.ws_connect("/gallery/ws"), **options)
    reply = await w.request("watch", meeting_id=meeting_id)
    assert reply["ok"], reply
    w.first_view = reply["data"]["view"]
    return w


def opus_frames(data: bytes) -> list[bytes]:
    """The 20 ms packets a viewer's 120 ms packet was made of (RFC 6716 code 3, as bundled)."""
    if data[0] & 3 != 3:
        return [data]
    count, at, lengths = data[1] & 0x3F, 2, []
    for _ in range(count - 1):
        n = data[at]
        lengths.append(n if n < 252 else n + 4 * data[at + 1])
        at += 1 if n < 252 else 2
    lengths.append(len(data) - at - sum(lengths))
    toc, frames = bytes([data[0] & 0xFC]), []
    for n in lengths:
        frames.append(toc + data[at:at + n])
        at += n
    return frames


@functools.cache
def _published(kind: str) -> dict[int, set[bytes]]:
    return {n: set(encode_vp8(colour=(0, 0, BLUE[n])) if kind == "video" else encode_opus(hz=TONE[n]))
            for n in BLUE}


def owner_of(frames: list[EncodedFrame], kind: str) -> list[int | None]:
    """Whose packet each frame is (publisher index), byte for byte; audio per 20 ms frame."""
    sent = _published(kind)
    pieces = [f.data for f in frames] if kind == "video" else [p for f in frames for p in opus_frames(f.data)]
    return [next((n for n, packets in sent.items() if data in packets), None) for data in pieces]


def blue_of(frames: list[EncodedFrame]) -> float:
    """Decode from the first keyframe on; the mean blue of the last picture."""
    start = next(i for i, f in enumerate(frames) if f.keyframe)
    codec = av.CodecContext.create("vp8", "r")
    picture = None
    for f in frames[start:]:
        for decoded in codec.decode(av.Packet(f.data)):
            picture = decoded
    assert picture is not None
    return float(picture.to_ndarray(format="rgb24")[..., 2].mean())


async def heard(w: Watcher, chair_frames: int = 75) -> dict[int | None, int]:
    """Whose 20 ms audio frames the viewer gets over a window of ``chair_frames`` of the chair's
    (1.5 s at full rate): the chair is always heard, so the window is never empty, and on a slow
    machine it lasts longer rather than holding less."""
    t0 = time.monotonic()

    def counts() -> dict[int | None, int]:
        tally: dict[int | None, int] = defaultdict(int)
        for who in owner_of(w.since("audio", t0), "audio"):
            tally[who] += 1
        return dict(tally)

    await eventually(lambda: counts().get(CHAIR, 0) >= chair_frames, interval=0.25,
                     message=f"{chair_frames} of the chair's audio frames at the viewer", seen=counts)
    return counts()


async def test_the_gallery_shows_the_floor_and_plays_only_what_may_be_heard(server):
    client, services, _participants, tokens, meeting_id = server
    for a in BLUE:
        for b in BLUE:
            if a < b:
                assert not set(encode_opus(hz=TONE[a])) & set(encode_opus(hz=TONE[b]))
    chair = await join(client, tokens[CHAIR], publisher(CHAIR))
    speaker = await join(client, tokens[SPEAKER], publisher(SPEAKER))
    other = await join(client, tokens[OTHER], publisher(OTHER))
    quiet = [await join(client, tokens[i]) for i in QUIET]
    members = [chair, speaker, other, *quiet]
    w = await watch(client, meeting_id)
    try:
        view = w.first_view
        assert view["title"] == (await services.sittings.get(meeting_id)).meeting.title
        assert view["state"] == "scheduled" and view["speaker"] is None and view["result"] is None
        assert view["chair"] == {"name": "山田 太郎", "role": "chair"}
        assert set(view) == {"meeting_id", "title", "body", "plenary", "state", "agenda", "current_item_id",
                             "speaker", "chair", "on_screen", "screen_of", "result"}, "no roster, queue or presence"
        await eventually(lambda: w.pc.connectionState == "connected")
        ups = services.sfu.rooms[meeting_id].peers[chair.me].ups
        # The chair's camera reaches the server all along (the window is live); the viewer gets nothing.
        def at_viewer() -> int:
            return len(w.frames["video"]) + len(w.frames["audio"])

        await quiet_while_live(at_viewer, lambda: ups["video"].frames_in, control_gain=15, settle=False,
                               message="media at the viewer before the sitting opens")
        assert not w.frames["video"] and not w.frames["audio"], "nothing is carried before the sitting opens"

        # Open: the chair's camera and the chair's voice; the others' microphones are not forwarded.
        assert (await chair.request("command", name="open"))["ok"]
        await eventually(lambda: w.view()["state"] == "open" and w.view()["on_screen"] == "chair")
        await eventually(lambda: len(w.frames["video"]) > 20)
        video = [f for f, _ in w.frames["video"]]
        assert video[0].keyframe and set(owner_of(video, "video")) == {CHAIR}
        assert abs(blue_of(video) - BLUE[CHAIR]) < 25
        assert set(await heard(w)) == {CHAIR}

        # The chair grants the floor: the video switches on a keyframe, the speaker is heard too.
        assert (await speaker.request("command", name="request_floor", kind="question"))["ok"]
        await eventually(lambda: chair.pushed("sitting") and chair.pushed("sitting")[-1]["sitting"]["queue"]["requests"])
        request_id = chair.pushed("sitting")[-1]["sitting"]["queue"]["requests"][0]["id"]
        t_grant = time.monotonic()
        assert (await chair.request("command", name="grant", request_id=request_id))["ok"]
        await eventually(lambda: w.view()["speaker"] is not None)
        shown = dict(w.view()["speaker"])
        started, ends, limit = shown.pop("started_at"), shown.pop("ends_at"), shown.pop("limit_seconds")
        assert shown == {"name": "鈴木 一郎", "role": "member", "kind": "question"}
        assert ends - started == limit * 1000 and abs(started / 1000 - time.time()) < 60, "the speech's clock"
        assert w.view()["on_screen"] == "speaker"
        await eventually(lambda: owner_of(w.since("video", t_grant), "video").count(SPEAKER) > 20)
        after = w.since("video", t_grant)
        owners = owner_of(after, "video")
        first = owners.index(SPEAKER)
        assert after[first].keyframe, "the new camera starts on a keyframe"
        assert set(owners[first:]) == {SPEAKER}, "one camera at a time"
        assert abs(blue_of(after[first:]) - BLUE[SPEAKER]) < 25
        counts = await heard(w)
        assert set(counts) == {CHAIR, SPEAKER}, counts
        assert counts[SPEAKER] > 50, "the speaker at full rate"

        # The speaker shares a screen: it takes the gallery's stage, and gives it back after.
        screen = set(screen_packets())
        t_share = time.monotonic()
        assert (await speaker.request("present", action="share_screen"))["ok"]
        await eventually(lambda: (w.view()["on_screen"], w.view()["screen_of"]) == ("screen", "speaker"))
        await eventually(lambda: sum(f.data in screen for f in w.since("video", t_share)) > 10)
        assert (await speaker.request("present", action="stop_screen"))["ok"]
        await eventually(lambda: (w.view()["on_screen"], w.view()["screen_of"]) == ("speaker", None))
        t_back = time.monotonic()
        await eventually(lambda: owner_of(w.since("video", t_back), "video").count(SPEAKER) > 10)
        packets = [f.data for f in w.since("audio", t_grant)]
        assert sum(d[0] & 3 == 3 for d in packets) >= 0.8 * len(packets), "viewers get 120 ms packets"
        assert sum(len(opus_frames(d)) == 6 for d in packets) >= 0.8 * len(packets), "six 20 ms frames each"

        # Recess: a notice, and nothing is carried (members talk freely, off the record).
        assert (await chair.request("command", name="recess"))["ok"]
        await eventually(lambda: w.view()["state"] == "recessed" and w.view()["on_screen"] is None)
        # While the chair's camera keeps reaching the server, a stretch of 1.5 s of it with nothing
        # at the viewer (what was on the wire at the recess may still come in first).
        await quiet_while_live(at_viewer, lambda: ups["video"].frames_in, control_gain=22,
                               message="media at the viewer during a recess")
        assert (await chair.request("command", name="resume"))["ok"]
        await eventually(lambda: w.view()["state"] == "open")
        t0 = time.monotonic()
        await eventually(lambda: len(w.since("video", t0)) > 5)

        # The viewer is in nobody's roster; members were never told of it.
        hub = services.hub.meetings[meeting_id]
        assert set(hub.attendees) == {m.me for m in members}
        assert all(p["participant"]["id"] in {m.me for m in members} for p in chair.pushed("participant_joined"))
        late = await join(client, tokens[7])
        members.append(late)
        assert len(services.hub.meetings[meeting_id].roster()) == len(members)
    finally:
        await w.close()
        for s in members:
            await s.close()


async def test_a_viewer_may_only_watch_and_changes_nothing(server, caplog):
    client, services, _, tokens, meeting_id = server
    chair = await join(client, tokens[CHAIR])
    w = Watcher(await client.ws_connect("/gallery/ws"))
    try:
        assert (await w.request("answer", sdp="v=0", revision=1))["code"] == "not_watching"
        assert (await w.request("watch", meeting_id="nope"))["code"] == "not_found"
        assert (await w.request("watch", meeting_id=42))["code"] == "bad_message"
        reply = await w.request("watch", meeting_id=meeting_id)
        assert reply["ok"]
        assert (await w.request("watch", meeting_id=meeting_id))["code"] == "already_watching"
        before = len(await services.sittings.events(meeting_id))
        for attempt in [{"type": "join", "token": tokens[1]}, {"type": "command", "name": "open"},
                        {"type": "ballot", "action": "open", "motion": "x", "kind": "named",
                         "majority": "simple", "abstain_allowed": False},
                        {"type": "media_state", "audio_muted": False, "video_muted": False},
                        {"type": "vote", "ballot_id": "b", "choice": "yes", "ceremony": "c", "credential": {}}]:
            refused = await w.request(**{"type_": attempt.pop("type"), **attempt})
            assert refused["code"] == "not_allowed" and refused["message"]["ja"] and refused["message"]["en"]
        assert "not allowed" in caplog.text
        assert (await services.sittings.get(meeting_id)).meeting.state.value == "scheduled"
        assert len(await services.sittings.events(meeting_id)) == before
        assert (await w.request("ping"))["ok"]
        big = json.dumps({"v": 1, "id": 99, "type": "answer", "sdp": "x" * 70_000, "revision": 1})
        await w.ws.send_str(big)
        await eventually(lambda: any(p.get("code") == "too_large" for p in w.pushes))
        # The server's side of a viewer's connection only sends.
        viewer = next(iter(services.gallery.stages[meeting_id].viewers))
        assert viewer.peer.ups == {} and viewer.peer.assemblers == {}
        assert {t.direction for t in viewer.peer.pc.getTransceivers()} == {"sendonly"}
        assert not any(p["type"] == "participant_joined" for p in chair.pushes)
    finally:
        await w.close()
        await chair.close()


async def test_media_a_viewer_tries_to_send_goes_nowhere(server):
    client, services, _, tokens, meeting_id = server
    chair = await join(client, tokens[CHAIR], publisher(CHAIR))
    made, make = [], services.sfu.viewer
    services.sfu.viewer = lambda *args, **kw: made.append(make(*args, **kw)) or made[-1]
    rogue = await watch(client, meeting_id, answer_as="sendrecv")
    try:
        receivers = [t.receiver for t in made[0].pc.getTransceivers()]
        await eventually(lambda: rogue.replies.get(2) is not None)
        assert rogue.replies[2]["code"] == "negotiation_failed", "an answer that would send is refused"
        await eventually(lambda: rogue.ws.closed)
        assert rogue.ws.close_code == 4002 and any(p.get("code") == "peer_closed" for p in rogue.pushes)
        await eventually(lambda: made[0].closed and services.gallery.viewers == 0)
        assert all(r.track is None for r in receivers), "the server never received from the viewer"
    finally:
        await rogue.close()
        await chair.close()


async def test_a_published_result_reaches_the_gallery_but_an_unpublished_tally_does_not(server):
    client, services, participants, tokens, meeting_id = server
    keys = {i: await enrol(client, services, participants[i]) for i in (1, 2, 3)}
    sessions = [await join(client, t) for t in tokens[:6]]
    chair, vice, m1, m2 = sessions[:4]
    w = await watch(client, meeting_id)
    try:
        assert (await chair.request("command", name="open"))["ok"]
        opened = await chair.request("ballot", action="open", motion="議案第1号を原案のとおり可決する",
                                     kind="named", majority="simple", abstain_allowed=False)
        bid = opened["data"]["ballot"]["id"]
        for s, key, choice in ((vice, keys[1], "yes"), (m1, keys[2], "yes"), (m2, keys[3], "no")):
            assert (await vote(s, key, bid, choice))["ok"]
        assert (await chair.request("ballot", action="close", ballot_id=bid))["ok"]
        await eventually(lambda: chair.pushed("ballot") and chair.pushed("ballot")[-1]["ballot"]["state"] == "closed")
        # A change the gallery does show, made after the close: once its view is here, whatever
        # the close would have shown (it must show nothing) has been sent before it.
        assert (await chair.request("command", name="recess"))["ok"]
        await eventually(lambda: w.view()["state"] == "recessed", seen=w.view)
        assert w.view()["result"] is None
        assert all(p["type"] != "ballot" for p in w.pushes), "the gallery gets no ballot pushes"
        assert all(p["view"]["result"] is None for p in w.pushes if p["type"] == "gallery")
        assert (await chair.request("command", name="resume"))["ok"]
        await eventually(lambda: w.view()["state"] == "open", seen=w.view)
        assert (await chair.request("ballot", action="publish", ballot_id=bid))["ok"]
        await eventually(lambda: w.view()["result"] is not None)
        result = w.view()["result"]
        assert result["outcome"] == "adopted" and (result["yes"], result["no"], result["abstain"]) == (2, 1, 0)
        assert result["motion"] == "議案第1号を原案のとおり可決する" and result["kind"] == "named"
        assert result["votes"] == [{"name": "佐藤 花子", "choice": "yes"}, {"name": "鈴木 一郎", "choice": "yes"},
                                   {"name": "高橋 美咲", "choice": "no"}]
        # A viewer arriving later is shown the published result too.
        late = await watch(client, meeting_id)
        assert late.first_view["result"] == result
        await late.close()
    finally:
        await w.close()
        for s in sessions:
            await s.close()


async def test_a_full_gallery_says_so_and_takes_the_next_viewer_when_a_seat_frees(server):
    client, services, _, _, meeting_id = server
    first, second = await watch(client, meeting_id), await watch(client, meeting_id)
    third = Watcher(await client.ws_connect("/gallery/ws"))
    try:
        refused = await third.request("watch", meeting_id=meeting_id)
        assert refused["code"] == "gallery_full"
        assert refused["message"]["ja"].startswith("満席です") and "full" in refused["message"]["en"]
        await eventually(lambda: third.ws.closed)
        assert third.ws.close_code == 4004
        assert services.gallery.viewers == 2
        await first.close()
        await eventually(lambda: services.gallery.viewers == 1)
        fourth = await watch(client, meeting_id)
        await fourth.close()
    finally:
        for w in (first, second, third):
            await w.close()


@pytest.fixture
async def capped(aiohttp_client, tmp_path):
    """A gallery of 50 seats of which one address may hold 3, whose media must start within 2 s."""
    config = ServerConfig(data_dir=tmp_path, media_addresses=["127.0.0.1"], presence_detection=False,
                          gallery_max_viewers=50, gallery_max_per_address=3, gallery_claim_seconds=2.0)
    client = await aiohttp_client(create_app(config))
    services = Parts(client.app)
    meeting, _, _ = await services.directory.ensure_rehearsal()
    return client, services, meeting.id


class Mute(Watcher):
    """A socket that watches and never answers an offer: no media ever flows."""

    async def _answer(self, offer: dict) -> None:
        return None


async def test_one_address_cannot_take_every_seat_nor_open_endless_sockets(capped):
    client, services, meeting_id = capped
    viewers = [await watch(client, meeting_id) for _ in range(3)]
    extra = [Watcher(await client.ws_connect("/gallery/ws")) for _ in range(3)]
    try:
        refused = await extra[0].request("watch", meeting_id=meeting_id)
        assert refused["code"] == "gallery_address_full" and refused["message"]["ja"]
        await eventually(lambda: extra[0].ws.closed)
        assert extra[0].ws.close_code == 4004 and services.gallery.viewers == 3
        # sockets beyond twice the seats are refused before the upgrade
        await eventually(lambda: len(services.gallery.sockets) == 5)
        opened = [await client.ws_connect("/gallery/ws")]
        with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
            await client.ws_connect("/gallery/ws")
        assert caught.value.status == 429
        for ws in opened:
            await ws.close()
        # the seats held stay held, and a seat freed is taken again
        await viewers[0].close()
        await eventually(lambda: services.gallery.viewers == 2)
        viewers[0] = await watch(client, meeting_id)
    finally:
        for w in (*viewers, *extra):
            await w.close()


async def test_a_seat_whose_media_never_starts_is_given_back(capped):
    client, services, meeting_id = capped
    mute = Mute(await client.ws_connect("/gallery/ws"))
    real = await watch(client, meeting_id)
    try:
        assert (await mute.request("watch", meeting_id=meeting_id))["ok"]
        assert services.gallery.viewers == 2
        await eventually(lambda: mute.ws.closed, message="the mute socket closed after the claim time")
        assert mute.ws.close_code == 4005
        assert [p["code"] for p in mute.pushes if p["type"] == "error"] == ["gallery_media_timeout"]
        await eventually(lambda: services.gallery.viewers == 1)
        assert not real.ws.closed, "a viewer whose media flows keeps the seat"
    finally:
        await mute.close()
        await real.close()


async def test_watching_sittings_that_do_not_exist_is_cheap_and_ends_the_socket(capped):
    client, services, _ = capped
    w = Watcher(await client.ws_connect("/gallery/ws"))
    try:
        for meeting_id in ("not-an-id", "0" * 32, "../../etc"):
            assert (await w.request("watch", meeting_id=meeting_id))["code"] == "not_found"
        await eventually(lambda: w.ws.closed)
        assert services.gallery.viewers == 0
    finally:
        await w.close()

