"""Audio only (映像を受け取らない) over the member socket of a running app, with real aiortc media:
a member's own choice stops the others' video to that member alone, and the server suggests it
when the member's link is too weak even for the lowest frame rate."""

from __future__ import annotations

from gikai.media.sfu.layers import LayerPolicy
from tests.signaling.test_ws import Session, server  # noqa: F401  # the fixture
from tests.support.client import MediaClient
from tests.support.encoded import EncodedSourceTrack
from tests.support.waiting import eventually, forwards_every_frame


async def sent_more(track: EncodedSourceTrack, frames: int) -> None:
    target = len(track.sent) + frames
    await eventually(lambda: len(track.sent) >= target, message=f"{frames} more frames sent")


async def two_publishers(client, tokens) -> tuple[Session, Session]:
    """The chair and the vice-chair joined, each publishing camera and microphone."""
    a = Session(await client.ws_connect("/ws"), MediaClient("a"))
    b = Session(await client.ws_connect("/ws"), MediaClient("b"))
    await a.request("join", token=tokens[0])
    await b.request("join", token=tokens[1])
    return a, b


async def test_a_member_who_chooses_audio_only_gets_no_video_and_everyone_else_is_untouched(server):  # noqa: F811
    client, _services, participants, tokens = server
    a, b = await two_publishers(client, tokens)
    try:
        pa, pb = participants[0].id, participants[1].id
        assert a.media is not None and b.media is not None
        await eventually(lambda: a.media.frame_counts[(pb, "video")] > 5 and b.media.frame_counts[(pa, "video")] > 5)

        reply = await a.request("reception_mode", audio_only=True)
        assert reply["ok"] and reply["data"] == {"audio_only": True}
        await sent_more(b.media.video, 15)  # what was on its way has arrived
        video, audio = a.media.frame_counts[(pb, "video")], a.media.frame_counts[(pb, "audio")]
        await sent_more(b.media.video, 30)
        assert a.media.frame_counts[(pb, "video")] == video, "no video reaches the member who chose audio only"
        assert a.media.frame_counts[(pb, "audio")] > audio + 50, "their audio keeps coming"
        # The other member still receives everything, the audio-only member's camera included.
        await forwards_every_frame(a.media.video, b.media, pa, frames=30, message="b still receives a")

        assert (await a.request("reception_mode", audio_only=False))["data"] == {"audio_only": False}
        await eventually(lambda: a.media.frame_counts[(pb, "video")] > video + 10, message="video again")
        back = a.media.frames_from(pb, "video")[video]
        assert back.keyframe, "video comes back on a keyframe"
    finally:
        await a.close()
        await b.close()


async def test_reception_mode_is_validated_and_needs_a_join(server):  # noqa: F811
    client, _services, _participants, tokens = server
    a = Session(await client.ws_connect("/ws"))
    try:
        early = await a.request("reception_mode", audio_only=True)
        assert early["type"] == "error" and early["code"] == "not_joined"
        await a.request("join", token=tokens[0])
        for bad in ({"audio_only": "yes"}, {"audio_only": 1}, {}):
            answer = await a.request("reception_mode", **bad)
            assert answer["type"] == "error" and answer["code"] == "bad_message", bad
        # A field naming someone else is no way to change their reception: it is ignored, and
        # the choice is this socket's member's.
        reply = await a.request("reception_mode", audio_only=True, participant_id="someone-else")
        assert reply["ok"] and reply["data"] == {"audio_only": True}
    finally:
        await a.close()


async def test_a_link_stuck_at_the_lowest_layer_with_loss_gets_audio_only_suggested_once(server):  # noqa: F811
    client, services, participants, tokens = server
    a, b = await two_publishers(client, tokens)
    try:
        pa, pb = participants[0].id, participants[1].id
        await eventually(lambda: a.media.frame_counts[(pb, "video")] > 5)
        room = services.sfu.rooms[next(iter(services.sfu.rooms))]
        down = room.peers[pa].subscriptions()[(pb, "video")]
        others = room.peers[pb].subscriptions()[(pa, "video")]

        # a's receiver reports, as its RTCP would send them from a link losing 30% at any rate:
        # down to layer 0 at once, then "struggling" after the policy's time at layer 0.
        t = 0.0
        while t < LayerPolicy().struggle_after + 15:
            down.receiver_report(0.3, now=t)
            t += 1.0
        await eventually(lambda: a.pushed("audio_only_suggested"), message="the suggestion")
        assert not b.pushed("audio_only_suggested"), "only the member whose link is weak is asked"
        assert down.chooser.layer == 0 and others.chooser.layer == 2

        # It goes on: no second suggestion so soon, and none once audio only is on.
        while t < 2 * LayerPolicy().struggle_after + 30:
            down.receiver_report(0.0 if t < 60 else 0.3, now=t)
            t += 1.0
        await a.request("reception_mode", audio_only=True)
        await a.request("ping")
        assert len(a.pushed("audio_only_suggested")) == 1
    finally:
        await a.close()
        await b.close()
