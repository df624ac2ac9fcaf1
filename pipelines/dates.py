"""Stage 3: turn the raw publication date into an aware Beijing-time datetime.

``parse_published(raw, fetched_at=...)`` reads the two fixed formats of the
source without dateparser (``YYYY-MM-DD HH:MM[:SS]`` from lists and the content
API, ``YYYY年MM月DD日 HH:MM`` from article pages) and falls back to dateparser,
restricted to Chinese and English, for anything else.  Relative dates ("3分钟前",
"昨天 10:20") resolve against *fetched_at*, so reprocessing the same payload later
gives the same date.  Implausible results (before 1990, or more than a day after
the fetch) count as unparsed.  ``DatesPipeline`` sets ``item.published`` or
quarantines the item (stat ``dates/unparsed``).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from crawler.items import BEIJING, ArticleItem

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

LANGUAGES = ["zh", "en"]
EARLIEST = datetime(1990, 1, 1, tzinfo=BEIJING)

_FIXED = [
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})[ T](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?"),
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日\s*(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?"),
]
# A label such as "发布时间：" defeats dateparser; everything up to the colon goes.
_LABEL = re.compile(r"^[^\d:：]{0,8}[:：]\s*")
_RELATIVE = re.compile(r"\d|前|刚刚|昨天|今天|前天|ago|yesterday|today", re.IGNORECASE)


def parse_published(raw: str | None, *, fetched_at: datetime) -> datetime | None:
    """The Beijing-time datetime *raw* names, or None when it names none plausibly."""
    text = (raw or "").strip()
    if not text:
        return None
    value = _parse_fixed(text)
    if value is None:
        value = _parse_free(_LABEL.sub("", text), fetched_at)
    if value is None or value < EARLIEST or value > fetched_at + timedelta(days=1):
        return None
    return value


def _parse_fixed(text: str) -> datetime | None:
    for pattern in _FIXED:
        match = pattern.fullmatch(text) or pattern.search(text)
        if match:
            g = match.groupdict()
            try:
                return datetime(
                    int(g["y"]), int(g["m"]), int(g["d"]), int(g["H"]), int(g["M"]), int(g["S"] or 0), tzinfo=BEIJING
                )
            except ValueError:
                return None
    return None


def _parse_free(text: str, fetched_at: datetime) -> datetime | None:
    if not _RELATIVE.search(text):
        return None  # dateparser invents a date from a lone word ("a" → this month)
    import dateparser  # slow to import; only the rare free-form date needs it

    base = fetched_at.astimezone(BEIJING).replace(tzinfo=None)  # an aware base makes dateparser return None
    try:
        value = dateparser.parse(
            text,
            languages=LANGUAGES,
            settings={
                "TIMEZONE": "Asia/Shanghai",
                "RETURN_AS_TIMEZONE_AWARE": False,
                "RELATIVE_BASE": base,
                "PREFER_DATES_FROM": "past",
                "DATE_ORDER": "YMD",
            },
        )
    except (OverflowError, ValueError):  # dateparser's own arithmetic fails on dates such as year 1
        return None
    return value.replace(tzinfo=BEIJING) if value is not None else None


class DatesPipeline:
    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DatesPipeline:
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_item(self, item: ArticleItem) -> ArticleItem:
        if item.quarantine is not None:
            return item
        item.published = parse_published(item.date_raw, fetched_at=item.fetched_at)
        if item.published is None:
            item.set_quarantine(f"unparsable date {item.date_raw!r}")
            self.stats.inc_value("dates/unparsed")
        return item
