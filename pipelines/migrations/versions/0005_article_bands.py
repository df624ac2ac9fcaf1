"""The near-duplicate index: article_bands, filled from the stored signatures.

Revision ID: 0005
Revises: 0004

Band keys are computed from ``articles.signature`` and ``published_at`` (no text is
re-read; the column holds naive UTC), with a frozen copy of ``fingerprint.band_keys``
as of this revision.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CHUNK = 500  # articles read per round trip; keeps memory flat on large databases
_BINS, _ROWS = 128, 4
_EPOCH = date(1970, 1, 1)


def _band_keys_v1(sig: bytes, day: int) -> list[int]:
    if len(sig) != _BINS:
        return []
    return [
        (day << 37) | (band << 32) | int.from_bytes(sig[band * _ROWS : (band + 1) * _ROWS], "big")
        for band in range(_BINS // _ROWS)
    ]


def _day_v1(published_utc: datetime) -> int:
    return (published_utc.date() - _EPOCH).days


def upgrade() -> None:
    bands = op.create_table(
        "article_bands",
        sa.Column("band_key", sa.BigInteger, primary_key=True),
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
        sqlite_with_rowid=False,
    )
    conn = op.get_bind()
    stored = sa.table(
        "articles", sa.column("id", sa.Integer), sa.column("signature", sa.LargeBinary), sa.column("published_at", sa.DateTime)
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(stored.c.id, stored.c.signature, stored.c.published_at)
            .where(stored.c.id > last, stored.c.signature.is_not(None))
            .order_by(stored.c.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            return
        values = [
            {"band_key": key, "article_id": row.id}
            for row in rows
            for key in _band_keys_v1(row.signature, _day_v1(row.published_at))
        ]
        if values:
            conn.execute(bands.insert(), values)
        last = rows[-1].id


def downgrade() -> None:
    op.drop_table("article_bands")
