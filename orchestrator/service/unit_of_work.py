"""The unit of work: the repositories of one transaction, committed whole or not at all.

A service is given a factory of units (``UnitOfWorkFactory``) and uses one per command::

    async with self._units() as uow:
        ...  # read and write through uow.<repository>
        await uow.commit()  # leaving without commit() rolls everything back

The repositories (``repositories.py``) own every query; gikai's unit is SQLAlchemy's
(``persistence.unit_of_work.SqlUnitOfWork``), unit tests may give in-memory fakes.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self

from gikai.orchestrator.service.repositories import (
    AccountRepository,
    ArchiveRepository,
    BallotRepository,
    DirectoryRepository,
    DocumentRepository,
    RecordRepository,
    SittingRepository,
    TranscriptRepository,
)


class UnitOfWork(Protocol):
    @property
    def directory(self) -> DirectoryRepository:
        """Bodies, members, sittings, participants, agenda items."""
        ...

    @property
    def sittings(self) -> SittingRepository:
        """Whole sittings, loaded and saved."""
        ...

    @property
    def record(self) -> RecordRepository:
        """Each sitting's signed, chained record."""
        ...

    @property
    def ballots(self) -> BallotRepository: ...

    @property
    def accounts(self) -> AccountRepository: ...

    @property
    def documents(self) -> DocumentRepository: ...

    @property
    def archive(self) -> ArchiveRepository: ...

    @property
    def transcripts(self) -> TranscriptRepository:
        """Speeches' texts (drafts, corrections) and their search."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        """Roll back whatever was not committed."""
        ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    async def scrub(self) -> None:
        """Make the storage forget old versions of changed data (after a secret ballot closes)."""
        ...


UnitOfWorkFactory = Callable[[], UnitOfWork]


if TYPE_CHECKING:  # mypy proves that gikai's unit of work is one (persistence does not import the service)
    from gikai.orchestrator.persistence.unit_of_work import SqlUnitOfWork

    def _sql_is_a_unit_of_work(unit: SqlUnitOfWork) -> UnitOfWork:
        return unit
