"""Archive months waiting for their pages: ``archive_pending``.

Revision ID: 0009
Revises: 0008

A stored batch no longer rewrites the archive pages of the months it touched
before it commits; it records each (category, month) with the earliest time it
touched there, in the batch's transaction, and the run writes those months' pages
once at its end (and at most every minute during a long run).  A run killed
before that leaves its months here, and the next run, or ``finews rebuild``,
writes them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "archive_pending",
        sa.Column("category", sa.String(64), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("since", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("archive_pending")
