"""Dedupe and history: content keys on articles, article_history, aliases, near_duplicates.

Revision ID: 0003
Revises: 0002

The two new ``articles`` columns are computed here for every existing row, so
dedupe works against articles stored by earlier releases.  They stay nullable:
adding a nullable column is a plain ``ALTER TABLE`` on SQLite, where NOT NULL
would copy the whole table (and the store always fills them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CHUNK = 500  # rows read and updated per round trip; keeps memory flat on large databases


def upgrade() -> None:
    op.add_column("articles", sa.Column("text_hash", sa.String(64)))
    op.add_column("articles", sa.Column("signature", sa.LargeBinary))
    op.create_index("ix_articles_text_hash", "articles", ["source", "text_hash"])
    op.create_index("ix_articles_published_at", "articles", ["source", "published_at"])
    op.create_table(
        "article_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
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
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
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
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("similar_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("similarity", sa.Float, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("article_id", "similar_id", name="uq_near_duplicates_pair"),
    )
    op.create_index("ix_near_duplicates_similar_id", "near_duplicates", ["similar_id"])
    fill_content_keys()


def fill_content_keys() -> None:
    """Compute text_hash and signature of every stored article (data migration)."""
    # The functions are imported, not copied: the stored values must equal what the
    # store computes.  A later change to them comes with its own recomputing migration.
    from pipelines.fingerprint import signature, text_hash

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
            sa.select(table.c.id, table.c.title, table.c.body).where(table.c.id > last).order_by(table.c.id).limit(CHUNK)
        ).all()
        if not rows:
            return
        for row in rows:
            conn.execute(
                table.update()
                .where(table.c.id == row.id)
                .values(text_hash=text_hash(row.title, row.body), signature=signature(row.title, row.body) or None)
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
