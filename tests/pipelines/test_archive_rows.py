"""Archive pages from the rows (pipelines/archive_rows.py): a batch renders the pages it can change, no others."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crawler.items import BEIJING
from pipelines import archive_rows
from pipelines.archive import Entry, first_changed_page, month_files
from pipelines.store import StorePipeline
from tests.pipelines.store_helpers import make_item, open_store

START = datetime(2024, 3, 1, 8, tzinfo=BEIJING)


def code(n: int) -> str:
    return f"NW2024030508{n:08d}"


def entries(n: int) -> list[Entry]:
    return [Entry(code(i), f"标题{i}", START + timedelta(hours=7 * i)) for i in range(n)]


def test_pages_before_the_first_changed_one_are_the_same_after_any_change() -> None:
    rng = random.Random(7)
    for _ in range(300):
        month, size = entries(rng.randint(0, 60)), rng.randint(1, 7)
        at = START + timedelta(minutes=rng.randint(0, 60 * 7 * 60))
        after, since = list(month), at
        action = rng.choice(("add", "remove", "move"))
        if action == "add" or not month:
            after.append(Entry("NW202403059999999999", "新的", at))
        else:
            gone = after.pop(rng.randrange(len(after)))
            since = min(gone.published, at) if action == "move" else gone.published
            if action == "move":
                after.append(Entry(gone.code, gone.title, at))
        full_before = month_files("emnews", "东财滚动新闻", "2024-03", month, size)
        full_after = month_files("emnews", "东财滚动新闻", "2024-03", after, size)
        first = first_changed_page(after, since, size)
        partial = month_files("emnews", "东财滚动新闻", "2024-03", after, size, first_page=first)
        assert all(full_after[path] == text for path, text in partial.items())
        for path, text in full_after.items():
            if path not in partial:  # not rendered: must be the page as it already stands
                assert full_before.get(path) == text, (action, size, path)


@pytest.fixture
def small_pages(database_url: str, site: Path) -> Iterator[StorePipeline]:
    store = open_store(database_url, site, FINEWS_PAGE_SIZE=5, FINEWS_STORE_BATCH=1)
    yield store
    store.close_spider()


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The archive pages each batch renders, by path."""
    seen: list[str] = []

    def spy(*args: Any, **kwargs: Any) -> dict[str, str]:
        files = month_files(*args, **kwargs)
        seen.extend(files)
        return files

    monkeypatch.setattr(archive_rows, "month_files", spy)
    return seen


def test_a_new_post_at_the_end_of_a_long_month_renders_only_its_last_page_and_the_index(
    small_pages: StorePipeline, rendered: list[str],
) -> None:
    for i in range(60):
        small_pages.process_item(make_item(code(i), title=f"标题{i}", date=START + timedelta(hours=7 * i)))
    rendered.clear()
    small_pages.process_item(make_item(code(60), title="标题60", date=START + timedelta(hours=7 * 60)))
    assert sorted(rendered) == ["archive/kejiribao/2024-03/13.html", "archive/kejiribao/2024-03/index.html"]


def test_an_unchanged_article_renders_no_archive_page(small_pages: StorePipeline, rendered: list[str]) -> None:
    for i in range(12):
        small_pages.process_item(make_item(code(i), title=f"标题{i}", date=START + timedelta(hours=7 * i)))
    rendered.clear()
    again = small_pages.process_item(make_item(code(3), title="标题3", date=START + timedelta(hours=21)))
    assert again.outcome == "unchanged"
    assert rendered == []


def test_an_edited_title_renders_its_page_onward_not_the_earlier_ones(
    small_pages: StorePipeline, rendered: list[str], site: Path,
) -> None:
    for i in range(30):
        small_pages.process_item(make_item(code(i), title=f"标题{i}", date=START + timedelta(hours=7 * i)))
    rendered.clear()
    edited = small_pages.process_item(make_item(code(12), title="改过的标题", date=START + timedelta(hours=7 * 12)))
    assert edited.outcome == "updated"
    assert "archive/kejiribao/2024-03/3.html" in rendered and "archive/kejiribao/2024-03/2.html" not in rendered
    page = (site / "archive/kejiribao/2024-03/3.html").read_text(encoding="utf-8")
    assert "改过的标题" in page and "标题12<" not in page
