from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler
from sqlalchemy import create_engine, select

from crawler.items import ArticleItem
from pipelines.dates import BEIJING
from pipelines.models import articles, categories, quarantine
from pipelines.post import build_post, render_post
from pipelines.store import StorePipeline

CODE = "NW202403050812345678"


def item(code: str = CODE, *, title: str = "标题", date: datetime | None = None, outlet: str = "科技日报", body: str = "<p>正文</p>") -> ArticleItem:
    it = ArticleItem(source="eastmoney", code=code, fetched_at=datetime(2024, 3, 5, tzinfo=timezone.utc), title=title, outlet=outlet)
    it.published = date or datetime(2024, 3, 5, 8, 1, 2, tzinfo=BEIJING)
    it.html = body
    it.post = build_post(it, share_link="http://s/{code}", base_url="", overrides={})
    return it


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return tmp_path / "site"


@pytest.fixture
def store(database_url: str, site: Path):  # type: ignore[no-untyped-def]
    crawler = get_crawler(settings_dict={"FINEWS_DATABASE_URL": database_url, "FINEWS_SITE_DIR": str(site)})
    pipeline = StorePipeline.from_crawler(crawler)
    pipeline.open_spider()
    yield pipeline
    pipeline.close_spider()


def rows(url: str, table):  # type: ignore[no-untyped-def]
    engine = create_engine(url)
    with engine.connect() as conn:
        result = conn.execute(select(table)).mappings().all()
    engine.dispose()
    return result


def test_new_then_unchanged(store: StorePipeline, site: Path, database_url: str) -> None:
    first = store.process_item(item())
    assert first.outcome == "new"
    post = site / "_posts" / f"2024-03-05-{CODE}.md"
    assert first.post_path == str(post)
    assert post.read_text(encoding="utf-8") == render_post(first.post)  # type: ignore[arg-type]
    assert (site / "category" / "kejiribao.html").read_text(encoding="utf-8").startswith("---\nlayout: category\n")
    os.utime(post, (1_000_000, 1_000_000))
    again = store.process_item(item())
    assert again.outcome == "unchanged"
    assert post.stat().st_mtime == 1_000_000
    (row,) = rows(database_url, articles)
    assert row["published_at"] == datetime(2024, 3, 5, 0, 1, 2)  # naive UTC
    assert row["utc_offset"] == 480
    assert store.stats.get_value("store/new") == 1 and store.stats.get_value("store/unchanged") == 1


def test_changed_date_moves_the_post(store: StorePipeline, site: Path, database_url: str) -> None:
    store.process_item(item())
    moved = store.process_item(item(title="新标题", date=datetime(2024, 3, 6, 9, 0, tzinfo=BEIJING)))
    assert moved.outcome == "updated"
    assert sorted(p.name for p in (site / "_posts").iterdir()) == [f"2024-03-06-{CODE}.md"]
    (row,) = rows(database_url, articles)
    assert row["title"] == "新标题"


def test_a_missing_post_file_is_restored(store: StorePipeline, site: Path) -> None:
    first = store.process_item(item())
    Path(first.post_path or "").unlink()
    assert store.process_item(item()).outcome == "unchanged"
    assert Path(first.post_path or "").exists()


def test_quarantine_keeps_the_payload(store: StorePipeline, site: Path, database_url: str) -> None:
    bad = item()
    bad.raw = {"api": '{"Title": "x", "text": ""}'}
    bad.set_quarantine("empty body")
    with pytest.raises(DropItem, match="quarantined: empty body"):
        store.process_item(bad)
    (row,) = rows(database_url, quarantine)
    assert row["reason"] == "empty body"
    assert json.loads(row["payload"]) == bad.raw
    assert not list(site.glob("_posts/*.md"))
    assert rows(database_url, articles) == []
    assert store.process_item(item()).outcome == "new"
    assert rows(database_url, quarantine) == []


def test_two_outlets_never_share_a_slug(store: StorePipeline, site: Path, database_url: str) -> None:
    a = store.process_item(item(outlet="中国"))
    b = store.process_item(item("NW202403050812345679", outlet="钟国"))  # same pinyin, other outlet
    assert a.post.slug == "zhongguo"  # type: ignore[union-attr]
    assert b.post.slug == "zhongguo2"  # type: ignore[union-attr]
    assert "categories: zhongguo2\n" in Path(b.post_path or "").read_text(encoding="utf-8")
    titles = {r["slug"]: r["title"] for r in rows(database_url, categories)}
    assert titles == {"zhongguo": "中国", "zhongguo2": "钟国"}
    assert "title: 钟国" in (site / "category" / "zhongguo2.html").read_text(encoding="utf-8")


def test_failed_file_write_rolls_the_row_back(store: StorePipeline, site: Path, database_url: str) -> None:
    (site / "_posts").mkdir(parents=True, exist_ok=True)
    (site / "_posts" / f"2024-03-05-{CODE}.md").mkdir()  # a folder where the file should go
    with pytest.raises(OSError):
        store.process_item(item())
    assert rows(database_url, articles) == []
    assert not [p for p in (site / "_posts").iterdir() if p.name.startswith(".tmp-")]


def test_stale_temporaries_are_removed_on_open(database_url: str, site: Path) -> None:
    (site / "_posts").mkdir(parents=True)
    (site / "_posts" / ".tmp-x.md.abc").write_text("torn", encoding="utf-8")
    crawler = get_crawler(settings_dict={"FINEWS_DATABASE_URL": database_url, "FINEWS_SITE_DIR": str(site)})
    pipeline = StorePipeline.from_crawler(crawler)
    pipeline.open_spider()
    pipeline.close_spider()
    assert list((site / "_posts").iterdir()) == []
