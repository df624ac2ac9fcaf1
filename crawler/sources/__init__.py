"""Registry of news sources: ``SOURCES`` maps a source name to its parser module.

Each source is a package ``crawler/sources/<name>/`` of pure parsing functions over
response text (no fetching, no Scrapy) that satisfies :class:`crawler.sources.base.Source`:
a ``NAME`` and a ``PARSERS`` table of ``(payload bytes, url) -> result`` adapters.

To add a source:

1. write ``crawler/sources/<name>/`` (small modules, one per wire format, each opening
   with its contract; raise ``SourceFormatError`` for payloads of the wrong shape);
2. import it below and add one line to ``SOURCES`` (keep it sorted);
3. add fixtures ``tests/fixtures/sources/<name>/<parser>/<case>.json|.html`` for every
   key of ``PARSERS``, with a ``meta.json`` ({file: {url, note}}) per folder;
4. run ``pytest tests/crawler/sources --update-golden`` and review every
   ``<case>.expected.json`` by hand before committing.

``tests/crawler/sources`` fails while a registered parser has no fixture.
"""

from __future__ import annotations

from crawler.sources import eastmoney
from crawler.sources.base import Source, SourceFormatError

__all__ = ["SOURCES", "Source", "SourceFormatError"]

SOURCES: dict[str, Source] = {
    "eastmoney": eastmoney,
}
