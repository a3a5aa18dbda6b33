"""The Alembic migrations build exactly the schema the row classes describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from gikai.orchestrator.persistence.rows import Base, described_by_models


async def test_migrated_schema_matches_the_models(database):
    def diff(connection):
        context = MigrationContext.configure(connection, opts={"include_name": described_by_models})
        return compare_metadata(context, Base.metadata)

    async with database.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_migrating_twice_changes_nothing(database):
    await database.migrate()
    async with database.engine.connect() as conn:
        version = (await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).scalar_one()
    assert version == "0007"


async def test_the_event_log_refuses_updates_and_deletes(database):
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from gikai.orchestrator.service.directory import Directory

    meeting, _, _ = await Directory(database.unit_of_work).ensure_rehearsal()
    async with database.engine.begin() as conn:
        await conn.execute(text("INSERT INTO events (meeting_id, at, name, data, seq, prev_hash, hash, signature) "
                                "VALUES (:m, '2026-03-10', 'x', '{}', 1, '', '', '')"), {"m": meeting.id})
    for statement in ("UPDATE events SET name = 'forged'", "DELETE FROM events"):
        with pytest.raises(DBAPIError):
            async with database.engine.begin() as conn:
                await conn.execute(text(statement))
    async with database.engine.connect() as conn:
        assert (await conn.execute(text("SELECT name FROM events"))).scalars().all() == ["x"]
