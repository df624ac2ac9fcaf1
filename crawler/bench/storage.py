"""Costs that must not grow with the archive: a new article's near-duplicate check, and rebuild.

Databases of K stored articles are seeded directly (rows as the store writes them,
bodies of the replay's generator cycled under fresh codes), since storing 50,000
articles through the stages would take the benchmark's whole budget.
"""

from __future__ import annotations

import hashlib
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crawler.items import BEIJING, ArticleItem
from crawler.replay import SOURCE

DISTINCT_BODIES = 500  # bodies generated; the seeded rows cycle through them


def _bodies(n: int) -> list[tuple[str, str, str]]:
    from crawler.replay.generator import ArticleFactory

    factory = ArticleFactory(0)
    out = []
    for i in range(n):
        a = factory.make(i).article
        out.append((a.title, a.outlet, "\n".join(f"<p>{p}</p>" for p in a.paragraphs)))
    return out


def seed(url: str, stored: int, *, around: datetime, spread: timedelta) -> None:
    """*stored* article rows published within *spread* of *around*, as the store writes them."""
    from pipelines.db import open_database
    from pipelines.fingerprint import signature, text_hash
    from pipelines.models import articles, categories
    from pipelines.writer import utcnow

    bodies = _bodies(min(stored, DISTINCT_BODIES) or 1)
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
                conn.execute(articles.insert(), rows)
                rows = []
        if rows:
            conn.execute(articles.insert(), rows)
    engine.dispose()


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
    seed(url, stored, around=around, spread=timedelta(days=2))  # all inside the ±2-day window
    (folder / "settings.yaml").write_text("", encoding="utf-8")  # the defaults, whatever the working folder holds
    config = load_config(folder / "settings.yaml")
    crawler = get_crawler(settings_dict={**scrapy_settings(config), "FINEWS_DATABASE_URL": url,
                                         "FINEWS_SITE_DIR": str(folder / "site"), "FINEWS_STORE_BATCH": 1})
    store = StorePipeline.from_crawler(crawler)
    store.open_spider()
    times = []
    for n, (title, outlet, body) in enumerate(_bodies(DISTINCT_BODIES + probes)[DISTINCT_BODIES:]):
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

