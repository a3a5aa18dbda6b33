"""A full sitting over the WebSocket: authority, the speaking order, and whose audio is forwarded."""

from __future__ import annotations

import asyncio

from tests.signaling.test_ws import Session, server  # noqa: F401  (fixture)
from tests.support.client import MediaClient
from tests.support.waiting import eventually, gains, quiet_while_live


async def _join(client, token, media=None) -> Session:
    s = Session(await client.ws_connect("/ws"), media, answer_inactive=True)
    reply = await s.request("join", token=token)
    assert reply["ok"], reply
    s.me = reply["data"]["participant"]["id"]
    return s


def latest(s: Session) -> dict:
    pushes = s.pushed("sitting")
    return pushes[-1]["sitting"] if pushes else {}


async def test_a_sitting_run_by_the_chair_over_the_socket(server):  # noqa: F811
    client, services, _participants, tokens = server
    chair, vice, m1, m2, m3, m4 = [await _join(client, t) for t in tokens[:6]]
    clerk = await _join(client, tokens[12])
    sessions = [chair, vice, m1, m2, m3, m4, clerk]
    try:
        # A member cannot open the sitting; the chair can once six of twelve are present.
        refused = await m1.request("command", name="open")
        assert refused["code"] == "not_chair" and refused["message"]["ja"]
        assert (await chair.request("command", name="open"))["ok"]
        await eventually(lambda: latest(m1).get("state") == "open")
        assert latest(m1)["quorum"] == {**latest(m1)["quorum"], "met": True, "needed": 6}

        # The clerk cannot ask for the floor; members can; a point of order jumps the queue.
        assert (await clerk.request("command", name="request_floor", kind="speech"))["code"] == "not_a_member"
        assert (await m1.request("command", name="request_floor", kind="question"))["ok"]
        assert (await m2.request("command", name="request_floor", kind="point_of_order"))["ok"]
        await eventually(lambda: len(latest(chair)["queue"]["requests"]) == 2)
        queue = latest(chair)["queue"]
        assert [r["participant_id"] for r in queue["requests"]] == [m2.me, m1.me]

        # A member cannot grant; a double-clicked grant grants once.
        first = queue["requests"][1]["id"]
        assert (await m2.request("command", name="grant", request_id=first))["code"] == "not_chair"
        replies = await asyncio.gather(*(chair.request("command", name="grant", request_id=first) for _ in range(2)))
        assert all(r["ok"] for r in replies)
        await eventually(lambda: (latest(m3).get("floor") or {}).get("holder_id") == m1.me)
        assert latest(m3)["audible"] == sorted([chair.me, m1.me])
        assert latest(m3)["floor"]["limit_seconds"] == 600

        # A stale reorder is refused; bad arguments get clear errors.
        stale = await chair.request("command", name="reorder", order=[], version=0)
        assert stale["code"] == "stale_state"
        assert (await chair.request("command", name="extend", seconds=0))["code"] == "invalid_argument"
        assert (await chair.request("command", name="fly"))["code"] == "unknown_command"
        assert (await chair.request("command", name="request_floor", kind="shout"))["code"] == "bad_message"

        # Removing a participant disconnects them and keeps them out.
        assert (await chair.request("command", name="remove", participant_id=m4.me))["ok"]
        await eventually(lambda: m4.ws.closed)
        assert m4.ws.close_code == 4003
        again = await _join_refused(client, tokens[5])
        assert again == "removed"

        # Adjourned: nothing more.
        assert (await chair.request("command", name="adjourn"))["ok"]
        assert (await chair.request("command", name="open"))["code"] == "meeting_adjourned"
        names = [e.name for e in await services.sittings.events(latest(chair)["meeting_id"])]
        for expected in ("attendance_started", "meeting_opened", "floor_requested", "floor_granted",
                         "participant_removed", "meeting_adjourned"):
            assert expected in names
    finally:
        for s in sessions:
            await s.close()


async def _join_refused(client, token) -> str:
    s = Session(await client.ws_connect("/ws"))
    try:
        return (await s.request("join", token=token)).get("code", "")
    finally:
        await s.close()


async def test_in_floor_mode_a_subscriber_hears_only_the_chair_and_the_floor_holder(server):  # noqa: F811
    client, _services, _participants, tokens = server
    chair = await _join(client, tokens[0], MediaClient("chair"))
    speaker = await _join(client, tokens[2], MediaClient("speaker"))
    listener = await _join(client, tokens[3], MediaClient("listener"))
    quorum = [await _join(client, t) for t in tokens[4:7]]
    sessions = [chair, speaker, listener, *quorum]
    heard = listener.media.frame_counts
    try:
        await eventually(lambda: heard[(chair.me, "audio")] > 0 and heard[(speaker.me, "audio")] > 0,
                         message="the listener to hear the chair and the speaker before the sitting opens",
                         seen=lambda: dict(heard))
        assert (await chair.request("command", name="open"))["ok"]

        def chair_audio() -> int:
            return heard[(chair.me, "audio")]

        def speaker_audio() -> int:
            return heard[(speaker.me, "audio")]

        # The chair's packets keep arriving (the listener's channel is live) while the speaker's stop.
        await quiet_while_live(speaker_audio, chair_audio,
                               message="a member without the floor is not forwarded at all")
        await gains(chair_audio, 30, message="the chair is always heard")
        await speaker.request("command", name="request_floor", kind="question")
        await eventually(lambda: latest(chair).get("queue", {}).get("requests"),
                         message="the speaker's floor request in the chair's queue", seen=lambda: latest(chair))
        await chair.request("command", name="grant", request_id=latest(chair)["queue"]["requests"][0]["id"])
        await gains(speaker_audio, 30, message="the floor holder is heard")
        await chair.request("command", name="end_speech")
        await quiet_while_live(speaker_audio, chair_audio,
                               message="a member whose speech ended is not forwarded any more")
        assert heard[(speaker.me, "video")] > 0, "video stays forwarded for everyone"
    finally:
        for s in sessions:
            await s.close()
