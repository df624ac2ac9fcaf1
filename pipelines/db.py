"""Engine set-up and schema migration for SQLite and PostgreSQL.

``make_engine(url)`` makes an engine and ``migrate`` brings its schema to the newest
revision (Alembic, ``pipelines/migrations``); the application opens its one engine
per process through :class:`pipelines.storage.Storage`, and ``open_database`` is a
fresh migrated engine for tests and tools.  SQLite runs in WAL mode with a busy
timeout and its temporary files in memory, and every transaction starts with ``BEGIN IMMEDIATE``: a transaction
that reads and then writes would otherwise fail at once with "database is
locked" when another writer got there first, instead of waiting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

from crawler.config_values import sqlite_file

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The newest revision in MIGRATIONS/versions (a test checks it against Alembic's own answer).
HEAD = "0009"
SQLITE_BUSY_TIMEOUT_S = 30


def make_engine(url: str) -> Engine:
    """An engine for *url*, with the SQLite pragmas and transaction mode set."""
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    file = sqlite_file(url)
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let the "begin" hook below emit BEGIN
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Each stored article runs in a savepoint, whose journal of changed pages would
        # otherwise be a temporary file: about 35 page writes an article, all undone at commit.
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to *revision* (creating it in an empty database).

    A database already at ``HEAD`` costs two small queries (``at_head``): Alembic (its
    import and the reading of every migration script) is loaded only when there is
    something to do.
    """
    if revision == "head" and at_head(engine):
        return
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def at_head(engine: Engine) -> bool:
    """Whether the database's ``alembic_version`` names ``HEAD``, the newest migration."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return False
        return list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars()) == [HEAD]


def open_database(url: str) -> Engine:
    """An engine on a database migrated to the newest schema."""
    engine = make_engine(url)
    migrate(engine)
    return engine
