"""Alembic environment: runs migrations on the engine handed over by pipelines.db."""

from __future__ import annotations

from alembic import context

from pipelines.models import metadata
from pipelines.records import lock_writers

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        # Processes that start together on one PostgreSQL database (distributed workers) would
        # each create the schema; under the writer lock the second finds it made.  SQLite's
        # BEGIN IMMEDIATE does the same.
        lock_writers(connection)
        context.run_migrations()
