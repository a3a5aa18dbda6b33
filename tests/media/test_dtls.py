"""DTLS with a peer whose certificate is RSA (GStreamer's webrtcbin, encoders, WHIP clients), and
a failed handshake's reason in the server's log (media/sfu/dtls.py)."""

from __future__ import annotations

import datetime
import logging

from aiortc import RTCSessionDescription
from aiortc.rtcdtlstransport import RTCCertificate
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa

from gikai.media.sfu import dtls
from tests.support.client import MediaClient
from tests.support.room import join
from tests.support.waiting import eventually


class RsaCertificate(RTCCertificate):
    """A peer's stock RSA certificate, with the suites such a peer's OpenSSL would choose from."""

    def _create_ssl_context(self, srtp_profiles):  # type: ignore[override]
        ctx = super()._create_ssl_context(srtp_profiles)
        ctx.set_cipher_list(b"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384")
        return ctx


def rsa_certificate() -> RsaCertificate:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "webrtcbin")])
    now = datetime.datetime.now(tz=datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    return RsaCertificate(key=key, cert=cert)  # type: ignore[arg-type]


def rsa_dtls_server(name: str) -> MediaClient:
    """A member whose certificate is RSA and who answers `a=setup:passive` (the DTLS server),
    which makes the SFU the DTLS client: the case aiortc's ECDSA-only ClientHello cannot meet."""
    client = MediaClient(name)
    client.pc._RTCPeerConnection__certificates = [rsa_certificate()]  # before any transport exists
    create_answer = client.pc.createAnswer

    async def passive() -> RTCSessionDescription:
        answer = await create_answer()
        return RTCSessionDescription(sdp=answer.sdp.replace("a=setup:active", "a=setup:passive"), type=answer.type)

    client.pc.createAnswer = passive  # type: ignore[method-assign]
    return client


async def test_an_rsa_peer_as_dtls_server_connects_and_browsers_keep_ecdsa(sfu):
    room = sfu.room("m")
    clients = {"browser": MediaClient("browser"), "encoder": rsa_dtls_server("encoder")}
    try:
        for name, client in clients.items():
            join(room, name, client)
        await eventually(lambda: clients["browser"].frame_counts[("encoder", "video")] > 5
                         and clients["encoder"].frame_counts[("browser", "video")] > 5,
                         seen=lambda: {n: dict(c.frame_counts) for n, c in clients.items()})
        encoder_suite = dtls.negotiated_suite(room.peers["encoder"].pc)
        browser_suite = dtls.negotiated_suite(room.peers["browser"].pc)
        assert encoder_suite is not None and encoder_suite.startswith("ECDHE-RSA-"), encoder_suite
        assert browser_suite is not None and browser_suite.startswith("ECDHE-ECDSA-"), browser_suite
        assert "a=setup:passive" in clients["encoder"].pc.localDescription.sdp
    finally:
        for c in clients.values():
            await c.close()


async def test_without_the_rsa_suites_the_handshake_fails_and_the_log_says_why(sfu, monkeypatch, caplog):
    """aiortc's own context (ECDSA suites only) against the same peer: the failure the module
    mends, and its reason at WARNING instead of a bare "failed; removing it"."""
    monkeypatch.setattr(RTCCertificate, "_create_ssl_context", dtls._ORIGINAL["context"])
    caplog.set_level(logging.WARNING)
    room = sfu.room("m")
    encoder = rsa_dtls_server("encoder")
    try:
        join(room, "encoder", encoder)
        await eventually(lambda: "encoder" not in room.peers, message="the failed peer removed")
        lines = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "peer encoder" in r.getMessage()]
        assert any("DTLS handshake failed" in line and "DTLS failed" in line for line in lines), lines
    finally:
        await encoder.close()
