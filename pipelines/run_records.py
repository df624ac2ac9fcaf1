"""Run records: one ``runs`` row per crawl or fetch, written at start and at end.

A run killed before it could finish keeps status ``running`` with no end time,
which ``finews status`` shows as it is.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping

from sqlalchemy import Engine

from pipelines.models import runs
from pipelines.writer import utcnow


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
