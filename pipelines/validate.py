"""Stage 1: check that the spider delivered an article at all.

``validate_item(item)`` returns the reason an item cannot be published (no title,
no date, no body, a malformed code) or None.  ``ValidatePipeline`` quarantines
such items (they are still stored, with their raw payload, by the store stage)
and counts them in ``validate/quarantined``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.items import ArticleItem
from crawler.targets import CODE_RE

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector


def validate_item(item: ArticleItem) -> str | None:
    """Why *item* cannot become a post, or None when it has what a post needs."""
    if not CODE_RE.match(item.code):
        return f"malformed code {item.code!r}"
    if not (item.title or "").strip():
        return "no title"
    if not (item.date_raw or "").strip():
        return "no date"
    if not (item.body_html or "").strip():
        return "empty body"
    return None


class ValidatePipeline:
    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_item(self, item: ArticleItem) -> ArticleItem:
        reason = validate_item(item)
        if reason is not None:
            item.set_quarantine(reason)
            self.stats.inc_value("validate/quarantined")
        return item
