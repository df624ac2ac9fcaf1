"""Fetching one article by its code: content API first, article page for the rest.

``ArticleFetcher`` is the part every spider shares.  ``request_article(code, …)``
returns the content-API request; the callbacks fall back to the article page
(both layouts, every continuation page) for whatever the API lacks or when the
API has no body, and yield one :class:`ArticleItem`.  When neither source gives
an article the fetcher sends the ``target_failed`` signal with the reasons.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from scrapy import Request

from crawler.failure_reasons import describe_failure
from crawler.items import ArticleItem
from crawler.report import target_failed
from crawler.sources.base import SourceFormatError
from crawler.sources.eastmoney import ApiArticle, PageArticle, parse_article_page, parse_content_api, parse_continuation_page
from crawler.sources.eastmoney.article_page import WHAT as PAGE_WHAT

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

SOURCE = "eastmoney"


@dataclass
class Fetch:
    """What is known about one article while its requests are in flight."""

    code: str
    targets: list[str]
    fetched_at: datetime
    hints: dict[str, Any] = field(default_factory=dict)  # list metadata: title, date, outlet, category, tag
    api: ApiArticle | None = None
    page: PageArticle | None = None
    page_url: str | None = None
    bodies: list[str] = field(default_factory=list)
    pages_done: int = 0  # continuation pages fetched so far
    problems: list[str] = field(default_factory=list)
    raw: dict[str, str] = field(default_factory=dict)


def page_text(response: Response) -> str:
    """The page as text.  Article pages are UTF-8; anything else (say GBK bytes under a
    utf-8 label) is refused rather than published as mojibake or U+FFFD."""
    try:
        return response.body.decode("utf-8")
    except UnicodeDecodeError:
        raise SourceFormatError(f"not valid UTF-8 (declared {response.headers.get('Content-Type', b'').decode('latin-1')!r})") from None


def page_problem(exc: SourceFormatError) -> str:
    """The parser's reason without the "article page: " it may start with (the caller says which page)."""
    return str(exc).removeprefix(f"{PAGE_WHAT}: ")


