"""Race-safe row writes shared by the store and ``finews rebuild``.

Two rules keep concurrent writers (several processes, or a crawl and a rebuild)
from corrupting each other or failing with an IntegrityError:

- ``lock_writers(conn)`` starts every writing transaction: one writer at a time
  per database.  SQLite already has that from ``BEGIN IMMEDIATE``
  (pipelines/db.py); PostgreSQL gets a transaction-level advisory lock, so the
  dedupe decision ("is there already an article with this content?") cannot
  race, and transactions cannot deadlock on each other's row locks.
- ``insert_ignore`` is ``INSERT … ON CONFLICT DO NOTHING``: a writer that does
  not take the lock (an older release, a hand-run script) and inserts the same
  key first makes the insert a no-op instead of an error; the caller then
  re-reads the row that won.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, Table, text
from sqlalchemy.dialects import postgresql, sqlite

WRITER_LOCK = 0x66696E657773  # "finews": the advisory lock key every finews writer takes


def lock_writers(conn: Connection) -> None:
    """Wait until this transaction is the only finews writer on the database."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITER_LOCK})


def insert_ignore(conn: Connection, table: Table, values: Mapping[str, Any], unique: Sequence[str]) -> Row[Any] | None:
    """Insert *values* unless a row with the same *unique* columns exists.

    Returns the new row's primary key (a row, so truthy) when inserted, None when not.
    """
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(**values).on_conflict_do_nothing(index_elements=list(unique))
    # RETURNING, not rowcount: with RETURNING in play drivers report rowcount -1.
    return conn.execute(statement.returning(*table.primary_key.columns)).first()
