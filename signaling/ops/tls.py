"""``--tls-cert`` and ``--tls-key``: gikai serves HTTPS and WSS itself (HTTP/1.1).

Browsers give the camera, the microphone and passkeys only to a secure page, so a server
reached from other machines needs HTTPS, here or at a reverse proxy in front (docs/deployment.md).
"""

from __future__ import annotations

import ssl
from pathlib import Path


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A TLS server context (TLS 1.2 or newer) with the certificate chain and its key."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile=cert, keyfile=key)
    context.set_alpn_protocols(["http/1.1"])
    return context
