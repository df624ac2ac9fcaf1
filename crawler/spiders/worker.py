"""``worker``: a process that helps the distributed runs of ``finews crawl`` (crawler/distributed).

It requests nothing of its own: it takes the requests of the run in progress
from the Redis queue (list pages and articles, whichever process queued them)
and handles them exactly as the crawl or the backfill spider would (a backfill's
range travels with its requests), storing into the shared
database.  Between runs it waits for the next one; the run extension
(crawler/distributed/run.py) keeps it open, and lets it close with
``FINEWS_WORKER_ONCE`` once no run is in progress.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import NotConfigured

from crawler.spiders.backfill import BackfillSpider

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


class WorkerSpider(BackfillSpider):
    """Has the callbacks of both the crawl and the backfill spiders: a run of either may be in the queue."""

    name = "worker"

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super(BackfillSpider, cls).update_settings(settings)  # a worker has no range of its own to check

    async def start(self) -> AsyncIterator[Any]:
        if not self.crawler.settings.get("FINEWS_REDIS_URL"):
            raise NotConfigured("the worker spider needs distributed mode: set redis.url")
        self.open_run()
        return
        yield  # an async generator that yields nothing
