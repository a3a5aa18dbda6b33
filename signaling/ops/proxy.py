"""Behind a reverse proxy: the client's address, scheme and host as the proxy saw them.

A proxy in front of gikai (Caddy, nginx) terminates TLS and connects from its own address, so
without help every request looks like plain HTTP from 127.0.0.1. The proxy says what it saw in
``X-Forwarded-For/-Proto/-Host`` or the standard ``Forwarded`` header. Anybody can send those
headers, so they are believed only when the connection comes from one of ``--trusted-proxy``'s
addresses; then the request is replaced by a clone carrying the forwarded values, and every
handler (rate limits, the gallery's per-address logic, logs, the scheme for cookies) sees them.
Otherwise the headers are ignored and the peer's own address is the client.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Awaitable, Callable

from aiohttp import web

from gikai.signaling.config import CONFIG, Network, address_in

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_HOST = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253})(:\d{1,5})?$")
_FORWARDED_PAIR = re.compile(r'\s*([A-Za-z]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*)\s*')


def peer_address(request: web.Request) -> str:
    """The address the connection really comes from (the socket's peer)."""
    peer = request.transport.get_extra_info("peername") if request.transport is not None else None
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return request.remote or ""


def _last(value: str | None) -> str | None:
    """The value the nearest proxy appended: the last of a comma-separated list."""
    if not value:
        return None
    return value.split(",")[-1].strip() or None


def _client(chain: list[str], trusted: tuple[Network, ...]) -> str | None:
    """The first address from the right that is not one of our proxies: the client. What lies to
    its left was written by the client itself and is not believed."""
    for hop in reversed(chain):
        address = _bare_address(hop)
        if address is None:
            return None
        if not address_in(address, trusted):
            return address
    return _bare_address(chain[0]) if chain else None


def _bare_address(hop: str) -> str | None:
    """``1.2.3.4``, ``1.2.3.4:5678``, ``[::1]:5678`` or ``::1`` as an address; None if none."""
    hop = hop.strip().strip('"')
    if hop.startswith("["):
        hop = hop[1:].split("]", 1)[0]
    elif hop.count(":") == 1:
        hop = hop.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(hop))
    except ValueError:
        return None


def _forwarded(header: str) -> list[dict[str, str]]:
    """RFC 7239 ``Forwarded``: one dict per hop, lower-case keys, quotes removed."""
    hops = []
    for element in header.split(","):
        pairs = {}
        for part in element.split(";"):
            match = _FORWARDED_PAIR.fullmatch(part)
            if match:
                pairs[match.group(1).lower()] = match.group(2).strip('"')
        hops.append(pairs)
    return hops


def forwarded_view(request: web.Request, trusted: tuple[Network, ...]) -> dict[str, str]:
    """What a trusted proxy says of the client: ``remote``, ``scheme``, ``host`` (those it says)."""
    view: dict[str, str] = {}
    headers = request.headers
    if "X-Forwarded-For" in headers or "X-Forwarded-Proto" in headers or "X-Forwarded-Host" in headers:
        chain = [hop for hop in headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
        scheme, host = _last(headers.get("X-Forwarded-Proto")), _last(headers.get("X-Forwarded-Host"))
    elif "Forwarded" in headers:
        hops = _forwarded(",".join(headers.getall("Forwarded")))
        chain = [hop["for"] for hop in hops if "for" in hop]
        scheme, host = hops[-1].get("proto"), hops[-1].get("host")
    else:
        return view
    client = _client(chain, trusted) if chain else None
    if client:
        view["remote"] = client
    if scheme and scheme.lower() in ("http", "https"):
        view["scheme"] = scheme.lower()
    if host and _HOST.match(host):
        view["host"] = host
    return view


@web.middleware
async def forwarded_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    trusted = request.app[CONFIG].trusted_proxies
    if trusted and address_in(peer_address(request), trusted):
        view = forwarded_view(request, trusted)
        if view:
            request = request.clone(remote=view.get("remote", request.remote or ""),
                                    scheme=view.get("scheme", request.scheme), host=view.get("host", request.host))
    return await handler(request)
