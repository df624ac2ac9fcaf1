"""The site folder as a projection of the database: rebuild it, and find where it drifted.

``post_from_row(row, share_link=…, base_url=…)`` is the :class:`Post` a stored
article row stands for: everything a post file is made of is in the row, except
the share link (the row's source makes it from its settings) and the base URL.  The
crawl writes ``render_post`` of the same ``Post``, so a rebuilt file is byte for
byte the file the crawl wrote.

``reconcile(engine, site, …)`` makes the folder match the database: it restores
missing posts and category pages, rewrites the ones whose bytes differ (stale),
and removes orphans: files named like a finews post (``Site.post_name``) that no
article row names.  Files with any other name are never touched, except under
``archive/`` (``pipelines/archive.py``), which finews owns: its pages are rewritten
from the rows and any other file there is removed.  It works in
short transactions that each take the writer lock, so a crawl storing articles
at the same time never sees, or leaves, a half-reconciled folder: a post written
by a batch that has not committed yet is never taken for an orphan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, func, select

from pipelines.archive import ARCHIVE
from pipelines.archive_rows import category_months, clear_months, pending_months, write_months
from pipelines.files import write_atomic
from pipelines.models import articles, categories
from pipelines.post import Post, render_category_page, render_post
from pipelines.records import lock_writers
from pipelines.site import CATEGORIES, POSTS, Site, sync_folders

if TYPE_CHECKING:
    from crawler.sources import Source

CHUNK = 500  # articles per transaction: bounds memory and how long a crawl waits for the lock

Report = Callable[[str, Path], None]  # (action, path): "restored", "rewritten" or "removed"


class EmptyDatabase(RuntimeError):
    """The database holds no article, but the site has posts: most likely the wrong database."""


class UnknownSource(RuntimeError):
    """A stored article's source is not configured: its share link cannot be written."""


@dataclass
class Drift:
    """What ``reconcile`` found and fixed."""

    restored: list[Path] = field(default_factory=list)
    rewritten: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    posts: int = 0  # article rows
    pages: int = 0  # category rows

    def record(self, action: str, path: Path) -> None:
        getattr(self, action).append(path)


def post_from_row(row: Any, *, share_link: str, base_url: str) -> Post:
    """The post a stored article row stands for; *share_link* is the article's link."""
    published = row.published_at.astimezone(timezone(timedelta(minutes=row.utc_offset)))
    return Post(
        code=row.code,
        title=row.title,
        published=published,
        slug=row.category,
        tag=row.tag,
        body=row.body,
        share_link=share_link,
        base_url=base_url,
    )


def project(path: Path, text: str, *, sync_file: bool = True) -> str | None:
    """Make *path* hold *text*; "restored" or "rewritten" when it had to be written, else None."""
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return None
        action = "rewritten"
    except FileNotFoundError:
        action = "restored"
    write_atomic(path, data, sync_dir=False, sync_file=sync_file)  # reconcile fsyncs each folder once
    return action


def reconcile(
    engine: Engine, site: Site, sources: Mapping[str, Source], *, base_url: str, report: Report | None = None,
    sync_files: bool = True, page_size: int = 50,
) -> Drift:
    """Rewrite every post, category page and archive page from the database and remove orphan posts.

    *sync_files* fsyncs each written file before its rename (``site.fsync: file``);
    each folder is fsynced once per chunk either way.

    Raises :class:`UnknownSource` before writing the post of an article whose source
    settings.yaml does not configure.
    """
    drift = Drift()

    def share_link(source: str, code: str) -> str:
        if source not in sources:
            raise UnknownSource(f"article {code} is from source {source!r}, which settings.yaml does not configure")
        return sources[source].share_link(code)

    def note(action: str | None, path: Path) -> None:
        if action is not None:
            drift.record(action, path)
            if report is not None:
                report(action, path)

    last_id = 0
    while True:
        with engine.begin() as conn:
            lock_writers(conn)
            rows = conn.execute(select(articles).where(articles.c.id > last_id).order_by(articles.c.id).limit(CHUNK)).all()
            for row in rows:
                post = post_from_row(row, share_link=share_link(row.source, row.code), base_url=base_url)
                path = site.post_file(post.path)
                note(project(path, render_post(post), sync_file=sync_files), path)
            sync_folders({site.root / POSTS})
        if not rows:
            break
        drift.posts += len(rows)
        last_id = rows[-1].id
    with engine.begin() as conn:
        lock_writers(conn)
        for row in conn.execute(select(categories.c.slug, categories.c.title).order_by(categories.c.slug)):
            path = site.category_file(row.slug)
            note(project(path, render_category_page(row.slug, row.title), sync_file=sync_files), path)
            drift.pages += 1
        sync_folders({site.root / CATEGORIES})
    with engine.begin() as conn:
        lock_writers(conn)
        archive_folders: set[Path] = set()
        expected: set[Path] = set()

        def write_archive(path: Path, text: str) -> None:
            note(project(path, text, sync_file=sync_files), path)
            archive_folders.add(path.parent)
            expected.add(path)

        def remove_archive(path: Path) -> None:
            path.unlink(missing_ok=True)
            note("removed", path)

        slugs: list[str] = list(conn.execute(select(categories.c.slug).order_by(categories.c.slug)).scalars())
        for slug in slugs:
            months = dict.fromkeys(((slug, month) for month in category_months(conn, slug)), None)
            write_months(conn, site.root, months, page_size, write_archive, remove_archive, every_index=True)
        clear_months(conn, pending_months(conn))  # every month is written now, a pending one too
        # archive/ is finews's own: a page no row stands for (a lost batch's month) goes.
        for path in sorted((site.root / ARCHIVE).rglob("*")) if (site.root / ARCHIVE).is_dir() else []:
            if path.is_file() and path not in expected and not path.name.startswith("."):
                remove_archive(path)
                archive_folders.add(path.parent)
        sync_folders(archive_folders)
    with engine.begin() as conn:
        lock_writers(conn)  # no batch is between writing its posts and committing them
        site.clear_temporaries()
        if not conn.execute(select(func.count()).select_from(articles)).scalar_one():
            if site.own_posts():
                raise EmptyDatabase("the database holds no article but the site has posts: is database.url right?")
            return drift
        known = {path for (path,) in conn.execute(select(articles.c.post_path))}
        for path in site.own_posts():
            if f"{POSTS}/{path.name}" not in known:
                path.unlink(missing_ok=True)
                note("removed", path)
        sync_folders({site.root / POSTS})
    return drift
