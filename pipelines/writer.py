"""How one article changes the database and the site folder (used by pipelines.store).

``ArticleWriter.write(conn, item, files)`` decides the outcome of one article
(new, unchanged, updated or duplicate; see pipelines/store.py) and makes the
row changes on *conn* and the file changes through *files*
(``site.FileChanges``), so that its caller can commit or undo both together.
It never commits: the caller owns the transaction and has taken the writer
lock (pipelines.records).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem
from sqlalchemy import Connection, bindparam, select

from crawler.items import ArticleItem, Outcome
from pipelines import backlog
from pipelines.archive import month_of
from pipelines.dedupe import Match, NearPolicy, find_match, index_signature
from pipelines.fingerprint import signature, text_hash
from pipelines.models import VERSION_FIELDS, aliases, article_history, articles, categories, near_duplicates, quarantine
from pipelines.post import CategoryChoice, Post, render_category_page, render_post
from pipelines.records import by_code, code_key, insert_ignore
from pipelines.site import FileChanges, Site

if TYPE_CHECKING:
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

# The statements every stored article runs, built once (building them cost more than running them).
_CURRENT = select(articles).where(by_code(articles)).with_for_update()
_CATEGORY = select(categories).where(categories.c.slug == bindparam("slug"))
_DROP_ALIAS = aliases.delete().where(by_code(aliases))
_DROP_QUARANTINE = quarantine.delete().where(by_code(quarantine))


def utcnow() -> datetime:
    """Now, as naive UTC (the form every time column stores)."""
    return datetime.now(UTC).replace(tzinfo=None)


def content_hash(post: Post) -> str:
    """Fingerprint of everything that makes the post differ to a reader."""
    parts = [post.title, post.published.isoformat(), post.slug, post.tag, post.body]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


class CategoryRows:
    """The ``categories`` rows a writer has read: (title, outlet) by slug.

    A category row is never updated or deleted once committed, so a row read in a
    transaction that committed stays true for the life of the process and is not
    read again.  Rows read in the current transaction are held apart until
    ``commit`` (they may be this transaction's own inserts); ``rollback`` drops them.
    """

    def __init__(self) -> None:
        self.committed: dict[str, tuple[str, str | None]] = {}
        self.pending: dict[str, tuple[str, str | None]] = {}

    def get(self, conn: Connection, slug: str) -> tuple[str, str | None] | None:
        row = self.committed.get(slug) or self.pending.get(slug)
        if row is None:
            found = conn.execute(_CATEGORY, {"slug": slug}).first()
            if found is not None:
                row = self.pending[slug] = (found.title, found.outlet)
        return row

    def commit(self) -> None:
        self.committed.update(self.pending)
        self.pending.clear()

    def rollback(self) -> None:
        self.pending.clear()


def resolve_category(conn: Connection, choice: CategoryChoice, rows: CategoryRows) -> tuple[str, str, bool]:
    """The slug the chosen category really gets, the category's stored title, and whether it is new.

    A fixed slug (settings override or list category) is used as is.  A pinyin
    slug already held by another outlet gets a numeric suffix, so two outlets
    never share a category page silently.
    """
    wanted, outlet = choice.slug, choice.outlet
    candidates = [wanted] if choice.fixed else [wanted] + [f"{wanted}{n}" for n in range(2, 100)]
    for slug in candidates:
        row = rows.get(conn, slug)
        if row is None:
            values = {"slug": slug, "title": choice.title, "outlet": None if choice.fixed else outlet, "created_at": utcnow()}
            if insert_ignore(conn, categories, values, ["slug"]):
                if slug != wanted:
                    logger.warning("outlet %r: slug %r belongs to another outlet, using %r", outlet, wanted, slug)
                return slug, choice.title, True
            row = rows.get(conn, slug)  # another writer won
            assert row is not None
        title, owner = row
        if choice.fixed or owner == outlet:
            return slug, title, False
    raise DropItem(f"no free category slug for outlet {outlet!r}")


class ArticleWriter:
    def __init__(self, site: Site, force: bool, near: NearPolicy, stats: StatsCollector) -> None:
        self.site = site
        self.force = force
        self.near = near
        self.stats = stats
        self.categories = CategoryRows()
        # (slug, Beijing month) of every post added, moved or retitled, with the earliest time
        # touched in it: the archive pages to refresh (see archive_rows.write_months).
        self.touched: dict[tuple[str, str], datetime] = {}

    def touch(self, slug: str, published: datetime) -> None:
        key = (slug, month_of(published))
        since = self.touched.get(key)
        self.touched[key] = published if since is None else min(since, published)

    def write(self, conn: Connection, item: ArticleItem, files: FileChanges) -> tuple[Outcome, Path]:
        """Write *item*'s rows on *conn* and its files through *files*; returns the outcome and the post path.

        *item* went through the post stage (``post`` and ``category_choice`` are set).
        """
        assert item.post is not None
        key = (articles.c.source == item.source) & (articles.c.code == item.code)
        current = conn.execute(_CURRENT, code_key(item.source, item.code)).first()
        if current is None:
            keys = content_keys(item.post)
            match = find_match(
                conn, source=item.source, code=item.code, text_hash=keys["text_hash"],
                signature=keys["signature"] or b"", published=item.post.published, policy=self.near,
            )
            if match is not None and (match.kind == "duplicate" or self.near.action == "skip"):
                self.record_alias(conn, item, match)
                self.settle(conn, item)
                logger.info("%s duplicates %s (%s, similarity %.2f)", item.code, match.code, match.kind, match.similarity)
                return "duplicate", self.site.post_file(match.post_path)
            post, values = self.place(conn, item, files)
            row = {"source": item.source, "code": item.code, "created_at": values["updated_at"], **values, **keys}
            inserted = insert_ignore(conn, articles, row, ["source", "code"])
            if inserted:
                self.touch(post.slug, post.published)
                index_signature(conn, inserted.id, (keys["signature"], post.published))
                target = self.site.post_file(post.path)
                files.write(target, render_post(post))
                if match is not None:
                    self.record_near(conn, item, inserted.id, match)
                conn.execute(_DROP_ALIAS, code_key(item.source, item.code))
                self.settle(conn, item)
                return "new", target
            current = conn.execute(_CURRENT, code_key(item.source, item.code)).one()  # another writer won
        post, values = self.place(conn, item, files)
        target = self.site.post_file(post.path)
        changed = current.content_hash != values["content_hash"]
        if changed:  # title, time and category are in the hash: an unchanged post keeps its archive pages
            self.touch(post.slug, post.published)
            self.touch(current.category, current.published_at)
        if values["list_meta"] is None:  # a fetch by hand knows no list: keep what the last crawl saw
            del values["list_meta"]
        if changed or self.force:
            if changed:
                conn.execute(article_history.insert().values(history_values(current, values["updated_at"])))
            keys = content_keys(post)
            conn.execute(articles.update().where(key).values(**values, **keys))
            index_signature(conn, current.id, (keys["signature"], post.published), (current.signature, current.published_at))
            files.write(target, render_post(post), always=self.force)
            if current.post_path != post.path:
                files.remove(self.site.post_file(current.post_path))
        else:
            if values.get("list_meta", current.list_meta) != current.list_meta:
                conn.execute(articles.update().where(key).values(list_meta=values["list_meta"]))
            files.write(target, render_post(post))  # restores a post file that went missing or drifted
        self.settle(conn, item)
        return ("updated" if changed else "unchanged"), target

    def place(self, conn: Connection, item: ArticleItem, files: FileChanges) -> tuple[Post, dict[str, Any]]:
        """Resolve the item's category (writing its page when new or missing); the final post and its row values."""
        assert item.post is not None and item.category_choice is not None
        slug, stored_title, new_category = resolve_category(conn, item.category_choice, self.categories)
        post = replace(item.post, slug=slug)
        page = self.site.category_file(slug)
        if new_category or not page.exists():
            files.write(page, render_category_page(slug, stored_title))
        return post, row_values(item, post)

    def record_alias(self, conn: Connection, item: ArticleItem, match: Match) -> None:
        """Record *item*'s code as an alias of the matched article; no write when already recorded so."""
        assert item.post is not None
        key = (aliases.c.source == item.source) & (aliases.c.code == item.code)
        values = {
            "article_id": match.article_id,
            "kind": match.kind,
            "similarity": match.similarity,
            "title": item.post.title,
            "list_meta": list_meta_json(item),
        }
        row = conn.execute(select(aliases).where(key)).first()
        now = utcnow()
        if row is None and insert_ignore(
            conn, aliases, {"source": item.source, "code": item.code, "created_at": now, "updated_at": now, **values}, ["source", "code"]
        ):
            self.stats.inc_value(f"dedupe/{match.kind}")
            return
        row = row or conn.execute(select(aliases).where(key)).one()
        if values["list_meta"] is None:
            values["list_meta"] = row.list_meta
        if any(getattr(row, name) != value for name, value in values.items()):
            conn.execute(aliases.update().where(key).values(updated_at=now, **values))

    def record_near(self, conn: Connection, item: ArticleItem, new_id: int, match: Match) -> None:
        """Record that the article just published (row *new_id*) is a near-duplicate of the matched one."""
        values = {"article_id": new_id, "similar_id": match.article_id, "similarity": match.similarity, "created_at": utcnow()}
        insert_ignore(conn, near_duplicates, values, ["article_id", "similar_id"])
        self.stats.inc_value("dedupe/near_published")
        logger.info("%s is a near-duplicate of %s (similarity %.2f), published", item.code, match.code, match.similarity)

    def settle(self, conn: Connection, item: ArticleItem) -> None:
        """The article is stored: it is neither quarantined nor owed any more."""
        conn.execute(_DROP_QUARANTINE, code_key(item.source, item.code))
        backlog.settle(conn, item.source, item.code)


def list_meta_json(item: ArticleItem) -> str | None:
    """The stored form of the item's list metadata (crawler/spiders/crawl.py compares the same form)."""
    return json.dumps(item.list_meta, ensure_ascii=False, sort_keys=True) if item.list_meta else None


def row_values(item: ArticleItem, post: Post) -> dict[str, Any]:
    """The ``articles`` columns that describe this version of the article."""
    offset = post.published.utcoffset()
    assert offset is not None
    return {
        "title": post.title,
        "published_at": post.published,
        "utc_offset": int(offset.total_seconds() // 60),
        "outlet": item.outlet or "",
        "category": post.slug,
        "tag": post.tag,
        "body": post.body,
        "content_hash": content_hash(post),
        "post_path": post.path,
        "list_meta": list_meta_json(item),
        "fetched_at": item.fetched_at,
        "updated_at": utcnow(),
    }


def content_keys(post: Post) -> dict[str, Any]:
    """The dedupe columns of a post: exact key and near-duplicate signature (NULL without text)."""
    return {"text_hash": text_hash(post.title, post.body), "signature": signature(post.title, post.body) or None}


def history_values(row: Any, replaced_at: datetime) -> dict[str, Any]:
    """The ``article_history`` row that keeps the version *row* holds."""
    return {"article_id": row.id, "replaced_at": replaced_at, **{name: getattr(row, name) for name in VERSION_FIELDS}}
