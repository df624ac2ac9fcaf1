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

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Table, bindparam, text
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
    return conn.execute(_insert_ignoring(conn.dialect.name, table, tuple(unique)), dict(values)).first()


@functools.cache
def _insert_ignoring(dialect_name: str, table: Table, unique: tuple[str, ...]) -> Any:
    # Built once per table: constructing the statement at each call cost more than running it.
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(table).on_conflict_do_nothing(index_elements=list(unique))
    # RETURNING, not rowcount: with RETURNING in play drivers report rowcount -1.
    return statement.returning(*table.primary_key.columns)


@functools.cache
def by_code(table: Table) -> ColumnElement[bool]:
    """``source = :key_source AND code = :key_code`` for *table*, built once; see :func:`code_key`."""
    return (table.c.source == bindparam("key_source")) & (table.c.code == bindparam("key_code"))


def code_key(source: str, code: str) -> dict[str, str]:
    """The parameters of :func:`by_code`."""
    return {"key_source": source, "key_code": code}
