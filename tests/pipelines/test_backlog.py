"""The backlog and list walks (pipelines/backlog.py) on a real SQLite file and the real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from scrapy.exceptions import DropItem

from pipelines import backlog
from pipelines.db import open_database
from pipelines.models import backlog as backlog_table
from pipelines.models import quarantine
from pipelines.store import StorePipeline
from tests.pipelines.store_helpers import CODE, make_item, rows

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
RETRY = backlog.Retry(max_attempts=3, backoff=timedelta(minutes=15))
HINTS = {"title": "标题", "date": "2024-03-05 08:01:02", "list_meta": {"u": {"title": "标题"}}}


def test_delays_grow_fourfold() -> None:
    assert [RETRY.delay(n) for n in (1, 2)] == [timedelta(minutes=15), timedelta(hours=1)]


def test_listed_owed_due_failed_parked_settled(database_url: str) -> None:
    engine = open_database(database_url)
    try:
        with engine.begin() as conn:
            backlog.record_listed(conn, "eastmoney", {"NW1": HINTS, "NW2": HINTS}, NOW)
            backlog.record_listed(conn, "eastmoney", {"NW1": {**HINTS, "title": "新"}}, NOW)  # new hints, same row
        with engine.begin() as conn:
            owed = backlog.owed(conn, "eastmoney", ["NW1", "NW2", "NW3"])
            assert set(owed) == {"NW1", "NW2"} and owed["NW1"].hints["title"] == "新"
            assert [o.code for o in backlog.due(conn, "eastmoney", NOW)] == ["NW1", "NW2"]
            first = backlog.record_failure(conn, "eastmoney", "NW1", "HTTP 500", NOW, RETRY)
            assert first is not None and first.attempts == 1 and not first.parked
            assert first.next_attempt_at == NOW + timedelta(minutes=15)
            assert [o.code for o in backlog.due(conn, "eastmoney", NOW)] == ["NW2"]
            storage = backlog.record_failure(conn, "eastmoney", "NW2", "OSError: no space", NOW, RETRY, ours=True)
            assert storage is not None and storage.attempts == 0 and storage.next_attempt_at == NOW
            backlog.record_failure(conn, "eastmoney", "NW1", "HTTP 500", NOW, RETRY)
            third = backlog.record_failure(conn, "eastmoney", "NW1", "HTTP 500", NOW, RETRY)
            assert third is not None and third.attempts == 3 and third.parked
            assert backlog.due(conn, "eastmoney", NOW + timedelta(days=30)) == [backlog.owed(conn, "eastmoney", ["NW2"])["NW2"]]
            assert backlog.record_failure(conn, "eastmoney", "NW9", "x", NOW, RETRY) is None  # not owed: nothing recorded
            assert [row["code"] for row in backlog.troubled(conn)] == ["NW1", "NW2"]  # parked first
            assert backlog.pending_count(conn) == 0
            backlog.settle(conn, "eastmoney", "NW1")
            assert set(backlog.owed(conn, "eastmoney", ["NW1", "NW2"])) == {"NW2"}
    finally:
        engine.dispose()


def test_walks(database_url: str) -> None:
    engine = open_database(database_url)
    try:
        with engine.begin() as conn:
            assert not backlog.walk_finished(conn, "eastmoney", "u")  # never walked: read to the end
            backlog.start_walk(conn, "eastmoney", "u", NOW)
            assert not backlog.walk_finished(conn, "eastmoney", "u")
            backlog.finish_walk(conn, "eastmoney", "u", 4, NOW)
            assert backlog.walk_finished(conn, "eastmoney", "u")
            backlog.start_walk(conn, "eastmoney", "u", NOW)  # a new walk, cut short before it finished
            assert not backlog.walk_finished(conn, "eastmoney", "u")
    finally:
        engine.dispose()


def test_storing_or_quarantining_settles_the_row(store: StorePipeline, database_url: str, site: Path) -> None:
    assert store.engine is not None
    with store.engine.begin() as conn:
        backlog.record_listed(conn, "eastmoney", {CODE: HINTS, "NW202403050812345699": HINTS}, NOW)
    store.process_item(make_item())
    held = make_item("NW202403050812345699")
    held.set_quarantine("empty body")
    with pytest.raises(DropItem, match="quarantined"):
        store.process_item(held)
    assert rows(database_url, backlog_table) == []
    assert [row["code"] for row in rows(database_url, quarantine)] == ["NW202403050812345699"]
