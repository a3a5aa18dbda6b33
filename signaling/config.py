"""The server's settings, as ``gikai serve`` takes them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from gikai.media import PortRange
from gikai.signaling.turn import NO_TURN, TurnServers


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("gikai-data")
    database_url: str | None = None  # default: SQLite file in data_dir
    media_addresses: list[str] | None = None  # None: every non-loopback interface
    public_url: str | None = None  # base of printed links; default http://host:port
    presence_detection: bool = True  # attendance from cameras; off: from connections
    recording_segment_seconds: float = 300.0  # a crash loses at most the tail of one segment
    recording_min_free_bytes: int = 1 << 30  # recording stops (with an alert) below this much free disk
    gallery_max_viewers: int = 200  # public gallery viewers on this server, all sittings together
    # -- media across a network (docs/network.md): ICE sockets in a fixed UDP range, TURN for
    # browsers whose network drops UDP. media_addresses above may name a 1:1 NAT's public address.
    media_ports: PortRange | None = None  # None: any port the system picks
    turn: TurnServers = NO_TURN  # its secret stays out of repr and logs


CONFIG = web.AppKey("config", ServerConfig)


def origin_allowed(request: web.Request, origin: str) -> bool:
    """A browser may send requests and open sockets only from a page this server served."""
    allowed = {f"{request.scheme}://{request.host}"}
    public_url = request.app[CONFIG].public_url
    if public_url:
        allowed.add(public_url.rstrip("/"))
    return origin in allowed
