"""Storage figures, measured in one run: ``python -m tests.pipelines.bench_store [-n N]``.

Prints, for SQLite and PostgreSQL (skipped when the server is not there):

- articles per second through ``StorePipeline`` with a commit per article
  (batch size 1) and with group commit (batch size 50), new and unchanged
  articles, and the ratio; with the site folder on disk, and on tmpfs (no file
  fsync, so the database's share shows alone); the median of ``--rounds`` runs;
- the cost of the near-duplicate lookup per new article with 0, 1 000 and
  5 000 stored articles inside the comparison window.

Articles are the replay's (realistic length and text).  Figures, not assertions:
tests/pipelines/test_bench_store.py only checks that the script runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy

from crawler.bench.storage import seed
from crawler.items import ArticleItem
from crawler.replay.generator import ArticleFactory
from pipelines.db import open_database
from pipelines.dedupe import NearPolicy, find_match
from pipelines.fingerprint import signature, text_hash
from pipelines.store import StorePipeline
from tests.pipelines.store_helpers import make_item, open_store

BATCH = 50
ADMIN = os.environ.get("FINEWS_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def replay_items(n: int) -> list[ArticleItem]:
    factory = ArticleFactory(0)
    out = []
    for i in range(n):
        a = factory.make(i).article
        body = "\n".join(f"<p>{p}</p>" for p in a.paragraphs)
        date = datetime.strptime(a.date, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone(timedelta(hours=8)))
        out.append(make_item(a.code, title=a.title, outlet=a.outlet, body=body, date=date))
    return out


@contextmanager
def database(backend: str, folder: Path) -> Iterator[str | None]:
    """A scratch database URL (None when PostgreSQL is not reachable)."""
    if backend == "sqlite":
        yield f"sqlite:///{folder}/bench.db"
        return
    admin = sqlalchemy.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    name = f"finews_bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sqlalchemy.exc.OperationalError:
        admin.dispose()
        yield None
        return
    try:
        yield sqlalchemy.engine.make_url(ADMIN).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def rate(store: StorePipeline, items: list[ArticleItem]) -> float:
    """Articles per second through *store*: one at a time, or concurrently as Scrapy hands them over."""
    started = time.perf_counter()
    if store.batch_size == 1:
        for item in items:
            store.process_item(item)
    else:

        async def main() -> None:
            await asyncio.gather(*(store.process_item(item) for item in items))  # type: ignore[misc]

        asyncio.run(main())
    return len(items) / (time.perf_counter() - started)


def throughput(url: str, site: Path, n: int, batch: int) -> tuple[float, float]:
    """(new, unchanged) articles per second with batches of *batch*."""
    store = open_store(url, site, FINEWS_STORE_BATCH=batch)
    try:
        new = rate(store, replay_items(n))
        unchanged = rate(store, replay_items(n))
    finally:
        store.close_spider()
    return new, unchanged


def lookup_ms(url: str, stored: int, probes: int = 20) -> float:
    """Milliseconds per near-duplicate lookup with *stored* articles in the window."""
    base = datetime(2024, 6, 1, tzinfo=UTC)
    seed(url, stored, around=base, spread=timedelta(days=2))
    engine = open_database(url)
    items = replay_items(probes)
    probe = [(text_hash(i.post.title, "x" + i.post.body), signature(i.post.title, i.post.body + "<p>补充</p>")) for i in items]  # type: ignore[union-attr]
    started = time.perf_counter()
    with engine.connect() as conn:
        for key, sig in probe:
            find_match(conn, source="eastmoney", code="NW999999999999999999", text_hash=key, signature=sig, published=base,
                       policy=NearPolicy())
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed / len(probe) * 1000


def median_rates(url_for: Any, site_root: Path, n: int, rounds: int) -> dict[int, tuple[float, float]]:
    """Median (new, unchanged) rates per batch size; batch sizes alternate to share the machine's noise."""
    seen: dict[int, list[tuple[float, float]]] = {1: [], BATCH: []}
    for r in range(rounds):
        for batch in seen:
            with url_for(f"{batch}-{r}") as url:
                if url is None:
                    return {}
                seen[batch].append(throughput(url, site_root / f"site-{batch}-{r}", n, batch))
    return {b: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)) for b, v in seen.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.pipelines.bench_store")
    parser.add_argument("-n", type=int, default=300, help="articles per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per figure (the median is printed)")
    parser.add_argument("--window", type=int, nargs="*", default=[0, 1000, 5000], help="stored articles in the window")
    args = parser.parse_args(argv)
    for backend in ("sqlite", "postgresql"):
        with tempfile.TemporaryDirectory(prefix="finews-bench-") as tmp:
            folder = Path(tmp)

            def url_for(name: str, folder: Path = folder, backend: str = backend) -> Any:
                (folder / name).mkdir(parents=True, exist_ok=True)
                return database(backend, folder / name)

            # The site on disk (as in use) and on tmpfs (no file fsync: the database's share alone).
            for label, site_root in (("site on disk", folder), ("site on tmpfs", None)):
                with tempfile.TemporaryDirectory(prefix="finews-bench-", dir="/dev/shm" if site_root is None else None) as shm:
                    figures = median_rates(url_for, site_root or Path(shm), args.n, args.rounds)
                if not figures:
                    print(f"{backend}: server not reachable, skipped")
                    break
                (one_new, one_same), (many_new, many_same) = figures[1], figures[BATCH]
                print(f"{backend}, {label}: new {one_new:.0f}/s with a commit per article, {many_new:.0f}/s in batches of {BATCH}"
                      f" (x{many_new / one_new:.2f}); unchanged {one_same:.0f}/s, {many_same:.0f}/s (x{many_same / one_same:.2f})")
            for stored in args.window:
                with url_for(f"w{stored}") as url:
                    if url is not None:
                        print(f"{backend}: near-duplicate lookup with {stored} articles in the window: {lookup_ms(url, stored):.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
