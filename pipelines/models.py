"""Database tables (SQLAlchemy Core).  Schema changes go through pipelines/migrations.

Times are stored as naive UTC (SQLite would drop an offset silently, and a
PostgreSQL ``timestamp`` would shift an aware value by the session's time zone);
``UTCDateTime`` converts aware values to UTC on the way in and hands back aware
UTC values, so a time reads back as the same instant on both backends.  The
offset the source used is kept in ``utc_offset`` minutes so the original
wall-clock time is recoverable.

Identity: one ``articles`` row per (source, code).  A code whose content
duplicates a stored article gets an ``aliases`` row instead; a near-duplicate
that was published anyway gets a ``near_duplicates`` row; each version an update
replaced goes to ``article_history``.  ``article_bands`` indexes the stored
signatures for the near-duplicate lookup (pipelines.dedupe).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)


class UTCDateTime(TypeDecorator[datetime]):
    """A naive-UTC ``DateTime`` column: aware values are converted, naive ones taken as UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


def version_columns() -> list[Column[Any]]:
    """What makes one version of an article: the columns ``articles`` and ``article_history`` share."""
    return [
        Column("title", Text, nullable=False),
        Column("published_at", UTCDateTime, nullable=False),
        Column("utc_offset", Integer, nullable=False),  # minutes east of UTC, 480 for Beijing
        Column("outlet", Text, nullable=False),
        Column("category", String(64), nullable=False),
        Column("tag", Text, nullable=False),
        Column("body", Text, nullable=False),
        Column("content_hash", String(64), nullable=False),
        Column("post_path", Text, nullable=False),
    ]


# Copied from the current row into article_history when an update replaces it.
VERSION_FIELDS = (*(column.name for column in version_columns()), "fetched_at")

metadata = MetaData()

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("code", String(32), nullable=False),
    *version_columns(),
    Column("list_meta", Text),  # JSON of the list fields last seen, for incremental runs
    Column("text_hash", String(64)),  # fingerprint.text_hash(title, body): the exact-duplicate key
    Column("signature", LargeBinary),  # fingerprint.signature(title, body); NULL when the body has no text
    Column("fetched_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("source", "code", name="uq_articles_source_code"),
    Index("ix_articles_text_hash", "source", "text_hash"),
    Index("ix_articles_published_at", "source", "published_at"),
    Index("ix_articles_category_published_at", "category", "published_at"),  # the archive pages' months
)

