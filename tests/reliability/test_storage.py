"""RELIABILITY.md section 4, group C (storage): rows C2 and C5.

C2: a rerun of the same crawl (and a repeated fetch) changes no article row and no byte
or mtime of the site, on SQLite and on PostgreSQL.  C5: with the database down at the
start, ``fetch`` and ``crawl`` fail at once, before any request, with one line; with
PostgreSQL gone in the middle of a run, the run fails, nothing half-stored is left, and
the next run stores the rest without a duplicate.

C1, C3, C4, C6, C7 and C8 are covered elsewhere (README "Reliability" names each test).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import create_engine, select

from crawler.replay import ReplayServer
from pipelines.models import metadata
from tests.conftest import POSTGRES_ADMIN_URL
from tests.crawler.cli_helpers import ROOT, finews, write_settings

# The tables an article is made of; runs and the per-run progress tables record each run by design.
ARTICLE_TABLES = ("articles", "article_history", "aliases", "near_duplicates", "categories", "quarantine")


def dump(url: str) -> dict[str, list[dict[str, Any]]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                name: [dict(r) for r in conn.execute(select(metadata.tables[name]).order_by(*metadata.tables[name].primary_key)).mappings()]
                for name in ARTICLE_TABLES
            }
    finally:
        engine.dispose()


def site_state(site: Path) -> dict[str, tuple[int, bytes]]:
    """Every published file with its mtime and bytes (dot-files such as the run lock are not published)."""
    return {str(p.relative_to(site)): (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(site.rglob("[!.]*")) if p.is_file()}


def test_c2_a_rerun_changes_no_row_and_no_file(tmp_path: Path, database_url: str) -> None:
    with ReplayServer(articles=12, page_size=5) as replay:
        settings = write_settings(tmp_path, replay.templates(), database={"url": database_url}, crawl={"max_pages": 10})
        first = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path)
        assert first.returncode == 0, first.stdout + first.stderr
        assert json.loads(first.stdout.splitlines()[-1])["new"] == 12
        rows, files = dump(database_url), site_state(tmp_path / "site")
        assert len(rows["articles"]) == 12 and len([f for f in files if f.startswith("_posts/")]) == 12

        again = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path)
        assert again.returncode == 0, again.stdout + again.stderr
        result = json.loads(again.stdout.splitlines()[-1])
        assert (result["new"], result["updated"], result["unchanged"]) == (0, 0, 12)
    assert dump(database_url) == rows
    assert site_state(tmp_path / "site") == files


def test_c2_a_fetch_by_hand_twice_changes_nothing_the_second_time(tmp_path: Path) -> None:
    with ReplayServer(articles=7) as replay:
        settings = write_settings(tmp_path, replay.templates())
        codes = [a.code for a in replay.articles]
        first = finews("-c", str(settings), "fetch", *codes, cwd=tmp_path)
        assert first.returncode == 0, first.stdout + first.stderr
        url = f"sqlite:///{tmp_path}/finews.db"
        rows, files = dump(url), site_state(tmp_path / "site")
        again = finews("-c", str(settings), "fetch", *codes, cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert [line.split()[0] for line in again.stdout.splitlines()] == ["unchanged"] * 7
    assert dump(url) == rows
    assert site_state(tmp_path / "site") == files


def test_c2_a_fetch_by_hand_of_crawled_articles_is_unchanged(tmp_path: Path) -> None:
    with ReplayServer(articles=7) as replay:  # articles 2 and 6 take their date from the article page
        settings = write_settings(tmp_path, replay.templates())
        crawl = finews("-c", str(settings), "crawl", cwd=tmp_path)
        assert crawl.returncode == 0, crawl.stdout + crawl.stderr
        url = f"sqlite:///{tmp_path}/finews.db"
        rows = dump(url)
        fetched = finews("-c", str(settings), "fetch", *(a.code for a in replay.articles), cwd=tmp_path)
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    assert [line.split()[0] for line in fetched.stdout.splitlines()] == ["unchanged"] * 7
    assert dump(url)["article_history"] == rows["article_history"] == []


@pytest.mark.parametrize("command", ["fetch", "crawl"])
def test_c5_a_database_down_at_the_start_fails_before_any_request(tmp_path: Path, command: str) -> None:
    with ReplayServer(articles=3) as replay:
        down = "postgresql+psycopg://postgres:secret@127.0.0.1:1/finews"  # nothing listens on port 1
        settings = write_settings(tmp_path, replay.templates(), database={"url": down})
        args = [command, replay.articles[0].code] if command == "fetch" else [command]
        started = time.monotonic()
        run = finews("-c", str(settings), *args, cwd=tmp_path)
        assert replay.requests == []
    assert run.returncode == 1
    assert run.stderr.startswith("finews: database error: ") and run.stderr.count("\n") == 1, run.stderr
    assert "secret" not in run.stderr
    assert time.monotonic() - started < 30
    assert not (tmp_path / "site" / "_posts").exists() or not list((tmp_path / "site" / "_posts").iterdir())


def test_c5_postgresql_gone_mid_run_loses_and_doubles_nothing(tmp_path: Path, postgres_url: str) -> None:
    """The scratch database refuses connections and its sessions are killed mid-run: for this
    run it is as if the server went away (the shared server itself keeps running)."""
    name = sqlalchemy.engine.make_url(postgres_url).database
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with ReplayServer(articles=10, faults="api:*=slow:0.3") as replay:
            settings = write_settings(tmp_path, replay.templates(), database={"url": postgres_url}, crawl={"concurrency": 1, "per_host": 1})
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            env.pop("FINEWS_CONFIG", None)
            run = subprocess.Popen([sys.executable, "-m", "crawler.cli", "-c", str(settings), "crawl", "--json"],
                                   cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 60
            while len(list(tmp_path.glob("site/_posts/*.md"))) < 2:
                assert time.monotonic() < deadline and run.poll() is None, "the crawl stored nothing"
                time.sleep(0.05)
            with admin.connect() as conn:
                conn.exec_driver_sql(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
                conn.exec_driver_sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
            out, err = run.communicate(timeout=120)
            assert run.returncode == 1, out + err
            assert err.splitlines()[-1].startswith("finews: database error: ")
            assert not list(tmp_path.glob("site/_posts/.*"))  # no temporary file left behind

            with admin.connect() as conn:
                conn.exec_driver_sql(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
            rerun = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path)
            assert rerun.returncode == 0, rerun.stdout + rerun.stderr
            codes = {a.code for a in replay.articles}
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        admin.dispose()
    stored = dump(postgres_url)["articles"]
    assert sorted(r["code"] for r in stored) == sorted(codes)  # every article once
    assert {p.name.split("-", 3)[3][:-3] for p in (tmp_path / "site" / "_posts").glob("*.md")} == codes
