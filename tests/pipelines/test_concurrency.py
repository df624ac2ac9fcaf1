"""Concurrent writers (RELIABILITY C3, C4): no lost or doubled article, no escaped lock or integrity error."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from pipelines.db import make_engine, open_database
from pipelines.models import articles
from pipelines.records import insert_ignore
from pipelines.writer import utcnow
from tests.pipelines import race_workers
from tests.pipelines.store_helpers import CODE, rows

SPAWN = multiprocessing.get_context("spawn")


def in_processes(target: Any, jobs: list[tuple[Any, ...]]) -> list[Any]:
    """Run *target*(*job, barrier, results) in one process per job, all released at once."""
    barrier = SPAWN.Barrier(len(jobs))
    results = SPAWN.Queue()
    procs = [SPAWN.Process(target=target, args=(*job, barrier, results)) for job in jobs]
    for proc in procs:
        proc.start()
    out = [results.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
        assert proc.exitcode == 0
    errors = [detail for status, detail in out if status != "ok"]
    assert not errors, errors[0]
    return [detail for _, detail in out]


def test_two_processes_storing_the_same_article_leave_one_row(database_url: str, site: Path) -> None:
    open_database(database_url).dispose()  # migrate first: the race is about articles, not schema creation
    outcomes = in_processes(race_workers.store_items, [(database_url, str(site), [CODE]), (database_url, str(site), [CODE])])
    assert sorted(o for (o,) in outcomes) == ["new", "unchanged"]
    assert [r["code"] for r in rows(database_url, articles)] == [CODE]
    assert [p.name for p in (site / "_posts").iterdir()] == [f"2024-03-05-{CODE}.md"]


def test_two_processes_storing_overlapping_articles(database_url: str, site: Path) -> None:
    open_database(database_url).dispose()
    codes = [f"NW2024030508123456{n:02d}" for n in range(30)]
    first, second = codes[:20], codes[10:]  # ten articles both processes store
    outcomes = in_processes(race_workers.store_items, [(database_url, str(site), first), (database_url, str(site), second)])
    assert sum(o.count("new") for o in outcomes) == 30
    assert sum(o.count("unchanged") for o in outcomes) == 10
    assert len(rows(database_url, articles)) == 30
    assert len(list((site / "_posts").iterdir())) == 30


def test_insert_ignore_waits_for_the_first_writer_and_yields(postgres_url: str) -> None:
    """Without the writer lock, the second INSERT of a key waits, then does nothing: no IntegrityError."""
    engine = open_database(postgres_url)
    values = {
        "source": "eastmoney", "code": CODE, "title": "t", "published_at": utcnow(), "utc_offset": 480, "outlet": "o",
        "category": "c", "tag": "t", "body": "b", "content_hash": "h", "post_path": "p",
        "fetched_at": utcnow(), "created_at": utcnow(), "updated_at": utcnow(),
    }
    second: dict[str, Any] = {}
    try:
        with engine.connect() as first:
            first.begin()
            assert insert_ignore(first, articles, values, ["source", "code"])

            def racer() -> None:
                with engine.begin() as conn:
                    second["inserted"] = insert_ignore(conn, articles, {**values, "title": "second"}, ["source", "code"]) is not None
                    second["title"] = conn.execute(select(articles.c.title)).scalar_one()

            thread = threading.Thread(target=racer)
            thread.start()
            thread.join(timeout=1)
            assert thread.is_alive()  # blocked on the uncommitted row
            first.commit()
            thread.join(timeout=30)
        assert second == {"inserted": False, "title": "t"}
    finally:
        engine.dispose()


# --- SQLite: "database is locked" (RELIABILITY 2.3, C3) ---------------------------------------


def test_plain_begin_fails_at_once_where_begin_immediate_waits(tmp_path: Path) -> None:
    """The failure mode pipelines.db avoids, reproduced with two plain connections."""
    db = tmp_path / "plain.db"
    setup = sqlite3.connect(db, isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE counter (n INTEGER)")
    setup.close()
    a = sqlite3.connect(db, timeout=5, isolation_level=None)
    b = sqlite3.connect(db, timeout=5, isolation_level=None)
    for conn in (a, b):
        conn.execute("BEGIN")
        conn.execute("SELECT count(*) FROM counter").fetchone()
    a.execute("INSERT INTO counter VALUES (1)")
    a.execute("COMMIT")
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        b.execute("INSERT INTO counter VALUES (2)")  # at once, despite the 5 s busy timeout
    a.close()
    b.close()


def test_begin_immediate_makes_the_second_writer_wait(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/immediate.db"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE counter (n INTEGER)")
    done: list[int] = []
    with engine.connect() as first:
        first.begin()
        first.exec_driver_sql("SELECT count(*) FROM counter").scalar_one()

        def second() -> None:
            with engine.begin() as conn:
                count = conn.exec_driver_sql("SELECT count(*) FROM counter").scalar_one()
                conn.exec_driver_sql(f"INSERT INTO counter VALUES ({count + 10})")
            done.append(1)

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=0.5)
        assert thread.is_alive() and not done  # waiting for the writer lock, not failing
        first.exec_driver_sql("INSERT INTO counter VALUES (1)")
        first.commit()
        thread.join(timeout=30)
    with engine.connect() as conn:
        assert [n for (n,) in conn.exec_driver_sql("SELECT n FROM counter ORDER BY n")] == [1, 11]
    engine.dispose()


def test_two_processes_writing_one_sqlite_file_never_see_a_lock_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/shared.db"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE counter (n INTEGER)")
    engine.dispose()
    in_processes(race_workers.read_then_write, [(url, 200), (url, 200)])
    check = create_engine(url)
    with check.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM counter").scalar_one() == 400
    check.dispose()
