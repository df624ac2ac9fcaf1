"""Is a newly seen code an article we already store under another code?

``find_match`` answers for a code that has no ``articles`` row yet: an exact
duplicate is another code with the same cleaned title and body
(``fingerprint.text_hash``); a near-duplicate is the most similar article
published within ``NearPolicy.window`` of it whose estimated shingle similarity
reaches ``NearPolicy.min_similarity`` (``fingerprint.similarity``).

Candidates come from the LSH index ``article_bands`` (``fingerprint.band_keys``
per publication day; ``index_signature`` keeps it in step with ``articles`` in the
writer's transaction): only articles of the window's days sharing a band key are
read and compared, so the cost per new article follows the number of similar
articles in the window, not the size of the window or of the archive.  On
rewritten replay articles the index found every pair scoring 0.6 or more and
missed 4.8 % of those at 0.5–0.6, as banding predicts (tests/pipelines/test_fingerprint.py).  Below
``INDEXED_FROM`` it would miss too much, so a lower threshold scans the window.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from sqlalchemy import BigInteger, ColumnElement, Connection, Row, Select, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from crawler.config import DEDUPE_DEFAULTS
from pipelines.fingerprint import band_keys, similarity
from pipelines.models import article_bands, articles

INDEXED_FROM = 0.5  # the lowest min_similarity the band index serves
_CHUNK = 500  # rows read whole per statement: far below every driver's limit on bound parameters
_EPOCH = date(1970, 1, 1)
# What is read of a candidate that scores high enough: the window and the source are checked on these in Python.
_COMPARED = (articles.c.id, articles.c.source, articles.c.code, articles.c.published_at, articles.c.signature, articles.c.post_path)
# The statements of every new article's lookup, built once (building them cost more than running them).
_EXACT = (
    select(articles.c.id, articles.c.code, articles.c.post_path)
    .where((articles.c.source == bindparam("source")) & (articles.c.code != bindparam("code"))
           & (articles.c.text_hash == bindparam("text_hash")))
    .order_by(articles.c.id)
    .limit(1)
)


def _candidates(keys: ColumnElement[bool]) -> Select[int, bytes]:
    """(id, signature) of the articles holding one of the band keys, by primary key, in one statement."""
    return select(articles.c.id, articles.c.signature).where(articles.c.id.in_(select(article_bands.c.article_id).where(keys)))


_BY_ID = select(*_COMPARED).where(articles.c.id.in_(bindparam("ids", expanding=True)))
# The band keys travel as one parameter: an array on PostgreSQL, a JSON list that SQLite's
# json_each reads; one bound parameter per key cost more to expand than the lookup itself.
_CANDIDATES = {
    "postgresql": _candidates(article_bands.c.band_key == any_(bindparam("keys", type_=ARRAY(BigInteger)))),
    "sqlite": _candidates(article_bands.c.band_key.in_(select(func.json_each(bindparam("keys")).table_valued("value").c.value))),
}
_BANDS = article_bands.insert()


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
    exact = conn.execute(_EXACT, {"source": source, "code": code, "text_hash": text_hash}).first()
    if exact is not None:
        return Match(exact.id, exact.code, exact.post_path, "duplicate", 1.0)
    if not signature:
        return None
    low, high = published - policy.window, published + policy.window
    pairs: Iterable[Row[int, bytes]]
    if policy.min_similarity >= INDEXED_FROM:
        pairs = _sharing_a_band(conn, signature, low, high)
    else:  # below what the index serves: every article of the window
        others = (articles.c.source == source) & (articles.c.code != code)
        window = articles.c.published_at.between(low, high) & articles.c.signature.is_not(None)
        pairs = conn.execute(select(articles.c.id, articles.c.signature).where(others & window))
    # Scores first, on two columns per candidate; only those reaching the threshold are read
    # whole, best first (ties: the oldest row), until one passes the checks.
    hits = sorted((-score, id_) for id_, sig in pairs if (score := similarity(signature, sig)) >= policy.min_similarity)
    for start in range(0, len(hits), _CHUNK):
        chunk = hits[start : start + _CHUNK]
        rows = {row.id: row for row in conn.execute(_BY_ID, {"ids": [id_ for _, id_ in chunk]})}
        for negated, id_ in chunk:
            row = rows.get(id_)
            if row is not None and row.source == source and row.code != code and low <= row.published_at <= high:
                return Match(row.id, row.code, row.post_path, "near", round(-negated, 4))
    return None


def _sharing_a_band(conn: Connection, signature: bytes, low: datetime, high: datetime) -> list[Row[int, bytes]]:
    """(id, signature) of the stored articles of the days of *low* to *high* that share a band key with *signature*.

    The caller checks the window and the source on the few that score high enough:
    with the window in the query a planner may choose to walk it through
    ``ix_articles_published_at`` instead of looking the candidates up by primary key.
    """
    keys = [key for day in range(day_of(low), day_of(high) + 1) for key in band_keys(signature, day)]
    dialect = conn.dialect.name
    return list(conn.execute(_CANDIDATES[dialect], {"keys": keys if dialect == "postgresql" else json.dumps(keys)}))


def day_of(published: datetime) -> int:
    """The UTC day number (days since 1970-01-01) an aware time falls on: the day of its band keys."""
    return (published.astimezone(UTC).date() - _EPOCH).days


def index_signature(
    conn: Connection,
    article_id: int,
    new: tuple[bytes | None, datetime],
    old: tuple[bytes | None, datetime] | None = None,
) -> None:
    """Make ``article_bands`` hold the keys of the *new* (signature, published) of *article_id*, not those of *old*."""
    stale = set(band_keys(old[0] or b"", day_of(old[1]))) if old else set()
    fresh = set(band_keys(new[0] or b"", day_of(new[1])))
    if stale - fresh:
        conn.execute(
            article_bands.delete().where(
                (article_bands.c.article_id == article_id) & article_bands.c.band_key.in_(stale - fresh)
            )
        )
    if fresh - stale:
        conn.execute(_BANDS, [{"band_key": key, "article_id": article_id} for key in sorted(fresh - stale)])
