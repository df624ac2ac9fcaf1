"""Each command opens the database once: one engine, one connection, one migration check per process.

The spider, the store stage, the failure ledger and the run record of a crawl all
ask the same ``Storage`` (pipelines/storage.py).  Counted from the pool events of
SQLAlchemy in the real ``finews`` process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.replay import ReplayServer
from tests.crawler.cli_helpers import ROOT, write_settings

# Runs the CLI in this process after hooking every pool: "first_connect" fires once per
# pool (one per engine that connected), "connect" once per DBAPI connection.
COUNTING = """
import json, os, sys
from sqlalchemy import event
from sqlalchemy.pool import Pool
counts = {"pools": 0, "connections": 0}
event.listen(Pool, "first_connect", lambda *a: counts.__setitem__("pools", counts["pools"] + 1))
event.listen(Pool, "connect", lambda *a: counts.__setitem__("connections", counts["connections"] + 1))
from crawler.cli import main
status = main(sys.argv[1:])
with open(os.environ["COUNTS_FILE"], "w") as out:
    json.dump(counts, out)
sys.exit(status)
"""


@pytest.fixture(scope="module")
def replay() -> Iterator[ReplayServer]:
    with ReplayServer(articles=6, page_size=3) as server:
        yield server


def counted(project: Path, *args: str) -> dict[str, int]:
    counts_file = project / "counts.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COUNTS_FILE": str(counts_file)}
    env.pop("FINEWS_CONFIG", None)
    done = subprocess.run([sys.executable, "-c", COUNTING, *args], cwd=project, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    counts: dict[str, int] = json.loads(counts_file.read_text())
    return counts


def test_every_command_opens_one_engine_and_one_connection(tmp_path: Path, replay: ReplayServer) -> None:
    write_settings(tmp_path, replay.templates())
    code = replay.articles[0].code
    one = {"pools": 1, "connections": 1}
    assert counted(tmp_path, "crawl") == one
    assert counted(tmp_path, "crawl") == one  # a run with nothing new
    assert counted(tmp_path, "fetch", "--force", code) == one
    assert counted(tmp_path, "fetch", "--dry-run", code) == one
    assert counted(tmp_path, "status") == one
    assert counted(tmp_path, "rebuild") == one
