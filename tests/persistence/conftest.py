"""Each persistence test runs on SQLite and on the PostgreSQL server on 127.0.0.1."""

import os

import pytest

from orchestrator.persistence.database import Database
from orchestrator.persistence.rows import Base

POSTGRES_URL = os.environ.get("GIKAI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'test.db'}" if request.param == "sqlite" else POSTGRES_URL
    db = Database(url)
    async with db.engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
    await db.create_schema()
    yield db
    if request.param == "postgres":
        async with db.engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)
    await db.close()
