"""RELIABILITY.md section 4, group B (process lifecycle): rows B6 and B7.

B6: many scheduled runs from one ``finews schedule``: each run is a fresh process, none
fails with ReactorNotRestartable, and the scheduler's own memory stays flat.  B7: a long
run's peak memory grows little with the number of articles, and a run that passes the
memory limit ends as failed with Scrapy's ``memusage_exceeded`` and no partial file.

The other rows of the group are covered elsewhere (README "Reliability" names each test):
B1, B2, B8 and B9 in tests/crawler/test_backlog.py, B3 in tests/pipelines/test_files.py,
B4 in tests/crawler/test_cli_storage.py (the ``FINEWS_STORE_FAULT`` crashes), B5 and the
signal cases in tests/crawler/test_cli_crawl.py, B10 in tests/crawler/test_cli_fetch.py
and tests/crawler/test_cli_storage.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path

import psutil
from sqlalchemy import create_engine, select

from crawler.cli.run import project_settings
from crawler.config import load_config
from crawler.replay import ReplayServer
from pipelines.models import runs
from tests.crawler.cli_helpers import ROOT, write_settings
from tests.reliability.support import probe, run_measured

SCHEDULED_RUNS = 10


def recorded_runs(folder: Path) -> list:  # type: ignore[type-arg]
    engine = create_engine(f"sqlite:///{folder}/finews.db")
    with engine.connect() as conn:
        rows = list(conn.execute(select(runs).order_by(runs.c.id)))
    engine.dispose()
    return rows


def test_b6_scheduled_runs_are_fresh_processes_and_the_scheduler_stays_flat(tmp_path: Path) -> None:
    with ReplayServer(articles=3) as replay:
        settings = write_settings(tmp_path, replay.templates())
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("FINEWS_CONFIG", None)
        scheduler = subprocess.Popen(
            [sys.executable, "-m", "crawler.cli", "-c", str(settings), "schedule", "--every", "0.2s", "--max-runs", str(SCHEDULED_RUNS)],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        watched = psutil.Process(scheduler.pid)
        samples: list[float] = []
        deadline = time.monotonic() + 240
        while scheduler.poll() is None:
            assert time.monotonic() < deadline, "the scheduler did not finish its runs"
            try:
                samples.append(watched.memory_info().rss / 2**20)
            except psutil.NoSuchProcess:
                break
            time.sleep(0.1)
        out, err = scheduler.communicate(timeout=30)
    assert scheduler.returncode == 0, out + err
    assert "ReactorNotRestartable" not in err and "Traceback" not in err
    recorded = recorded_runs(tmp_path)
    assert [r.status for r in recorded] == ["ok"] * SCHEDULED_RUNS
    pids = {r.pid for r in recorded}
    assert len(pids) == SCHEDULED_RUNS and scheduler.pid not in pids  # a process per run, none of them the scheduler
    assert all(b.started_at >= a.finished_at for a, b in pairwise(recorded))
    third = max(1, len(samples) // 3)
    early, late = max(samples[:third]), max(samples[-third:])
    assert late - early < 3, f"scheduler RSS grew from {early:.1f} MB to {late:.1f} MB over {SCHEDULED_RUNS} runs"


def test_b7_peak_memory_grows_little_with_ten_times_the_articles(tmp_path: Path) -> None:
    peaks = {}
    for n in (50, 500):
        folder = tmp_path / str(n)
        folder.mkdir()
        with ReplayServer(articles=n, page_size=50) as replay:
            settings = write_settings(folder, replay.templates(), crawl={"max_pages": 20})
            run = run_measured("-c", str(settings), "crawl", "--json", cwd=folder, timeout=240)
        assert run.returncode == 0, run.stdout + run.stderr
        assert f'"new": {n},' in run.stdout.splitlines()[-1]
        peaks[n] = run.peak_rss_mb
    assert peaks[500] - peaks[50] < 40, peaks  # measured: about 8 MB more for 450 more articles


def test_b7_a_run_over_the_memory_limit_stops_as_failed(tmp_path: Path) -> None:
    with ReplayServer(articles=8, faults="api:*=slow:0.3") as replay:
        settings = write_settings(tmp_path, replay.templates(), crawl={"concurrency": 1, "per_host": 1})
        assert project_settings(load_config(settings)).getint("MEMUSAGE_LIMIT_MB") == 1024  # the production limit
        limit = {"MEMUSAGE_LIMIT_MB": 1, "MEMUSAGE_CHECK_INTERVAL_SECONDS": 0.2, "LOG_LEVEL": "CRITICAL"}
        result = probe("crawl", settings, limit, cwd=tmp_path)
    assert result["stats"]["finish_reason"] == "memusage_exceeded"
    assert result["status"] == "failed"  # finews crawl exits 1 for it
    assert len([r for r in result["results"].values() if r[0] == "new"]) < 8  # it stopped the run
    assert not list(tmp_path.glob("site/_posts/.*"))
    for post in tmp_path.glob("site/_posts/*.md"):
        assert post.read_text(encoding="utf-8").endswith("｜[返回首页](//finews.withounder.com/)\n")
