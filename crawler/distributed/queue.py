"""scrapy-redis's scheduler and priority queue, hardened for finews.

``JsonPriorityQueue`` pops like scrapy-redis's ``PriorityQueue`` (the best
priority first, atomically), but an entry the JSON serializer refuses, or that
names a callback the spider does not offer for queued requests (its
``wire_callbacks``) or a request class, is never turned into a request: it is logged, counted
(``redis/rejected``) and moved to ``Keys.rejected``, capped at
``REJECTED_KEPT`` entries, and the next entry is popped.

``RedisScheduler`` survives a Redis outage: a failing command is logged once
per outage, a request that could not be queued is counted
(``redis/enqueue_failed``; the database's backlog still owes its article), and
while Redis is away the scheduler answers "nothing to do" instead of raising
into the engine.  ``down_for()`` says for how long; the run extension
(crawler/distributed/run.py) decides when that is too long.  ``on_pop`` is
called with every request handed out, so a worker can say it is busy at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError
from scrapy import Request
from scrapy.utils.request import request_from_dict
from scrapy_redis.queue import PriorityQueue  # type: ignore[import-untyped]
from scrapy_redis.scheduler import Scheduler  # type: ignore[import-untyped]

from crawler.distributed import Keys
from crawler.distributed.serializer import RejectedPayload

logger = logging.getLogger(__name__)

REJECTED_KEPT = 1000


class JsonPriorityQueue(PriorityQueue):
    def pop(self, timeout: int = 0) -> Request | None:
        while True:
            pipe = self.server.pipeline()
            pipe.multi()
            pipe.zrange(self.key, 0, 0).zremrangebyrank(self.key, 0, 0)
            entries, _ = pipe.execute()
            if not entries:
                return None
            try:
                return self.decode(entries[0])
            except RejectedPayload as exc:
                self.reject(entries[0], exc)

    def decode(self, payload: bytes) -> Request:
        obj = self.serializer.loads(payload)
        if "_class" in obj:  # Scrapy would import whatever class it names
            raise RejectedPayload(f"names a request class ({obj['_class']!r}); finews queues plain requests")
        allowed: frozenset[str] = getattr(self.spider, "wire_callbacks", frozenset())
        for name in ("callback", "errback"):
            if obj.get(name) is not None and obj[name] not in allowed:
                raise RejectedPayload(f"{name} {obj[name]!r} is not one the spider takes from the queue")
        try:
            return request_from_dict(obj, spider=self.spider)
        except (KeyError, TypeError, ValueError) as exc:
            raise RejectedPayload(f"not a request: {exc}") from None

    def reject(self, payload: bytes, exc: RejectedPayload) -> None:
        keys = Keys.of(self.spider.settings)
        logger.error("rejected a queue entry (%d bytes, kept in %s): %s", len(payload), keys.rejected, exc)
        self.spider.crawler.stats.inc_value("redis/rejected")
        self.server.pipeline().lpush(keys.rejected, payload).ltrim(keys.rejected, 0, REJECTED_KEPT - 1).execute()


class RedisScheduler(Scheduler):
    on_pop: Callable[[], None] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.down_since: float | None = None

    def down_for(self) -> float:
        """Seconds since Redis stopped answering; 0 while it answers."""
        return 0.0 if self.down_since is None else time.monotonic() - self.down_since

    def _failed(self, exc: RedisError) -> None:
        if self.down_since is None:
            self.down_since = time.monotonic()
            logger.warning("Redis is not answering (%s): waiting for it", exc)

    def _answered(self) -> None:
        if self.down_since is not None:
            logger.warning("Redis answers again after %.1f s", self.down_for())
            self.down_since = None

    def enqueue_request(self, request: Request) -> bool:
        try:
            queued = bool(super().enqueue_request(request))
        except RedisError as exc:
            self._failed(exc)
            if self.stats:
                self.stats.inc_value("redis/enqueue_failed")
            return False
        self._answered()
        return queued

    def next_request(self) -> Request | None:
        try:
            request = super().next_request()
        except RedisError as exc:
            self._failed(exc)
            return None
        self._answered()
        if request is not None and self.on_pop is not None:
            self.on_pop()
        return request

    def has_pending_requests(self) -> bool:
        try:
            pending = super().has_pending_requests()
        except RedisError as exc:
            self._failed(exc)
            return False
        self._answered()
        return bool(pending)
