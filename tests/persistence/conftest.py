"""Each persistence test runs on SQLite and on the PostgreSQL server on 127.0.0.1."""

import os

import pytest
from sqlalchemy import text

from gikai.orchestrator.persistence.database import Database
from gikai.orchestrator.persistence.rows import Base

POSTGRES_URL = os.environ.get("GIKAI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'test.db'}" if request.param == "sqlite" else POSTGRES_URL
    db = Database(url)
    await _drop_everything(db)
    await db.migrate()
    yield db
    if request.param == "postgres":
        await _drop_everything(db)
    await db.close()


async def _drop_everything(db: Database) -> None:
    async with db.engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
