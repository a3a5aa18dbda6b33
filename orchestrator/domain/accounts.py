"""Accounts: the clerk's (password) and members' (passkeys), enrolment links, sessions.

Only data and rules live here; hashing and WebAuthn verification happen at the edges.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gikai.orchestrator.domain.errors import EnrolmentInvalid as EnrolmentInvalid
from gikai.orchestrator.domain.errors import LoginFailed as LoginFailed
from gikai.orchestrator.domain.errors import NotClerk as NotClerk
from gikai.orchestrator.domain.model import new_id

ENROLMENT_VALID_FOR = timedelta(days=7)
SESSION_VALID_FOR = timedelta(hours=12)


class AccountKind(str, enum.Enum):
    CLERK = "clerk"
    MEMBER = "member"


@dataclass
class Account:
    kind: AccountKind
    display_name: str
    username: str | None = None  # clerks log in with a name and password
    member_id: str | None = None  # members log in with a passkey
    password_hash: str | None = None
    disabled: bool = False
    id: str = field(default_factory=new_id)


@dataclass
class Credential:
    """A passkey: the public half, as registered."""

    credential_id: str  # base64url
    account_id: str
    public_key: bytes
    sign_count: int
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass
class Enrolment:
    """A one-time link the clerk issues so a member can register a passkey."""

    token_hash: str
    account_id: str
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and self.revoked_at is None and now < self.expires_at


@dataclass
class LoginSession:
    token_hash: str
    account_id: str
    csrf: str
    expires_at: datetime

    def valid(self, now: datetime) -> bool:
        return now < self.expires_at
