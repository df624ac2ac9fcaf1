"""What happened to each article of a run, gathered from Scrapy signals.

Spiders send ``target_failed`` when no source gave an article; the pipelines'
outcome reaches ``RunReport`` through ``item_scraped`` (stored: new, updated,
unchanged, duplicate), ``item_dropped`` (quarantined) and ``item_error`` (a stage
raised).  The CLI prints one line per target from it and derives the exit status.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scrapy import signals

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from crawler.items import ArticleItem

logger = logging.getLogger(__name__)

target_failed = object()  # signal(source: str | None, code: str, targets: list[str], reason: str); None: no source named it

STATUSES = ("new", "updated", "unchanged", "duplicate", "failed", "quarantined")


@dataclass
class Result:
    code: str
    status: str  # one of STATUSES
    detail: str  # post path, or the reason
    targets: list[str] = field(default_factory=list)
    item: ArticleItem | None = None


class RunReport:
    """Collects one :class:`Result` per code; the last word on a code wins.

    Items (raw payloads included, some 20 KB each) are kept only with *keep_items*,
    which ``fetch --dry-run`` needs to print the posts: a long crawl keeps one line each.
    """

    def __init__(self, *, keep_items: bool = False) -> None:
        self.results: dict[str, Result] = {}
        self.keep_items = keep_items

    def connect(self, crawler: Crawler) -> RunReport:
        crawler.signals.connect(self._scraped, signal=signals.item_scraped)
        crawler.signals.connect(self._dropped, signal=signals.item_dropped)
        crawler.signals.connect(self._error, signal=signals.item_error)
        crawler.signals.connect(self._failed, signal=target_failed)
        return self

    def _scraped(self, item: ArticleItem, **_: Any) -> None:
        self.results[item.code] = Result(item.code, item.outcome or "new", item.post_path or "", item.targets, self._kept(item))

    def _dropped(self, item: ArticleItem, exception: BaseException, **_: Any) -> None:
        status = "quarantined" if item.quarantine else "failed"
        self.results[item.code] = Result(item.code, status, str(exception), item.targets, self._kept(item))

    def _error(self, item: ArticleItem, failure: Any, **_: Any) -> None:
        reason = f"{type(failure.value).__name__}: {failure.value}"
        logger.error("storing %s failed: %s", item.code, reason)
        self.results[item.code] = Result(item.code, "failed", reason, item.targets, self._kept(item))

    def _kept(self, item: ArticleItem) -> ArticleItem | None:
        return item if self.keep_items else None

    def _failed(self, code: str, targets: list[str], reason: str, **_: Any) -> None:
        self.results[code] = Result(code, "failed", reason, targets)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for result in self.results.values():
            out[result.status] += 1
        return out

    @property
    def failed(self) -> bool:
        return any(r.status in ("failed", "quarantined") for r in self.results.values())
