"""Alembic environment: runs on the connection gikai hands over (see database.migrate)."""

from alembic import context

from gikai.orchestrator.persistence.rows import Base, described_by_models

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                  include_name=described_by_models)
with context.begin_transaction():
    context.run_migrations()
