"""Where the SFU's ICE sockets are bound (a fixed UDP port range), and the public address it
announces when it sits behind 1:1 NAT.

aiortc makes each peer's aioice ``Connection`` itself, and aioice (0.13) binds one host socket per
local address with ``loop.create_datagram_endpoint(local_addr=(address, 0))``: the operating
system picks any free port, so a firewall would have to open them all, and aioice has no option
for a range. :func:`use_media_ports` replaces ``Connection.get_component_candidates`` process-wide
(like ``ice.set_host_addresses``) with one that binds the host sockets itself, inside the range,
and then lets aioice's own method do the rest (STUN/TURN candidates; the SFU configures neither).
A member peer and a gallery viewer alike get their sockets here: the viewer's fast send path writes
to the same aioice socket.

The announced address (``--media-address`` given an address no interface of this host has) is
added as a *server-reflexive* candidate next to each host candidate, with the same port: what a
STUN server would have told us behind a 1:1 NAT. Rewriting the host candidate instead would cut
off browsers on the server's own network (the town hall's LAN, the chamber) unless the NAT loops
back; with both, each browser uses the one it can reach.
"""

from __future__ import annotations

import asyncio
import inspect
import ipaddress
import itertools
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aioice.ice
import aioice.turn
from aioice.candidate import Candidate, candidate_foundation, candidate_priority

from gikai.media.errors import MediaPortsExhausted

_original = aioice.ice.Connection.get_component_candidates


@dataclass(frozen=True)
class PortRange:
    low: int
    high: int  # inclusive

    @classmethod
    def parse(cls, text: str) -> PortRange:
        """``"40000-40099"``; ValueError says what is wrong."""
        low_text, dash, high_text = text.partition("-")
        try:
            low, high = int(low_text), int(high_text if dash else low_text)
        except ValueError:
            raise ValueError(f"media ports must be LOW-HIGH, e.g. 40000-40099 (got {text!r})") from None
        if not 1024 <= low <= high <= 65535:
            raise ValueError(f"media ports must satisfy 1024 <= LOW <= HIGH <= 65535 (got {text!r})")
        return cls(low, high)

    def __contains__(self, port: object) -> bool:
        return isinstance(port, int) and self.low <= port <= self.high

    def __len__(self) -> int:
        return self.high - self.low + 1

    def __str__(self) -> str:
        return f"{self.low}-{self.high}"


@dataclass
class _Settings:
    ports: PortRange | None = None
    announced: tuple[str, ...] = ()
    cursor: int = 0  # where the next search starts: ports freed a moment ago are reused last


_settings = _Settings()


def use_media_ports(ports: PortRange | None, announced: Sequence[str] = ()) -> None:
    """Bind every ICE host socket inside ``ports`` (None: anywhere, as aioice does) and announce
    ``announced`` addresses as server-reflexive candidates. Process-wide, like the host addresses."""
    _check_aioice()
    _settings.ports = ports
    _settings.announced = tuple(str(ipaddress.ip_address(a)) for a in announced)
    _settings.cursor = 0
    if ports is None and not announced:
        aioice.ice.Connection.get_component_candidates = _original  # type: ignore[method-assign]
    else:
        aioice.ice.Connection.get_component_candidates = _get_component_candidates  # type: ignore[method-assign]


def ensure_free_port() -> None:
    """Refuse a new peer now, with a clear error, when no host address has a free port left in the
    range (instead of a connection that fails later). A probe: the port is not held for the peer."""
    ports = _settings.ports
    if ports is None:
        return
    addresses = aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=True)
    for address in addresses:
        try:
            _bind_in_range(address, ports).close()
            return
        except MediaPortsExhausted:
            continue
    raise MediaPortsExhausted(f"every media port {ports} is in use on {', '.join(addresses) or 'no address'}")


def _bind_in_range(address: str, ports: PortRange) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    start = _settings.cursor
    for step in range(len(ports)):
        port = ports.low + (start + step) % len(ports)
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.bind((address, port))
        except OSError:
            sock.close()
            continue
        _settings.cursor = (start + step + 1) % len(ports)
        return sock
    raise MediaPortsExhausted(f"every media port {ports} is in use on {address}")


async def _get_component_candidates(
    self: aioice.ice.Connection, component: int, addresses: list[str], timeout: int = 5,  # noqa: ASYNC109 (aioice's signature)
) -> list[Candidate]:
    ports = _settings.ports
    if ports is None:
        candidates = await _original(self, component, addresses, timeout)
    else:
        hosts = [c for c in [await _host_candidate(self, component, a, ports) for a in addresses] if c]
        if addresses and not hosts:
            raise MediaPortsExhausted(f"every media port {ports} is in use on {', '.join(addresses)}")
        candidates = hosts + await _original(self, component, [], timeout)
    return candidates + _announced(candidates)


async def _host_candidate(
    connection: aioice.ice.Connection, component: int, address: str, ports: PortRange
) -> Candidate | None:
    """What aioice's own method does for one address, on a socket bound inside the range."""
    try:
        sock = _bind_in_range(address, ports)
    except MediaPortsExhausted:
        return None
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, aioice.turn.UDP_SOCKET_BUFFER_SIZE)
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_datagram_endpoint(lambda: aioice.ice.StunProtocol(connection), sock=sock)
    host, port = sock.getsockname()[:2]
    protocol.local_candidate = Candidate(
        foundation=candidate_foundation("host", "udp", host), component=component, transport="udp",
        priority=candidate_priority(component, "host"), host=host, port=port, type="host",
    )
    connection._protocols.append(protocol)
    return protocol.local_candidate


def _announced(candidates: list[Candidate]) -> list[Candidate]:
    """A server-reflexive candidate per announced address and non-loopback host candidate of its
    family: the public address with the host socket's port (1:1 NAT keeps ports)."""
    out = []
    for public, host in itertools.product(_settings.announced, candidates):
        address = ipaddress.ip_address(host.host)
        if host.type != "host" or address.is_loopback or address.version != ipaddress.ip_address(public).version:
            continue
        out.append(Candidate(
            foundation=candidate_foundation("srflx", "udp", host.host), component=host.component,
            transport="udp", priority=candidate_priority(host.component, "srflx"), host=public,
            port=host.port, type="srflx", related_address=host.host, related_port=host.port,
        ))
    return out


def _check_aioice() -> None:
    """The names this module relies on: a newer aioice that renamed them fails at start-up, loudly."""
    wanted: list[tuple[Any, str]] = [
        (aioice.ice, "Connection"), (aioice.ice, "StunProtocol"), (aioice.ice, "get_host_addresses"),
        (aioice.turn, "UDP_SOCKET_BUFFER_SIZE"), (aioice.ice.Connection, "get_component_candidates"),
    ]
    missing = [f"{getattr(owner, '__name__', owner)}.{name}" for owner, name in wanted if not hasattr(owner, name)]
    params = list(inspect.signature(_original).parameters)
    if params[:3] != ["self", "component", "addresses"]:
        missing.append("Connection.get_component_candidates(self, component, addresses)")
    if not isinstance(getattr(aioice.ice.Connection(ice_controlling=True), "_protocols", None), list):
        missing.append("Connection._protocols")  # a bare Connection opens no socket
    if missing:
        raise RuntimeError(f"aioice {aioice.__version__} lacks what --media-ports needs: {', '.join(missing)}")
