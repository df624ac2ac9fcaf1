"""Fetching one article through its source's fetch strategy (crawler/sources/fetching.py).

``ArticleFetcher`` is the part every spider shares.  ``request_article(source,
code, …)`` returns the first request the source's strategy names; the callbacks
hand each response (or the reason a request failed) back to the strategy and
follow what it returns: more requests, the finished :class:`ArticleItem`, or the
``target_failed`` signal with the reasons when no request gave the article.
A spider's own *context* for an article (a JSON-able dict) travels with each of
its requests and reaches ``follow`` with the item: in distributed mode another
process may handle the next request.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from scrapy import Request

from crawler.failure_reasons import describe_failure
from crawler.items import ArticleItem
from crawler.report import target_failed
from crawler.settings import load_settings_file
from crawler.sources import Source, configured_sources
from crawler.sources.fetching import FetchStrategy, NoArticle, Outcome, Step

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings
    from twisted.python.failure import Failure


class ArticleFetcher:
    """Mixin for spiders: needs ``self.crawler``; call ``setup_sources`` before the first request."""

    crawler: Crawler
    sources: Mapping[str, Source]
    strategies: dict[str, FetchStrategy]

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)  # type: ignore[misc]
        load_settings_file(settings)

    def setup_sources(self) -> None:
        self.sources = configured_sources(self.crawler.settings)
        self.strategies = {name: source.fetching() for name, source in self.sources.items()}

    def request_article(
        self, source: str, code: str, targets: list[str], hints: dict[str, Any] | None = None, context: dict[str, Any] | None = None
    ) -> Request:
        return self.step_request(source, self.strategies[source].start(code, targets, hints or {}), context)

    def step_request(self, source: str, step: Step, context: dict[str, Any] | None = None) -> Request:
        return Request(
            step.url,
            callback=self.article_reply,
            errback=self.article_error,
            cb_kwargs={"source": source, "step": step, **({"context": context} if context else {})},
            meta={"handle_httpstatus_list": list(step.statuses)},
            dont_filter=True,
        )

    def article_reply(self, response: Response, source: str, step: Step, context: dict[str, Any] | None = None) -> Iterator[Any]:
        yield from self.follow(source, self.strategies[source].on_reply(step, response), context)

    def article_error(self, failure: Failure) -> Iterator[Any]:
        kwargs = failure.request.cb_kwargs  # type: ignore[attr-defined]
        source, step = kwargs["source"], kwargs["step"]
        yield from self.follow(source, self.strategies[source].on_error(step, describe_failure(failure)), kwargs.get("context"))

    def follow(
        self, source: str, outcomes: Iterable[Outcome], context: dict[str, Any] | None = None
    ) -> Iterator[Request | ArticleItem]:
        for outcome in outcomes:
            if isinstance(outcome, Step):
                yield self.step_request(source, outcome, context)
            elif isinstance(outcome, NoArticle):
                self.crawler.signals.send_catch_log(
                    target_failed, source=source, code=outcome.code, targets=outcome.targets, reason=outcome.reason
                )
            else:
                yield outcome
