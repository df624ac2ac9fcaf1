"""``fetch``: one-off fetch of the articles a user names.

``scrapy crawl fetch -a targets="URL_OR_CODE …"`` (whitespace- or comma-
separated).  Each target is turned into its source and code by the first enabled
source whose target forms it matches (``crawler.sources.resolve_target``);
targets naming the same article are fetched once.  A target that names no
article is reported through ``target_failed`` without a request.  An article a
crawl stored from a list is fetched with that list's fields as hints
(``Storage.list_hints``), as the crawl fetched it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

from scrapy import Spider
from sqlalchemy.exc import SQLAlchemyError

from crawler.report import target_failed
from crawler.sources import TargetError, report_key, resolve_target
from crawler.spiders.articles import ArticleFetcher
from pipelines.storage import Storage


class FetchSpider(ArticleFetcher, Spider):
    name = "fetch"

    def __init__(self, targets: str | list[str] = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.targets = re.split(r"[\s,]+", targets.strip()) if isinstance(targets, str) else list(targets)
        self.targets = [t for t in self.targets if t]

    async def start(self) -> AsyncIterator[Any]:
        self.setup_sources()
        by_code: dict[tuple[str, str], list[str]] = {}
        for target in self.targets:
            try:
                by_code.setdefault(resolve_target(target, self.sources), []).append(target)
            except TargetError as exc:
                self.crawler.signals.send_catch_log(
                    target_failed, source=None, code=report_key(target, self.sources), targets=[target], reason=str(exc)
                )
        hints = self.stored_hints(by_code)
        for (source, code), targets in by_code.items():
            yield self.request_article(source, code, targets, hints.get((source, code)))

    def stored_hints(self, wanted: dict[tuple[str, str], list[str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """The list hints of the articles a crawl stored; none when there is no database yet.

        A dry run writes nothing, so it reads the database as it is, unmigrated.
        """
        settings = self.crawler.settings
        url = settings.get("FINEWS_DATABASE_URL")
        if not url or not wanted or not Storage.exists(url):
            return {}  # a dry run before any crawl: nothing stored, and nothing to create
        lists = settings.getlist("FINEWS_LISTS")
        storage = Storage.acquire(url, migrate=not settings.getbool("FINEWS_DRY_RUN"))
        hints: dict[tuple[str, str], dict[str, Any]] = {}
        try:
            for source in {source for source, _ in wanted}:
                codes = [code for s, code in wanted if s == source]
                hints.update({(source, code): h for code, h in storage.list_hints(source, codes, lists).items()})
        except SQLAlchemyError:  # the empty database of a dry run: no tables yet
            return {}
        finally:
            storage.release()
        return hints
