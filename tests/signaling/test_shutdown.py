"""Stopping the server with participants connected leaves no task, thread, socket or peer."""

import asyncio
import gc
import threading

import aiohttp
import psutil
from aiohttp import web

from gikai.signaling.app import create_app
from gikai.signaling.config import ServerConfig
from tests.signaling.test_ws import Session
from tests.support.client import MediaClient
from tests.support.server import Parts
from tests.support.waiting import eventually


async def test_stopping_the_server_mid_meeting_cleans_up_everything(tmp_path):
    process = psutil.Process()
    await asyncio.sleep(0)
    tasks_before = len(asyncio.all_tasks())
    threads_before = threading.active_count()
    fds_before = process.num_fds()

    runner = web.AppRunner(create_app(ServerConfig(data_dir=tmp_path, media_addresses=["127.0.0.1"])))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    services = Parts(runner.app)
    _, participants, _ = await services.directory.ensure_rehearsal()
    tokens = [services.tokens.issue(p.id) for p in participants[:3]]

    http = aiohttp.ClientSession()
    sessions = []
    for i, token in enumerate(tokens):
        s = Session(await http.ws_connect(f"http://127.0.0.1:{port}/ws"), MediaClient(f"c{i}"))
        assert (await s.request("join", token=token))["ok"]
        sessions.append(s)
    pids = [p.id for p in participants[:3]]
    await eventually(lambda: all(
        s.media.frame_counts[(other, "video")] > 0 for s, me in zip(sessions, pids, strict=True) for other in pids if other != me
    ))
    room = services.sfu.rooms[next(iter(services.sfu.rooms))]
    server_pcs = [peer.pc for peer in room.peers.values()]

    await runner.cleanup()  # the server stops while three participants are in the meeting
    await eventually(lambda: all(s.ws.closed for s in sessions))
    assert all(s.ws.close_code == 1001 for s in sessions)
    assert services.sfu.rooms == {} and not services.connections and not services.background
    assert all(pc.connectionState == "closed" for pc in server_pcs)

    for s in sessions:
        await s.close()
    await http.close()
    gc.collect()
    await eventually(lambda: len(asyncio.all_tasks()) <= tasks_before)
    await eventually(lambda: threading.active_count() <= threads_before)
    await eventually(lambda: process.num_fds() <= fds_before)
