"""The chamber display's feed: the gallery's socket watched with ``media: false`` (docs/protocol.md):
the view and every change, no offer, no seat taken, nothing lost after the gallery's claim time."""

from __future__ import annotations

from tests.signaling.test_gallery import (
    Mute,
    Watcher,
    capped,  # noqa: F401  (a fixture)
    watch,
)
from tests.support.waiting import eventually


async def test_a_chamber_display_watches_without_media_or_a_seat_and_is_told_every_change(capped):  # noqa: F811
    client, services, meeting_id = capped
    viewers = [await watch(client, meeting_id) for _ in range(2)]
    mute = Mute(await client.ws_connect("/gallery/ws"))  # takes this address's last seat, never answers
    display = Watcher(await client.ws_connect("/gallery/ws"))
    try:
        assert (await mute.request("watch", meeting_id=meeting_id))["ok"]
        bad = await display.request("watch", meeting_id=meeting_id, media="no")
        assert bad["code"] == "bad_message"
        reply = await display.request("watch", meeting_id=meeting_id, media=False)
        assert reply["ok"] and set(reply["data"]) == {"view"}, "no ice_servers: no media"
        display.first_view = reply["data"]["view"]
        assert display.first_view["meeting_id"] == meeting_id and services.gallery.viewers == 3, "no seat taken"
        _, participants, _ = await services.directory.ensure_rehearsal()
        for p in participants[:7]:
            await services.sittings.execute(meeting_id, lambda s, now, pid=p.id: s.connected(pid, now))
        await services.sittings.execute(meeting_id, lambda s, now: s.open(participants[0].id, now))
        await eventually(lambda: display.view()["state"] == "open", message="the opening pushed to the display")
        await eventually(lambda: mute.ws.closed, message="the mute viewer's seat given back after the claim time")
        assert not display.ws.closed, "a display claims no seat, so it loses none"
        assert not [p for p in display.pushes if p["type"] in ("offer", "error")]
        assert (await display.request("ping"))["ok"]
    finally:
        for w in (*viewers, mute, display):
            await w.close()
