"""Alembic environment: runs migrations on the engine handed over by pipelines.db."""

from __future__ import annotations

from alembic import context

from pipelines.models import metadata
from pipelines.records import lock_writers

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    # One transaction for every step, on SQLite too (whose DDL is transactional, though Alembic
    # assumes not and would commit after each step): processes that start together on a new
    # database (distributed workers) would otherwise take turns between steps and run a step
    # twice.  Under the writer lock (SQLite: the BEGIN IMMEDIATE of pipelines.db) the second
    # process finds the schema made.
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, transactional_ddl=True)
    with context.begin_transaction():
        lock_writers(connection)
        context.run_migrations()