class ArticleFetcher:
    """Mixin for spiders: needs ``self.crawler`` and the two URL templates."""

    crawler: Crawler
    content_api: str
    article_page: str

    def setup_templates(self) -> None:
        settings = self.crawler.settings
        self.content_api = settings.get("FINEWS_CONTENT_API")
        self.article_page = settings.get("FINEWS_ARTICLE_PAGE")

    def request_article(self, code: str, targets: list[str], hints: dict[str, Any] | None = None) -> Request:
        fetch = Fetch(code=code, targets=targets, fetched_at=datetime.now(timezone.utc), hints=hints or {})
        return Request(
            self.content_api.format(code=code, id=code[2:]),
            callback=self.parse_api,
            errback=self.api_failed,
            cb_kwargs={"fetch": fetch},
            meta={"handle_httpstatus_list": [404]},
            dont_filter=True,
        )

    def parse_api(self, response: Response, fetch: Fetch) -> Iterator[Any]:
        if response.status == 404:
            fetch.problems.append("content API: 404 not found")
            yield self.request_page(fetch)
            return
        try:
            fetch.api = parse_content_api(response.body)
        except SourceFormatError as exc:
            fetch.problems.append(str(exc))
            fetch.raw["api"] = response.body.decode("utf-8", "replace")
            yield self.request_page(fetch)
            return
        fetch.raw["api"] = response.text
        if fetch.api is None:
            fetch.problems.append("content API: no body")
            yield self.request_page(fetch)
        elif self.lacks(fetch):
            yield self.request_page(fetch)
        else:
            yield from self.finish(fetch)

    def api_failed(self, failure: Failure) -> Iterator[Any]:
        fetch: Fetch = failure.request.cb_kwargs["fetch"]  # type: ignore[attr-defined]
        fetch.problems.append(f"content API: {describe_failure(failure)}")
        yield self.request_page(fetch)

    def lacks(self, fetch: Fetch) -> bool:
        """True when neither the list nor the API gave title, date, outlet and body."""
        api, hints = fetch.api, fetch.hints
        assert api is not None
        has_outlet = api.outlet or hints.get("outlet") or hints.get("tag")
        return not ((api.title or hints.get("title")) and (api.date or hints.get("date")) and has_outlet and api.body_html)

    def request_page(self, fetch: Fetch, url: str | None = None) -> Request:
        first = url is None
        return Request(
            url or self.article_page.format(code=fetch.code, id=fetch.code[2:]),
            callback=self.parse_page if first else self.parse_continuation,
            errback=self.page_failed,
            cb_kwargs={"fetch": fetch},
            meta={"handle_httpstatus_list": [404]},
            dont_filter=True,
        )

    def parse_page(self, response: Response, fetch: Fetch) -> Iterator[Any]:
        if response.status == 404:
            fetch.problems.append("article page: 404 not found")
            yield from self.finish(fetch)
            return
        try:
            html = page_text(response)
            fetch.page = parse_article_page(html, response.url)
        except SourceFormatError as exc:
            fetch.problems.append(f"article page: {page_problem(exc)}")
            yield from self.finish(fetch)
            return
        fetch.page_url = response.url
        fetch.raw["page"] = html
        if fetch.page.body_html:
            fetch.bodies.append(fetch.page.body_html)
        yield from self.next_page(fetch)

    def parse_continuation(self, response: Response, fetch: Fetch) -> Iterator[Any]:
        fetch.pages_done += 1
        number = fetch.pages_done + 1
        try:
            if response.status == 404:
                raise SourceFormatError("404 not found")
            html = page_text(response)
            body = parse_continuation_page(html, response.url)
        except SourceFormatError as exc:
            fetch.problems.append(f"article page {number}: {page_problem(exc)}")
            fetch.page = None  # never publish part of an article
            yield from self.finish(fetch)
            return
        fetch.raw[f"page{number}"] = html
        if body:
            fetch.bodies.append(body)
        yield from self.next_page(fetch)

    def next_page(self, fetch: Fetch) -> Iterator[Any]:
        assert fetch.page is not None
        remaining = fetch.page.continuation_urls[fetch.pages_done :]
        if remaining and not (fetch.api and fetch.api.body_html):
            yield self.request_page(fetch, remaining[0])
        else:
            yield from self.finish(fetch)

    def page_failed(self, failure: Failure) -> Iterator[Any]:
        fetch: Fetch = failure.request.cb_kwargs["fetch"]  # type: ignore[attr-defined]
        fetch.problems.append(f"article page: {describe_failure(failure)}")
        if fetch.page is not None and not (fetch.api and fetch.api.body_html):
            fetch.page = None  # a continuation page failed: never publish part of an article
        yield from self.finish(fetch)

    def finish(self, fetch: Fetch) -> Iterator[ArticleItem]:
        """The item from what the list, the API and the page gave, in that order of precedence."""
        api, page, hints = fetch.api, fetch.page, fetch.hints
        if api is None and page is None:
            self.crawler.signals.send_catch_log(
                target_failed, code=fetch.code, targets=fetch.targets, reason="; ".join(fetch.problems) or "no article"
            )
            return
        sources: list[Any] = [s for s in (api, page) if s is not None]

        def pick(field: str) -> Any:
            return hints.get(field) or next(
                (getattr(s, field) for s in sources if getattr(s, field)), None
            )

        if api is not None and api.body_html:
            body, base_url = api.body_html, api.url or fetch.page_url
        else:
            body, base_url = ("\n".join(fetch.bodies) if page else None), fetch.page_url
        yield ArticleItem(
            source=SOURCE,
            code=fetch.code,
            fetched_at=fetch.fetched_at,
            targets=fetch.targets,
            title=pick("title"),
            date_raw=pick("date"),
            outlet=pick("outlet"),
            authors=list(next((s.authors for s in sources if s.authors), ())),
            body_html=body,
            base_url=base_url or self.article_page.format(code=fetch.code, id=fetch.code[2:]),
            raw=fetch.raw,
            category=hints.get("category"),
            tag=hints.get("tag"),
            list_meta=hints.get("list_meta", {}),
        )
