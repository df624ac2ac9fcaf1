"""Helpers for the storage tests: items as the post stage leaves them, a store, table dumps."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy.utils.test import get_crawler
from sqlalchemy import Table, create_engine, select

from crawler.items import ArticleItem
from pipelines.dates import BEIJING
from pipelines.models import metadata
from pipelines.post import build_post, choose_category
from pipelines.store import StorePipeline
from tests import eastmoney

CODE = "NW202403050812345678"
SHARE = "http://s/{code}"
BODY = "<p>正文</p>"


def make_item(
    code: str = CODE,
    *,
    title: str = "标题",
    date: datetime | None = None,
    outlet: str = "科技日报",
    body: str = BODY,
    list_meta: dict[str, str] | None = None,
    overrides: dict[str, str] | None = None,
) -> ArticleItem:
    """An item as the post stage hands it to the store."""
    it = ArticleItem(source="eastmoney", code=code, fetched_at=datetime(2024, 3, 5, tzinfo=UTC), title=title, outlet=outlet)
    it.published = date or datetime(2024, 3, 5, 8, 1, 2, tzinfo=BEIJING)
    it.html = body
    it.list_meta = list_meta or {}
    it.category_choice = choose_category(it, overrides or {})
    it.post = build_post(it, category=it.category_choice, share_link=SHARE.format(code=code), base_url="")
    return it


def open_store(database_url: str, site: Path, **settings: Any) -> StorePipeline:
    """An opened StorePipeline, configured as Scrapy would configure it."""
    crawler = get_crawler(settings_dict={
        "FINEWS_SOURCES": eastmoney.SOURCES, "FINEWS_DATABASE_URL": database_url, "FINEWS_SITE_DIR": str(site), **settings,
    })
    pipeline = StorePipeline.from_crawler(crawler)
    pipeline.open_spider()
    return pipeline


def rows(url: str, table: Table) -> list[dict[str, Any]]:
    """Every row of *table*, ordered by its first column."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            first = next(iter(table.primary_key.columns))
            return [dict(r) for r in conn.execute(select(table).order_by(first)).mappings()]
    finally:
        engine.dispose()


def dump(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every finews table: equal dumps mean no row was written in between."""
    return {name: rows(url, table) for name, table in metadata.tables.items()}
