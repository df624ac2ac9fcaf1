"""Running a distributed run for real: a coordinator (`finews crawl`) and `finews worker` processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import sqlalchemy

from crawler.replay import ReplayServer
from tests.crawler.cli_helpers import ROOT, write_settings

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def distributed_settings(folder: Path, replay: ReplayServer, database_url: str, redis_url: str, **overrides: Any) -> Path:
    """settings.yaml for a distributed run on the replay: PostgreSQL, Redis, one request per host at a time."""
    crawl = {"max_pages": 100, "per_host": 1, "delay": 0, **overrides.pop("crawl", {})}
    return write_settings(folder, replay.templates(), database={"url": database_url},
                          redis={"url": redis_url, "prefix": "finews-test", **overrides.pop("redis", {})}, crawl=crawl, **overrides)


class Processes:
    """The ``finews`` processes a test starts; whatever still runs at its end is killed and reaped."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[str]] = []

    def start(self, settings: Path, *args: str) -> subprocess.Popen[str]:
        """``finews -c SETTINGS ARGS`` in a new process, output captured."""
        return self.spawn([sys.executable, "-m", "crawler.cli", "-c", str(settings), *args], cwd=settings.parent)

    def spawn(self, argv: list[str], cwd: Path | None = None) -> subprocess.Popen[str]:
        process = subprocess.Popen(argv, cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.started.append(process)
        return process

    def close(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
            process.communicate()


def stored(database_url: str) -> dict[str, int]:
    """Rows that say how often each article was stored: articles, distinct codes, aliases, backlog (0 before the schema)."""
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.connect() as conn:
            if not sqlalchemy.inspect(conn).has_table("backlog"):
                return {"articles": 0, "codes": 0, "aliases": 0, "backlog": 0}
            one = conn.exec_driver_sql
            return {
                "articles": int(one("SELECT count(*) FROM articles").scalar_one()),
                "codes": int(one("SELECT count(DISTINCT code) FROM articles").scalar_one()),
                "aliases": int(one("SELECT count(*) FROM aliases").scalar_one()),
                "backlog": int(one("SELECT count(*) FROM backlog").scalar_one()),
            }
    finally:
        engine.dispose()


def site_files(site: Path) -> dict[str, int]:
    """Post files, and files that are not complete posts (temporaries left behind, cut files)."""
    folder = site / "_posts"
    posts = list(folder.glob("*.md"))
    cut = [p for p in posts if "[返回首页](" not in p.read_text(encoding="utf-8").rstrip().rsplit("\n", 1)[-1]]
    return {"posts": len(posts), "partial": len(cut) + len(list(folder.glob(".*")))}
