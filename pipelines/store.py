"""Stage 5: store each article in the database and project it into the site folder.

One row per (source, code).  Same content → ``unchanged`` (no row write, and the
post file is rewritten only if it drifted); changed title, date or body →
``updated`` in place (the old file goes when the date, hence the name, changed);
otherwise ``new``.  Quarantined items become quarantine rows with their raw
payload and are dropped (``DropItem``), never published.  The row and the file
change inside one transaction: a failed file write rolls the row back.

Reads ``FINEWS_DATABASE_URL``, ``FINEWS_SITE_DIR``, ``FINEWS_CATEGORIES``,
``FINEWS_FORCE`` and ``FINEWS_DRY_RUN`` (which switches the stage off).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem, NotConfigured
from sqlalchemy import Connection, Engine, select

from crawler.items import ArticleItem
from pipelines.db import open_database
from pipelines.files import remove_stale_temporaries, write_atomic, write_if_changed
from pipelines.models import articles, categories, quarantine
from pipelines.post import Post, render_category_page, render_post

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def content_hash(post: Post) -> str:
    """Fingerprint of everything that makes the post differ to a reader."""
    parts = [post.title, post.published.isoformat(), post.slug, post.tag, post.body]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


class Site:
    """The site folder: where posts and category pages live."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def post_file(self, relative: str) -> Path:
        return self.root / relative

    def category_file(self, slug: str) -> Path:
        return self.root / "category" / f"{slug}.html"

    def clear_temporaries(self) -> int:
        return remove_stale_temporaries(self.root / "_posts") + remove_stale_temporaries(self.root / "category")


def resolve_category(conn: Connection, post: Post, outlet: str, *, fixed: bool, title: str) -> tuple[str, bool]:
    """The slug this post's category really gets, and whether the category is new.

    A *fixed* slug (settings override or list category) is used as is.  A pinyin
    slug already held by another outlet gets a numeric suffix, so two outlets
    never share a category page silently.
    """
    candidates = [post.slug] if fixed else [post.slug] + [f"{post.slug}{n}" for n in range(2, 100)]
    for slug in candidates:
        row = conn.execute(select(categories).where(categories.c.slug == slug)).first()
        if row is None:
            conn.execute(categories.insert().values(slug=slug, title=title, outlet=None if fixed else outlet, created_at=utcnow()))
            if slug != post.slug:
                logger.warning("outlet %r: slug %r belongs to another outlet, using %r", outlet, post.slug, slug)
            return slug, True
        if fixed or row.outlet == outlet:
            return slug, False
    raise DropItem(f"no free category slug for outlet {outlet!r}")


class StorePipeline:
    def __init__(self, url: str, site: Site, overrides: dict[str, str], force: bool, stats: StatsCollector) -> None:
        self.url = url
        self.site = site
        self.overrides = overrides
        self.force = force
        self.stats = stats
        self.engine: Engine | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        s = crawler.settings
        if s.getbool("FINEWS_DRY_RUN"):
            raise NotConfigured("dry run: nothing is stored")
        assert crawler.stats is not None
        return cls(
            s.get("FINEWS_DATABASE_URL"),
            Site(Path(s.get("FINEWS_SITE_DIR"))),
            s.getdict("FINEWS_CATEGORIES"),
            s.getbool("FINEWS_FORCE"),
            crawler.stats,
        )

    def open_spider(self) -> None:
        self.engine = open_database(self.url)
        self.site.clear_temporaries()

    def close_spider(self) -> None:
        if self.engine is not None:
            self.engine.dispose()

    def process_item(self, item: ArticleItem) -> ArticleItem:
        assert self.engine is not None
        if item.quarantine is not None:
            self.store_quarantine(item)
            self.stats.inc_value("store/quarantined")
            raise DropItem(f"quarantined: {item.quarantine}")
        assert isinstance(item.post, Post)
        with self.engine.begin() as conn:
            outcome, path = self.store_article(conn, item, item.post)
        item.outcome = outcome
        item.post_path = str(path)
        self.stats.inc_value(f"store/{outcome}")
        return item

    def store_article(self, conn: Connection, item: ArticleItem, post: Post) -> tuple[Any, Path]:
        outlet = item.outlet or ""
        fixed = item.category is not None or outlet in self.overrides
        title = item.tag if item.category is not None and item.tag else outlet or post.tag
        slug, new_category = resolve_category(conn, post, outlet, fixed=fixed, title=title)
        post = replace(post, slug=slug)
        item.post = post
        digest = content_hash(post)
        now = utcnow()
        values: dict[str, Any] = {
            "title": post.title,
            "published_at": post.published.astimezone(timezone.utc).replace(tzinfo=None),
            "utc_offset": int(post.published.utcoffset().total_seconds() // 60),  # type: ignore[union-attr]
            "outlet": outlet,
            "category": post.slug,
            "tag": post.tag,
            "body": post.body,
            "content_hash": digest,
            "post_path": post.path,
            "list_meta": json.dumps(item.list_meta, ensure_ascii=False, sort_keys=True) if item.list_meta else None,
            "fetched_at": item.fetched_at.astimezone(timezone.utc).replace(tzinfo=None),
            "updated_at": now,
        }
        key = (articles.c.source == item.source) & (articles.c.code == item.code)
        row = conn.execute(select(articles.c.content_hash, articles.c.post_path).where(key)).first()
        text = render_post(post)
        target = self.site.post_file(post.path)
        if row is None:
            conn.execute(articles.insert().values(source=item.source, code=item.code, created_at=now, **values))
            write_atomic(target, text)
            outcome = "new"
        elif row.content_hash != digest or self.force:
            conn.execute(articles.update().where(key).values(**values))
            write_atomic(target, text)
            if row.post_path != post.path:
                self.site.post_file(row.post_path).unlink(missing_ok=True)
            outcome = "updated" if row.content_hash != digest else "unchanged"
        else:
            if values["list_meta"] is not None:
                conn.execute(articles.update().where(key).values(list_meta=values["list_meta"]))
            write_if_changed(target, text)
            outcome = "unchanged"
        page = self.site.category_file(post.slug)
        if new_category or not page.exists():
            write_if_changed(page, render_category_page(post.slug, title))
        conn.execute(quarantine.delete().where((quarantine.c.source == item.source) & (quarantine.c.code == item.code)))
        return outcome, target

    def store_quarantine(self, item: ArticleItem) -> None:
        assert self.engine is not None
        payload = json.dumps(item.raw, ensure_ascii=False, sort_keys=True)
        now = utcnow()
        key = (quarantine.c.source == item.source) & (quarantine.c.code == item.code)
        with self.engine.begin() as conn:
            if conn.execute(select(quarantine.c.id).where(key)).first() is None:
                conn.execute(
                    quarantine.insert().values(
                        source=item.source, code=item.code, reason=item.quarantine, payload=payload, created_at=now, updated_at=now
                    )
                )
            else:
                conn.execute(quarantine.update().where(key).values(reason=item.quarantine, payload=payload, updated_at=now))
        logger.warning("quarantined %s: %s", item.code, item.quarantine)
