"""Is a newly seen code an article we already store under another code?

``find_match`` answers for a code that has no ``articles`` row yet: an exact
duplicate is another code with the same cleaned title and body
(``fingerprint.text_hash``); a near-duplicate is the most similar article
published within ``NearPolicy.window`` of it whose estimated shingle similarity
reaches ``NearPolicy.min_similarity`` (``fingerprint.similarity``).  Comparing
only within the window keeps the cost bounded by the articles of a few days,
not the whole table (``ix_articles_published_at`` serves the query).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Connection, select

from crawler.config import DEDUPE_DEFAULTS
from pipelines.fingerprint import similarity
from pipelines.models import articles


@dataclass(frozen=True)
class NearPolicy:
    """What to do with a near-duplicate (settings.yaml ``dedupe``; the defaults are its defaults)."""

    action: Literal["publish", "skip"] = DEDUPE_DEFAULTS["near_duplicates"]  # publish and record it, or alias only
    min_similarity: float = DEDUPE_DEFAULTS["near_similarity"]
    window: timedelta = timedelta(days=DEDUPE_DEFAULTS["near_window_days"])


@dataclass(frozen=True)
class Match:
    """The stored article a new code duplicates."""

    article_id: int
    code: str
    post_path: str
    kind: Literal["duplicate", "near"]
    similarity: float


def find_match(
    conn: Connection, *, source: str, code: str, text_hash: str, signature: bytes, published: datetime, policy: NearPolicy
) -> Match | None:
    """The article *code*'s content duplicates (exact first, else the nearest), or None."""
    others = (articles.c.source == source) & (articles.c.code != code)
    exact = conn.execute(
        select(articles.c.id, articles.c.code, articles.c.post_path)
        .where(others & (articles.c.text_hash == text_hash))
        .order_by(articles.c.id)
        .limit(1)
    ).first()
    if exact is not None:
        return Match(exact.id, exact.code, exact.post_path, "duplicate", 1.0)
    if not signature:
        return None
    # Only the two columns the comparison needs cross the driver for every row of the window;
    # the winner's code and post path are read once.
    nearby = conn.execute(
        select(articles.c.id, articles.c.signature).where(
            others
            & articles.c.published_at.between(published - policy.window, published + policy.window)
            & articles.c.signature.is_not(None)
        )
    )
    best_id, best_score = 0, -1.0  # the score as a Match keeps it, rounded
    for row in nearby:
        score = similarity(signature, row.signature)
        if score >= policy.min_similarity and (score, -row.id) > (best_score, -best_id):
            best_id, best_score = row.id, round(score, 4)
    if not best_id:
        return None
    row = conn.execute(select(articles.c.code, articles.c.post_path).where(articles.c.id == best_id)).one()
    return Match(best_id, row.code, row.post_path, "near", best_score)
