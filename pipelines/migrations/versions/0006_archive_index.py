"""An index for the archive pages: articles by (category, published_at).

Revision ID: 0006
Revises: 0005

Each stored batch reads the months it touched of each category, and ``finews
rebuild`` every month; without this index both scan the whole table.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_articles_category_published_at", "articles", ["category", "published_at"])


def downgrade() -> None:
    op.drop_index("ix_articles_category_published_at", table_name="articles")
