"""Alembic environment: runs migrations on the engine handed over by pipelines.db."""

from __future__ import annotations

from alembic import context

from pipelines.models import metadata

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
