"""Accounts, logins and passkey enrolment. Secrets are stored only as hashes.

Passwords (the clerk's) are hashed with argon2id; session and enrolment tokens are random
and stored as SHA-256 digests, so a copy of the database logs no one in.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gikai.orchestrator.domain.accounts import (
    ENROLMENT_VALID_FOR,
    SESSION_VALID_FOR,
    Account,
    AccountKind,
    Credential,
    Enrolment,
    EnrolmentInvalid,
    LoginFailed,
    LoginSession,
)
from gikai.orchestrator.domain.errors import NotFound, TooManyAttempts
from gikai.orchestrator.service.sittings import utcnow
from gikai.orchestrator.service.unit_of_work import UnitOfWork, UnitOfWorkFactory

_hasher = PasswordHasher()
# Password hashes are computed on one thread of their own (argon2 releases the GIL): a flood of
# logins then takes at most one core and never the event loop; beyond this many waiting, a
# login is refused at once rather than queued.
MAX_WAITING_HASHES = 4


def _check_password(stored_hash: str | None, password: str) -> bool:
    try:
        if not stored_hash:
            _hasher.hash(password)  # same work either way: no user enumeration by timing
            return False
        return bool(_hasher.verify(stored_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountService:
    def __init__(self, units: UnitOfWorkFactory, clock: Callable[[], datetime] = utcnow) -> None:
        self._units = units
        self.clock = clock
        self._hashing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="password-hash")
        self._waiting_hashes = 0

    async def _hashed(self, stored_hash: str | None, password: str) -> bool:
        if self._waiting_hashes >= MAX_WAITING_HASHES:
            raise TooManyAttempts("password checks are queued up")
        self._waiting_hashes += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._hashing, _check_password, stored_hash, password)
        finally:
            self._waiting_hashes -= 1

    def close(self) -> None:
        self._hashing.shutdown(wait=False, cancel_futures=True)

    # -- the clerk ----------------------------------------------------------------
    async def ensure_clerk(self) -> tuple[str, str] | None:
        """Create the first clerk account with a random password; None if one exists."""
        async with self._units() as uow:
            if await uow.accounts.clerk_exists():
                return None
            password = secrets.token_urlsafe(12)
            uow.accounts.add(Account(AccountKind.CLERK, "事務局", username="clerk",
                                     password_hash=_hasher.hash(password)))
            await uow.commit()
            return "clerk", password

    async def set_password(self, username: str, password: str) -> None:
        if len(password) < 10:
            raise LoginFailed("a password needs at least 10 characters")
        async with self._units() as uow:
            account = await uow.accounts.by_username(username)
            if account is None:
                raise NotFound(f"account {username}")
            await uow.accounts.set_password_hash(account.id, _hasher.hash(password))
            await uow.commit()

    async def login_password(self, username: str, password: str) -> tuple[str, LoginSession]:
        async with self._units() as uow:
            account = await uow.accounts.by_username(username)
        usable = account is not None and not account.disabled
        if not await self._hashed(account.password_hash if account is not None and usable else None, password):
            raise LoginFailed()
        assert account is not None
        async with self._units() as uow:
            return await self._start_session(uow, account.id)

    # -- sessions ----------------------------------------------------------------
    async def _start_session(self, uow: UnitOfWork, account_id: str) -> tuple[str, LoginSession]:
        """A new login for the account, committed with whatever ``uow`` holds."""
        token = secrets.token_urlsafe(32)
        login = LoginSession(token_hash(token), account_id, secrets.token_urlsafe(24),
                             self.clock() + SESSION_VALID_FOR)
        uow.accounts.add_login(login)
        await uow.commit()
        return token, login

    async def session(self, token: str) -> tuple[Account, LoginSession] | None:
        async with self._units() as uow:
            login = await uow.accounts.login(token_hash(token))
            if login is None:
                return None
            account = await uow.accounts.get(login.account_id)
            if not login.valid(self.clock()) or account is None or account.disabled:
                return None
            return account, login

    async def logout(self, token: str) -> None:
        async with self._units() as uow:
            if await uow.accounts.remove_login(token_hash(token)):
                await uow.commit()

    # -- members and their passkeys ----------------------------------------------------
    async def member_account(self, member_id: str) -> Account:
        async with self._units() as uow:
            account = await uow.accounts.of_member(member_id)
            if account is None:
                member = await uow.directory.member(member_id)
                if member is None:
                    raise NotFound(f"member {member_id}")
                account = Account(AccountKind.MEMBER, member.name, member_id=member_id)
                uow.accounts.add(account)
                await uow.commit()
            return account

    async def issue_enrolment(self, member_id: str) -> str:
        """A new one-time enrolment token; any earlier unused one stops working."""
        account = await self.member_account(member_id)
        token = secrets.token_urlsafe(32)
        now = self.clock()
        async with self._units() as uow:
            await uow.accounts.revoke_unused_enrolments(account.id, now)
            uow.accounts.add_enrolment(Enrolment(token_hash(token), account.id, now + ENROLMENT_VALID_FOR))
            await uow.commit()
        return token

    async def enrolment_account(self, token: str) -> Account:
        async with self._units() as uow:
            enrolment = await uow.accounts.enrolment(token_hash(token))
            if enrolment is None or not enrolment.usable(self.clock()):
                raise EnrolmentInvalid()
            account = await uow.accounts.get(enrolment.account_id)
            if account is None or account.disabled:
                raise EnrolmentInvalid()
            return account

    async def complete_enrolment(self, token: str, credential: Credential) -> tuple[str, LoginSession]:
        """Store the passkey, use up the link, and log the member in — all or nothing."""
        now = self.clock()
        async with self._units() as uow:
            # one link, one passkey: two ceremonies racing on the same link cannot both pass this
            account_id = await uow.accounts.use_enrolment(token_hash(token), now)
            if account_id is None:
                raise EnrolmentInvalid()
            uow.accounts.add_credential(Credential(credential.credential_id, account_id,
                                                   credential.public_key, credential.sign_count, now))
            return await self._start_session(uow, account_id)

    async def credentials(self, account_id: str) -> list[Credential]:
        async with self._units() as uow:
            return await uow.accounts.credentials(account_id)

    async def member_credentials(self, member_id: str) -> list[Credential]:
        """A member's passkeys that are not revoked (none when the member has no account yet)."""
        async with self._units() as uow:
            account_id = await uow.accounts.enabled_id_of_member(member_id)
            return await uow.accounts.credentials(account_id) if account_id else []

    async def record_sign_count(self, credential_id: str, new_sign_count: int) -> None:
        """After an assertion verified: remember the authenticator's counter (replays then fail)."""
        async with self._units() as uow:
            if await uow.accounts.set_sign_count(credential_id, new_sign_count, for_update=True):
                await uow.commit()

    async def credential(self, credential_id: str) -> Credential | None:
        async with self._units() as uow:
            found = await uow.accounts.credential(credential_id)
        return found if found is not None and found.revoked_at is None else None

    async def login_passkey(self, credential_id: str, new_sign_count: int) -> tuple[str, LoginSession]:
        """After the edge verified an assertion: record the counter and start a session."""
        async with self._units() as uow:
            found = await uow.accounts.credential(credential_id, for_update=True)
            account = await uow.accounts.get(found.account_id) if found else None
            if found is None or found.revoked_at is not None or account is None or account.disabled:
                raise LoginFailed()
            await uow.accounts.set_sign_count(credential_id, new_sign_count)
            return await self._start_session(uow, found.account_id)

    async def revoke_passkeys(self, member_id: str) -> int:
        account = await self.member_account(member_id)
        now = self.clock()
        async with self._units() as uow:
            revoked = await uow.accounts.revoke_credentials(account.id, now)
            await uow.accounts.remove_logins_of(account.id)
            await uow.commit()
            return revoked
