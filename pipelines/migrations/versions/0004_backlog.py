"""The backlog of listed and failing articles, list walks, per-list run stats, run health.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "backlog",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("hints", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_reason", sa.Text),
        sa.Column("next_attempt_at", sa.DateTime, nullable=False),
        sa.Column("parked_at", sa.DateTime),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("source", "code", name="uq_backlog_source_code"),
    )
    op.create_index("ix_backlog_due", "backlog", ["source", "next_attempt_at"])
    op.create_table(
        "list_walks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("complete", sa.Boolean, nullable=False),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
        sa.UniqueConstraint("source", "url", name="uq_list_walks_source_url"),
    )
    op.create_table(
        "run_lists",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("requests", sa.Integer, nullable=False),
        sa.Column("items", sa.Integer, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("requested", sa.Integer, nullable=False),
    )
    op.create_index("ix_run_lists_run_id", "run_lists", ["run_id"])
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("health", sa.String(16)))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("health")
    op.drop_index("ix_run_lists_run_id", table_name="run_lists")
    op.drop_table("run_lists")
    op.drop_table("list_walks")
    op.drop_index("ix_backlog_due", table_name="backlog")
    op.drop_table("backlog")
