"""Sharing a screen through the SFU, with real aiortc peers: nothing on a screen slot reaches
anyone until the server allows it; then exactly the sharer's screen frames reach every other
member; who may share, the chair taking over, the end when the floor ends or the sharer's
connection goes, and the record of it all."""

from __future__ import annotations

from gikai.media.sfu.frames import vp8_is_keyframe
from tests.signaling.test_presenting_ws import give_floor, record
from tests.signaling.test_sitting_ws import _join
from tests.signaling.test_ws import Session, server  # noqa: F401  (fixture)
from tests.support.client import MediaClient
from tests.support.encoded import EncodedSourceTrack, encode_vp8
from tests.support.waiting import eventually, quiet_while_live

_SCREENS: dict[str, tuple[bytes, ...]] = {}


def screen_clip(name: str) -> EncodedSourceTrack:
    """A screen share: a picture of its own, so received bytes tell whose screen and which slot."""
    if name not in _SCREENS:
        colour = (240, 240, 240) if name == "chair" else (20, 120, 40)
        _SCREENS[name] = encode_vp8(width=320, height=180, frames=30, gop=10, colour=colour)
    return EncodedSourceTrack("video", _SCREENS[name], 10)


def shared(s: Session) -> dict | None:
    pushes = s.pushed("screen")
    return pushes[-1]["screen"] if pushes else None


def screen_frames(s: Session, publisher: Session) -> int:
    return s.media.frame_counts[(publisher.me, "screen")]


async def test_a_shared_screen_reaches_every_member_and_only_while_allowed(server):  # noqa: F811
    client, services, participants, tokens = server
    meeting_id = participants[0].meeting_id
    # Every client sends a screen picture from the start: the server must hold it back.
    chair, m1, m2 = sessions = [await _join(client, t, MediaClient(n, screen=screen_clip(n)))
                                for t, n in ((tokens[0], "chair"), (tokens[2], "m1"), (tokens[3], "m2"))]
    try:
        await eventually(lambda: all(s.media.frame_counts[(o.me, "video")] > 10
                                   for s in sessions for o in sessions if o is not s))
        room = services.sfu.rooms[meeting_id]
        assert all(room.peers[s.me].ups["screen"].frames_in > 0 for s in sessions), "screens are being sent"
        assert all(screen_frames(s, o) == 0 for s in sessions for o in sessions), "and reach nobody"

        # Only the chair or the floor holder; bad actions are refused at the edge.
        assert (await m1.request("present", action="share_screen"))["code"] == "cannot_present"
        assert (await chair.request("present", action="share"))["code"] == "bad_message"

        reply = await chair.request("present", action="share_screen")
        assert reply["ok"] and reply["data"]["screen"] == {"presenter_id": chair.me}
        await eventually(lambda: all(shared(s) == {"presenter_id": chair.me} for s in sessions))
        await eventually(lambda: all(screen_frames(s, chair) > 15 for s in (m1, m2)))
        # The bytes are the chair's screen, not their camera nor anyone else's screen.
        chair_screen = set(_SCREENS["chair"])
        got = m2.media.frames_from(chair.me, "screen")
        assert got and all(f.data in chair_screen for f in got)
        assert any(vp8_is_keyframe(f.data) for f in got)
        assert screen_frames(chair, chair) == 0 and all(screen_frames(s, o) == 0 for s in sessions for o in (m1, m2))
        # The chair's camera still arrives as a camera.
        assert all(f.data not in chair_screen for f in m2.media.frames_from(chair.me, "video"))

        # Someone joining now is told in the join reply, and receives the screen too.
        late = Session(await client.ws_connect("/ws"), MediaClient("late"))
        sessions.append(late)
        joined = await late.request("join", token=tokens[4])
        assert joined["data"]["screen"] == {"presenter_id": chair.me}
        late.me = joined["data"]["participant"]["id"]
        await eventually(lambda: screen_frames(late, chair) > 5)

        # Stopping: nothing more arrives, everyone is told, and the record has both ends.
        assert (await m1.request("present", action="stop_screen"))["code"] == "not_presenter"
        assert (await chair.request("present", action="stop_screen"))["ok"]
        await eventually(lambda: all(shared(s) is None for s in sessions))
        assert room.screen is None and not room.peers[chair.me].ups["screen"].forwarding
        # The chair's camera keeps arriving at m1 (the path is live) while the screen does not;
        # settle: what was already on the wire may still come in before a quiet stretch.
        await quiet_while_live(lambda: screen_frames(m1, chair), lambda: m1.media.frame_counts[(chair.me, "video")],
                               control_gain=15, message="the chair's stopped screen reaching m1")
        entries = await record(services, meeting_id, "screen_share_started", "screen_share_ended")
        assert [(e.name, e.actor_id, e.data["presenter_id"], e.data.get("reason")) for e in entries] == [
            ("screen_share_started", chair.me, chair.me, None),
            ("screen_share_ended", chair.me, chair.me, "stopped")]
    finally:
        for s in sessions:
            await s.close()


