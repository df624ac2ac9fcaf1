"""Downloader middlewares: stay on the configured hosts, never accept a truncated body.

``AllowedHostsMiddleware`` reads ``FINEWS_ALLOWED_HOSTS`` (host[:port] of every
source template); any other request, a redirect target included, is ignored and
counted in ``offsite/refused``.  ``PartialResponseMiddleware`` retries responses
that ended early.
"""

from __future__ import annotations

import logging
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
