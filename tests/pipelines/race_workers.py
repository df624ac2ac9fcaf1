"""Process bodies for the concurrency tests (spawned: a fresh interpreter each, as separate runs are)."""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text


def store_items(url: str, site: str, codes: list[str], barrier: Any, results: Any) -> None:
    """Store one article per code through a StorePipeline, all starting at the barrier."""
    from tests.pipelines.store_helpers import make_item, open_store

    try:
        store = open_store(url, Path(site))
        barrier.wait(timeout=60)
        outcomes = [store.process_item(make_item(code, body=f"<p>{code}的正文。</p>")).outcome for code in codes]
        store.close_spider()
        results.put(("ok", outcomes))
    except BaseException:  # report everything: the test asserts no error escaped
        results.put(("error", traceback.format_exc()))


def read_then_write(url: str, rounds: int, barrier: Any, results: Any) -> None:
    """Transactions that read and then write, through pipelines.db.make_engine."""
    from pipelines.db import make_engine

    engine = make_engine(url)
    try:
        barrier.wait(timeout=60)
        for n in range(rounds):
            with engine.begin() as conn:
                count = conn.execute(select(func.count()).select_from(text("counter"))).scalar_one()
                conn.execute(text("INSERT INTO counter (n) VALUES (:n)"), {"n": count + n})
        results.put(("ok", rounds))
    except BaseException:
        results.put(("error", traceback.format_exc()))
    finally:
        engine.dispose()
