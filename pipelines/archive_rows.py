"""Archive pages from the database: the months a batch touched, or every month (``finews rebuild``).

``write_months(conn, site, months, page_size, write)`` rewrites the archive
pages (``pipelines.archive``) of each ``(slug, month)`` in *months* from the
article rows, and each touched category's index of months; *write* is
``FileChanges.write`` in the store (undone with the batch) or
``projection.project`` in ``rebuild``, and both leave a file that already holds
the right bytes alone, so an unchanged month costs a query and no write.  Pages
of a month that now has fewer pages (an article moved out) are removed through
*remove*.  The category's index of months is rewritten only when one of its
months appears or empties (or the index is missing).  Months are Beijing months.

The store does not render pages in each batch: a batch records the months it
touched in ``archive_pending`` (``record_months``, in the batch's transaction), and
the run renders them all later (``pending_months``, ``write_months``,
``clear_months``, in one transaction).  A crawl that lists newest first adds each
batch's posts before the last batch's, which renumbers the whole month: rendering
once per run instead of once per batch keeps that cost from growing with the
number of batches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, delete, select

from crawler.items import BEIJING
from pipelines.archive import (
    ARCHIVE,
    Entry,
    category_index,
    category_index_path,
    first_changed_page,
    month_files,
    month_index_path,
    month_of,
    page_path,
)
from pipelines.models import archive_pending, articles, categories
from pipelines.records import insert_ignore

Write = Callable[[Path, str], object]
Remove = Callable[[Path], object]


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The first instant of Beijing month ``YYYY-MM`` and of the next one."""
    year, number = int(month[:4]), int(month[5:])
    start = datetime(year, number, 1, tzinfo=BEIJING)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=BEIJING)
    return start, end


def month_entries(conn: Connection, slug: str, month: str) -> list[Entry]:
    start, end = month_bounds(month)
    rows = conn.execute(
        select(articles.c.code, articles.c.title, articles.c.published_at)
        .where((articles.c.category == slug) & (articles.c.published_at >= start) & (articles.c.published_at < end))
    )
    return [Entry(row.code, row.title, row.published_at) for row in rows]


def category_months(conn: Connection, slug: str) -> list[str]:
    """Every month that holds an article of *slug*."""
    # Grouping by month in SQL would need per-dialect date functions; this reads one row
    # per distinct time, and runs only when a month appears or empties, and in rebuild.
    rows = conn.execute(select(articles.c.published_at).where(articles.c.category == slug).distinct())
    return sorted({month_of(row.published_at) for row in rows})


def category_title(conn: Connection, slug: str) -> str:
    return conn.execute(select(categories.c.title).where(categories.c.slug == slug)).scalar_one_or_none() or slug


def record_months(conn: Connection, months: Mapping[tuple[str, str], datetime]) -> None:
    """Add each (slug, month) of *months* to ``archive_pending``, keeping each month's earliest time."""
    table = archive_pending.c
    for (slug, month), since in sorted(months.items()):
        if not insert_ignore(conn, archive_pending, {"category": slug, "month": month, "since": since}, ["category", "month"]):
            key = (table.category == slug) & (table.month == month) & (table.since > since)
            conn.execute(archive_pending.update().where(key).values(since=since))


def pending_months(conn: Connection) -> dict[tuple[str, str], datetime]:
    """Every month waiting in ``archive_pending``, with the earliest time a change touched in it."""
    return {(row.category, row.month): row.since for row in conn.execute(select(archive_pending))}


def clear_months(conn: Connection, months: Iterable[tuple[str, str]]) -> None:
    """Take *months* out of ``archive_pending``: their pages have been written in this transaction."""
    table = archive_pending.c
    for slug, month in months:
        conn.execute(delete(archive_pending).where((table.category == slug) & (table.month == month)))


def write_months(
    conn: Connection, root: Path, months: Mapping[tuple[str, str], datetime | None], page_size: int,
    write: Write, remove: Remove, *, every_index: bool = False,
) -> None:
    """Rewrite the archive pages of each (slug, month) in *months* and, where needed (or *every_index*), their categories' indexes.

    *months* maps each (slug, month) to the earliest publication time a change
    touched in it, or None for the whole month: only pages from that time on are
    rendered (``archive.first_changed_page``), so a batch that adds k posts at the
    end of a month renders O(k) pages however long the month already is.
    """
    by_slug: dict[str, dict[str, datetime | None]] = {}
    for (slug, month), since in months.items():
        by_slug.setdefault(slug, {})[month] = since
    for slug, touched in sorted(by_slug.items()):
        title = category_title(conn, slug)
        months_changed = every_index or not (root / category_index_path(slug)).exists()
        for month, since in sorted(touched.items()):
            entries = month_entries(conn, slug, month)
            first_page = first_changed_page(entries, since, page_size)
            files = month_files(slug, title, month, entries, page_size, first_page=first_page)
            months_changed |= (root / month_index_path(slug, month)).exists() != bool(files)
            for path, text in files.items():
                write(root / path, text)
            folder = root / ARCHIVE / slug / month
            if folder.is_dir():
                pages = -(-len(entries) // page_size)
                kept = {root / page_path(slug, month, n) for n in range(1, pages + 1)} | {root / p for p in files}
                for stale in sorted(set(folder.glob("*.html")) - kept):
                    remove(stale)
        if months_changed:  # the index of months changes only when a month appears or empties
            path, text = category_index(slug, title, category_months(conn, slug))
            write(root / path, text)
