"""The item stages alone, against plain lxml parsing of the same bodies (SPEC §11)."""

from __future__ import annotations

import asyncio
import statistics
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawler.bench.processes import write_settings
from crawler.items import ArticleItem

LXML_PASSES = 7


def replay_items(replay: Any, folder: Path) -> tuple[list[ArticleItem], Any]:
    """The replay's articles as the spider would hand them over (content API bodies), and the config."""
    from crawler.config import load_config

    config = load_config(write_settings(folder, replay.sources()))
    ((name, source),) = config.sources.items()
    parse_api = source.PARSERS["content_api"]
    items = []
    for article in replay.articles:
        if article.api != "full":
            continue
        url = source.url("content_api", article.code)
        with urllib.request.urlopen(url) as response:  # the replay on loopback
            api: Any = parse_api(response.read(), url)
        items.append(ArticleItem(source=name, code=article.code, fetched_at=datetime.now(UTC), title=api.title,
                                 date_raw=api.date, outlet=api.outlet, body_html=api.body_html, base_url=api.url))
    return items, config


def pipeline_rate(replay: Any, folder: Path) -> tuple[float, float, int]:
    """(articles/s through validate → clean → dates → post → store, lxml.html docs/s of the same bodies, N).

    The lxml rate is the median of ``LXML_PASSES`` passes over the bodies.

    The store commits in batches as in a crawl: items are handed over inside an
    asyncio loop and their futures settle when their batch commits; the store's
    close, which renders the archive pages, is counted.  The first item warms the
    dictionaries (pinyin, dateparser) and is not counted.
    """
    from lxml import html as lxml_html
    from scrapy.exceptions import DropItem
    from scrapy.utils.misc import load_object
    from scrapy.utils.test import get_crawler

    from crawler.settings import ITEM_PIPELINES, scrapy_settings

    items, config = replay_items(replay, folder)
    bodies = [item.body_html or "" for item in items[1:]]
    crawler = get_crawler(settings_dict={**scrapy_settings(config), "FINEWS_BASE_URL": "",
                                         "FINEWS_DATABASE_URL": f"sqlite:///{folder}/pipelines.db",
                                         "FINEWS_SITE_DIR": str(folder / "pipelines-site")})
    stages = [load_object(path).from_crawler(crawler) for path, _ in sorted(ITEM_PIPELINES.items(), key=lambda kv: kv[1])]
    for stage in stages:
        getattr(stage, "open_spider", lambda: None)()

    async def run(batch: list[ArticleItem]) -> None:
        pending = []
        for item in batch:
            result: Any = item
            try:
                for stage in stages:
                    result = stage.process_item(result)
            except DropItem:  # quarantined: stored as such, as in a crawl
                continue
            pending.append(result)
        await asyncio.gather(*(p for p in pending if isinstance(p, asyncio.Future)))

    asyncio.run(run(items[:1]))
    stages[-1].write_archive()  # the warm-up article's archive pages, not counted
    started = time.perf_counter()
    asyncio.run(run(items[1:]))
    stages[-1].close_spider()  # renders the archive pages of the months the batches touched
    stages_s = time.perf_counter() - started
    passes = []
    for _ in range(LXML_PASSES):  # one pass takes milliseconds: a single one is mostly noise
        started = time.perf_counter()
        for body in bodies:
            lxml_html.fromstring(body)
        passes.append(time.perf_counter() - started)
    return len(bodies) / stages_s, len(bodies) / statistics.median(passes), len(bodies)
