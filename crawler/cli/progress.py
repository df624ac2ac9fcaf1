"""A one-line progress display on stderr for runs started from a terminal."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class ProgressLine:
    """Redraws ``requests … stored … failed …`` at most five times a second; on with ``FINEWS_PROGRESS``."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.last = 0.0
        self.stored = 0
        self.failed = 0
        crawler.signals.connect(self.tick, signal=signals.response_received)
        crawler.signals.connect(self.stored_one, signal=signals.item_scraped)
        crawler.signals.connect(self.failed_one, signal=signals.item_dropped)
        crawler.signals.connect(self.failed_one, signal=signals.item_error)
        crawler.signals.connect(self.done, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressLine:
        if not crawler.settings.getbool("FINEWS_PROGRESS"):
            raise NotConfigured("no progress line")
        return cls(crawler)

    def stored_one(self, **_: Any) -> None:
        self.stored += 1
        self.tick()

    def failed_one(self, **_: Any) -> None:
        self.failed += 1
        self.tick()

    def tick(self, **_: Any) -> None:
        now = time.monotonic()
        if now - self.last >= 0.2:
            self.last = now
            self.draw()

    def draw(self) -> None:
        assert self.stats is not None
        requests = self.stats.get_value("downloader/request_count", 0)
        listed = self.stats.get_value("lists/entries", 0)
        oldest = self.stats.get_value("backfill/oldest")  # a backfill: how far back its lists have got
        back = f", back to {oldest}" if oldest else ""
        sys.stderr.write(f"\r{requests} requests, {listed} listed, {self.stored} stored, {self.failed} failed{back} ")
        sys.stderr.flush()

    def done(self, **_: Any) -> None:
        self.draw()
        sys.stderr.write("\n")
