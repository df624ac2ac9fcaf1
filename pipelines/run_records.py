"""Run records: one ``runs`` row per crawl or fetch, written at start and at end.

A run killed before it could finish keeps status ``running`` with no end time
until the next run on the same host, which marks it ``killed``
(:func:`mark_killed`).  A crawl also leaves one ``run_lists`` row per list.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psutil
from sqlalchemy import Engine, select

from pipelines.models import run_lists, runs
from pipelines.writer import utcnow

CLOCK_SLACK = timedelta(seconds=2)  # process start times are known to about a clock tick


def start_run(engine: Engine, command: str) -> int:
    """Record the start of a run; returns its id."""
    with engine.begin() as conn:
        result = conn.execute(
            runs.insert().values(command=command, status="running", started_at=utcnow(), host=socket.gethostname(), pid=os.getpid())
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]


def finish_run(engine: Engine, run_id: int, *, status: str, counts: Mapping[str, int], requests: int, seconds: float) -> None:
    """Record how run *run_id* ended."""
    with engine.begin() as conn:
        conn.execute(
            runs.update()
            .where(runs.c.id == run_id)
            .values(status=status, finished_at=utcnow(), counts=json.dumps(dict(counts)), requests=requests, seconds=round(seconds, 3))
        )


def process_alive(pid: int, started_at: datetime) -> bool:
    """Whether *pid* is still the process that started a run at *started_at* (pids are reused)."""
    try:
        created = datetime.fromtimestamp(psutil.Process(pid).create_time(), UTC)
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return False
    return created <= started_at.astimezone(UTC) + CLOCK_SLACK


def mark_killed(engine: Engine) -> list[int]:
    """Mark ``killed`` the runs of this host still ``running`` whose process is gone; their ids.

    Called under the run lock, so no live run of this site can be among them.
    """
    host = socket.gethostname()
    with engine.begin() as conn:
        stale = [
            row.id
            for row in conn.execute(
                select(runs.c.id, runs.c.pid, runs.c.started_at).where((runs.c.status == "running") & (runs.c.host == host))
            )
            if row.pid is None or not process_alive(row.pid, row.started_at)
        ]
        if stale:
            conn.execute(runs.update().where(runs.c.id.in_(stale)).values(status="killed"))
    return stale


def record_run_lists(engine: Engine, run_id: int, rows: Sequence[Mapping[str, Any]]) -> None:
    """Keep what each list did in run *run_id* (url, requests, items, failures, requested)."""
    if rows:
        with engine.begin() as conn:
            conn.execute(run_lists.insert(), [{"run_id": run_id, **row} for row in rows])


def set_health(engine: Engine, run_id: int, health: str) -> None:
    with engine.begin() as conn:
        conn.execute(runs.update().where(runs.c.id == run_id).values(health=health))
