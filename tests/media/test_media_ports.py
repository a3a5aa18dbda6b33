"""media/sfu/ports.py with real aiortc connections in this process: their ICE host sockets are
bound inside the range, a full range refuses the next one with MediaPortsExhausted (at once from
ensure_free_port, and from gathering should it come to that), a closed connection frees its port,
and without a range aioice binds as it always did. The range is per address: a host with two addresses
(a CI machine with a bridge, a server with IPv4 and IPv6) binds one socket in the range on each.
(A whole server: tests/signaling/test_media_ports.py.)"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection

from gikai.media import MediaPortsExhausted, PortRange, ensure_free_port, set_host_addresses, use_media_ports

EPHEMERAL = tuple(map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()))


@pytest.fixture(autouse=True)
def one_address() -> Iterator[None]:
    """Whatever interfaces this machine has, the connections here gather on loopback alone."""
    set_host_addresses(["127.0.0.1"])
    yield
    set_host_addresses(None)


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


async def test_each_address_binds_inside_the_range(ports: PortRange) -> None:
    set_host_addresses(["127.0.0.1", "127.0.0.2"])  # two addresses, as on a host with a bridge
    pcs: list[RTCPeerConnection] = []
    try:
        first, second = await offering(pcs), await offering(pcs)
        for pc in (first, second):
            by_address = host_candidates(pc)
            assert sorted(by_address) == ["127.0.0.1", "127.0.0.2"]
            assert all(port in ports for port in by_address.values())
        for address in ("127.0.0.1", "127.0.0.2"):  # both ports of the range, on each address
            assert {host_candidates(first)[address], host_candidates(second)[address]} == {ports.low, ports.high}
        with pytest.raises(MediaPortsExhausted):
            ensure_free_port()
    finally:
        for pc in pcs:
            await pc.close()


def host_candidates(pc: RTCPeerConnection) -> dict[str, int]:
    return {line.split()[4]: int(line.split()[5]) for line in pc.localDescription.sdp.splitlines()
            if line.startswith("a=candidate:") and " typ host" in line}
