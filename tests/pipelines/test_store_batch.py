"""Group commit: several articles per transaction, each still all-or-nothing with its files."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, event, text

from crawler.items import ArticleItem
from pipelines.models import articles, categories
from pipelines.site import FileChanges
from pipelines.store import StorePipeline
from pipelines.writer import ArticleWriter
from tests.pipelines.store_helpers import make_item, open_store, rows

CODES = [f"NW2024030508123456{n:02d}" for n in range(10, 16)]


def items(n: int) -> list[ArticleItem]:
    return [make_item(code, title=f"标题{k}", body=f"<p>第{k}篇的正文。</p>") for k, code in enumerate(CODES[:n])]


@pytest.fixture
def batched(database_url: str, site: Path) -> Iterator[StorePipeline]:
    store = open_store(database_url, site, FINEWS_STORE_BATCH=4, FINEWS_STORE_BATCH_SECONDS=0.05)
    yield store
    store.close_spider()


def commits(store: StorePipeline) -> list[int]:
    """A list that grows by one at every commit on the store's engine."""
    seen: list[int] = []
    event.listen(store.engine, "commit", lambda _conn: seen.append(1))
    return seen


def run(store: StorePipeline, batch: list[ArticleItem], *, check_pending: bool = True) -> list[Any]:
    async def main() -> list[Any]:
        futures = [store.process_item(it) for it in batch]
        assert all(isinstance(f, asyncio.Future) for f in futures)
        if check_pending:
            assert not any(f.done() for f in futures) and all(it.outcome is None for it in batch)
        return await asyncio.gather(*futures, return_exceptions=True)

    return asyncio.run(main())


def test_items_arriving_together_share_one_commit(batched: StorePipeline, site: Path, database_url: str) -> None:
    seen = commits(batched)
    batch = items(3)
    results = run(batched, batch)
    assert results == batch
    assert [it.outcome for it in batch] == ["new"] * 3
    assert len(seen) == 1
    assert len(rows(database_url, articles)) == 3
    assert len(list((site / "_posts").iterdir())) == 3


def test_a_full_batch_commits_at_once(batched: StorePipeline, database_url: str) -> None:
    async def main() -> None:
        futures = [batched.process_item(it) for it in items(4)]
        assert all(f.done() for f in futures)  # the fourth item filled the batch: no waiting
        await asyncio.gather(*futures)

    asyncio.run(main())
    assert len(rows(database_url, articles)) == 4


def test_one_failing_article_leaves_the_others_stored(batched: StorePipeline, site: Path, database_url: str) -> None:
    batch = items(3)
    (site / "_posts").mkdir(parents=True)
    (site / "_posts" / f"2024-03-05-{CODES[1]}.md").mkdir()  # the second post cannot be written
    results = run(batched, batch)
    assert results[0] is batch[0] and results[2] is batch[2]
    assert isinstance(results[1], OSError)
    assert [r["code"] for r in rows(database_url, articles)] == [CODES[0], CODES[2]]
    assert sorted(p.name for p in (site / "_posts").iterdir() if p.is_file()) == [
        f"2024-03-05-{CODES[0]}.md",
        f"2024-03-05-{CODES[2]}.md",
    ]


class BreakingWriter(ArticleWriter):
    """Stores the article, then makes the enclosing transaction impossible to commit."""

    def write(self, conn: Connection, item: ArticleItem, files: FileChanges) -> Any:
        outcome = super().write(conn, item, files)
        if item.code == CODES[2]:
            if conn.dialect.name == "sqlite":  # a violation SQLite reports only at COMMIT
                conn.execute(text("PRAGMA defer_foreign_keys = ON"))
                conn.execute(text("INSERT INTO near_duplicates (article_id, similar_id, similarity, created_at) "
                                  "VALUES (999, 999, 1, '2024-01-01')"))
            else:  # the server drops the connection in the middle of the transaction
                conn.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return outcome


def test_a_failed_commit_undoes_every_file_of_the_batch(batched: StorePipeline, site: Path, database_url: str) -> None:
    w = batched.writer
    batched.writer = BreakingWriter(w.site, w.force, w.near, w.stats)
    batch = items(3)
    results = run(batched, batch)
    assert all(isinstance(r, Exception) for r in results), results
    assert all(it.outcome is None for it in batch)
    assert rows(database_url, articles) == [] and rows(database_url, categories) == []
    assert not [p for p in site.rglob("*") if p.is_file()]  # posts and category page removed again
    # The category row the second and third articles read was the failed transaction's own:
    # the writer must not take it for stored.
    others = [make_item(code, title=f"标题{code}", body=f"<p>{code}的正文。</p>") for code in CODES[3:6]]  # not broken
    assert [r.outcome for r in run(batched, others)] == ["new"] * 3
    assert [r["slug"] for r in rows(database_url, categories)] == ["kejiribao"]
    assert (site / "category" / "kejiribao.html").is_file()


def test_closing_the_spider_commits_what_is_pending(batched: StorePipeline, database_url: str) -> None:
    async def main() -> list[Any]:
        futures = [batched.process_item(it) for it in items(2)]
        batched.flush()  # what close_spider does first
        assert all(f.done() for f in futures)
        return [f.result().outcome for f in futures]

    assert asyncio.run(main()) == ["new", "new"]
    assert len(rows(database_url, articles)) == 2


def test_a_batch_of_one_is_stored_at_once(database_url: str, site: Path) -> None:
    store = open_store(database_url, site, FINEWS_STORE_BATCH=1)
    try:

        async def main() -> ArticleItem:
            result = store.process_item(make_item())
            assert isinstance(result, ArticleItem)
            return result

        assert asyncio.run(main()).outcome == "new"
    finally:
        store.close_spider()
