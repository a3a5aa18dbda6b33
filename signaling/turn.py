"""TURN servers for the browsers, with time-limited credentials (the "TURN REST API" scheme).

aiortc offers no TCP candidates, so a member whose network drops UDP can reach the SFU only
through a TURN relay on the browser's side (coturn, ``use-auth-secret``). The relay and gikai
share one secret; gikai gives each browser a username ``"<expiry unix time>:<member or viewer
id>"`` and the password ``base64(HMAC-SHA1(secret, username))``, which coturn recomputes. The
secret never leaves the server: not in a page, a message or a log line (``repr`` hides it).

Credentials go out in every join (and gallery watch) reply, so a reconnect renews them, and again
every half lifetime on the open socket: a browser gathering again (an ICE restart, a new
connection) always holds a valid pair.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

DEFAULT_TTL = 24 * 3600  # longer than any sitting: a relay allocated at the start lasts to the end
MIN_TTL = 600  # what the command line accepts: shorter would have browsers renew all the time
MIN_SECRET_CHARS = 16


def credential(secret: str, username: str) -> str:
    """coturn's ``static-auth-secret`` password for ``username``."""
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def validate_url(url: str) -> str:
    """A ``turn:``/``turns:`` URI (RFC 7065) as a browser takes it; ValueError says what is wrong."""
    scheme, _, rest = url.partition(":")
    if scheme not in ("turn", "turns") or not rest or rest.startswith("//"):
        raise ValueError(f"TURN URL must look like turn:HOST:PORT?transport=udp or turns:HOST:443?transport=tcp "
                         f"(got {url!r})")
    parts = urlsplit("//" + rest)
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"TURN URL has a bad port: {url!r}") from None
    if not parts.hostname or parts.path or parts.username or (port is not None and not 0 < port < 65536):
        raise ValueError(f"TURN URL must be turn[s]:HOST[:PORT][?transport=udp|tcp] (got {url!r})")
    query = parse_qs(parts.query, keep_blank_values=True)
    if set(query) - {"transport"} or any(v not in ("udp", "tcp") for v in query.get("transport", [])):
        raise ValueError(f"TURN URL may only say ?transport=udp or ?transport=tcp (got {url!r})")
    if scheme == "turns" and query.get("transport") == ["udp"]:
        raise ValueError(f"turns: runs over TLS, which needs ?transport=tcp (got {url!r})")
    return url


@dataclass(frozen=True)
class TurnServers:
    urls: tuple[str, ...]
    secret: str = field(repr=False)
    ttl: int = DEFAULT_TTL  # seconds a credential is valid

    def __post_init__(self) -> None:
        for url in self.urls:
            validate_url(url)
        if self.urls and len(self.secret) < MIN_SECRET_CHARS:
            raise ValueError(f"the TURN secret must be at least {MIN_SECRET_CHARS} characters "
                             "(coturn's static-auth-secret)")
        if self.ttl < 1:
            raise ValueError("TURN credentials must live at least a second")

    @property
    def renew_every(self) -> float:
        """How often an open socket gets fresh credentials."""
        return self.ttl / 2

    def ice_servers(self, user_id: str, now: float | None = None) -> list[dict[str, Any]]:
        """The ``iceServers`` entry for one browser (empty without TURN), as RTCPeerConnection takes it."""
        if not self.urls:
            return []
        expiry = int(now if now is not None else time.time()) + self.ttl
        username = f"{expiry}:{user_id}"
        return [{"urls": list(self.urls), "username": username, "credential": credential(self.secret, username)}]


NO_TURN = TurnServers((), "")


async def keep_renewing(servers: TurnServers, user_id: str,
                        send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
    """Push fresh credentials every half lifetime, for as long as the caller keeps this task."""
    if not servers.urls:
        return
    while True:
        await asyncio.sleep(servers.renew_every)
        await send({"type": "ice_servers", "ice_servers": servers.ice_servers(user_id)})
