"""Progress of ``finews backfill``: per list and date range, the next page to read (SPEC §4).

A backfill walks a list past its ``max_pages`` into the past.  Each page it reads
is recorded by :func:`advance`, in the same transaction that owes the page's
articles (pipelines.backlog), before any of them is requested: a backfill killed
at any moment resumes (:func:`resume`) at the first page it had not read, and the
articles of the pages it had read are owed until they are stored.

A row is keyed by (source, list URL, since, until): another range is another
walk.  A walk that is ``complete`` (it reached an item older than ``since``, or
the end of the list) starts again from the first page when the same range is
asked for again; everything it stored is then skipped as unchanged.

Every function takes a connection inside a transaction the caller owns; the
caller has taken the writer lock (pipelines.records) where it writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from pipelines.models import backfill_progress
from pipelines.records import insert_ignore


@dataclass(frozen=True)
class Progress:
    """One walk over one list for one range, as the backfill and its summary read it."""

    source: str
    url: str  # the list's configured URL
    since: date
    until: date
    next_url: str | None  # the first page not read yet; None once complete
    pages: int  # list pages read by this walk, over every run of it
    oldest_at: datetime | None  # the oldest list time reached (aware, UTC)
    complete: bool


def _key(source: str, url: str, since: date, until: date) -> Any:
    t = backfill_progress.c
    return (t.source == source) & (t.url == url) & (t.since == since.isoformat()) & (t.until == until.isoformat())


def _progress(row: Any) -> Progress:
    return Progress(row.source, row.url, date.fromisoformat(row.since), date.fromisoformat(row.until),
                    row.next_url, row.pages, row.oldest_at, row.complete)


def read(conn: Connection, source: str, url: str, since: date, until: date) -> Progress | None:
    """The walk over *url* for [since, until], None when none began."""
    row = conn.execute(select(backfill_progress).where(_key(source, url, since, until))).first()
    return _progress(row) if row is not None else None


def resume(conn: Connection, source: str, url: str, since: date, until: date, now: datetime) -> Progress:
    """Where a backfill of *url* for [since, until] starts: the saved page of an unfinished walk,
    else a new walk from *url* (a complete one is started again)."""
    found = read(conn, source, url, since, until)
    if found is not None and not found.complete and found.next_url:
        return found
    values = {"next_url": url, "pages": 0, "oldest_at": None, "complete": False, "started_at": now, "updated_at": now}
    row = {"source": source, "url": url, "since": since.isoformat(), "until": until.isoformat(), **values}
    if not insert_ignore(conn, backfill_progress, row, ["source", "url", "since", "until"]):
        conn.execute(backfill_progress.update().where(_key(source, url, since, until)).values(**values))
    return Progress(source, url, since, until, url, 0, None, False)


def advance(
    conn: Connection, source: str, url: str, since: date, until: date, *,
    next_url: str | None, oldest: datetime | None, now: datetime,
) -> None:
    """One more page of the walk was read: *next_url* is the page after it (None: the walk is
    complete), *oldest* the oldest list time on it (None: it showed none)."""
    key = _key(source, url, since, until)
    row = conn.execute(select(backfill_progress.c.oldest_at, backfill_progress.c.pages).where(key)).first()
    if row is None:
        raise LookupError(f"no backfill of {url} for {since}..{until} was started")
    reached = row.oldest_at if oldest is None or (row.oldest_at is not None and row.oldest_at <= oldest) else oldest
    conn.execute(backfill_progress.update().where(key).values(
        next_url=next_url, pages=row.pages + 1, oldest_at=reached, complete=next_url is None, updated_at=now,
    ))
