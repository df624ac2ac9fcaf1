"""Eastmoney's fetch strategy: the content API first, the article page for the rest.

The API request comes first.  The article page (either layout, every continuation
page) is fetched when the API has no body, failed, or lacks a title, date or outlet
that the list did not give either.  The item takes each field from the list, the
API and the page, in that order of precedence; the body from the API when it has
one, else the pages joined.  A continuation page that fails means no page body at
all: part of an article is never published.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from crawler.items import ArticleItem
from crawler.sources.base import SourceFormatError
from crawler.sources.eastmoney.article_page import WHAT as PAGE_WHAT
from crawler.sources.eastmoney.article_page import PageArticle, parse_article_page, parse_continuation_page
from crawler.sources.eastmoney.content_api import ApiArticle, parse_content_api
from crawler.sources.fetching import FetchStrategy, NoArticle, Outcome, Reply, Step, wire_type

NAME = "eastmoney"


@wire_type
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


def page_text(reply: Reply) -> str:
    """The page as text.  Article pages are UTF-8; anything else (say GBK bytes under a
    utf-8 label) is refused rather than published as mojibake or U+FFFD."""
    try:
        return reply.body.decode("utf-8")
    except UnicodeDecodeError:
        declared = reply.headers.get("Content-Type", b"") or b""
        raise SourceFormatError(f"not valid UTF-8 (declared {declared.decode('latin-1')!r})") from None


def page_problem(exc: SourceFormatError) -> str:
    """The parser's reason without the "article page: " it may start with (the caller says which page)."""
    return str(exc).removeprefix(f"{PAGE_WHAT}: ")


class EastmoneyFetch(FetchStrategy):
    def __init__(self, content_api: str, article_page: str, article_id: Any) -> None:
        self.content_api = content_api
        self.article_page = article_page
        self.article_id = article_id

    def _url(self, template: str, code: str) -> str:
        return template.format(code=code, id=self.article_id(code))

    def start(self, code: str, targets: list[str], hints: dict[str, Any]) -> Step:
        fetch = Fetch(code=code, targets=targets, fetched_at=datetime.now(UTC), hints=hints)
        return Step(self._url(self.content_api, code), "api", fetch)

    def on_reply(self, step: Step, reply: Reply) -> Iterator[Outcome]:
        handlers = {"api": self._api, "page": self._page, "continuation": self._continuation}
        return handlers[step.name](step.state, reply)

    def on_error(self, step: Step, reason: str) -> Iterator[Outcome]:
        fetch: Fetch = step.state
        if step.name == "api":
            fetch.problems.append(f"content API: {reason}")
            yield self._page_step(fetch)
            return
        fetch.problems.append(f"article page: {reason}")
        if fetch.page is not None and not (fetch.api and fetch.api.body_html):
            fetch.page = None  # a continuation page failed: never publish part of an article
        yield from self._finish(fetch)

    # --- steps ------------------------------------------------------------------
    def _api(self, fetch: Fetch, reply: Reply) -> Iterator[Outcome]:
        if reply.status == 404:
            fetch.problems.append("content API: 404 not found")
            yield self._page_step(fetch)
            return
        try:
            fetch.api = parse_content_api(reply.body)
        except SourceFormatError as exc:
            fetch.problems.append(str(exc))
            fetch.raw["api"] = reply.body.decode("utf-8", "replace")
            yield self._page_step(fetch)
            return
        fetch.raw["api"] = reply.text
        if fetch.api is None:
            fetch.problems.append("content API: no body")
            yield self._page_step(fetch)
        elif self._lacks(fetch):
            yield self._page_step(fetch)
        else:
            yield from self._finish(fetch)

    def _lacks(self, fetch: Fetch) -> bool:
        """True when neither the list nor the API gave title, date, outlet and body."""
        api, hints = fetch.api, fetch.hints
        assert api is not None
        has_outlet = api.outlet or hints.get("outlet") or hints.get("tag")
        return not ((api.title or hints.get("title")) and (api.date or hints.get("date")) and has_outlet and api.body_html)

    def _page_step(self, fetch: Fetch, url: str | None = None) -> Step:
        if url is None:
            return Step(self._url(self.article_page, fetch.code), "page", fetch)
        return Step(url, "continuation", fetch)

    def _page(self, fetch: Fetch, reply: Reply) -> Iterator[Outcome]:
        if reply.status == 404:
            fetch.problems.append("article page: 404 not found")
            yield from self._finish(fetch)
            return
        try:
            html = page_text(reply)
            fetch.page = parse_article_page(html, reply.url)
        except SourceFormatError as exc:
            fetch.problems.append(f"article page: {page_problem(exc)}")
            yield from self._finish(fetch)
            return
        fetch.page_url = reply.url
        fetch.raw["page"] = html
        if fetch.page.body_html:
            fetch.bodies.append(fetch.page.body_html)
        yield from self._next_page(fetch)

    def _continuation(self, fetch: Fetch, reply: Reply) -> Iterator[Outcome]:
        fetch.pages_done += 1
        number = fetch.pages_done + 1
        try:
            if reply.status == 404:
                raise SourceFormatError("404 not found")
            html = page_text(reply)
            body = parse_continuation_page(html, reply.url)
        except SourceFormatError as exc:
            fetch.problems.append(f"article page {number}: {page_problem(exc)}")
            fetch.page = None  # never publish part of an article
            yield from self._finish(fetch)
            return
        fetch.raw[f"page{number}"] = html
        if body:
            fetch.bodies.append(body)
        yield from self._next_page(fetch)

    def _next_page(self, fetch: Fetch) -> Iterator[Outcome]:
        assert fetch.page is not None
        remaining = fetch.page.continuation_urls[fetch.pages_done :]
        if remaining and not (fetch.api and fetch.api.body_html):
            yield self._page_step(fetch, remaining[0])
        else:
            yield from self._finish(fetch)

    def _finish(self, fetch: Fetch) -> Iterator[Outcome]:
        """The item from what the list, the API and the page gave, in that order of precedence."""
        api, page, hints = fetch.api, fetch.page, fetch.hints
        if api is None and page is None:
            yield NoArticle(fetch.code, fetch.targets, "; ".join(fetch.problems) or "no article")
            return
        found: list[Any] = [s for s in (api, page) if s is not None]

        def pick(name: str) -> Any:
            return hints.get(name) or next((getattr(s, name) for s in found if getattr(s, name)), None)

        body: str | None
        if api is not None and api.body_html:
            body, base_url = api.body_html, api.url or fetch.page_url
        else:
            body, base_url = ("\n".join(fetch.bodies) if page else None), fetch.page_url
        yield ArticleItem(
            source=NAME,
            code=fetch.code,
            fetched_at=fetch.fetched_at,
            targets=fetch.targets,
            title=pick("title"),
            date_raw=pick("date"),
            outlet=pick("outlet"),
            authors=list(next((s.authors for s in found if s.authors), ())),
            body_html=body,
            base_url=base_url or self._url(self.article_page, fetch.code),
            raw=fetch.raw,
            category=hints.get("category"),
            tag=hints.get("tag"),
            list_meta=hints.get("list_meta", {}),
        )

