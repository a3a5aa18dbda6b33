"""DTLS with peers whose certificate is RSA, and why a media connection failed.

aiortc's DTLS context offers only ECDHE-ECDSA cipher suites (aiortc 1.x; aiortc issues #1335,
#1392, #1421, #1434). Browsers use ECDSA certificates, but GStreamer's ``webrtcbin``, many
encoders and WHIP clients bring a stock RSA certificate. When such a peer is the DTLS server
(it answers ``a=setup:passive``), the server's ClientHello offers nothing its RSA key can sign
and the handshake ends in "no shared cipher". Here ECDHE-RSA suites with AES-GCM and ChaCha20
follow the ECDSA ones: a browser still gets ECDSA (the server keeps aiortc's ECDSA certificate,
and an RSA suite needs an RSA key on the server's side).

aiortc also logs the reason a handshake failed only at DEBUG, and a failed peer was reported as
"failed; removing it" with no reason. :func:`failure_reason` puts the ICE and DTLS states and the
handshake's own error in words for the server's WARNING.

Both reach into aiortc's ``RTCDtlsTransport`` and ``RTCCertificate`` (checked names; the
version range is pinned in pyproject.toml), applied once when the SFU is made.
"""

from __future__ import annotations

from typing import Any

from aiortc import RTCPeerConnection
from aiortc.rtcdtlstransport import RTCCertificate, RTCDtlsTransport

ECDSA_SUITES = (b"ECDHE-ECDSA-AES128-GCM-SHA256", b"ECDHE-ECDSA-CHACHA20-POLY1305",
                b"ECDHE-ECDSA-AES128-SHA", b"ECDHE-ECDSA-AES256-SHA")
RSA_SUITES = (b"ECDHE-RSA-AES128-GCM-SHA256", b"ECDHE-RSA-AES256-GCM-SHA384", b"ECDHE-RSA-CHACHA20-POLY1305")
CIPHER_LIST = b":".join(ECDSA_SUITES + RSA_SUITES)
FAILED_PREFIX = "x DTLS handshake failed"
_LOG_DEBUG = "_RTCDtlsTransport__log_debug"
_ORIGINAL: dict[str, Any] = {}


def _create_ssl_context(self: RTCCertificate, srtp_profiles: list[Any]) -> Any:
    ctx = _ORIGINAL["context"](self, srtp_profiles)
    ctx.set_cipher_list(CIPHER_LIST)
    return ctx


def _log_debug(self: RTCDtlsTransport, msg: str, *args: object) -> None:
    if msg.startswith(FAILED_PREFIX):
        # "x DTLS handshake failed (error [('SSL routines', '', 'no shared cipher')])" and the like
        reason = (msg % args if args else msg)[len("x "):]
        if reason.endswith("(error [])"):  # OpenSSL kept no error: the other side sent an alert
            reason = reason[:-len("(error [])")] + ("(the other side ended it with an alert: no cipher suite "
                                                     "in common, or a certificate it did not accept)")
        self._gikai_failure = reason  # type: ignore[attr-defined]
    _ORIGINAL["log"](self, msg, *args)


def use_rsa_peer_suites() -> None:
    """Offer ECDHE-RSA suites after the ECDSA ones, and keep each failed handshake's reason.
    Idempotent; an aiortc whose names moved fails loudly here."""
    if _ORIGINAL:
        return
    if not callable(getattr(RTCCertificate, "_create_ssl_context", None)):
        raise RuntimeError("aiortc's RTCCertificate has no _create_ssl_context: check media/sfu/dtls.py")
    if not callable(getattr(RTCDtlsTransport, _LOG_DEBUG, None)):
        raise RuntimeError("aiortc's RTCDtlsTransport has no __log_debug: check media/sfu/dtls.py")
    _ORIGINAL["context"] = RTCCertificate._create_ssl_context
    _ORIGINAL["log"] = getattr(RTCDtlsTransport, _LOG_DEBUG)
    RTCCertificate._create_ssl_context = _create_ssl_context  # type: ignore[method-assign]
    setattr(RTCDtlsTransport, _LOG_DEBUG, _log_debug)


def _dtls_transports(pc: RTCPeerConnection) -> list[RTCDtlsTransport]:
    seen: dict[int, RTCDtlsTransport] = {}
    for transceiver in pc.getTransceivers():
        transport = transceiver.sender.transport
        if transport is not None:
            seen.setdefault(id(transport), transport)
    return list(seen.values())


def negotiated_suite(pc: RTCPeerConnection) -> str | None:
    """The cipher suite of the connection's DTLS session, once the handshake is done."""
    for transport in _dtls_transports(pc):
        ssl = getattr(transport, "_ssl", None)
        if ssl is not None and getattr(transport, "encrypted", False):
            name = ssl.get_cipher_name()
            return name.decode() if isinstance(name, bytes) else name
    return None


def failure_reason(pc: RTCPeerConnection) -> str:
    """Why the connection failed, in one line: the ICE state, the DTLS state and its error."""
    parts = [f"connection {pc.connectionState}", f"ICE {pc.iceConnectionState}"]
    for transport in _dtls_transports(pc):
        parts.append(f"DTLS {transport.state}")
        reason = getattr(transport, "_gikai_failure", None)
        if reason:
            parts.append(reason)
        connection = getattr(transport.transport, "_connection", None)
        consent = getattr(connection, "gikai_consent_failure", None)
        if consent:
            parts.append(consent)
        break
    if pc.iceConnectionState == "failed" and len(parts) <= 3:
        parts.append("no candidate pair answered the ICE checks (a firewall between the member and the "
                     "server's media ports, or TURN needed)")
    return "; ".join(parts)
