"""``fetch``: one-off fetch of the articles a user names.

``scrapy crawl fetch -a targets="URL_OR_CODE …"`` (whitespace- or comma-
separated).  Each target is turned into its infoCode (crawler.targets); targets
naming the same article are fetched once.  A target that names no article is
reported through ``target_failed`` without a request.  An article a crawl stored
from a list is fetched with that list's fields as hints (crawler.spiders.known),
as the crawl fetched it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

from pathlib import Path

from scrapy import Spider
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from crawler.report import target_failed
from crawler.spiders.articles import SOURCE, ArticleFetcher
from crawler.spiders.known import list_hints
from crawler.targets import TargetError, code_for, report_key
from pipelines.db import make_engine


class FetchSpider(ArticleFetcher, Spider):
    name = "fetch"

    def __init__(self, targets: str | list[str] = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.targets = re.split(r"[\s,]+", targets.strip()) if isinstance(targets, str) else list(targets)
        self.targets = [t for t in self.targets if t]

    async def start(self) -> AsyncIterator[Any]:
        self.setup_templates()
        by_code: dict[str, list[str]] = {}
        for target in self.targets:
            try:
                by_code.setdefault(code_for(target), []).append(target)
            except TargetError as exc:
                self.crawler.signals.send_catch_log(target_failed, code=report_key(target), targets=[target], reason=str(exc))
        hints = self.stored_hints(list(by_code))
        for code, targets in by_code.items():
            yield self.request_article(code, targets, hints.get(code))

    def stored_hints(self, codes: list[str]) -> dict[str, dict[str, Any]]:
        """The list hints of the codes a crawl stored; none when there is no database yet."""
        settings = self.crawler.settings
        url = settings.get("FINEWS_DATABASE_URL")
        if not url or not codes:
            return {}
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and not (parsed.database and Path(parsed.database).exists()):
            return {}  # a dry run before any crawl: nothing stored, and nothing to create
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                return list_hints(conn, SOURCE, codes, settings.getlist("FINEWS_LISTS"))
        except SQLAlchemyError:  # an empty database of a dry run: no tables yet
            return {}
        finally:
            engine.dispose()
