"""Dedupe and history: content keys, article_history, aliases, near_duplicates.

Revision ID: 0003
Revises: 0002

The two new ``articles`` columns are computed here for every existing row, so
dedupe works against articles stored by earlier releases.  They stay nullable:
adding a nullable column is a plain ``ALTER TABLE`` on SQLite, where NOT NULL
would copy the whole table (and the store always fills them).
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Rows read and updated per round trip; keeps memory flat on large databases.
CHUNK = 500

# A frozen copy of pipelines/fingerprint.py as of this revision: a migration must give
# the same result whatever the live code becomes (changes there come with a migration).
_BINS = 128
_SHINGLE = 3
_TAG = re.compile(r"<[^>]*>")
_OUTLET_LINE = re.compile(r"[（(]\s*文章来源\s*[：:][^）)]*[）)]")


def _text_hash_v1(title: str, body: str) -> str:
    return hashlib.sha256(f"{title}\x1f{body}".encode()).hexdigest()


def _visible_text_v1(title: str, body: str) -> str:
    text = _TAG.sub(" ", body)
    text = _OUTLET_LINE.sub(" ", html.unescape(text))
    text = unicodedata.normalize("NFKC", f"{title} {text}").lower()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def _shingles_v1(text: str) -> set[str]:
    if len(text) <= _SHINGLE:
        return {text} if text else set()
    return {text[i : i + _SHINGLE] for i in range(len(text) - _SHINGLE + 1)}


def _signature_v1(title: str, body: str) -> bytes:
    mins: list[int | None] = [None] * _BINS
    for feature in _shingles_v1(_visible_text_v1(title, body)):
        digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        slot, rest = value % _BINS, value // _BINS
        current = mins[slot]
        if current is None or rest < current:
            mins[slot] = rest
    if all(m is None for m in mins):
        return b""
    out = bytearray(_BINS)
    for i in range(_BINS):
        step = 0
        while mins[(i + step) % _BINS] is None:
            step += 1
        out[i] = (mins[(i + step) % _BINS] + step) & 0xFF  # type: ignore[operator]
    return bytes(out)


def upgrade() -> None:
    op.add_column("articles", sa.Column("text_hash", sa.String(64)))
    op.add_column("articles", sa.Column("signature", sa.LargeBinary))
    op.create_index("ix_articles_text_hash", "articles", ["source", "text_hash"])
    op.create_index("ix_articles_published_at", "articles", ["source", "published_at"])
    op.create_table(
        "article_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "article_id",
            sa.Integer,
            sa.ForeignKey("articles.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("published_at", sa.DateTime, nullable=False),
        sa.Column("utc_offset", sa.Integer, nullable=False),
        sa.Column("outlet", sa.Text, nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("tag", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("post_path", sa.Text, nullable=False),
        sa.Column("fetched_at", sa.DateTime, nullable=False),
        sa.Column("replaced_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_article_history_article_id", "article_history", ["article_id"])
    op.create_table(
        "aliases",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column(
            "article_id",
            sa.Integer,
            sa.ForeignKey("articles.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("similarity", sa.Float, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("list_meta", sa.Text),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("source", "code", name="uq_aliases_source_code"),
    )
    op.create_index("ix_aliases_article_id", "aliases", ["article_id"])
    op.create_table(
        "near_duplicates",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "article_id",
            sa.Integer,
            sa.ForeignKey("articles.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "similar_id",
            sa.Integer,
            sa.ForeignKey("articles.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("similarity", sa.Float, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("article_id", "similar_id", name="uq_near_duplicates_pair"),
    )
    op.create_index("ix_near_duplicates_similar_id", "near_duplicates", ["similar_id"])
    fill_content_keys()


def fill_content_keys() -> None:
    """Compute text_hash and signature of every stored article (data migration)."""
    conn = op.get_bind()
    table = sa.table(
        "articles",
        sa.column("id", sa.Integer),
        sa.column("title", sa.Text),
        sa.column("body", sa.Text),
        sa.column("text_hash", sa.String),
        sa.column("signature", sa.LargeBinary),
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(table.c.id, table.c.title, table.c.body)
            .where(table.c.id > last)
            .order_by(table.c.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            return
        for row in rows:
            conn.execute(
                table.update()
                .where(table.c.id == row.id)
                .values(
                    text_hash=_text_hash_v1(row.title, row.body),
                    signature=_signature_v1(row.title, row.body) or None,
                )
            )
        last = rows[-1].id


def downgrade() -> None:
    op.drop_table("near_duplicates")
    op.drop_table("aliases")
    op.drop_table("article_history")
    op.drop_index("ix_articles_published_at", table_name="articles")
    op.drop_index("ix_articles_text_hash", table_name="articles")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("signature")
        batch.drop_column("text_hash")
