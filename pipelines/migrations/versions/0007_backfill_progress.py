"""Progress of `finews backfill`: one row per list and date range.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "backfill_progress",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("since", sa.String(10), nullable=False),
        sa.Column("until", sa.String(10), nullable=False),
        sa.Column("next_url", sa.Text),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("oldest_at", sa.DateTime),
        sa.Column("complete", sa.Boolean, nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("source", "url", "since", "until", name="uq_backfill_progress_range"),
    )


def downgrade() -> None:
    op.drop_table("backfill_progress")
