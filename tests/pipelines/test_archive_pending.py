"""Archive pages once per run (pipelines/store.py, pipelines/archive_rows.py): batches record months, the run renders them.

A crawl hands items over inside an asyncio loop; every batch records the months it
touched in ``archive_pending`` and the pages are rendered when the store closes (or
every ``FINEWS_ARCHIVE_SECONDS``).  A run that dies before leaves the months pending
for the next run or ``finews rebuild``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crawler.items import ArticleItem
from pipelines import archive_rows
from pipelines import store as store_module
from pipelines.archive import month_files
from pipelines.archive_rows import pending_months, record_months
from pipelines.dates import BEIJING
from pipelines.db import open_database
from pipelines.models import archive_pending
from pipelines.projection import reconcile
from pipelines.store import StorePipeline
from tests import eastmoney
from tests.pipelines.store_helpers import SHARE, make_item, open_store, rows

START = datetime(2024, 3, 1, 8, tzinfo=BEIJING)
PAGE = 5
ARTICLES = 64  # two months (March and April), six pages per outlet in March: many batches renumber them


def newest_first() -> list[ArticleItem]:
    """Articles as the source lists them, newest first: each batch lands before the last one's."""
    items = [make_item(f"NW2024030508{n:08d}", title=f"标题{n}", outlet=("科技日报", "证券时报")[n % 2],
                       date=START + timedelta(hours=13 * n)) for n in range(ARTICLES)]
    return items[::-1]


def crawl(store: StorePipeline, items: list[ArticleItem]) -> None:
    """Hand *items* to *store* as a crawl does (inside a loop, futures settled per batch), not closing it."""
    async def run() -> None:
        await asyncio.gather(*(store.process_item(item) for item in items))

    asyncio.run(run())


