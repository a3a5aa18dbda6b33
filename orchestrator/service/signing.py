"""The server's Ed25519 key: signs each record entry's hash; anyone can check with the public key."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class Signer:
    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.public = key.public_key()

    @classmethod
    def load_or_create(cls, data_dir: Path) -> Signer:
        path = data_dir / "record-signing.key"
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            assert isinstance(key, Ed25519PrivateKey)
            return cls(key)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        return cls(key)

    @classmethod
    def ephemeral(cls) -> Signer:
        return cls(Ed25519PrivateKey.generate())

    def sign(self, digest: str) -> str:
        return base64.b64encode(self._key.sign(bytes.fromhex(digest))).decode()

    def public_pem(self) -> str:
        return self.public.public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def signature_checker(public_pem: str) -> Callable[[str, str], bool]:
    """A check of an entry's signature (hash, signature) against this public key."""
    key = serialization.load_pem_public_key(public_pem.encode())
    assert isinstance(key, Ed25519PublicKey)

    def ok(digest: str, signature: str) -> bool:
        try:
            key.verify(base64.b64decode(signature), bytes.fromhex(digest))
            return True
        except (InvalidSignature, ValueError):
            return False

    return ok
