"""Stage 1: check that the spider delivered an article at all.

``validate_item(item, source)`` returns the reason an item cannot be published (a
code its source does not issue, text holding a lone surrogate, no visible title, no
date, no body) or None.
``ValidatePipeline`` quarantines such items (they are still stored, with their raw
payload, by the store stage) and counts them in ``validate/quarantined``.

A lone surrogate (U+D800–U+DFFF on its own) is what a JSON escape such as ``"\\ud800"``
decodes to.  It is not a character: UTF-8 cannot encode it, so no parser, file or
database downstream could take the article.  The quarantine row keeps the raw
payload, so ``ValidatePipeline`` also makes sure that payload can be encoded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from crawler.items import ArticleItem
from crawler.sources import configured_sources
from pipelines.post import clean_text

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from crawler.sources import Source

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # a str never holds a valid pair as two code points
# Code points that clean_text keeps (letters, marks, a symbol) but that render as nothing:
# Unicode's default-ignorable letters and marks, and the blank braille pattern.
_BLANK_LOOKING = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180d\u180f\u2800\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]"
)
# The item's text fields, by the name a reason gives them.
_TEXT_FIELDS = (
    ("title", "title"),
    ("date_raw", "date"),
    ("outlet", "outlet"),
    ("authors", "author"),
    ("body_html", "body"),
    ("category", "category"),
    ("tag", "tag"),
    ("list_meta", "list metadata"),
)


def visible_text(text: str) -> str:
    """*text* as the post's front matter shows it, without what renders as nothing.

    ``post.clean_text`` removes control and format characters (zero-width spaces,
    U+FEFF, U+2060, bidi marks, C0/C1) and collapses whitespace (U+3000 included);
    this also drops the invisible letters and marks it keeps (Hangul fillers,
    variation selectors, U+2800).  "" means the reader would see no title.
    """
    return _BLANK_LOOKING.sub("", clean_text(text)).strip()


def holds_lone_surrogate(value: object) -> bool:
    """True when *value* (a str, or lists and mappings of them) holds a lone surrogate."""
    if isinstance(value, str):
        return _LONE_SURROGATE.search(value) is not None
    if isinstance(value, Mapping):
        return any(holds_lone_surrogate(k) or holds_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(holds_lone_surrogate(v) for v in value)
    return False


def escape_lone_surrogates(text: str) -> str:
    """*text* with each lone surrogate written as its ``\\udXXX`` escape; other text unchanged."""
    if _LONE_SURROGATE.search(text) is None:
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def validate_item(item: ArticleItem, source: Source | None) -> str | None:
    """Why *item* cannot become a post, or None when it has what a post needs; *source* is the item's."""
    if source is None:
        return f"unknown source {item.source!r}"
    if not source.is_code(item.code):
        return f"malformed code {item.code!r}"
    for attribute, name in _TEXT_FIELDS:
        if holds_lone_surrogate(getattr(item, attribute)):
            return f"{name} holds invalid characters (lone surrogate)"
    if not visible_text(item.title or ""):
        return "no title"
    if not (item.date_raw or "").strip():
        return "no date"
    if not (item.body_html or "").strip():
        return "empty body"
    return None


class ValidatePipeline:
    def __init__(self, sources: Mapping[str, Source], stats: StatsCollector) -> None:
        self.sources = sources
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        assert crawler.stats is not None
        return cls(configured_sources(crawler.settings), crawler.stats)

    def process_item(self, item: ArticleItem) -> ArticleItem:
        # Decoded response bodies hold no surrogates; should one ever get in, the
        # quarantine row must still be writable, escapes being the faithful record.
        if holds_lone_surrogate(item.raw):
            item.raw = {origin: escape_lone_surrogates(text) for origin, text in item.raw.items()}
        reason = validate_item(item, self.sources.get(item.source))
        if reason is not None:
            item.set_quarantine(reason)
            self.stats.inc_value("validate/quarantined")
        return item
