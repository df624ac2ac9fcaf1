"""The store stage on a real SQLite file and the real PostgreSQL: outcomes, history, rows and files."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from scrapy.exceptions import DropItem

from pipelines.dates import BEIJING
from pipelines.models import article_history, articles, categories, quarantine
from pipelines.post import render_post
from pipelines.store import StorePipeline
from tests.pipelines.store_helpers import CODE, dump, make_item, open_store, rows

OTHER = "NW202403050812345679"


def test_new_then_unchanged_writes_nothing(store: StorePipeline, site: Path, database_url: str) -> None:
    first = store.process_item(make_item())
    assert first.outcome == "new"
    post = site / "_posts" / f"2024-03-05-{CODE}.md"
    assert first.post_path == str(post)
    assert post.read_text(encoding="utf-8") == render_post(first.post)  # type: ignore[arg-type]
    assert (site / "category" / "kejiribao.html").read_text(encoding="utf-8").startswith("---\nlayout: category\n")
    os.utime(post, (1_000_000, 1_000_000))
    before = dump(database_url)
    again = store.process_item(make_item())
    assert again.outcome == "unchanged"
    assert post.stat().st_mtime == 1_000_000
    assert dump(database_url) == before  # zero row writes
    (row,) = rows(database_url, articles)
    assert row["published_at"] == datetime(2024, 3, 5, 0, 1, 2, tzinfo=UTC)
    assert row["utc_offset"] == 480
    assert store.stats.get_value("store/new") == 1 and store.stats.get_value("store/unchanged") == 1


def test_changed_date_moves_the_post_and_keeps_the_old_version(store: StorePipeline, site: Path, database_url: str) -> None:
    store.process_item(make_item())
    moved = store.process_item(make_item(title="新标题", date=datetime(2024, 3, 6, 9, 0, tzinfo=BEIJING)))
    assert moved.outcome == "updated"
    assert sorted(p.name for p in (site / "_posts").iterdir()) == [f"2024-03-06-{CODE}.md"]
    (row,) = rows(database_url, articles)
    assert row["title"] == "新标题"
    assert row["post_path"] == f"_posts/2024-03-06-{CODE}.md"
    (old,) = rows(database_url, article_history)
    assert old["article_id"] == row["id"]
    assert old["title"] == "标题"
    assert old["published_at"] == datetime(2024, 3, 5, 0, 1, 2, tzinfo=UTC)
    assert old["post_path"] == f"_posts/2024-03-05-{CODE}.md"
    assert old["replaced_at"] == row["updated_at"]


def test_every_update_adds_one_history_row(store: StorePipeline, site: Path, database_url: str) -> None:
    store.process_item(make_item(body="<p>一</p>"))
    assert store.process_item(make_item(body="<p>二</p>")).outcome == "updated"
    assert store.process_item(make_item(body="<p>二</p>")).outcome == "unchanged"
    assert store.process_item(make_item(body="<p>三</p>")).outcome == "updated"
    assert [h["body"] for h in rows(database_url, article_history)] == ["<p>一</p>", "<p>二</p>"]
    (post,) = (site / "_posts").iterdir()
    assert "<p>三</p>" in post.read_text(encoding="utf-8")


def test_force_rewrites_without_history(database_url: str, site: Path) -> None:
    forced = open_store(database_url, site, FINEWS_FORCE=True)
    try:
        first = forced.process_item(make_item())
        post = Path(first.post_path or "")
        os.utime(post, (1_000_000, 1_000_000))
        assert forced.process_item(make_item()).outcome == "unchanged"
        assert post.stat().st_mtime != 1_000_000
        assert rows(database_url, article_history) == []
    finally:
        forced.close_spider()


def test_list_metadata_is_written_only_when_it_changed(store: StorePipeline, database_url: str) -> None:
    store.process_item(make_item(list_meta={"title": "标题"}))
    before = dump(database_url)
    assert store.process_item(make_item(list_meta={"title": "标题"})).outcome == "unchanged"
    assert dump(database_url) == before
    assert store.process_item(make_item(list_meta={"title": "标题", "showtime": "2024-03-05 08:01:02"})).outcome == "unchanged"
    (row,) = rows(database_url, articles)
    assert json.loads(row["list_meta"]) == {"title": "标题", "showtime": "2024-03-05 08:01:02"}


def test_a_missing_post_file_is_restored(store: StorePipeline) -> None:
    first = store.process_item(make_item())
    Path(first.post_path or "").unlink()
    assert store.process_item(make_item()).outcome == "unchanged"
    assert Path(first.post_path or "").exists()


def test_quarantine_keeps_the_payload(store: StorePipeline, site: Path, database_url: str) -> None:
    bad = make_item()
    bad.raw = {"api": '{"Title": "x", "text": ""}'}
    bad.set_quarantine("empty body")
    with pytest.raises(DropItem, match="quarantined: empty body"):
        store.process_item(bad)
    bad.set_quarantine("ignored: the first reason wins")
    with pytest.raises(DropItem):
        store.process_item(bad)  # a second quarantine of the same code updates its row
    (row,) = rows(database_url, quarantine)
    assert row["reason"] == "empty body"
    assert json.loads(row["payload"]) == bad.raw
    assert not list(site.glob("_posts/*.md"))
    assert rows(database_url, articles) == []
    assert store.process_item(make_item()).outcome == "new"
    assert rows(database_url, quarantine) == []


def test_two_outlets_never_share_a_slug(store: StorePipeline, site: Path, database_url: str) -> None:
    a = store.process_item(make_item(outlet="中国"))
    b = store.process_item(make_item(OTHER, outlet="钟国", body="<p>另一篇</p>"))  # same pinyin, other outlet
    assert a.post.slug == b.post.slug == "zhongguo"  # type: ignore[union-attr]  # the post stage's choice, untouched
    assert "categories: zhongguo\n" in Path(a.post_path or "").read_text(encoding="utf-8")
    assert "categories: zhongguo2\n" in Path(b.post_path or "").read_text(encoding="utf-8")
    titles = {r["slug"]: r["title"] for r in rows(database_url, categories)}
    assert titles == {"zhongguo": "中国", "zhongguo2": "钟国"}
    assert "title: 钟国" in (site / "category" / "zhongguo2.html").read_text(encoding="utf-8")


def test_a_category_page_always_carries_the_stored_title(database_url: str, site: Path) -> None:
    overrides = {"科技日报": "keji", "科技新闻": "keji"}
    shared = open_store(database_url, site, FINEWS_CATEGORIES=overrides)
    try:
        shared.process_item(make_item(overrides=overrides))  # creates category keji titled 科技日报
        (site / "category" / "keji.html").unlink()
        it = make_item(OTHER, outlet="科技新闻", body="<p>另一篇</p>", overrides=overrides)
        shared.process_item(it)
    finally:
        shared.close_spider()
    assert "title: 科技日报\n" in (site / "category" / "keji.html").read_text(encoding="utf-8")


def test_failed_file_write_rolls_the_row_back(store: StorePipeline, site: Path, database_url: str) -> None:
    (site / "_posts").mkdir(parents=True, exist_ok=True)
    (site / "_posts" / f"2024-03-05-{CODE}.md").mkdir()  # a folder where the file should go
    with pytest.raises(OSError):  # noqa: PT011 - writing over a folder: the errno and its text vary by platform
        store.process_item(make_item())
    assert rows(database_url, articles) == []
    assert rows(database_url, categories) == []
    assert not (site / "category" / "kejiribao.html").exists()  # the category page written first is undone
    assert not [p for p in (site / "_posts").iterdir() if p.name.startswith(".tmp-")]


def test_failed_update_puts_the_old_file_back(store: StorePipeline, site: Path, database_url: str) -> None:
    first = store.process_item(make_item())
    old = Path(first.post_path or "")
    text = old.read_bytes()
    (site / "_posts" / f"2024-03-06-{CODE}.md").mkdir()  # the moved post cannot be written
    with pytest.raises(OSError):  # noqa: PT011 - writing over a folder: the errno and its text vary by platform
        store.process_item(make_item(date=datetime(2024, 3, 6, 9, 0, tzinfo=BEIJING)))
    assert old.read_bytes() == text
    (row,) = rows(database_url, articles)
    assert row["post_path"] == f"_posts/2024-03-05-{CODE}.md"
    assert rows(database_url, article_history) == []


def test_stale_temporaries_are_removed_on_open(database_url: str, site: Path) -> None:
    (site / "_posts").mkdir(parents=True)
    (site / "_posts" / ".tmp-x.md.abc").write_text("torn", encoding="utf-8")
    open_store(database_url, site).close_spider()
    assert list((site / "_posts").iterdir()) == []


def test_times_read_back_as_the_same_instant(database_url: str, site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Aware times in, the same instants out, on both backends, whatever the session's time zone."""
    monkeypatch.setenv("PGTZ", "America/New_York")  # libpq: the session time zone of new connections
    store = open_store(database_url, site)
    published = datetime(2024, 3, 5, 23, 30, 0, tzinfo=BEIJING)
    item = make_item(date=published)
    item.fetched_at = datetime(2024, 3, 5, 16, 0, 5, 123456, tzinfo=timezone(timedelta(hours=-5)))
    try:
        store.process_item(item)
    finally:
        store.close_spider()
    (row,) = rows(database_url, articles)
    assert row["published_at"] == published and row["published_at"].tzinfo == UTC
    assert row["fetched_at"] == item.fetched_at
    assert row["utc_offset"] == 480


def test_an_update_without_list_metadata_keeps_the_stored_one(store: StorePipeline, database_url: str) -> None:
    store.process_item(make_item(list_meta={"title": "标题"}))
    assert store.process_item(make_item(body="<p>改过的正文</p>")).outcome == "updated"  # a fetch by hand: no list
    (row,) = rows(database_url, articles)
    assert json.loads(row["list_meta"]) == {"title": "标题"}
