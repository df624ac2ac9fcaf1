"""Shared test helpers: golden files, service gates."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The project's reviewed copy of the shared seed goldens (tests/golden_sync.py keeps it in step).
GOLDEN_SEED = FIXTURES / "golden" / "seed"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite golden files from the current output (review the diff before committing)",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def assert_golden(path: Path, actual: str, update: bool) -> None:
    """Compare *actual* with the golden file at *path*, or rewrite it under --update-golden."""
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"missing golden file {path}; create it with pytest --update-golden and review it"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{path} differs; if the change is intended, run pytest --update-golden and review the diff"


REQUIRE_SERVICES = os.environ.get("FINEWS_REQUIRE_SERVICES") == "1"
POSTGRES_ADMIN_URL = os.environ.get("FINEWS_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def service_missing(name: str, reason: str) -> None:
    """Skip (on a laptop without the server) or fail (in CI, FINEWS_REQUIRE_SERVICES=1)."""
    message = f"{name} is not reachable: {reason}"
    if REQUIRE_SERVICES:
        pytest.fail(message + " (FINEWS_REQUIRE_SERVICES=1 requires it)")
    pytest.skip(message + " (start it, or see README: tests)")


def require_command(command: str, package: str) -> None:
    """Skip (or fail, under FINEWS_REQUIRE_SERVICES=1) when *command* is not on PATH."""
    if shutil.which(command) is None:
        if REQUIRE_SERVICES:
            pytest.fail(f"{command} is not installed (FINEWS_REQUIRE_SERVICES=1 requires it)")
        pytest.skip(f"{command} is not installed (apt-get install {package})")


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """Admin URL of the PostgreSQL server the tests may create scratch databases on."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as exc:  # any driver error means "not usable here"
        service_missing("PostgreSQL at 127.0.0.1:5432", str(exc).splitlines()[0])
    finally:
        engine.dispose()
    return POSTGRES_ADMIN_URL


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the server at *admin_url*, dropped afterwards."""
    import uuid

    import sqlalchemy

    name = f"finews_test_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sqlalchemy.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped after the test."""
    with fresh_database(postgres_server) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs on a real SQLite file and on the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/finews.db"
    return str(request.getfixturevalue("postgres_url"))


# The real Redis at 127.0.0.1:6379 for distributed mode: a db index of the tests' own, flushed around each test.
REDIS_URL = os.environ.get("FINEWS_TEST_REDIS", "redis://127.0.0.1:6379/14")


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis URL on a db index no one else uses here, empty at the start and the end of the test."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        service_missing("Redis at 127.0.0.1:6379", str(exc))
    client.flushdb()
    try:
        yield REDIS_URL
    finally:
        client.flushdb()
        client.close()
