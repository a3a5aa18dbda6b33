"""WebAuthn ceremonies (with the ``webauthn`` package): options out, verification in.

A ceremony's challenge lives on the server, in memory, for five minutes and is used once;
the browser only ever sees an opaque ceremony id.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

CEREMONY_SECONDS = 300
MAX_CEREMONIES = 10_000
RP_NAME = "gikai"


class PasskeyError(Exception):
    """The browser's response does not verify (forged, replayed, wrong origin, no user verification)."""


@dataclass
class Ceremony:
    challenge: bytes
    purpose: str  # "register" or "authenticate"
    subject: str | None  # enrolment token hash, or a bound purpose such as a ballot
    expires: float


class Ceremonies:
    def __init__(self) -> None:
        self._open: dict[str, Ceremony] = {}

    def start(self, purpose: str, subject: str | None = None,
              challenge: bytes | None = None) -> tuple[str, bytes]:
        """A new ceremony; ``challenge`` when it is derived from what is signed (a vote)."""
        now = time.monotonic()
        if len(self._open) >= MAX_CEREMONIES:
            self._open = {k: c for k, c in self._open.items() if c.expires > now}
            if len(self._open) >= MAX_CEREMONIES:
                raise PasskeyError("too many passkey ceremonies in progress")
        ceremony_id = secrets.token_urlsafe(18)
        challenge = challenge or secrets.token_bytes(32)
        self._open[ceremony_id] = Ceremony(challenge, purpose, subject, now + CEREMONY_SECONDS)
        return ceremony_id, challenge

    def take(self, ceremony_id: str, purpose: str, subject: str | None = None) -> bytes:
        """The challenge of a ceremony, once; raises if unknown, expired, used or mismatched."""
        ceremony = self._open.pop(ceremony_id, None) if isinstance(ceremony_id, str) else None
        if ceremony is None or ceremony.expires < time.monotonic():
            raise PasskeyError("this passkey request has expired; please try again")
        if ceremony.purpose != purpose or ceremony.subject != subject:
            raise PasskeyError("this passkey response belongs to another request")
        return ceremony.challenge


def registration_options(rp_id: str, user_id: str, name: str, challenge: bytes,
                         existing: list[str]) -> dict[str, Any]:
    options = generate_registration_options(
        rp_id=rp_id, rp_name=RP_NAME, user_id=user_id.encode(), user_name=name, user_display_name=name,
        challenge=challenge,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in existing],
    )
    return _object(options_to_json(options))


def verify_registration(credential: Any, challenge: bytes, rp_id: str, origin: str) -> tuple[str, bytes, int]:
    """Returns (credential id as base64url, public key, sign count)."""
    from webauthn.helpers import bytes_to_base64url

    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp_id,
            expected_origin=origin, require_user_verification=True,
        )
    # WebAuthnException: every refusal of py_webauthn's, a response of the wrong shape included
    # (InvalidJSONStructure, InvalidCBORData, ... are not InvalidRegistrationResponse).
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise PasskeyError(f"registration did not verify: {exc}") from None
    return bytes_to_base64url(verified.credential_id), verified.credential_public_key, verified.sign_count


def authentication_options(rp_id: str, challenge: bytes, allow: list[str] | None = None) -> dict[str, Any]:
    options = generate_authentication_options(
        rp_id=rp_id, challenge=challenge, user_verification=UserVerificationRequirement.REQUIRED,
        allow_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in (allow or [])],
    )
    return _object(options_to_json(options))


def verify_authentication(credential: Any, challenge: bytes, rp_id: str, origin: str,
                          public_key: bytes, sign_count: int) -> int:
    """Returns the new sign count; raises PasskeyError for anything that does not verify."""
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp_id, expected_origin=origin,
            credential_public_key=public_key, credential_current_sign_count=sign_count,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:  # as in verify_registration
        raise PasskeyError(f"the passkey did not verify: {exc}") from None
    return int(verified.new_sign_count)


def credential_id_of(credential: Any) -> str:
    if not isinstance(credential, dict) or not isinstance(credential.get("id"), str) or len(credential["id"]) > 400:
        raise PasskeyError("not a passkey response")
    found: str = credential["id"]
    return found


def _object(text: str) -> dict[str, Any]:
    """The options webauthn wrote as JSON, as the object the browser is sent."""
    options = json.loads(text)
    assert isinstance(options, dict)
    return options