async def test_the_floor_holder_shares_until_the_floor_ends_and_a_leaving_sharer_ends_it(server):  # noqa: F811
    client, services, participants, tokens = server
    meeting_id = participants[0].meeting_id
    chair, m1, m2 = sessions = [await _join(client, t, MediaClient(n, screen=screen_clip(n)))
                                for t, n in ((tokens[0], "chair"), (tokens[2], "m1"), (tokens[3], "m2"))]
    sessions += [await _join(client, t) for t in tokens[4:7]]  # the quorum: six of twelve
    try:
        assert (await chair.request("command", name="open"))["ok"]
        await give_floor(chair, m1)

        assert (await m2.request("present", action="share_screen"))["code"] == "cannot_present"
        assert (await m1.request("present", action="share_screen"))["ok"]
        await eventually(lambda: screen_frames(m2, m1) > 10 and screen_frames(chair, m1) > 10)
        # The chair takes over: one screen at a time, the member's stops reaching anyone.
        assert (await chair.request("present", action="share_screen"))["ok"]
        await eventually(lambda: screen_frames(m2, chair) > 10)
        assert (await m1.request("present", action="share_screen"))["code"] == "not_presenter"
        assert (await chair.request("present", action="stop_screen"))["ok"]

        # The member shares again; the chair ends the speech: the share ends with the floor.
        assert (await m1.request("present", action="share_screen"))["ok"]
        await eventually(lambda: shared(m2) == {"presenter_id": m1.me})
        assert (await chair.request("command", name="end_speech"))["ok"]
        await eventually(lambda: shared(m2) is None)
        assert services.sfu.rooms[meeting_id].screen is None

        # The chair shares and then drops off: the share ends with the connection.
        assert (await chair.request("present", action="share_screen"))["ok"]
        await eventually(lambda: shared(m1) == {"presenter_id": chair.me})
        await chair.close()
        sessions.remove(chair)
        await eventually(lambda: shared(m1) is None)

        async def eight_on_record() -> list:
            entries = await record(services, meeting_id, "screen_share_started", "screen_share_ended")
            return entries if len(entries) == 8 else []

        # The end goes on the record just after everyone is told.
        entries = await eventually(eight_on_record, message="eight screen-share entries on the record")
        assert [(e.name, e.data["presenter_id"], e.data.get("reason")) for e in entries] == [
            ("screen_share_started", m1.me, None),
            ("screen_share_ended", m1.me, "replaced"),
            ("screen_share_started", chair.me, None),
            ("screen_share_ended", chair.me, "stopped"),
            ("screen_share_started", m1.me, None),
            ("screen_share_ended", m1.me, "floor_lost"),
            ("screen_share_started", chair.me, None),
            ("screen_share_ended", chair.me, "left")]
        assert [e.actor_id for e in entries if e.name == "screen_share_ended"] == [chair.me, chair.me, None, None]
    finally:
        for s in sessions:
            await s.close()


async def test_a_share_going_when_the_server_stops_is_ended_on_the_record_at_the_next_start(
        aiohttp_client, tmp_path):
    from gikai.signaling.app import create_app
    from gikai.signaling.config import ServerConfig
    from tests.support.server import Parts

    config = ServerConfig(data_dir=tmp_path, media_addresses=["127.0.0.1"], presence_detection=False)
    first = await aiohttp_client(create_app(config))
    services = Parts(first.app)
    meeting, participants, _ = await services.directory.ensure_rehearsal()
    chair = participants[0].id
    await services.sittings.execute(meeting.id, lambda s, now: s.screen_share(chair, True, chair, now))
    await services.sittings.execute(meeting.id, lambda s, now: s.presentation(chair, True, "doc1", chair, now))
    await first.close()  # stopped with both going (they live in memory)

    second = await aiohttp_client(create_app(config))
    services = Parts(second.app)
    names = ("screen_share_started", "screen_share_ended", "presentation_started", "presentation_ended")
    entries = await record(services, meeting.id, *names)
    said = [(e.name, e.actor_id, e.data.get("reason")) for e in entries]
    assert said[:2] == [("screen_share_started", chair, None), ("presentation_started", chair, None)]
    assert sorted(said[2:]) == [("presentation_ended", None, "server_restarted"),
                                ("screen_share_ended", None, "server_restarted")]
    await second.close()
    third = await aiohttp_client(create_app(config))  # once ended, a later start adds nothing
    assert len(await record(Parts(third.app), meeting.id, *names)) == 4
    await third.close()
