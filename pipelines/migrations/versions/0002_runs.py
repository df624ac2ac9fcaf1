"""Run records: one row per crawl or fetch run.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("command", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
        sa.Column("counts", sa.Text),
        sa.Column("requests", sa.Integer),
        sa.Column("seconds", sa.Float),
        sa.Column("host", sa.Text),
        sa.Column("pid", sa.Integer),
    )


def downgrade() -> None:
    op.drop_table("runs")
