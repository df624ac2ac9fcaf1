"""``crawl.delay`` between two requests to one host, across every process of a run.

Scrapy's ``DOWNLOAD_DELAY`` spaces the requests of one process; three workers
would hit a host three times as often.  In distributed mode each request first
reserves the host's next free moment in Redis (one atomic script: the slot is
the later of now and the host's next free moment, and the next free moment moves
one delay past it) and waits until then.  Reading Redis's own clock keeps
machines with drifting clocks in step.  When Redis does not answer, the request
waits one delay, so a process alone stays polite.  Per-host concurrency
(``crawl.per_host``) stays per process.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from redis.exceptions import RedisError
from scrapy.exceptions import NotConfigured

from crawler.distributed import Keys, connect

if TYPE_CHECKING:
    import redis
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

# KEYS[1]: the host's next free moment (µs, Redis clock); ARGV[1]: the delay in µs.  Returns the wait in µs.
_RESERVE = """
local t = redis.call('time')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local free = tonumber(redis.call('get', KEYS[1]) or '0')
local slot = math.max(now, free)
redis.call('set', KEYS[1], slot + tonumber(ARGV[1]), 'px', math.ceil((slot - now + tonumber(ARGV[1])) / 1000) + 1000)
return slot - now
"""


class SharedHostDelayMiddleware:
    def __init__(self, client: redis.Redis, keys: Keys, delay: float) -> None:
        self.client, self.keys, self.delay = client, keys, delay
        self.reserve = client.register_script(_RESERVE)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedHostDelayMiddleware:
        s = crawler.settings
        delay = s.getfloat("FINEWS_HOST_DELAY")
        if not s.get("FINEWS_REDIS_URL") or delay <= 0:
            raise NotConfigured("no shared delay: not distributed, or crawl.delay is 0")
        return cls(connect(s.get("FINEWS_REDIS_URL")), Keys.of(s), delay)

    def wait_for(self, host: str) -> float:
        """Reserve *host*'s next slot; the seconds to wait for it."""
        try:
            return int(self.reserve(keys=[self.keys.host(host)], args=[int(self.delay * 1_000_000)])) / 1_000_000
        except RedisError as exc:
            logger.warning("could not reserve a slot for %s in Redis (%s): waiting %.2f s", host, exc, self.delay)
            return self.delay

    async def process_request(self, request: Request) -> None:
        wait = self.wait_for(urlsplit(request.url).hostname or "")
        if wait > 0:
            await asyncio.sleep(wait)
