"""The unit of work on SQLAlchemy: one AsyncSession, one transaction, every repository on it.

Leaving the ``async with`` without :meth:`commit` rolls back whatever was written. It satisfies
``gikai.orchestrator.service.unit_of_work.UnitOfWork`` (a protocol: nothing here imports the service).
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gikai.orchestrator.persistence.accounts import AccountRepository
from gikai.orchestrator.persistence.archive import ArchiveRepository
from gikai.orchestrator.persistence.ballots import BallotRepository
from gikai.orchestrator.persistence.directory import DirectoryRepository
from gikai.orchestrator.persistence.documents import DocumentRepository
from gikai.orchestrator.persistence.record import RecordRepository
from gikai.orchestrator.persistence.sittings import SittingRepository
from gikai.orchestrator.persistence.transcripts import TranscriptRepository


class SqlUnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine) -> None:
        self._engine = engine
        # A session connects on its first statement: a unit that reads nothing costs nothing.
        self.session = sessions()
        self.directory = DirectoryRepository(self.session)
        self.record = RecordRepository(self.session)
        self.sittings = SittingRepository(self.session, self.directory, self.record)
        self.ballots = BallotRepository(self.session)
        self.accounts = AccountRepository(self.session)
        self.documents = DocumentRepository(self.session)
        self.archive = ArchiveRepository(self.session)
        self.transcripts = TranscriptRepository(self.session)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await self.rollback()  # nothing when committed
        await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()

    async def scrub(self) -> None:
        """Make the database drop its old copies of changed rows (PostgreSQL's dead row versions of
        ``ballots``, SQLite's write-ahead log): a secret ballot's running totals must not outlive it
        (see docs/secret-ballots.md). Outside any transaction of this unit."""
        if self._engine.dialect.name == "postgresql":
            async with self._engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("VACUUM ballots"))
        elif self._engine.dialect.name == "sqlite":
            async with self._engine.connect() as conn:
                await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
