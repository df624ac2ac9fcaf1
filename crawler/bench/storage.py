"""Costs that must not grow with the archive: a new article's near-duplicate check, and rebuild.

Databases of K stored articles are seeded directly (rows and index rows as the
store writes them), since storing 50,000 articles through the stages would take the
benchmark's whole budget.  The near-duplicate figure seeds K different replay
articles, as a real window holds K different stories; rebuild, whose cost does not
depend on what the bodies say, cycles 500 of them under fresh codes.
"""

from __future__ import annotations

import hashlib
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from crawler.items import BEIJING, ArticleItem
from crawler.replay import SOURCE

CYCLED_BODIES = 500  # bodies generated for rebuild's rows, which cycle through them


def _bodies(n: int, start: int = 0) -> list[tuple[str, str, str]]:
    """Title, outlet and body of the replay's articles *start* … *start* + *n* - 1."""
    from crawler.replay.generator import ArticleFactory

    factory = ArticleFactory(0)
    out = []
    for i in range(start + n):  # the factory makes articles in order only
        a = factory.make(i).article
        if i >= start:
            out.append((a.title, a.outlet, "\n".join(f"<p>{p}</p>" for p in a.paragraphs)))
    return out


def seed(url: str, stored: int, *, around: datetime, spread: timedelta, distinct: bool = False) -> None:
    """*stored* article rows published within *spread* of *around*, as the store writes them.

    *distinct*: every row a different replay article; otherwise 500 bodies cycled.
    """
    from pipelines.db import open_database
    from pipelines.fingerprint import signature, text_hash
    from pipelines.models import categories
    from pipelines.writer import utcnow

    bodies = _bodies(stored if distinct else min(stored, CYCLED_BODIES) or 1)
    keys = [(text_hash(t, b), signature(t, b)) for t, _, b in bodies]
    engine = open_database(url)
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(categories.insert().values(slug="bench", title="bench", outlet="bench", created_at=now))
        rows = []
        for k in range(stored):
            title, outlet, body = bodies[k % len(bodies)]
            published = (around + spread * ((k % 1000) / 1000 - 0.5)).astimezone(BEIJING)
            code = f"NW{k:018d}"
            rows.append({
                "source": SOURCE, "code": code, "title": f"{title} {k}", "published_at": published, "utc_offset": 480,
                "outlet": outlet, "category": "bench", "tag": f"{outlet}新闻", "body": body, "content_hash": f"{k:064d}",
                # distinct exact keys (64 hex digits, as the column holds): cycled bodies are not exact duplicates
                "text_hash": hashlib.sha256(f"{k} {keys[k % len(keys)][0]}".encode()).hexdigest(),
                "signature": keys[k % len(keys)][1],
                "post_path": f"_posts/{published:%Y-%m-%d}-{code}.md", "fetched_at": now, "created_at": now, "updated_at": now,
            })
            if len(rows) == 5000:
                _insert(conn, rows)
                rows = []
        if rows:
            _insert(conn, rows)
    engine.dispose()


def _insert(conn: Any, rows: list[dict[str, Any]]) -> None:
    """Insert article rows and their near-duplicate index rows, as the writer does."""
    from pipelines.dedupe import day_of
    from pipelines.fingerprint import band_keys
    from pipelines.models import article_bands, articles

    ids = conn.execute(articles.insert().returning(articles.c.id, sort_by_parameter_order=True), rows).scalars().all()
    conn.execute(article_bands.insert(), [
        {"band_key": key, "article_id": i}
        for i, row in zip(ids, rows, strict=True)
        for key in band_keys(row["signature"], day_of(row["published_at"]))
    ])


def near_dup_ms(folder: Path, stored: int, probes: int = 30) -> float:
    """Median milliseconds to store one new article with *stored* articles in its near-duplicate window."""
    from scrapy.utils.test import get_crawler

    from crawler.config import load_config
    from crawler.settings import scrapy_settings
    from pipelines.post import build_post, choose_category
    from pipelines.store import StorePipeline

    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder}/near.db"
    around = datetime(2024, 6, 1, 12, tzinfo=UTC)
    seed(url, stored, around=around, spread=timedelta(days=2), distinct=True)  # all inside the ±2-day window
    (folder / "settings.yaml").write_text("", encoding="utf-8")  # the defaults, whatever the working folder holds
    config = load_config(folder / "settings.yaml")
    crawler = get_crawler(settings_dict={**scrapy_settings(config), "FINEWS_DATABASE_URL": url,
                                         "FINEWS_SITE_DIR": str(folder / "site"), "FINEWS_STORE_BATCH": 1})
    store = StorePipeline.from_crawler(crawler)
    store.open_spider()
    times = []
    for n, (title, outlet, body) in enumerate(_bodies(probes, start=stored)):
        item = ArticleItem(source=SOURCE, code=f"NW9{n:017d}", fetched_at=around, title=title, outlet=outlet)
        item.published, item.html = around.astimezone(BEIJING), body
        item.category_choice = choose_category(item, {})
        item.post = build_post(item, category=item.category_choice, share_link="https://example.invalid/", base_url="")
        started = time.perf_counter()
        store.process_item(item)
        times.append(time.perf_counter() - started)
    store.close_spider()
    return statistics.median(times) * 1000


def rebuild_rate(folder: Path, posts: int) -> float:
    """Posts per second of ``finews rebuild`` writing *posts* posts into an empty site folder."""
    from crawler.bench.processes import finews

    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder}/finews.db"
    seed(url, posts, around=datetime(2024, 6, 1, tzinfo=UTC), spread=timedelta(days=365))
    settings = folder / "settings.yaml"
    settings.write_text(f"site: {{dir: site}}\ndatabase: {{url: '{url}'}}\n", encoding="utf-8")
    seconds, _, _ = finews(folder, "-c", str(settings), "rebuild")
    return posts / seconds


def startup_s(folder: Path, runs: int = 5) -> float:
    """Median wall seconds of ``finews --help`` in a fresh process."""
    from crawler.bench.processes import measure

    return statistics.median(measure([sys.executable, "-m", "crawler.cli", "--help"], folder)[0] for _ in range(runs))

