"""Downloader middleware that keeps the crawler on the hosts settings.yaml names.

Reads ``FINEWS_ALLOWED_HOSTS`` (host[:port] of every source template).  Any other
request, a redirect target included, is ignored and counted in
``offsite/refused``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest, NotConfigured

if TYPE_CHECKING:
    from scrapy import Request
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
