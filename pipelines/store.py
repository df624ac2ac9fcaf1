"""Stage 5: store each article in the database and project it into the site folder.

One row per (source, code); the outcome of an article is one of:

- ``new``: a code seen for the first time (a near-duplicate published anyway
  also gets a ``near_duplicates`` row);
- ``unchanged``: same content as stored: no row write, and the post file is
  rewritten only if it went missing or drifted;
- ``updated``: changed title, date or body: the previous version goes to
  ``article_history``, the row and the post are rewritten in place, and the old
  file goes when the date (hence the file name) changed;
- ``duplicate``: a new code whose cleaned title and body equal a stored
  article's (or a near-duplicate under ``dedupe.near_duplicates: skip``): an
  ``aliases`` row, no post; ``post_path`` names the post it duplicates.

Quarantined items become quarantine rows with their raw payload and are dropped
(``DropItem``), never published.

Atomicity: each article's rows and files change together.  Articles are stored
in batches (group commit: one transaction for up to ``FINEWS_STORE_BATCH``
items that arrive within ``FINEWS_STORE_BATCH_SECONDS``); inside it each
article runs in a savepoint, and its file changes are undone if its savepoint
or the whole transaction rolls back.  An item's outcome is reported only after
the commit.  A crash between writing files and the commit leaves files the
database does not know yet (or stale ones); ``finews rebuild`` repairs both and
the next crawl refetches the lost articles.  Called outside an asyncio loop
(tests, benchmarks) ``process_item`` stores the item, and its archive pages, at once.

Archive pages (``pipelines/archive.py``): each batch records the months its
articles landed in or left (``archive_pending``, in the batch's transaction); the
pages of every pending month are rendered when the stage closes, and during a
run at the first commit ``FINEWS_ARCHIVE_SECONDS`` after the last rendering.  A
run killed before that leaves the months pending and the next run renders them.

Reads ``FINEWS_DATABASE_URL``, ``FINEWS_SITE_DIR``, ``FINEWS_SOURCES``,
``FINEWS_FORCE``, ``FINEWS_DRY_RUN`` (which switches the stage off),
``FINEWS_NEAR_DUPLICATES``, ``FINEWS_NEAR_SIMILARITY``,
``FINEWS_NEAR_WINDOW_DAYS``, ``FINEWS_STORE_BATCH``,
``FINEWS_STORE_BATCH_SECONDS``, ``FINEWS_FSYNC_FILES`` (``site.fsync: file``),
``FINEWS_PAGE_SIZE`` (``site.page_size``) and ``FINEWS_ARCHIVE_SECONDS``;
the environment variable ``FINEWS_STORE_FAULT`` (tests only) kills the process
just before or after a commit.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.exceptions import DropItem, NotConfigured
from sqlalchemy import Engine

from crawler.items import ArticleItem, Outcome
from crawler.sources import configured_sources
from pipelines import backlog
from pipelines.archive_rows import clear_months, pending_months, record_months, write_months
from pipelines.dedupe import NearPolicy
from pipelines.models import quarantine
from pipelines.records import insert_ignore
from pipelines.site import FileChanges, Site, sync_folders
from pipelines.storage import Storage
from pipelines.writer import ArticleWriter, utcnow

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

BATCH_SIZE = 50  # measured: see README "Storage"; larger batches gain little and hold the lock longer
BATCH_SECONDS = 0.1  # the longest an item waits for companions before its batch commits
PAGE_SIZE = 50  # site.page_size: post links per archive page
ARCHIVE_SECONDS = 60.0  # during a long run, the archive pages catch up at most this often
# Fault injection for the crash-window tests (RELIABILITY §4): "before_commit" or
# "after_commit" kills the process at that point with SIGKILL.
FAULT_ENV = "FINEWS_STORE_FAULT"


def crash_here(point: str) -> None:
    """Die at once, as a power cut or the OOM killer would, when ``$FINEWS_STORE_FAULT`` names *point*."""
    if os.environ.get(FAULT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class StorePipeline:
    def __init__(
        self,
        url: str,
        site: Site,
        force: bool,
        stats: StatsCollector,
        near: NearPolicy | None = None,
        batch_size: int = BATCH_SIZE,
        batch_seconds: float = BATCH_SECONDS,
        sync_files: bool = False,
        page_size: int = PAGE_SIZE,
        archive_seconds: float = ARCHIVE_SECONDS,
    ) -> None:
        self.url = url
        self.site = site
        self.stats = stats
        self.writer = ArticleWriter(site, force, near or NearPolicy(), stats)
        self.batch_size = max(1, batch_size)
        self.batch_seconds = batch_seconds
        self.sync_files = sync_files
        self.page_size = page_size
        self.archive_seconds = archive_seconds
        self.archive_due = 0.0  # time.monotonic() from which the next commit renders the pending months
        self.storage: Storage | None = None
        self.pending: list[tuple[ArticleItem, asyncio.Future[ArticleItem]]] = []
        self.timer: asyncio.TimerHandle | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        s = crawler.settings
        if s.getbool("FINEWS_DRY_RUN"):
            raise NotConfigured("dry run: nothing is stored")
        assert crawler.stats is not None
        defaults = NearPolicy()
        near = NearPolicy(
            action=s.get("FINEWS_NEAR_DUPLICATES", defaults.action),
            min_similarity=s.getfloat("FINEWS_NEAR_SIMILARITY", defaults.min_similarity),
            window=timedelta(days=s.getfloat("FINEWS_NEAR_WINDOW_DAYS", defaults.window.days)),
        )
        return cls(
            s.get("FINEWS_DATABASE_URL"),
            Site.of(Path(s.get("FINEWS_SITE_DIR")), configured_sources(s)),
            s.getbool("FINEWS_FORCE"),
            crawler.stats,
            near,
            s.getint("FINEWS_STORE_BATCH", BATCH_SIZE),
            s.getfloat("FINEWS_STORE_BATCH_SECONDS", BATCH_SECONDS),
            s.getbool("FINEWS_FSYNC_FILES"),
            s.getint("FINEWS_PAGE_SIZE", PAGE_SIZE),
            s.getfloat("FINEWS_ARCHIVE_SECONDS", ARCHIVE_SECONDS),
        )

    def open_spider(self) -> None:
        self.storage = Storage.acquire(self.url)
        with self.storage.writing():  # no other writer is between writing a temporary and renaming it
            self.site.clear_temporaries()
        self.archive_due = time.monotonic() + self.archive_seconds

    def close_spider(self) -> None:
        self.flush()
        if self.storage is not None:
            self.catch_up_archive()
            self.storage.release()
            self.storage = None

    @property
    def engine(self) -> Engine | None:
        """The open storage's engine (None before ``open_spider`` and after ``close_spider``)."""
        return self.storage.engine if self.storage is not None else None

    # --- batching ---------------------------------------------------------------------
    def process_item(self, item: ArticleItem) -> ArticleItem | asyncio.Future[ArticleItem]:
        """Store *item*; under an asyncio loop the result is a future settled when its batch commits."""
        assert self.storage is not None
        if item.quarantine is not None:
            self.store_quarantine(item)
            self.stats.inc_value("store/quarantined")
            raise DropItem(f"quarantined: {item.quarantine}")
        loop = running_loop() if self.batch_size > 1 else None
        if loop is None:
            error = self.store_batch([item])[0]
            self.catch_up_archive()
            if error is not None:
                raise error
            return item
        future: asyncio.Future[ArticleItem] = loop.create_future()
        self.pending.append((item, future))
        if len(self.pending) >= self.batch_size:
            self.flush()
        elif self.timer is None:
            self.timer = loop.call_later(self.batch_seconds, self.flush)
        return future

    def flush(self) -> None:
        """Store the pending items in one transaction and settle their futures."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        pending, self.pending = self.pending, []
        if not pending:
            return
        try:
            results = self.store_batch([item for item, _ in pending])
        except BaseException as exc:  # never leave a future unsettled: the crawl would hang
            results = [exc] * len(pending)
        for (item, future), error in zip(pending, results, strict=True):  # store_batch answers once per item
            if future.done():
                continue
            if error is None:
                future.set_result(item)
            else:
                future.set_exception(error)
        if time.monotonic() >= self.archive_due:
            self.catch_up_archive()

    # --- archive pages ----------------------------------------------------------------
    def write_archive(self) -> None:
        """Render the pages of every pending archive month (any run's, any process's) and clear them, in one transaction.

        On failure the files are put back as they were and the months stay pending.
        """
        assert self.storage is not None
        files = FileChanges(sync_files=self.sync_files)
        try:
            with self.storage.writing() as conn:
                months = pending_months(conn)
                if not months:
                    return
                write_months(conn, self.site.root, months, self.page_size, files.write, files.remove)
                sync_folders(files.folders)
                clear_months(conn, months)
        except BaseException:
            files.undo()
            raise
        files.forget()
        self.stats.inc_value("store/archive_renders")

    def catch_up_archive(self) -> None:
        """``write_archive``, a failure logged and counted (``store/archive_failed``): the stored articles stand."""
        try:
            self.write_archive()
        except Exception as exc:
            self.stats.inc_value("store/archive_failed")
            logger.error("archive pages not written, their months stay pending for the next run: %s", exc)
        self.archive_due = time.monotonic() + self.archive_seconds

    def store_batch(self, items: list[ArticleItem]) -> list[BaseException | None]:
        """Store *items* in one transaction, each in its own savepoint; the error of each, or None."""
        assert self.storage is not None
        errors: list[BaseException | None] = [None] * len(items)
        stored: list[tuple[ArticleItem, FileChanges, Outcome, Path]] = []
        self.writer.touched = {}
        try:
            with self.storage.writing() as conn:
                for n, item in enumerate(items):
                    files = FileChanges(sync_files=self.sync_files)
                    try:
                        with conn.begin_nested():
                            outcome, path = self.writer.write(conn, item, files)
                    except Exception as exc:  # this article only: its savepoint is rolled back
                        files.undo()
                        errors[n] = exc
                        continue
                    stored.append((item, files, outcome, path))
                record_months(conn, self.writer.touched)  # their archive pages: write_archive
                # Files durable before the rows that name them: one fsync per folder per batch.
                sync_folders(set().union(*(files.folders for _, files, _, _ in stored)))
                crash_here("before_commit")
        except BaseException as exc:  # the transaction failed: no article of the batch is stored
            self.writer.categories.rollback()
            for _, files, _, _ in reversed(stored):
                files.undo()
            if not isinstance(exc, Exception):
                raise
            return [error or exc for error in errors]
        self.writer.categories.commit()
        crash_here("after_commit")
        self.stats.inc_value("store/commits")
        for item, files, outcome, path in stored:
            files.forget()
            item.outcome = outcome
            item.post_path = str(path)
            self.stats.inc_value(f"store/{outcome}")
        return errors

    def store_quarantine(self, item: ArticleItem) -> None:
        assert self.storage is not None
        payload = json.dumps(item.raw, ensure_ascii=False, sort_keys=True)
        now = utcnow()
        key = (quarantine.c.source == item.source) & (quarantine.c.code == item.code)
        values = {"reason": item.quarantine, "payload": payload, "updated_at": now}
        with self.storage.writing() as conn:
            row = {"source": item.source, "code": item.code, "created_at": now, **values}
            if not insert_ignore(conn, quarantine, row, ["source", "code"]):
                conn.execute(quarantine.update().where(key).values(**values))
            backlog.settle(conn, item.source, item.code)  # the quarantine row is the record now
        logger.warning("quarantined %s: %s", item.code, item.quarantine)


