"""``crawl``: one scheduled run over every configured list (SPEC §5.4, §10).

List pages are always fetched.  Each listed article is compared with the
database: a new one is fetched through the content API (and the article page
for what the list and the API lack).  A stored one is fetched again only when
the list it was fetched from now shows other metadata (title, showtime, outlet);
lists often disagree on a title, and comparing across lists would refetch and
flip the post on every run.  Paging stops at the list's ``max_pages`` or at the
first page whose articles are all stored already.  An article listed twice in
one run is fetched once, with the metadata of the first list that named it.

Reads ``FINEWS_LISTS``, ``FINEWS_DATABASE_URL`` and ``FINEWS_MAX_ITEMS``.  Stats:
``lists/pages``, ``lists/failed``, ``lists/entries``, ``articles/skipped``
(stored and unchanged), ``articles/requested``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from scrapy import Request, Spider
from sqlalchemy import Engine, select

from crawler.sources.base import SourceFormatError
from crawler.sources.eastmoney import ListEntry, parse_list
from crawler.sources.eastmoney.lists import next_page_url
from crawler.spiders.articles import SOURCE, ArticleFetcher, describe_failure
from pipelines.db import open_database
from pipelines.models import aliases, articles, quarantine

if TYPE_CHECKING:
    from scrapy.http import Response
    from twisted.python.failure import Failure


def list_meta(entry: ListEntry) -> dict[str, str]:
    """The list fields a post uses; a change in any of them means the article is refetched."""
    meta = {"title": entry.title, "showtime": entry.showtime, "outlet": entry.outlet}
    return {k: v for k, v in meta.items() if v}


class ListCrawlSpider(ArticleFetcher, Spider):
    name = "crawl"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seen: set[str] = set()  # codes listed so far in this run
        self.fetched: set[str] = set()  # codes this run requested
        self.requested = 0
        self.engine: Engine | None = None

    async def start(self) -> AsyncIterator[Any]:
        self.setup_templates()
        settings = self.crawler.settings
        self.max_items = settings.getint("FINEWS_MAX_ITEMS") or None
        self.engine = open_database(settings.get("FINEWS_DATABASE_URL"))
        for config in settings.getlist("FINEWS_LISTS"):
            yield self.list_request(config["url"], config, page=1)

    def closed(self, reason: str) -> None:
        if self.engine is not None:
            self.engine.dispose()

    def list_request(self, url: str, config: dict[str, Any], page: int) -> Request:
        return Request(
            url,
            callback=self.parse_list_page,
            errback=self.list_failed,
            cb_kwargs={"config": config, "page": page},
            dont_filter=True,  # list pages are refetched every run
            priority=10,  # discovery first, so --max-items picks the newest articles
        )

    def list_failed(self, failure: Failure) -> None:
        self.crawler.stats.inc_value("lists/failed")  # type: ignore[union-attr]
        self.logger.error("list %s failed: %s", failure.request.url, describe_failure(failure))  # type: ignore[attr-defined]

    def parse_list_page(self, response: Response, config: dict[str, Any], page: int) -> Iterator[Request]:
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value("lists/pages")
        try:
            listing = parse_list(config["kind"], response.body)
        except SourceFormatError as exc:
            stats.inc_value("lists/failed")
            self.logger.error("list %s: %s", response.url, exc)
            return
        stored = self.stored_meta([e.code for e in listing.entries])
        for entry in listing.entries:
            stats.inc_value("lists/entries")
            meta = list_meta(entry)
            if entry.code in self.seen:
                continue
            self.seen.add(entry.code)
            if entry.code in stored and stored[entry.code].get(config["url"], meta) == meta:
                stats.inc_value("articles/skipped")
                continue
            if self.max_items is not None and self.requested >= self.max_items:
                stats.inc_value("articles/deferred")
                continue
            self.requested += 1
            self.fetched.add(entry.code)
            stats.inc_value("articles/requested")
            hints = {
                "title": entry.title,
                "date": entry.showtime,
                "outlet": entry.outlet,
                "category": config.get("category"),
                "tag": config.get("tag"),
                "list_meta": {config["url"]: meta},
            }
            yield self.request_article(entry.code, [entry.url or entry.code], hints)
        # Stored before this run: articles this run fetched meanwhile (from another
        # list) would otherwise end paging early, before older unseen ones.
        all_stored = bool(listing.entries) and all(e.code in stored and e.code not in self.fetched for e in listing.entries)
        if listing.next_cursor and page < int(config["max_pages"]) and not all_stored:
            yield self.list_request(next_page_url(response.url, listing.next_cursor), config, page + 1)

    def stored_meta(self, codes: list[str]) -> dict[str, dict[str, Any]]:
        """Stored list metadata, by list URL, of those *codes* that are in the database.

        Aliases (codes stored as duplicates of another article) count with their
        own list metadata.  Quarantined codes count as stored with unchanged
        metadata: refetching an unpublishable article every few minutes would
        fail every run; ``finews fetch CODE`` retries one by hand.
        """
        if not codes:
            return {}
        assert self.engine is not None
        stored = select(articles.c.code, articles.c.list_meta).where(
            (articles.c.source == SOURCE) & articles.c.code.in_(codes)
        )
        alias = select(aliases.c.code, aliases.c.list_meta).where((aliases.c.source == SOURCE) & aliases.c.code.in_(codes))
        held = select(quarantine.c.code).where((quarantine.c.source == SOURCE) & quarantine.c.code.in_(codes))
        with self.engine.connect() as conn:
            found = {row.code: json.loads(row.list_meta or "{}") for row in conn.execute(stored)}
            found.update({row.code: json.loads(row.list_meta or "{}") for row in conn.execute(alias)})
            found.update({row.code: {} for row in conn.execute(held)})
        return found
