"""The backlog: every listed article some run still owes, and every failing one (SPEC §9).

A crawl calls :func:`record_listed` for the articles it is about to request (or
defers under ``--max-items``) *before* it requests them, in one short
transaction per list page.  Storing an article (any outcome) or quarantining it
deletes its row in the same transaction as the article's rows
(:func:`settle`), so a row that survives a run, whatever stopped it, names an
article the next run fetches first (:func:`due`).

A failed attempt (:func:`record_failure`) counts against ``max_attempts`` and
moves the next attempt out by an exponential back-off; the attempt that reaches
``max_attempts`` parks the article: runs skip it and no longer fail for it, and
``finews status`` names it until ``finews fetch CODE`` stores it.  A failure of
our own storage (disk full, database down) is not the article's fault: it is
recorded but neither counts nor backs off.

Every function takes a connection inside a transaction the caller owns; the
caller has taken the writer lock (pipelines.records) where it writes.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, select

from crawler.config import CRAWL_DEFAULTS, parse_duration
from pipelines.models import articles, backlog, list_walks
from pipelines.records import by_code, code_key, insert_ignore

_SETTLE = backlog.delete().where(by_code(backlog))  # run once per stored article: built once

# settings.yaml's crawl.max_attempts and crawl.backoff (after the first failure;
# BACKOFF_FACTOR times longer after each further one).
MAX_ATTEMPTS: int = CRAWL_DEFAULTS["max_attempts"]
BACKOFF = timedelta(seconds=parse_duration(CRAWL_DEFAULTS["backoff"]))
BACKOFF_FACTOR = 4


@dataclass(frozen=True)
class Owed:
    """One backlog row as a crawl reads it."""

    code: str
    hints: dict[str, Any]
    attempts: int
    next_attempt_at: datetime
    parked: bool


@dataclass(frozen=True)
class Retry:
    """How failed attempts are spaced and when an article is parked."""

    max_attempts: int = MAX_ATTEMPTS
    backoff: timedelta = BACKOFF

    def delay(self, attempts: int) -> timedelta:
        """The wait before the next attempt once *attempts* attempts failed."""
        return self.backoff * (BACKOFF_FACTOR ** max(0, attempts - 1))


def _owed(row: Any) -> Owed:
    return Owed(row.code, json.loads(row.hints), row.attempts, row.next_attempt_at, row.parked_at is not None)


def record_listed(
    conn: Connection, source: str, listed: Mapping[str, dict[str, Any]], now: datetime, new: Collection[str] = ()
) -> None:
    """Owe each code of *listed* (code → hints); a code owed already keeps its attempts and gets the new hints.

    *new* are the codes the caller found not stored when it read the page: one
    that is stored by now (another process of a distributed run fetched it from
    another list meanwhile) is owed no more, and not owed again.
    """
    new = [code for code in listed if code in new]
    query = select(articles.c.code).where((articles.c.source == source) & articles.c.code.in_(new))
    stored_since: set[str] = set(conn.scalars(query)) if new else set()
    for code, hints in listed.items():
        if code in stored_since:
            continue
        text = json.dumps(hints, ensure_ascii=False, sort_keys=True)
        row = {"source": source, "code": code, "hints": text, "attempts": 0, "next_attempt_at": now,
               "created_at": now, "updated_at": now}
        if not insert_ignore(conn, backlog, row, ["source", "code"]):
            key = (backlog.c.source == source) & (backlog.c.code == code) & (backlog.c.hints != text)
            conn.execute(backlog.update().where(key).values(hints=text, updated_at=now))


def owed(conn: Connection, source: str, codes: Iterable[str]) -> dict[str, Owed]:
    """The backlog rows of those *codes* that have one."""
    codes = list(codes)
    if not codes:
        return {}
    rows = conn.execute(select(backlog).where((backlog.c.source == source) & backlog.c.code.in_(codes)))
    return {row.code: _owed(row) for row in rows}


def due(conn: Connection, source: str, now: datetime) -> list[Owed]:
    """Rows whose next attempt is due and that are not parked, oldest first."""
    query = (
        select(backlog)
        .where(and_(backlog.c.source == source, backlog.c.parked_at.is_(None), backlog.c.next_attempt_at <= now))
        .order_by(backlog.c.next_attempt_at, backlog.c.id)
    )
    return [_owed(row) for row in conn.execute(query)]


def record_failure(
    conn: Connection, source: str, code: str, reason: str, now: datetime, retry: Retry, *, ours: bool = False
) -> Owed | None:
    """Record a failed attempt at *code*; returns the updated row, or None when the code is not owed.

    *ours*: the failure was our storage's (disk, database), not the article's:
    the reason is kept, the attempt neither counts nor delays the next one.
    """
    key = (backlog.c.source == source) & (backlog.c.code == code)
    row = conn.execute(select(backlog).where(key)).first()
    if row is None:
        return None
    if ours:
        values: dict[str, Any] = {"last_reason": reason, "next_attempt_at": now, "updated_at": now}
    else:
        attempts = row.attempts + 1
        values = {"attempts": attempts, "last_reason": reason, "updated_at": now,
                  "next_attempt_at": now + retry.delay(attempts)}
        if attempts >= retry.max_attempts and row.parked_at is None:
            values["parked_at"] = now
    conn.execute(backlog.update().where(key).values(**values))
    return Owed(code, json.loads(row.hints), values.get("attempts", row.attempts), values["next_attempt_at"],
                row.parked_at is not None or "parked_at" in values)


def settle(conn: Connection, source: str, code: str) -> None:
    """The article is stored or quarantined: nothing is owed for it any more."""
    conn.execute(_SETTLE, code_key(source, code))


def troubled(conn: Connection) -> list[Any]:
    """Rows with at least one failed attempt or parked: parked first, then by last update."""
    query = select(backlog).where((backlog.c.attempts > 0) | backlog.c.parked_at.is_not(None) | backlog.c.last_reason.is_not(None))
    return list(conn.execute(query.order_by(backlog.c.parked_at.is_(None), backlog.c.updated_at.desc())).mappings())


def pending_count(conn: Connection) -> int:
    """Rows still owed that never failed."""
    query = select(func.count()).select_from(backlog).where((backlog.c.attempts == 0) & backlog.c.last_reason.is_(None))
    return int(conn.execute(query).scalar_one())


# --- list walks -------------------------------------------------------------------------
def walk_finished(conn: Connection, source: str, url: str) -> bool:
    """Whether the last walk over the list at *url* reached its end (no walk yet: False)."""
    query = select(list_walks.c.complete).where((list_walks.c.source == source) & (list_walks.c.url == url))
    return bool(conn.execute(query).scalar())


def start_walk(conn: Connection, source: str, url: str, now: datetime) -> None:
    """A walk over *url* began: until :func:`finish_walk`, the list counts as not walked to its end."""
    values = {"complete": False, "pages": 0, "started_at": now, "finished_at": None}
    if not insert_ignore(conn, list_walks, {"source": source, "url": url, **values}, ["source", "url"]):
        conn.execute(list_walks.update().where((list_walks.c.source == source) & (list_walks.c.url == url)).values(**values))


def finish_walk(conn: Connection, source: str, url: str, pages: int, now: datetime) -> None:
    """The walk over *url* stopped where paging should stop; every listed code on its pages is stored or owed."""
    key = (list_walks.c.source == source) & (list_walks.c.url == url)
    conn.execute(list_walks.update().where(key).values(complete=True, pages=pages, finished_at=now))
