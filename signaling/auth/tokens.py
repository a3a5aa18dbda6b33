"""Join tokens for rehearsal links: unguessable, per participant, stable across restarts.

A token is ``<participant id>.<MAC>``: the MAC is HMAC-SHA256 over the participant id
under a server secret kept in the data folder, so nothing secret is stored in the
database and a link printed yesterday still works after a restart.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

MAX_TOKEN_CHARS = 200  # what a socket or a request may send as a token; a real one has 76
_PURPOSE = b"gikai-rehearsal-join-v1:"
_TOKEN = re.compile(r"([0-9a-f]{32})\.([A-Za-z0-9_-]{43})")  # used with fullmatch: "$" would let a newline through


def load_or_create_secret(data_dir: Path) -> bytes:
    path = data_dir / "secret.key"
    if path.exists():
        secret = path.read_bytes()
        if len(secret) >= 32:
            return secret
    secret = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(secret)
    return secret


class JoinTokens:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, participant_id: str) -> str:
        digest = hmac.new(self._secret, _PURPOSE + participant_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def issue(self, participant_id: str) -> str:
        return f"{participant_id}.{self._mac(participant_id)}"

    def verify(self, token: str) -> str | None:
        """The participant id the token was issued for, or None."""
        match = _TOKEN.fullmatch(token)
        if not match:
            return None
        participant_id, mac = match.groups()
        if not hmac.compare_digest(mac, self._mac(participant_id)):
            return None
        return participant_id
