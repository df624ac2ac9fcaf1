"""``fetch``: one-off fetch of the articles a user names.

``scrapy crawl fetch -a targets="URL_OR_CODE …"`` (whitespace- or comma-
separated).  Each target is turned into its infoCode (crawler.targets); targets
naming the same article are fetched once.  A target that names no article is
reported through ``target_failed`` without a request.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

from scrapy import Spider

from crawler.report import target_failed
from crawler.spiders.articles import ArticleFetcher
from crawler.targets import TargetError, code_for, report_key


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
        for code, targets in by_code.items():
            yield self.request_article(code, targets)
