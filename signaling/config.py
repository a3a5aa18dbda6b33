"""The server's settings, as ``gikai serve`` takes them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiohttp import web


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
    gallery_max_per_address: int = 10  # seats one client address may hold (a family, a library's terminals)
    gallery_claim_seconds: float = 30.0  # a seat whose media has not started by then is given back


CONFIG = web.AppKey("config", ServerConfig)


def origin_allowed(request: web.Request, origin: str) -> bool:
    """A browser may send requests and open sockets only from a page this server served."""
    allowed = {f"{request.scheme}://{request.host}"}
    public_url = request.app[CONFIG].public_url
    if public_url:
        allowed.add(public_url.rstrip("/"))
    return origin in allowed