def archive(site: Path) -> dict[str, bytes]:
    folder = site / "archive"
    return {str(p.relative_to(site)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()} if folder.is_dir() else {}


def rebuilt(database_url: str, site: Path) -> dict[str, Any]:
    """What ``finews rebuild`` changes under archive/ (nothing, when the pages are right)."""
    engine = open_database(database_url)
    try:
        drift = reconcile(engine, eastmoney.site(site), eastmoney.sources(share_link=SHARE), base_url="", page_size=PAGE)
    finally:
        engine.dispose()
    return {kind: sorted(str(p.relative_to(site)) for p in getattr(drift, kind) if "archive" in p.parts)
            for kind in ("restored", "rewritten", "removed")}


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Each (slug, month) the store renders, once per rendering."""
    seen: list[tuple[str, str]] = []

    def spy(slug: str, title: str, month: str, *args: Any, **kwargs: Any) -> dict[str, str]:
        seen.append((slug, month))
        return month_files(slug, title, month, *args, **kwargs)

    monkeypatch.setattr(archive_rows, "month_files", spy)
    return seen


def test_a_crawl_renders_each_month_once_at_the_end_however_many_batches(
    database_url: str, site: Path, renders: list[tuple[str, str]],
) -> None:
    store = open_store(database_url, site, FINEWS_PAGE_SIZE=PAGE, FINEWS_STORE_BATCH=4)
    crawl(store, newest_first())
    assert store.stats.get_value("store/commits") >= ARTICLES // 4
    assert renders == [] and archive(site) == {}
    assert len(rows(database_url, archive_pending)) == 4  # two outlets, two months
    store.close_spider()
    assert store.stats.get_value("store/archive_renders") == 1
    assert sorted(renders) == sorted(set(renders)) and len(renders) == 4
    assert rows(database_url, archive_pending) == []
    pages = archive(site)
    assert "archive/kejiribao/2024-03/6.html" in pages and "archive/zhengquanshibao/2024-04/index.html" in pages
    assert rebuilt(database_url, site) == {"restored": [], "rewritten": [], "removed": []}


def test_archive_seconds_zero_renders_at_every_commit(database_url: str, site: Path, renders: list[tuple[str, str]]) -> None:
    store = open_store(database_url, site, FINEWS_PAGE_SIZE=PAGE, FINEWS_STORE_BATCH=4, FINEWS_ARCHIVE_SECONDS=0)
    crawl(store, newest_first())
    assert len(renders) > 4 and rows(database_url, archive_pending) == []
    assert rebuilt(database_url, site) == {"restored": [], "rewritten": [], "removed": []}
    store.close_spider()


def test_a_run_that_dies_before_rendering_leaves_its_months_to_the_next_run(database_url: str, site: Path) -> None:
    first = open_store(database_url, site, FINEWS_PAGE_SIZE=PAGE, FINEWS_STORE_BATCH=4)
    crawl(first, newest_first()[:40])
    assert first.storage is not None
    first.storage.release()  # the process is gone: no close, no rendering
    assert archive(site) == {} and len(rows(database_url, archive_pending)) == 4

    second = open_store(database_url, site, FINEWS_PAGE_SIZE=PAGE, FINEWS_STORE_BATCH=4)
    crawl(second, newest_first()[40:])  # the rest of March only
    second.close_spider()
    assert rows(database_url, archive_pending) == []
    assert rebuilt(database_url, site) == {"restored": [], "rewritten": [], "removed": []}


def test_rebuild_renders_and_clears_pending_months(database_url: str, site: Path) -> None:
    store = open_store(database_url, site, FINEWS_PAGE_SIZE=PAGE, FINEWS_STORE_BATCH=4)
    crawl(store, newest_first())
    assert store.storage is not None
    store.storage.release()
    changed = rebuilt(database_url, site)
    assert changed["restored"] and not changed["rewritten"] and not changed["removed"]
    assert rows(database_url, archive_pending) == []
    assert rebuilt(database_url, site) == {"restored": [], "rewritten": [], "removed": []}


def test_a_failed_rendering_puts_the_files_back_and_keeps_the_months(
    database_url: str, site: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    store = open_store(database_url, site, FINEWS_PAGE_SIZE=PAGE, FINEWS_STORE_BATCH=4)
    items = newest_first()
    crawl(store, items[:20])
    store.write_archive()
    before = archive(site)
    crawl(store, items[20:])
    pending = rows(database_url, archive_pending)
    assert len(pending) == 2  # the older articles are all of March
    real = store_module.write_months

    def half_then_fail(conn: Any, root: Path, months: Any, page_size: int, write: Any, remove: Any) -> None:
        first = dict(sorted(months.items())[:1])
        real(conn, root, first, page_size, write, remove)  # some pages are replaced ...
        raise OSError(28, "No space left on device")  # ... then the disk fills up

    monkeypatch.setattr(store_module, "write_months", half_then_fail)
    with caplog.at_level(logging.ERROR, logger="pipelines.store"):
        store.catch_up_archive()
    assert archive(site) == before
    assert rows(database_url, archive_pending) == pending
    assert store.stats.get_value("store/archive_failed") == 1
    assert [r.getMessage() for r in caplog.records] == [
        "archive pages not written, their months stay pending for the next run: [Errno 28] No space left on device"]

    monkeypatch.setattr(store_module, "write_months", real)
    store.close_spider()
    assert rows(database_url, archive_pending) == []
    assert rebuilt(database_url, site) == {"restored": [], "rewritten": [], "removed": []}


def test_a_pending_month_keeps_the_earliest_time_any_batch_touched(database_url: str) -> None:
    engine = open_database(database_url)
    try:
        times = [START + timedelta(days=d) for d in (9, 3, 12, 3, 1, 20)]
        for when in times:
            with engine.begin() as conn:
                record_months(conn, {("kejiribao", "2024-03"): when, ("kejiribao", "2024-04"): when + timedelta(days=31)})
        with engine.connect() as conn:
            assert pending_months(conn) == {("kejiribao", "2024-03"): min(times),
                                            ("kejiribao", "2024-04"): min(times) + timedelta(days=31)}
    finally:
        engine.dispose()
