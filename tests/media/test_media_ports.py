"""media/sfu/ports.py with real aiortc connections in this process: their ICE host sockets are
bound inside the range, a full range refuses the next one with MediaPortsExhausted (at once from
ensure_free_port, and from gathering should it come to that), a closed connection frees its port,
and without a range aioice binds as it always did. (A whole server: tests/signaling/test_media_ports.py.)"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection

from gikai.media import MediaPortsExhausted, PortRange, ensure_free_port, use_media_ports

EPHEMERAL = tuple(map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()))


@pytest.fixture
def ports() -> Iterator[PortRange]:
    low = random.randrange(20000, 29000)
    chosen = PortRange(low, low + 1)
    use_media_ports(chosen)
    yield chosen
    use_media_ports(None)


async def offering(pcs: list[RTCPeerConnection]) -> RTCPeerConnection:
    """A connection that gathered its candidates (kept in ``pcs`` to be closed, even if it fails)."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pcs.append(pc)
    pc.addTransceiver("video", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    return pc


def host_ports(pc: RTCPeerConnection) -> list[int]:
    return [int(line.split()[5]) for line in pc.localDescription.sdp.splitlines()
            if line.startswith("a=candidate:") and " typ host" in line]


async def test_connections_bind_inside_the_range_and_a_full_range_refuses_the_next(ports: PortRange) -> None:
    pcs: list[RTCPeerConnection] = []
    try:
        first, second = await offering(pcs), await offering(pcs)
        taken = host_ports(first) + host_ports(second)
        assert sorted(taken) == [ports.low, ports.high]
        with pytest.raises(MediaPortsExhausted):
            ensure_free_port()
        with pytest.raises(MediaPortsExhausted):
            await offering(pcs)
        await first.close()
        ensure_free_port()  # the closed connection's port is free again
        assert host_ports(await offering(pcs)) == host_ports(first)
    finally:
        for pc in pcs:
            await pc.close()


async def test_without_a_range_the_system_picks_the_port() -> None:
    use_media_ports(None)
    low, high = EPHEMERAL
    pcs: list[RTCPeerConnection] = []
    try:
        (port,) = host_ports(await offering(pcs))
        assert low <= port <= high  # the system's ephemeral range, which the ranges above avoid
    finally:
        for pc in pcs:
            await pc.close()
