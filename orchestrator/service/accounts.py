"""Accounts, logins and passkey enrolment. Secrets are stored only as hashes.

Passwords (the clerk's) are hashed with argon2id; session and enrolment tokens are random
and stored as SHA-256 digests, so a copy of the database logs no one in.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update

from gikai.orchestrator.domain.accounts import (
    ENROLMENT_VALID_FOR,
    SESSION_VALID_FOR,
    Account,
    AccountKind,
    Credential,
    EnrolmentInvalid,
    LoginFailed,
    LoginSession,
)
from gikai.orchestrator.domain.errors import NotFound
from gikai.orchestrator.persistence.database import Database
from gikai.orchestrator.persistence.rows import (
    AccountRow,
    CredentialRow,
    EnrolmentRow,
    MemberRow,
    SessionRow,
)
from gikai.orchestrator.service.sittings import utcnow

_hasher = PasswordHasher()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _account(row: AccountRow) -> Account:
    return Account(AccountKind(row.kind), row.display_name, row.username, row.member_id,
                   row.password_hash, row.disabled, row.id)


class AccountService:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    # -- the clerk ----------------------------------------------------------------
    async def ensure_clerk(self) -> tuple[str, str] | None:
        """Create the first clerk account with a random password; None if one exists."""
        async with self.db.session() as session:
            exists = await session.scalar(select(AccountRow.id).where(AccountRow.kind == AccountKind.CLERK.value))
            if exists is not None:
                return None
            password = secrets.token_urlsafe(12)
            session.add(AccountRow(id=Account(AccountKind.CLERK, "事務局").id, kind=AccountKind.CLERK.value,
                                   display_name="事務局", username="clerk",
                                   password_hash=_hasher.hash(password)))
            await session.commit()
            return "clerk", password

    async def set_password(self, username: str, password: str) -> None:
        if len(password) < 10:
            raise LoginFailed("a password needs at least 10 characters")
        async with self.db.session() as session:
            row = await session.scalar(select(AccountRow).where(AccountRow.username == username))
            if row is None:
                raise NotFound(f"account {username}")
            row.password_hash = _hasher.hash(password)
            await session.commit()

    async def login_password(self, username: str, password: str) -> tuple[str, LoginSession]:
        async with self.db.session() as session:
            row = await session.scalar(select(AccountRow).where(AccountRow.username == username))
            try:
                if row is None or row.disabled or not row.password_hash:
                    _hasher.hash(password)  # same work either way: no user enumeration by timing
                    raise LoginFailed()
                _hasher.verify(row.password_hash, password)
            except (VerificationError, InvalidHashError):
                raise LoginFailed() from None
            return await self._start_session(session, row.id)

    # -- sessions ----------------------------------------------------------------
    async def _start_session(self, session, account_id: str) -> tuple[str, LoginSession]:  # type: ignore[no-untyped-def]
        token = secrets.token_urlsafe(32)
        login = LoginSession(token_hash(token), account_id, secrets.token_urlsafe(24),
                             self.clock() + SESSION_VALID_FOR)
        session.add(SessionRow(token_hash=login.token_hash, account_id=account_id, csrf=login.csrf,
                               expires_at=login.expires_at))
        await session.commit()
        return token, login

    async def session(self, token: str) -> tuple[Account, LoginSession] | None:
        async with self.db.session() as session:
            row = await session.get(SessionRow, token_hash(token))
            if row is None:
                return None
            login = LoginSession(row.token_hash, row.account_id, row.csrf, row.expires_at)
            account_row = await session.get(AccountRow, row.account_id)
            if not login.valid(self.clock()) or account_row is None or account_row.disabled:
                return None
            return _account(account_row), login

    async def logout(self, token: str) -> None:
        async with self.db.session() as session:
            row = await session.get(SessionRow, token_hash(token))
            if row is not None:
                await session.delete(row)
                await session.commit()

    # -- members and their passkeys ----------------------------------------------------
    async def member_account(self, member_id: str) -> Account:
        async with self.db.session() as session:
            row = await session.scalar(select(AccountRow).where(AccountRow.member_id == member_id))
            if row is None:
                member = await session.get(MemberRow, member_id)
                if member is None:
                    raise NotFound(f"member {member_id}")
                row = AccountRow(id=Account(AccountKind.MEMBER, member.name).id, kind=AccountKind.MEMBER.value,
                                 display_name=member.name, member_id=member_id)
                session.add(row)
                await session.commit()
            return _account(row)

    async def issue_enrolment(self, member_id: str) -> str:
        """A new one-time enrolment token; any earlier unused one stops working."""
        account = await self.member_account(member_id)
        token = secrets.token_urlsafe(32)
        now = self.clock()
        async with self.db.session() as session:
            await session.execute(
                update(EnrolmentRow).where(EnrolmentRow.account_id == account.id, EnrolmentRow.used_at.is_(None),
                                           EnrolmentRow.revoked_at.is_(None)).values(revoked_at=now)
            )
            session.add(EnrolmentRow(token_hash=token_hash(token), account_id=account.id,
                                     expires_at=now + ENROLMENT_VALID_FOR))
            await session.commit()
        return token

    async def enrolment_account(self, token: str) -> Account:
        async with self.db.session() as session:
            row = await session.get(EnrolmentRow, token_hash(token))
            if row is None or row.used_at or row.revoked_at or self.clock() >= row.expires_at:
                raise EnrolmentInvalid()
            account = await session.get(AccountRow, row.account_id)
            if account is None or account.disabled:
                raise EnrolmentInvalid()
            return _account(account)

    async def complete_enrolment(self, token: str, credential: Credential) -> tuple[str, LoginSession]:
        """Store the passkey, use up the link, and log the member in — all or nothing."""
        now = self.clock()
        async with self.db.session() as session:
            row = await session.get(EnrolmentRow, token_hash(token), with_for_update=True)
            if row is None or row.used_at or row.revoked_at or now >= row.expires_at:
                raise EnrolmentInvalid()
            row.used_at = now
            session.add(CredentialRow(credential_id=credential.credential_id, account_id=row.account_id,
                                      public_key=credential.public_key, sign_count=credential.sign_count,
                                      created_at=now))
            return await self._start_session(session, row.account_id)

    async def credentials(self, account_id: str) -> list[Credential]:
        async with self.db.session() as session:
            rows = await session.scalars(select(CredentialRow).where(
                CredentialRow.account_id == account_id, CredentialRow.revoked_at.is_(None)))
            return [Credential(r.credential_id, r.account_id, r.public_key, r.sign_count, r.created_at) for r in rows]

    async def member_credentials(self, member_id: str) -> list[Credential]:
        """A member's passkeys that are not revoked (none when the member has no account yet)."""
        async with self.db.session() as session:
            account_id = await session.scalar(select(AccountRow.id).where(
                AccountRow.member_id == member_id, AccountRow.disabled.is_(False)))
        return await self.credentials(account_id) if account_id else []

    async def record_sign_count(self, credential_id: str, new_sign_count: int) -> None:
        """After an assertion verified: remember the authenticator's counter (replays then fail)."""
        async with self.db.session() as session:
            r = await session.get(CredentialRow, credential_id, with_for_update=True)
            if r is not None:
                r.sign_count = new_sign_count
                await session.commit()

    async def credential(self, credential_id: str) -> Credential | None:
        async with self.db.session() as session:
            r = await session.get(CredentialRow, credential_id)
            if r is None or r.revoked_at is not None:
                return None
            return Credential(r.credential_id, r.account_id, r.public_key, r.sign_count, r.created_at)

    async def login_passkey(self, credential_id: str, new_sign_count: int) -> tuple[str, LoginSession]:
        """After the edge verified an assertion: record the counter and start a session."""
        async with self.db.session() as session:
            r = await session.get(CredentialRow, credential_id, with_for_update=True)
            account = await session.get(AccountRow, r.account_id) if r else None
            if r is None or r.revoked_at is not None or account is None or account.disabled:
                raise LoginFailed()
            r.sign_count = new_sign_count
            return await self._start_session(session, r.account_id)

    async def revoke_passkeys(self, member_id: str) -> int:
        account = await self.member_account(member_id)
        now = self.clock()
        async with self.db.session() as session:
            result = await session.execute(
                update(CredentialRow).where(CredentialRow.account_id == account.id,
                                            CredentialRow.revoked_at.is_(None)).values(revoked_at=now)
            )
            await session.execute(
                SessionRow.__table__.delete().where(SessionRow.account_id == account.id)
            )
            await session.commit()
            return int(result.rowcount or 0)
