"""The server's settings, as ``gikai serve`` takes them."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from gikai.media import PortRange
from gikai.signaling.turn import NO_TURN, TurnServers

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK: tuple[Network, ...] = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


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
    asr_model: Path | None = None  # Whisper model folder for live captions; None: captions are off
    asr_draft_model: Path | None = None  # for the 会議録 draft after a sitting; None: asr_model
    asr_threads: int = 2  # the recogniser's CPU threads (one worker process)
    # -- the public broadcast (issue 19): each open sitting encoded once into HLS under
    # data_dir/broadcast/<meeting id>/ (an encoder process per sitting; off unless asked for)
    broadcast: bool = False
    # -- HTTPS, proxies and operations (issue 13, the HTTP half) --
    tls_cert: Path | None = None  # served over HTTPS (and WSS) when both are given
    tls_key: Path | None = None
    # Peers whose X-Forwarded-*/Forwarded headers are believed; nobody's by default.
    trusted_proxies: tuple[Network, ...] = ()
    # Who may read /metrics (the client's address, the forwarded one behind a trusted proxy).
    metrics_allow: tuple[Network, ...] = field(default=LOOPBACK)
    log_format: str = "text"  # or "json": one object per line
    max_loop_lag: float = 1.0  # seconds: /healthz says 503 above this

    # -- media across a network (docs/network.md): ICE sockets in a fixed UDP range, TURN for
    # browsers whose network drops UDP. media_addresses above may name a 1:1 NAT's public address.
    media_ports: PortRange | None = None  # None: any port the system picks
    turn: TurnServers = NO_TURN  # its secret stays out of repr and logs

    @property
    def public_origin(self) -> str | None:
        """``scheme://host[:port]`` of --public-url, or None: then the request's own is used."""
        return canonical_origin(self.public_url) if self.public_url else None

    @property
    def public_host(self) -> str | None:
        """The host name of --public-url: the WebAuthn RP ID."""
        return urlsplit(self.public_url).hostname if self.public_url else None


CONFIG = web.AppKey("config", ServerConfig)


def canonical_origin(url: str) -> str:
    """A URL's origin as a browser writes it in ``Origin``: no default port, no path."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    default = {"http": 80, "https": 443}[parts.scheme]
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{parts.scheme}://{host}{port}"


def parse_networks(text: str) -> tuple[Network, ...]:
    """``127.0.0.1,10.0.0.0/8,::1``: addresses and CIDR blocks, comma-separated."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())


def address_in(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    return any(ip in network for network in networks)


def request_origin(request: web.Request) -> str:
    """The origin the browser sees: --public-url when set (never the request's Host then),
    else the request's scheme and Host (the one-machine rehearsal on http://127.0.0.1)."""
    return request.app[CONFIG].public_origin or f"{request.scheme}://{request.host}"


def request_rp_id(request: web.Request) -> str:
    """The WebAuthn relying party: the public host name, else the request's host."""
    return request.app[CONFIG].public_host or request.url.host or "localhost"


def secure_cookies(request: web.Request) -> bool:
    """Cookies say ``Secure`` when the browser reaches the server over HTTPS."""
    return request_origin(request).startswith("https://")


def origin_allowed(request: web.Request, origin: str) -> bool:
    """A browser may send requests and open sockets only from a page this server served."""
    return origin == request_origin(request)
