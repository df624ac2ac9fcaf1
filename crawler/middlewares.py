"""Downloader middlewares: stay on the configured hosts, never accept a truncated body.

``AllowedHostsMiddleware`` reads ``FINEWS_ALLOWED_HOSTS`` (host[:port] of every
source template); any other request, a redirect target included, is ignored and
counted in ``offsite/refused``.  ``PartialResponseMiddleware`` retries responses
that ended early.  ``RetryAfterMiddleware`` holds a host's requests for the time
its 429 or 503 answer asked.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest, NotConfigured

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


class AllowedHostsMiddleware:
    def __init__(self, hosts: frozenset[str], stats: StatsCollector) -> None:
        self.hosts = hosts
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AllowedHostsMiddleware:
        hosts = frozenset(h.lower() for h in crawler.settings.getlist("FINEWS_ALLOWED_HOSTS"))
        if not hosts:
            raise NotConfigured("FINEWS_ALLOWED_HOSTS is empty")
        assert crawler.stats is not None
        return cls(hosts, crawler.stats)

    def process_request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https") and parts.netloc.lower() in self.hosts:
            return None
        self.stats.inc_value("offsite/refused")
        logger.warning("refused %s: host is not named by any source template", request.url)
        raise IgnoreRequest(f"host {parts.netloc!r} is not named by settings.yaml")


class PartialResponseMiddleware:
    """Retries responses Scrapy could only mark ``partial`` (the connection closed
    before a body without Content-Length was complete); after the retries the
    request fails, so a truncated article is never parsed as a whole one.
    Counts ``partial/retried`` and ``partial/given_up``."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.max_retry_times = crawler.settings.getint("RETRY_TIMES")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PartialResponseMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if "partial" not in response.flags:
            return response
        stats = self.crawler.stats
        assert stats is not None and self.crawler.spider is not None
        retry = get_retry_request(
            request, spider=self.crawler.spider, reason="partial response", max_retry_times=self.max_retry_times
        )
        if retry is not None:
            stats.inc_value("partial/retried")
            return retry
        stats.inc_value("partial/given_up")
        raise IgnoreRequest(f"truncated response from {request.url}")


class RetryAfterMiddleware:
    """Honours ``Retry-After`` on 429 and 503 answers: no request goes to that host
    until the time it named has passed (Scrapy's retry alone would come back at
    once).  Waits longer than ``MAX_WAIT`` seconds are cut to it.  Counts
    ``retry_after/received``."""

    MAX_WAIT = 300.0

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.not_before: dict[str, float] = {}  # host -> monotonic time

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        wait = self.not_before.get(urlsplit(request.url).netloc, 0.0) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status in (429, 503):
            seconds = retry_after_seconds(response.headers.get("Retry-After"))
            if seconds is not None:
                host = urlsplit(request.url).netloc
                until = time.monotonic() + min(seconds, self.MAX_WAIT)
                self.not_before[host] = max(self.not_before.get(host, 0.0), until)
                assert self.crawler.stats is not None
                self.crawler.stats.inc_value("retry_after/received")
                logger.info("%s asks to wait %.0f s (Retry-After)", host, seconds)
        return response


def retry_after_seconds(value: bytes | None) -> float | None:
    """Seconds a ``Retry-After`` header value asks for (delta-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
