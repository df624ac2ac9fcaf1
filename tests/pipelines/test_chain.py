"""The golden seed through every stage in the configured order, without a network."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from scrapy.utils.misc import load_object
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem
from crawler.settings import ITEM_PIPELINES
from crawler.sources.eastmoney.content_api import parse_content_api
from pipelines.post import render_post
from tests import eastmoney
from tests.conftest import GOLDEN_SEED


def test_seed_through_the_pipeline_chain(tmp_path: Path) -> None:
    golden = GOLDEN_SEED
    api = parse_content_api((golden / "content-api.json").read_bytes())
    assert api is not None
    item = ArticleItem(
        source="eastmoney",
        code="NW202202092271461775",
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
        title=api.title,
        date_raw=api.date,
        outlet=api.outlet,
        body_html=api.body_html,
        base_url=api.url,
    )
    crawler = get_crawler(
        settings_dict={
            "FINEWS_SOURCES": eastmoney.sources(share_link=eastmoney.GOLDEN_SHARE_LINK),
            "FINEWS_BASE_URL": "//finews.withounder.com",
            "FINEWS_DATABASE_URL": f"sqlite:///{tmp_path}/finews.db",
            "FINEWS_SITE_DIR": str(tmp_path / "site"),
        }
    )
    stages = [load_object(path).from_crawler(crawler) for path, _ in sorted(ITEM_PIPELINES.items(), key=lambda kv: kv[1])]
    for stage in stages:
        if hasattr(stage, "open_spider"):
            stage.open_spider()
        item = stage.process_item(item)
    assert item.quarantine is None
    assert item.outcome == "new"
    expected = (golden / "expected-post.md").read_text(encoding="utf-8")
    assert render_post(item.post) == expected  # type: ignore[arg-type]
    assert (tmp_path / "site" / "_posts" / "2022-02-09-NW202202092271461775.md").read_text(encoding="utf-8") == expected
