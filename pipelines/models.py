"""Database tables (SQLAlchemy Core).  Schema changes go through pipelines/migrations.

Times are stored as naive UTC (SQLite would drop an offset silently); the offset
the source used is kept in ``utc_offset`` minutes so the original wall-clock time
is recoverable.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, UniqueConstraint

metadata = MetaData()

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("code", String(32), nullable=False),
    Column("title", Text, nullable=False),
    Column("published_at", DateTime, nullable=False),  # UTC
    Column("utc_offset", Integer, nullable=False),  # minutes east of UTC, 480 for Beijing
    Column("outlet", Text, nullable=False),
    Column("category", String(64), nullable=False),
    Column("tag", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("post_path", Text, nullable=False),
    Column("list_meta", Text),  # JSON of the list fields last seen, for incremental runs
    Column("fetched_at", DateTime, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("source", "code", name="uq_articles_source_code"),
)

categories = Table(
    "categories",
    metadata,
    Column("slug", String(64), primary_key=True),
    Column("title", Text, nullable=False),
    Column("outlet", Text),  # the outlet whose pinyin made the slug; None for list-level categories
    Column("created_at", DateTime, nullable=False),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("code", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("payload", Text, nullable=False),  # JSON: raw responses by origin
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("source", "code", name="uq_quarantine_source_code"),
)
