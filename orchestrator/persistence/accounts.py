"""Accounts, their passkeys, enrolment links and login sessions (secrets only as hashes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gikai.orchestrator.domain.accounts import Account, AccountKind, Credential, Enrolment, LoginSession
from gikai.orchestrator.persistence.rows import AccountRow, CredentialRow, EnrolmentRow, SessionRow


def _account(row: AccountRow) -> Account:
    return Account(AccountKind(row.kind), row.display_name, row.username, row.member_id,
                   row.password_hash, row.disabled, row.id)


def _credential(r: CredentialRow) -> Credential:
    return Credential(r.credential_id, r.account_id, r.public_key, r.sign_count, r.created_at, r.revoked_at)


class AccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- accounts --------------------------------------------------------------------
    def add(self, account: Account) -> None:
        self.session.add(AccountRow(id=account.id, kind=account.kind.value, display_name=account.display_name,
                                    username=account.username, member_id=account.member_id,
                                    password_hash=account.password_hash, disabled=account.disabled))

    async def get(self, account_id: str) -> Account | None:
        row = await self.session.get(AccountRow, account_id)
        return _account(row) if row else None

    async def clerk_exists(self) -> bool:
        found = await self.session.scalar(select(AccountRow.id).where(AccountRow.kind == AccountKind.CLERK.value))
        return found is not None

    async def by_username(self, username: str) -> Account | None:
        row = await self.session.scalar(select(AccountRow).where(AccountRow.username == username))
        return _account(row) if row else None

    async def of_member(self, member_id: str) -> Account | None:
        row = await self.session.scalar(select(AccountRow).where(AccountRow.member_id == member_id))
        return _account(row) if row else None

    async def enabled_id_of_member(self, member_id: str) -> str | None:
        """The id of the member's account unless it is disabled."""
        return await self.session.scalar(select(AccountRow.id).where(
            AccountRow.member_id == member_id, AccountRow.disabled.is_(False)))

    async def set_password_hash(self, account_id: str, password_hash: str) -> None:
        row = await self.session.get(AccountRow, account_id)
        assert row is not None
        row.password_hash = password_hash

    async def member_ids_with_passkeys(self) -> set[str]:
        """Members whose account has a passkey that is not revoked."""
        return {m for m in (await self.session.scalars(
            select(AccountRow.member_id).join(CredentialRow, CredentialRow.account_id == AccountRow.id)
            .where(CredentialRow.revoked_at.is_(None)))).all() if m is not None}

    # -- login sessions ---------------------------------------------------------------
    def add_login(self, login: LoginSession) -> None:
        self.session.add(SessionRow(token_hash=login.token_hash, account_id=login.account_id, csrf=login.csrf,
                                    expires_at=login.expires_at))

    async def login(self, token_hash: str) -> LoginSession | None:
        row = await self.session.get(SessionRow, token_hash)
        return LoginSession(row.token_hash, row.account_id, row.csrf, row.expires_at) if row else None

    async def remove_login(self, token_hash: str) -> bool:
        row = await self.session.get(SessionRow, token_hash)
        if row is None:
            return False
        await self.session.delete(row)
        return True

    async def remove_logins_of(self, account_id: str) -> None:
        await self.session.execute(delete(SessionRow).where(SessionRow.account_id == account_id))

    # -- enrolment links --------------------------------------------------------------
    def add_enrolment(self, enrolment: Enrolment) -> None:
        self.session.add(EnrolmentRow(token_hash=enrolment.token_hash, account_id=enrolment.account_id,
                                      expires_at=enrolment.expires_at))

    async def enrolment(self, token_hash: str) -> Enrolment | None:
        row = await self.session.get(EnrolmentRow, token_hash)
        return Enrolment(row.token_hash, row.account_id, row.expires_at, row.used_at, row.revoked_at) if row else None

    async def use_enrolment(self, token_hash: str, now: datetime) -> str | None:
        """Use up a usable link in one conditional UPDATE, first in its unit (so on SQLite it
        waits for the write lock instead of reading a stale row): the account's id, or None
        when the link was not usable — also when another request used it a moment ago."""
        used = await self.session.execute(
            update(EnrolmentRow).where(EnrolmentRow.token_hash == token_hash, EnrolmentRow.used_at.is_(None),
                                       EnrolmentRow.revoked_at.is_(None), EnrolmentRow.expires_at > now)
            .values(used_at=now).returning(EnrolmentRow.account_id))
        return used.scalar_one_or_none()

    async def revoke_unused_enrolments(self, account_id: str, now: datetime) -> None:
        await self.session.execute(
            update(EnrolmentRow).where(EnrolmentRow.account_id == account_id, EnrolmentRow.used_at.is_(None),
                                       EnrolmentRow.revoked_at.is_(None)).values(revoked_at=now)
        )

    # -- passkeys ---------------------------------------------------------------------
    def add_credential(self, credential: Credential) -> None:
        self.session.add(CredentialRow(credential_id=credential.credential_id, account_id=credential.account_id,
                                       public_key=credential.public_key, sign_count=credential.sign_count,
                                       created_at=credential.created_at))

    async def credential(self, credential_id: str, for_update: bool = False) -> Credential | None:
        """A passkey, revoked or not; ``for_update`` locks it until the unit ends."""
        row = await self.session.get(CredentialRow, credential_id, with_for_update=for_update or None)
        return _credential(row) if row else None

    async def credentials(self, account_id: str) -> list[Credential]:
        """An account's passkeys that are not revoked."""
        rows = await self.session.scalars(select(CredentialRow).where(
            CredentialRow.account_id == account_id, CredentialRow.revoked_at.is_(None)))
        return [_credential(r) for r in rows]

    async def set_sign_count(self, credential_id: str, sign_count: int, for_update: bool = False) -> bool:
        """Remember an authenticator's counter; False when there is no such passkey."""
        row = await self.session.get(CredentialRow, credential_id, with_for_update=for_update or None)
        if row is None:
            return False
        row.sign_count = sign_count
        return True

    async def revoke_credentials(self, account_id: str, now: datetime) -> int:
        """Revoke an account's passkeys; how many were in use."""
        result = await self.session.execute(
            update(CredentialRow).where(CredentialRow.account_id == account_id,
                                        CredentialRow.revoked_at.is_(None)).values(revoked_at=now)
        )
        return cast(CursorResult[Any], result).rowcount
