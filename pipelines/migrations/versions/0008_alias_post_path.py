"""Aliases keep the post file that named them: ``aliases.post_path``.

Revision ID: 0008
Revises: 0007

``finews import`` records a post file that names a stored article under another
name (the original system's ``<date>-<18-digit id>.md`` next to, or instead of,
``<date>-NW<id>.md``) as an alias whose ``post_path`` is that file, so the site owner
knows which URLs the article also had.  NULL for aliases a crawl records (a
duplicate code has no post file of its own).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("aliases", sa.Column("post_path", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("aliases") as batch:
        batch.drop_column("post_path")
