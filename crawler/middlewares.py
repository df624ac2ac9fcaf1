"""Downloader middlewares: stay on the configured hosts, never accept a truncated body.

``AllowedHostsMiddleware`` reads ``FINEWS_ALLOWED_HOSTS`` (host[:port] of every
source template); any other request, a redirect target included, is ignored and
counted in ``offsite/refused``.  ``PartialResponseMiddleware`` retries responses
that ended early.  ``RetryAfterMiddleware`` holds a host's requests for the time
its 429 or 503 answer asked.  ``NonTextResponseMiddleware`` refuses a successful
answer whose Content-Type says it is not text (a PDF or an image at an article URL),
stopping its download once the headers are in.  ``HostConcurrencyMiddleware`` keeps
the requests in flight to one host within ``crawl.per_host``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest, NotConfigured, StopDownload

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Headers, Response
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
            return
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


# What the content API, the lists and the article pages may be labelled: text, JSON,
# JavaScript (JSONP), XML.  No label, or the catch-all octet-stream, leaves the decision
# to the parsers (strict UTF-8, then the documented shape).
_TEXTUAL = re.compile(
    r"text/[\w.+-]+|application/(?:json|javascript|x-javascript|ecmascript|xml|xhtml\+xml|octet-stream|[\w.-]+\+(?:json|xml))"
)


def refused_type(headers: Headers) -> str | None:
    """The media type of a response that cannot be an article, a list or an API answer."""
    raw = headers.get(b"Content-Type")
    mime = raw.split(b";")[0].strip().lower().decode("latin-1") if raw else ""
    return None if not mime or _TEXTUAL.fullmatch(mime) else mime


class NonTextResponseMiddleware:
    """A 2xx answer labelled as something other than text (``application/pdf``,
    ``image/png`` …) fails its request with the type as the reason instead of
    reaching a parser; its body is not downloaded (the ``headers_received`` signal
    stops it).  Other statuses pass: a 404 or 503 is judged by its status.
    Counts ``nontext/refused``."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        crawler.signals.connect(self.headers_received, signal=signals.headers_received)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NonTextResponseMiddleware:
        return cls(crawler)

    def headers_received(self, headers: Headers, **_: object) -> None:
        if refused_type(headers):
            raise StopDownload(fail=False)  # the response, body cut, goes on to process_response

    def process_response(self, request: Request, response: Response) -> Response:
        mime = refused_type(response.headers)
        if mime is None or not 200 <= response.status < 300:
            return response
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("nontext/refused")
        raise IgnoreRequest(f"not text, HTML or JSON (Content-Type {mime})")


class HostConcurrencyMiddleware:
    """At most ``CONCURRENT_REQUESTS_PER_DOMAIN`` (``crawl.per_host``) requests in
    flight to one host, whatever ``crawl.delay`` is.

    Scrapy 2.19's downloader holds that limit only when a download delay is set:
    without one its slot hands out every queued request before the first counts as
    transferring (measured: six requests at once with a limit of one).  Here a
    request waits for a place after any Retry-After hold, and gives it back when its
    response or its error passes through on the way back.  The middleware sits above
    every one that turns a response into a new request (Retry 550, PartialResponse
    560, MetaRefresh 580, Redirect 600), so each place taken is given back once.
    """

    META = "finews_host_place"

    def __init__(self, per_host: int) -> None:
        self.per_host = per_host
        self.places: dict[str, asyncio.Semaphore] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HostConcurrencyMiddleware:
        per_host = crawler.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        if per_host < 1:
            raise NotConfigured("CONCURRENT_REQUESTS_PER_DOMAIN is not set")
        return cls(per_host)

    async def process_request(self, request: Request) -> None:
        host = urlsplit(request.url).hostname or ""  # Scrapy's slot key: the host without the port
        place = self.places.setdefault(host, asyncio.Semaphore(self.per_host))
        await place.acquire()
        request.meta[self.META] = host

    def _give_back(self, request: Request) -> None:
        host = request.meta.pop(self.META, None)
        if host is not None:
            self.places[host].release()

    def process_response(self, request: Request, response: Response) -> Response:
        self._give_back(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._give_back(request)  # also reached when a later process_request raised


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
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