categories = Table(
    "categories",
    metadata,
    Column("slug", String(64), primary_key=True),
    Column("title", Text, nullable=False),
    Column("outlet", Text),  # the outlet whose pinyin made the slug; None for list-level categories
    Column("created_at", UTCDateTime, nullable=False),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("code", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("payload", Text, nullable=False),  # JSON: raw responses by origin
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("source", "code", name="uq_quarantine_source_code"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("command", String(16), nullable=False),  # crawl, fetch, backfill
    Column("status", String(16), nullable=False),  # running, ok, failed, interrupted, killed
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("counts", Text),  # JSON: new, updated, unchanged, duplicate, failed, quarantined
    Column("requests", Integer),
    Column("seconds", Float),
    Column("host", Text),
    Column("pid", Integer),
    Column("health", String(16)),  # crawl runs: "healthy" or "failing" after the run (alerts fire on a change)
)

# The version of an article that an update replaced; the newest version is the articles row.
article_history = Table(
    "article_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False, index=True),
    *version_columns(),
    Column("fetched_at", UTCDateTime, nullable=False),  # when this version was fetched
    Column("replaced_at", UTCDateTime, nullable=False),  # when the next version replaced it
)

# A code that names no post of its own: its content duplicates article_id.
aliases = Table(
    "aliases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("code", String(32), nullable=False),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False, index=True),
    # "duplicate" (same title and body), "near" (skipped near-duplicate) or "file" (an imported post
    # file naming the article under another spelling of its code, see pipelines/importer.py)
    Column("kind", String(16), nullable=False),
    Column("similarity", Float, nullable=False),  # estimated Jaccard similarity; 1.0 for "duplicate"
    Column("title", Text, nullable=False),  # the alias's own title, for people reading the table
    Column("list_meta", Text),  # as articles.list_meta: lets incremental runs skip the code
    # `finews import`: the post file (relative to the site folder when inside it) that named
    # the article under this code, e.g. the original's <date>-<18-digit id>.md; NULL for a crawl's.
    Column("post_path", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("source", "code", name="uq_aliases_source_code"),
)

# The near-duplicate index: one row per LSH band of each stored signature
# (fingerprint.band_keys), so a new article's candidates are found by key, not by
# scanning its window.  No rowid on SQLite: the primary key is the whole row.
article_bands = Table(
    "article_bands",
    metadata,
    Column("band_key", BigInteger, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    sqlite_with_rowid=False,
)

# Archive months whose pages a committed batch changed and no archive write has caught up
# with yet (pipelines.archive_rows): a run writes them at its end, and at most every
# ``ARCHIVE_SECONDS`` during a long one; a killed run's months wait here for the next.
archive_pending = Table(
    "archive_pending",
    metadata,
    Column("category", String(64), primary_key=True),
    Column("month", String(7), primary_key=True),  # YYYY-MM, Beijing
    Column("since", UTCDateTime, nullable=False),  # the earliest publication time a change touched
)

# A near-duplicate that was published anyway (dedupe.near_duplicates: publish).
near_duplicates = Table(
    "near_duplicates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("similar_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("similarity", Float, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("article_id", "similar_id", name="uq_near_duplicates_pair"),
)

# Listed articles not stored yet, and articles that failed (SPEC §9 "Nothing listed is
# forgotten", "Failures are remembered").  A crawl writes the row before it requests the
# article; storing or quarantining the article deletes it in the same transaction, so a
# row left over names an article some run still owes.  ``parked_at`` set: it failed
# ``crawl.max_attempts`` times and runs skip it until ``finews fetch CODE`` stores it.
backlog = Table(
    "backlog",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("code", String(32), nullable=False),
    Column("hints", Text, nullable=False),  # JSON: what the list said (title, date, outlet, category, tag, list_meta)
    Column("attempts", Integer, nullable=False),  # failed attempts so far
    Column("last_reason", Text),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("parked_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("source", "code", name="uq_backlog_source_code"),
    Index("ix_backlog_due", "source", "next_attempt_at"),
)

# One row per list: did the last walk over its pages finish?  Paging may stop early at
# a page of stored articles only when it did; otherwise older pages may hold articles
# no run has listed yet.
list_walks = Table(
    "list_walks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("url", Text, nullable=False),
    Column("complete", Boolean, nullable=False),
    Column("pages", Integer, nullable=False),  # pages the last (or current) walk fetched
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    UniqueConstraint("source", "url", name="uq_list_walks_source_url"),
)

# What each list did in each run, for `status` and the health check.
run_lists = Table(
    "run_lists",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("url", Text, nullable=False),
    Column("requests", Integer, nullable=False),  # list pages requested
    Column("items", Integer, nullable=False),  # entries the pages listed
    Column("failures", Integer, nullable=False),  # list pages that failed (network, HTTP, format)
    Column("requested", Integer, nullable=False),  # articles requested because of this list
)

# `finews backfill`: how far the walk over one list, for one date range, has got.  The
# cursor (the next page's URL) advances in the transaction that owes the page's articles
# (pipelines.backlog), so a killed backfill resumes at the first page it had not read and
# the articles of the pages it had read are in the backlog until they are stored.
backfill_progress = Table(
    "backfill_progress",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("url", Text, nullable=False),  # the list's configured URL (its first page)
    Column("since", String(10), nullable=False),  # YYYY-MM-DD, Beijing time, inclusive
    Column("until", String(10), nullable=False),  # YYYY-MM-DD, Beijing time, inclusive
    Column("next_url", Text),  # the first page not read yet; NULL once complete
    Column("pages", Integer, nullable=False),  # list pages this walk read, over all its runs
    Column("oldest_at", UTCDateTime),  # the oldest list time the walk reached
    Column("complete", Boolean, nullable=False),  # reached an item older than `since`, or the list's end
    Column("started_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("source", "url", "since", "until", name="uq_backfill_progress_range"),
)
