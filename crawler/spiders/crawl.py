"""``crawl``: one scheduled run over every configured list (SPEC §5.4, §9, §10).

Order of a run:

1. The backlog first: articles an earlier run listed but did not store (it was
   killed, capped by ``--max-items``, or the article failed and its back-off is
   over) are requested before any list page.
2. List pages are always fetched.  Each listed article is compared with the
   database: a new one is fetched through the content API (and the article page
   for what the list and the API lack).  A stored one is fetched again only
   when the list it was fetched from now shows other metadata (title, showtime,
   outlet); lists often disagree on a title, and comparing across lists would
   refetch and flip the post on every run.  A parked or backing-off article is
   skipped.  An article listed twice in one run is fetched once, with the
   metadata of the first list that named it.
3. Every article about to be requested (or deferred by ``--max-items``) is
   written to the backlog before its request leaves, and leaves the backlog in
   the transaction that stores it: whatever stops the run, what was listed is
   owed to the next one.

Paging stops at the list's ``max_pages``, at the end of the list, or at the
first page whose articles were all known before this run (stored, or owed and
waiting for their next attempt), the last only when the previous walk over that
list reached its end: a walk cut short (a kill, a
signal, a failed list page) leaves older pages nobody listed, so the next walk
goes to the end again.

In distributed mode (crawler/distributed) any process of the run may handle any
request: whether the previous walk over a list was finished travels with its
list requests, the codes claimed and the per-list figures are the run's in Redis
(``SharedRun``), and an article two processes list is requested once (the Redis
dupefilter); ``seen`` only spares a process its own repeats.

Each list belongs to a source (``ListConfig.source``), which parses its pages and
fetches its articles.  Reads ``FINEWS_SOURCES``, ``FINEWS_LISTS``,
``FINEWS_DATABASE_URL``, ``FINEWS_MAX_ITEMS`` and ``FINEWS_RUN_ID`` (the ``runs``
row that per-list figures belong to).  Stats:
``lists/pages``, ``lists/failed``, ``lists/entries``, ``articles/skipped``
(stored and unchanged), ``articles/requested``, ``articles/deferred``,
``backlog/requested``, ``backlog/parked`` and ``backlog/backing_off``
(skipped), ``lists/early_stop`` and ``lists/walked_to_end``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scrapy import Request, Spider

from crawler.failure_reasons import describe_failure
from crawler.sources import ListEntry, ListPage, SourceFormatError
from crawler.spiders.articles import ArticleFetcher
from pipelines.storage import Storage

if TYPE_CHECKING:
    from scrapy.http import Response
    from twisted.python.failure import Failure

    from crawler.distributed.run import SharedRun
    from pipelines.backlog import Owed


def list_meta(entry: ListEntry) -> dict[str, str]:
    """The list fields a post uses; a change in any of them means the article is refetched."""
    meta = {"title": entry.title, "showtime": entry.showtime, "outlet": entry.outlet}
    return {k: v for k, v in meta.items() if v}


@dataclass
class ListFigures:
    """What one list did in this run (a ``run_lists`` row)."""

    requests: int = 0
    items: int = 0
    failures: int = 0
    requested: int = 0

    def row(self, url: str) -> dict[str, Any]:
        return {"url": url, "requests": self.requests, "items": self.items, "failures": self.failures, "requested": self.requested}


class ListCrawlSpider(ArticleFetcher, Spider):
    name = "crawl"
    # The callbacks a request taken from the Redis queue may name (crawler/distributed/queue.py).
    wire_callbacks = frozenset({"parse_list_page", "list_failed", "article_reply", "article_error"})

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seen: set[str] = set()  # codes listed (or taken from the backlog) so far in this run
        self.claimed: set[str] = set()  # codes this run requested or wrote to the backlog
        self.requested = 0
        self.max_items: int | None = None
        self.storage: Storage | None = None
        self.figures: dict[str, ListFigures] = {}
        self.shared: SharedRun | None = None  # distributed mode: what the run's processes share
        self.local_run: int | None = None  # distributed mode: the run the sets above belong to

    async def start(self) -> AsyncIterator[Any]:
        self.open_run()
        for request in self.owed_requests():
            yield request
        for config in self.crawler.settings.getlist("FINEWS_LISTS"):
            yield self.list_request(config["url"], config, page=1)

    def open_run(self) -> None:
        """Sources, storage and (distributed) the shared run, before the first request."""
        from crawler.distributed.run import SharedRun

        self.setup_sources()
        settings = self.crawler.settings
        self.max_items = settings.getint("FINEWS_MAX_ITEMS") or None
        self.storage = Storage.acquire(settings.get("FINEWS_DATABASE_URL"))
        self.shared = SharedRun.from_settings(settings)
        self.local_run = settings.getint("FINEWS_RUN_ID") or None

    def run_id(self) -> int | None:
        """Distributed: the run in progress; a worker that sees a new one forgets the last one's codes."""
        if self.shared is None:
            return None
        run_id = self.shared.current() or self.local_run
        if run_id != self.local_run:
            self.seen.clear()
            self.claimed.clear()
            self.figures.clear()
            self.local_run = run_id
        return run_id

    def count(self, url: str, field: str, n: int = 1) -> None:
        """Add *n* to a figure of the list at *url*, in this process and (distributed) the run's."""
        figures = self.figures.setdefault(url, ListFigures())
        setattr(figures, field, getattr(figures, field) + n)
        run_id = self.run_id()
        if run_id is not None and self.shared is not None:
            self.shared.count(run_id, url, field, n)

    def claim(self, codes: Iterable[str]) -> None:
        codes = set(codes)
        self.claimed |= codes
        run_id = self.run_id()
        if run_id is not None and self.shared is not None:
            self.shared.claim(run_id, codes)

    def claimed_among(self, codes: Iterable[str]) -> set[str]:
        """Those of *codes* this run (any of its processes) requested or wrote to the backlog."""
        codes = set(codes)
        mine = codes & self.claimed
        run_id = self.run_id()
        if run_id is None or self.shared is None:
            return mine
        return mine | self.shared.claimed(run_id, codes - mine)

    def owed_requests(self) -> Iterator[Request]:
        """The backlog's due articles, before any list page: what earlier runs still owe."""
        assert self.storage is not None
        now = datetime.now(UTC)
        for source in (name for name, src in self.sources.items() if src.enabled):
            due = self.storage.due(source, now)
            self.claim(entry.code for entry in due)
            for entry in due:
                self.seen.add(entry.code)
                if self.max_items is not None and self.requested >= self.max_items:
                    self.crawler.stats.inc_value("articles/deferred")
                    continue
                self.crawler.stats.inc_value("backlog/requested")
                yield self.article_request(source, entry.code, entry.hints.get("targets") or [entry.code], entry.hints)

    def closed(self, reason: str) -> None:
        if self.storage is None:
            return
        run_id = self.crawler.settings.getint("FINEWS_RUN_ID")
        if run_id:
            self.storage.record_run_lists(run_id, self.list_rows(run_id))
        self.storage.release()

    def list_rows(self, run_id: int) -> list[dict[str, Any]]:
        """The run's ``run_lists`` rows: every process's figures in distributed mode (this one's when Redis is away)."""
        if self.shared is not None:
            from redis.exceptions import RedisError

            try:
                return [{"url": url, **figures} for url, figures in self.shared.figures(run_id).items()]
            except RedisError as exc:
                self.logger.error("could not read the run's list figures from Redis: %s", exc)
        return [f.row(url) for url, f in self.figures.items()]

    def list_request(self, url: str, config: dict[str, Any], page: int, walk_finished: bool = False) -> Request:
        """Page *page* of a list; *walk_finished*: the previous walk over it reached its end (known from page 2 on)."""
        self.count(config["url"], "requests")
        return Request(
            url,
            callback=self.parse_list_page,
            errback=self.list_failed,
            cb_kwargs={"config": config, "page": page, "walk_finished": walk_finished},
            dont_filter=True,  # list pages are refetched every run
            priority=10,  # discovery before new articles, so --max-items picks the newest
        )

    def article_request(
        self, source: str, code: str, targets: list[str], hints: dict[str, Any], context: dict[str, Any] | None = None
    ) -> Request:
        self.requested += 1
        self.claimed.add(code)  # shared by the caller, for a whole page or backlog at once
        self.crawler.stats.inc_value("articles/requested")
        request = self.request_article(source, code, targets, hints, context)
        # Distributed: two processes that list the same article in one run fetch it once
        # (the dupefilter in Redis); a process alone knows that from `seen`.
        return request.replace(dont_filter=False) if self.shared is not None else request

    def list_failed(self, failure: Failure) -> None:
        config = failure.request.cb_kwargs["config"]  # type: ignore[attr-defined]
        self.count(config["url"], "failures")
        self.crawler.stats.inc_value("lists/failed")
        self.logger.error("list %s failed: %s", failure.request.url, describe_failure(failure))  # type: ignore[attr-defined]

    def read_listing(self, response: Response, config: dict[str, Any]) -> ListPage | None:
        """The list page *response*, parsed by the list's source; None (counted as failed) when malformed."""
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value("lists/pages")
        try:
            return self.sources[config["source"]].parse_list(config["kind"], response.body)
        except SourceFormatError as exc:
            self.count(config["url"], "failures")
            stats.inc_value("lists/failed")
            self.logger.error("list %s: %s", response.url, exc)
            return None

    def wanted(
        self, entries: Iterable[ListEntry], config: dict[str, Any], stored: Mapping[str, dict[str, Any]],
        owed: Mapping[str, Owed], now: datetime,
    ) -> dict[str, tuple[list[str], dict[str, Any]]]:
        """The listed *entries* to fetch (code → targets, hints): new, or stored with other list
        metadata; not those listed earlier in this run, parked or backing off."""
        stats = self.crawler.stats
        assert stats is not None
        wanted: dict[str, tuple[list[str], dict[str, Any]]] = {}
        entries = list(entries)
        self.count(config["url"], "items", len(entries))
        for entry in entries:
            stats.inc_value("lists/entries")
            if entry.code in self.seen:
                continue
            self.seen.add(entry.code)
            meta = list_meta(entry)
            held = owed.get(entry.code)
            if held is None and entry.code in stored and stored[entry.code].get(config["url"], meta) == meta:
                stats.inc_value("articles/skipped")
                continue
            if held is not None and held.parked:
                stats.inc_value("backlog/parked")
                continue
            if held is not None and held.next_attempt_at > now:
                stats.inc_value("backlog/backing_off")
                continue
            hints = {
                "title": entry.title,
                "date": entry.showtime,
                "outlet": entry.outlet,
                "category": config.get("category"),
                "tag": config.get("tag"),
                "list_meta": {config["url"]: meta},
            }
            wanted[entry.code] = ([entry.url or entry.code], hints)
        return wanted

    def request_wanted(
        self, config: dict[str, Any], wanted: Mapping[str, tuple[list[str], dict[str, Any]]],
        contexts: Mapping[str, dict[str, Any]] | None = None,
    ) -> Iterator[Request]:
        """The requests of *wanted*, up to ``--max-items``; call once they are owed (the backlog).
        *contexts*: the spider's own context of some codes (see crawler/spiders/articles.py)."""
        for code, (targets, hints) in wanted.items():
            if self.max_items is not None and self.requested >= self.max_items:
                self.crawler.stats.inc_value("articles/deferred")
                continue
            self.count(config["url"], "requested")
            yield self.article_request(config["source"], code, targets, hints, (contexts or {}).get(code))

    def parse_list_page(self, response: Response, config: dict[str, Any], page: int, walk_finished: bool = False) -> Iterator[Request]:
        stats = self.crawler.stats
        assert stats is not None and self.storage is not None
        source_name = config["source"]
        listing = self.read_listing(response, config)
        if listing is None:
            return
        stored, owed = self.storage.listed_state(source_name, [e.code for e in listing.entries])
        now = datetime.now(UTC)
        wanted = self.wanted(listing.entries, config, stored, owed, now)
        if page == 1:
            walk_finished = self.storage.walk_finished(source_name, config["url"])
        more = bool(listing.next_cursor) and page < int(config["max_pages"])
        # Known before this run (stored, or owed and waiting).  An article this run fetches
        # or defers, from this list or another, is new or changed since the last walk, and
        # what follows it on the next page may be too.
        self.claim(wanted)
        claimed = self.claimed_among(e.code for e in listing.entries)
        known = bool(listing.entries) and all(
            (e.code in stored or e.code in owed) and e.code not in claimed for e in listing.entries
        )
        if more and known and walk_finished:
            stats.inc_value("lists/early_stop")
            more = False
        if not more and (page >= int(config["max_pages"]) or not listing.next_cursor):
            stats.inc_value("lists/walked_to_end")
        # Owed before requested: a run that dies from here on leaves these to the next one.
        listed = {code: {**hints, "targets": targets} for code, (targets, hints) in wanted.items()}
        self.storage.record_list_page(source_name, config["url"], listed, now, first=page == 1, last=None if more else page,
                                      new=set(wanted) - set(stored))
        yield from self.request_wanted(config, wanted)
        if more:
            assert listing.next_cursor is not None
            next_url = self.sources[source_name].next_page_url(response.url, listing.next_cursor)
            yield self.list_request(next_url, config, page + 1, walk_finished)
