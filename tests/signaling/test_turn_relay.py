"""The credentials gikai hands to browsers, against a real coturn (``use-auth-secret``): a real
TURN client (aioice's) allocates a relay with them over UDP and TCP and sends through it; an
expired one, another secret's, or a username changed by the browser are refused."""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aioice import stun, turn

from gikai.signaling.turn import TurnServers, credential
from tests.support.coturn import Coturn, start_coturn
from tests.support.waiting import eventually

SECRET = secrets.token_urlsafe(24)


@pytest.fixture(scope="module")
def coturn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Coturn]:
    port = random.randrange(20000, 29000)
    relay = random.randrange(30000, 32000)
    running = start_coturn(tmp_path_factory.mktemp("coturn"), "127.0.0.1", port, SECRET, (relay, relay + 40),
                           loopback_peers=True)  # the peer it relays to is on loopback here
    try:
        yield running
    finally:
        running.stop()


class Received(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.datagrams: list[tuple[bytes, Any]] = []
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.datagrams.append((data, addr))


async def allocate(coturn: Coturn, username: str, password: str, transport: str) -> tuple[Any, Received]:
    return await turn.create_turn_endpoint(Received, server_addr=(coturn.address, coturn.port),
                                           username=username, password=password, transport=transport)


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_coturn_relays_for_a_member_with_the_credentials_gikai_issued(coturn: Coturn, transport: str) -> None:
    servers = TurnServers((f"turn:{coturn.address}:{coturn.port}?transport={transport}",), SECRET, ttl=3600)
    given = servers.ice_servers("participant-1")[0]
    relayed, client = await allocate(coturn, given["username"], given["credential"], transport)
    loop = asyncio.get_running_loop()
    peer_transport, peer = await loop.create_datagram_endpoint(Received, local_addr=("127.0.0.1", 0))
    try:
        relay_addr = relayed.get_extra_info("sockname")
        assert relay_addr[0] == coturn.address and relay_addr[1] != coturn.port
        # Through the relay to a peer and back: what the SFU and the browser do.
        peer_addr = peer_transport.get_extra_info("sockname")
        relayed.sendto(b"to the SFU", peer_addr)
        await eventually(lambda: peer.datagrams, message="the peer to receive through the relay")
        data, source = peer.datagrams[0]
        assert data == b"to the SFU" and tuple(source) == tuple(relay_addr)
        peer_transport.sendto(b"to the browser", relay_addr)
        await eventually(lambda: client.datagrams, message="the client to receive the peer's reply")
        assert client.datagrams[0] == (b"to the browser", peer_addr)
    finally:
        relayed.close()
        peer_transport.close()


@pytest.mark.parametrize("case", ["expired", "other secret", "username changed"])
async def test_coturn_refuses_credentials_that_are_expired_forged_or_altered(coturn: Coturn, case: str) -> None:
    now = time.time()
    if case == "expired":
        username = f"{int(now) - 60}:participant-1"
        password = credential(SECRET, username)
    elif case == "other secret":
        username = f"{int(now) + 3600}:participant-1"
        password = credential(secrets.token_urlsafe(24), username)
    else:  # a browser that makes its credential last longer than it was given
        issued = f"{int(now) + 3600}:participant-1"
        username, password = f"{int(now) + 86400 * 365}:participant-1", credential(SECRET, issued)
    with pytest.raises(stun.TransactionFailed) as refused:
        await allocate(coturn, username, password, "tcp")
    assert refused.value.response.attributes["ERROR-CODE"][0] == 401

