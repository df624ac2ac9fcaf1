"""``FailureLedger``: every failed article of a run is remembered in the backlog (SPEC §9).

An article fails when no source gave it (``target_failed``), when a stage
raised (``item_error``) or when a stage dropped it for a reason other than
quarantine (``item_dropped``).  Each failure of an owed article is recorded with
its reason through ``Storage.record_failure``: it backs off, and
the attempt that reaches ``FINEWS_MAX_ATTEMPTS`` parks it.  Failures of our own
storage (an ``OSError`` such as a full disk, a database error) are recorded
without counting: the article is not at fault.

If the failure itself cannot be recorded (the database is what failed), the row
keeps its previous state and the next run fetches the article again: nothing is
lost, only the count.  Off in dry runs.  Stats: ``backlog/failures`` and
``backlog/parked_now``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from sqlalchemy.exc import SQLAlchemyError

from crawler.report import target_failed
from pipelines.backlog import Retry
from pipelines.storage import Storage

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from crawler.items import ArticleItem

logger = logging.getLogger(__name__)


def ours(error: BaseException) -> bool:
    """Whether *error* is a failure of our own storage rather than of the article."""
    return isinstance(error, (OSError, SQLAlchemyError))


class FailureLedger:
    def __init__(self, crawler: Crawler, url: str, retry: Retry) -> None:
        self.crawler = crawler
        self.url = url
        self.retry = retry
        self.storage: Storage | None = None
        crawler.signals.connect(self.no_article, signal=target_failed)
        crawler.signals.connect(self.stage_raised, signal=signals.item_error)
        crawler.signals.connect(self.dropped, signal=signals.item_dropped)
        crawler.signals.connect(self.close, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FailureLedger:
        s = crawler.settings
        if s.getbool("FINEWS_DRY_RUN") or not s.get("FINEWS_DATABASE_URL"):
            raise NotConfigured("nothing is stored, so no failure is remembered")
        defaults = Retry()
        retry = Retry(
            max_attempts=s.getint("FINEWS_MAX_ATTEMPTS", defaults.max_attempts),
            backoff=timedelta(seconds=s.getfloat("FINEWS_BACKOFF_SECONDS", defaults.backoff.total_seconds())),
        )
        return cls(crawler, s.get("FINEWS_DATABASE_URL"), retry)

    def no_article(self, source: str | None, code: str, targets: list[str], reason: str, **_: Any) -> None:
        if source is not None:  # None: the target named no article, so nothing can be owed
            self.record(source, code, reason, counts=True)

    def stage_raised(self, item: ArticleItem, failure: Any, **_: Any) -> None:
        error = failure.value
        self.record(item.source, item.code, f"{type(error).__name__}: {error}", counts=not ours(error))

    def dropped(self, item: ArticleItem, exception: BaseException, **_: Any) -> None:
        if item.quarantine is None:  # a quarantined article is settled: its row is the record
            self.record(item.source, item.code, str(exception), counts=True)

    def record(self, source: str, code: str, reason: str, *, counts: bool) -> None:
        stats = self.crawler.stats
        assert stats is not None
        try:
            if self.storage is None:
                self.storage = Storage.acquire(self.url)
            row = self.storage.record_failure(source, code, reason, datetime.now(UTC), self.retry, ours=not counts)
        except (SQLAlchemyError, OSError) as exc:
            logger.warning("could not record the failure of %s (%s); the next run retries it", code, exc)
            return
        if row is None:
            return  # not owed: a fetch by hand of an article no list named
        stats.inc_value("backlog/failures")
        if row.parked and row.attempts == self.retry.max_attempts and counts:
            stats.inc_value("backlog/parked_now")
            logger.warning("%s parked after %d failed attempts: %s", code, row.attempts, reason)

    def close(self, **_: Any) -> None:
        if self.storage is not None:
            self.storage.release()
