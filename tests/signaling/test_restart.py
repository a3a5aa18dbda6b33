"""Stop the server mid-sitting and start it again: nothing is lost, clients carry on."""

import aiohttp
from aiohttp import web

from gikai.signaling.app import create_app
from gikai.signaling.config import ServerConfig
from tests.signaling.test_ws import Session
from tests.support.server import Parts
from tests.support.waiting import eventually


async def start(data_dir):
    runner = web.AppRunner(create_app(ServerConfig(data_dir=data_dir, media_addresses=["127.0.0.1"], presence_detection=False)))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, runner.addresses[0][1], Parts(runner.app)


async def join_all(http, port, tokens):
    sessions = []
    for token in tokens:
        s = Session(await http.ws_connect(f"http://127.0.0.1:{port}/ws"))
        reply = await s.request("join", token=token)
        assert reply["ok"], reply
        s.me = reply["data"]["participant"]["id"]
        s.joined = reply["data"]
        sessions.append(s)
    return sessions


async def test_a_restart_mid_sitting_loses_nothing(tmp_path):
    runner, port, services = await start(tmp_path)
    _, participants, _ = await services.directory.ensure_rehearsal()
    tokens = [services.tokens.issue(p.id) for p in participants[:7]]
    async with aiohttp.ClientSession() as http:
        chair, *members = await join_all(http, port, tokens)
        assert (await chair.request("command", name="open"))["ok"]
        item = chair.joined["sitting"]["agenda"][1]["id"]
        assert (await chair.request("command", name="take_up", item_id=item))["ok"]
        assert (await members[2].request("command", name="request_floor", kind="question"))["ok"]
        assert (await members[3].request("command", name="request_floor", kind="speech"))["ok"]
        await eventually(lambda: len(chair.pushed("sitting")[-1]["sitting"]["queue"]["requests"]) == 2)
        first = chair.pushed("sitting")[-1]["sitting"]["queue"]["requests"][0]["id"]
        assert (await chair.request("command", name="grant", request_id=first))["ok"]
        await eventually(lambda: chair.pushed("sitting")[-1]["sitting"]["floor"] is not None)
        before = chair.pushed("sitting")[-1]["sitting"]

        await runner.cleanup()
        await eventually(lambda: all(s.ws.closed for s in [chair, *members]))
        for s in [chair, *members]:
            await s.close()

        runner, port, services = await start(tmp_path)  # same data folder, new process state
        try:
            chair, *members = await join_all(http, port, tokens)  # the clients reconnect
            after = chair.joined["sitting"]
            for key in ("state", "current_item_id", "floor", "queue", "audio_mode"):
                assert after[key] == before[key], key
            await eventually(lambda: len(chair.pushed("sitting")) and
                           len(chair.pushed("sitting")[-1]["sitting"]["attendance"]) == 7)
            sitting = await services.sittings.get(after["meeting_id"])
            intervals = [i for i in sitting.attendance.intervals if i.participant_id == chair.me]
            assert len(intervals) == 2 and intervals[0].end is not None and intervals[1].end is None
            assert (await chair.request("command", name="end_speech"))["ok"], "and the sitting carries on"
            for s in [chair, *members]:
                await s.close()
        finally:
            await runner.cleanup()
