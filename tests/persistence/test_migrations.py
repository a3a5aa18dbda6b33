"""The Alembic migrations build exactly the schema the row classes describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from orchestrator.persistence.rows import Base


async def test_migrated_schema_matches_the_models(database):
    def diff(connection):
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)

    async with database.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_migrating_twice_changes_nothing(database):
    await database.migrate()
    async with database.engine.connect() as conn:
        version = (await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).scalar_one()
    assert version == "0002"
