"""``gikai serve --media-ports``: a real server process whose UDP sockets are enumerated (psutil)
while real aiortc members are connected. Every one lies inside the range; when the range is
full the next member is refused with the catalogue's words, the others keep their media, and
the refused member gets in once someone leaves."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import aiohttp
import psutil

from gikai.signaling import errors
from tests.e2e.conftest import Server, start_server, stop_server
from tests.support.member import SocketMember
from tests.support.waiting import eventually

RANGE = 3  # one UDP port per member: the server offers media on 127.0.0.1 only


def udp_ports(server: Server) -> list[int]:
    return sorted(c.laddr.port for c in psutil.Process(server.process.pid).net_connections(kind="udp"))


def ws_url(server: Server) -> str:
    return server.base_url.replace("http://", "ws://") + "/ws"


def token(link: str) -> str:
    return link.split("#", 1)[1]


async def connected(members: list[SocketMember]) -> bool:
    return all(m.silent is not None and m.silent.connectionState == "connected" for m in members)


async def first_reply(url: str, request: dict[str, Any]) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        await ws.send_json({"v": 1, "id": 1, **request})
        while True:
            message = await ws.receive_json(timeout=30)
            if message.get("re") == 1:
                return message


async def test_every_media_socket_is_inside_the_range_and_a_full_range_refuses_the_next_member(
        tmp_path: Path) -> None:
    low = random.randrange(20000, 29000)
    server = start_server(tmp_path, extra=["--media-ports", f"{low}-{low + RANGE - 1}", "--no-presence-detection"])
    members = [SocketMember(ws_url(server), token(link)) for link in server.links[:RANGE]]
    late = SocketMember(ws_url(server), token(server.links[RANGE]))
    try:
        assert f"media ports: UDP {low}-{low + RANGE - 1}" in server.log.read_text()
        joined = [await member.start() for member in members]
        meeting_id = joined[0]["meeting"]["id"]
        await eventually(lambda: connected(members), message="every member's media connection up",
                         seen=lambda: [m.silent and m.silent.connectionState for m in members])
        ports = udp_ports(server)
        assert len(ports) == RANGE and all(low <= port < low + RANGE for port in ports), (low, ports)

        refusal = await first_reply(ws_url(server), {"type": "join", "token": token(server.links[RANGE])})
        assert refusal["type"] == "error" and refusal["code"] == "media_ports_full"
        assert refusal["message"] == errors.message("media_ports_full")
        assert "上限" in refusal["message"]["ja"] and "no media connection free" in refusal["message"]["en"]
        gallery = await first_reply(ws_url(server).replace("/ws", "/gallery/ws"),
                                    {"type": "watch", "meeting_id": meeting_id})
        assert gallery["type"] == "error" and gallery["code"] == "media_ports_full", "a gallery viewer too"
        assert await connected(members), "the members already in keep their media"
        assert udp_ports(server) == ports, "the refusal's probe holds no port"

        await members[0].close()
        await eventually(lambda: len(udp_ports(server)) == RANGE - 1, message="the leaver's port freed",
                         seen=lambda: udp_ports(server))
        await late.start()
        await eventually(lambda: connected([late, *members[1:]]), message="the late member's media up")
        ports = udp_ports(server)
        assert len(ports) == RANGE and all(low <= port < low + RANGE for port in ports), (low, ports)
    finally:
        for member in [*members[1:], late]:
            if hasattr(member, "ws"):
                await member.close()
        stop_server(server.process)
