"""``backfill``: walk lists past ``max_pages`` into the past and store what is dated in a range (SPEC §4).

A backfill is a crawl (:class:`~crawler.spiders.crawl.ListCrawlSpider`: the same
backlog first, the same comparison with what is stored, the same hints, the same
"owed before requested") with another paging rule and a date filter:

* each list is paged until a page shows an item older than ``since`` or the list
  ends, whatever its ``max_pages``, and never stops early at stored pages;
* items newer than ``until`` are skipped without fetching their article, items
  older than ``since`` are skipped and end the list after their page;
* dates are the list's times in Beijing time; ``since`` and ``until`` are whole
  days, both inclusive.  An item the list shows without a time lies between its
  neighbours (lists are newest first): it is skipped when they put it outside
  the range, fetched when they put it inside, and otherwise fetched and kept only
  when its own date (content API or page) is inside the range;
* each page read moves the list's cursor in the database
  (pipelines.backfill_progress) in the transaction that owes the page's articles:
  a killed backfill started again with the same range resumes at the first page
  it had not read, fetches first what it owed, and refetches nothing stored;
* the range travels with each list page and, for an item fetched to learn its
  date, with its article requests (the fetcher's *context*), so in distributed
  mode any worker can read a page or keep or drop an article.

Reads, besides the crawl's keys, ``FINEWS_BACKFILL_SINCE`` and
``FINEWS_BACKFILL_UNTIL`` (``YYYY-MM-DD``, required: ``scrapy crawl backfill -s
FINEWS_BACKFILL_SINCE=… -s FINEWS_BACKFILL_UNTIL=…``) and ``FINEWS_BACKFILL_LIST``
(the URL of the only list to walk; empty: every list).  Stats, besides the
crawl's: ``backfill/newer_than_until``, ``backfill/older_than_since``,
``backfill/undated_unsure`` (fetched to read their date),
``backfill/outside_range`` (such an item found outside the range: not stored),
``backfill/resumed`` (lists resumed at a saved page), ``backfill/lists_complete``
and ``backfill/oldest`` (the oldest list day reached, ``YYYY-MM-DD``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import UsageError

from crawler.items import BEIJING, ArticleItem
from crawler.spiders.crawl import ListCrawlSpider
from pipelines.dates import parse_published

if TYPE_CHECKING:
    from collections.abc import Iterable

    from scrapy import Request
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

    from crawler.sources import ListEntry
    from crawler.sources.fetching import Outcome


@dataclass(frozen=True)
class DateRange:
    """Whole days in Beijing time, *since* and *until* both inclusive."""

    since: date
    until: date

    def __post_init__(self) -> None:
        if self.since > self.until:
            raise ValueError(f"since {self.since} is after until {self.until}")

    @classmethod
    def parse(cls, since: str, until: str) -> DateRange:
        """The range of two ``YYYY-MM-DD`` days; ValueError for a bad day or since after until."""
        return cls(date.fromisoformat(since), date.fromisoformat(until))

    def iso(self) -> list[str]:
        """[since, until] as ``YYYY-MM-DD``: the form the range travels in with requests."""
        return [self.since.isoformat(), self.until.isoformat()]

    @property
    def start(self) -> datetime:
        """The first instant of the range (aware)."""
        return datetime.combine(self.since, time(), BEIJING)

    @property
    def end(self) -> datetime:
        """The first instant after the range (aware)."""
        return datetime.combine(self.until + timedelta(days=1), time(), BEIJING)

    def holds(self, when: datetime) -> bool:
        return self.start <= when < self.end


class Place(Enum):
    """Where a list item lies relative to the range."""

    NEWER = "newer"  # after `until`: skipped, paging goes on
    INSIDE = "inside"
    OLDER = "older"  # before `since`: skipped, paging ends after this page
    UNSURE = "unsure"  # no time of its own, neighbours on both sides of a bound: fetched, then checked


def place(times: Sequence[datetime | None], window: DateRange) -> list[Place]:
    """Where each item of one list page lies, from its list time *times[i]* (None: the list shows none).

    Lists are newest first, so an item without a time is no newer than the
    nearest timed item before it and no older than the nearest one after it.
    """
    places = []
    for i, when in enumerate(times):
        if when is not None:
            places.append(Place.NEWER if when >= window.end else Place.OLDER if when < window.start else Place.INSIDE)
            continue
        newer = next((t for t in reversed(times[:i]) if t is not None), None)
        older = next((t for t in times[i + 1:] if t is not None), None)
        if older is not None and older >= window.end:
            places.append(Place.NEWER)
        elif newer is not None and newer < window.start:
            places.append(Place.OLDER)
        elif older is not None and newer is not None and window.holds(older) and window.holds(newer):
            places.append(Place.INSIDE)
        else:
            places.append(Place.UNSURE)
    return places


def window_of(settings: BaseSettings) -> DateRange:
    """The range ``FINEWS_BACKFILL_SINCE`` and ``FINEWS_BACKFILL_UNTIL`` name; ValueError saying what is wrong."""
    try:
        return DateRange.parse(settings.get("FINEWS_BACKFILL_SINCE") or "", settings.get("FINEWS_BACKFILL_UNTIL") or "")
    except ValueError as exc:
        raise ValueError(
            "backfill needs FINEWS_BACKFILL_SINCE and FINEWS_BACKFILL_UNTIL as YYYY-MM-DD, since <= until (scrapy crawl "
            f"backfill -s FINEWS_BACKFILL_SINCE=2024-03-01 -s FINEWS_BACKFILL_UNTIL=2024-03-31): {exc}"
        ) from None


class BackfillSpider(ListCrawlSpider):
    name = "backfill"
    wire_callbacks = ListCrawlSpider.wire_callbacks | {"parse_backfill_page"}

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        try:
            window_of(settings)  # under `scrapy crawl`, a missing range stops it before anything is fetched
        except ValueError as exc:
            raise UsageError(str(exc), print_help=False) from None

    async def start(self) -> AsyncIterator[Any]:
        self.open_run()
        settings = self.crawler.settings
        window = window_of(settings)
        self.max_items = None  # a backfill is bounded by its range, not by a count
        assert self.storage is not None
        for request in self.owed_requests():  # a killed backfill's articles first
            yield request
        only = settings.get("FINEWS_BACKFILL_LIST") or None
        now = datetime.now(UTC)
        for config in settings.getlist("FINEWS_LISTS"):
            if only is not None and config["url"] != only:
                continue
            progress = self.storage.resume_backfill(config["source"], config["url"], window.since, window.until, now)
            if progress.pages:
                self.crawler.stats.inc_value("backfill/resumed")
            assert progress.next_url is not None
            yield self.backfill_request(progress.next_url, config, progress.pages + 1, window)

    def closed(self, reason: str) -> None:
        # No run_lists rows: those are the crawl's per-list health, which a backfill's long walk would distort.
        if self.storage is not None:
            self.storage.release()

    def backfill_request(self, url: str, config: dict[str, Any], page: int, window: DateRange) -> Request:
        """A page of a backfill walk; the range travels with it (in distributed mode another process reads it)."""
        request = self.list_request(url, config, page)
        since, until = window.iso()
        return request.replace(callback=self.parse_backfill_page, cb_kwargs={**request.cb_kwargs, "since": since, "until": until})

    def parse_backfill_page(
        self, response: Response, config: dict[str, Any], page: int, since: str, until: str, walk_finished: bool = False
    ) -> Iterator[Request]:
        stats = self.crawler.stats
        assert stats is not None and self.storage is not None
        window = DateRange.parse(since, until)  # the range of the walk this page belongs to
        source_name = config["source"]
        listing = self.read_listing(response, config)
        if listing is None:
            return  # the cursor stays on this page: the next backfill of the range reads it again
        now = datetime.now(UTC)
        times = [parse_published(e.showtime, fetched_at=now) for e in listing.entries]
        places = place(times, window)
        inside: list[ListEntry] = []
        for entry, where in zip(listing.entries, places, strict=True):
            if where is Place.NEWER:
                stats.inc_value("lists/entries")
                stats.inc_value("backfill/newer_than_until")
            elif where is Place.OLDER:
                stats.inc_value("lists/entries")
                stats.inc_value("backfill/older_than_since")
            else:  # counted in lists/entries by `wanted`
                inside.append(entry)
        stored, owed = self.storage.listed_state(source_name, [e.code for e in inside])
        wanted = self.wanted(inside, config, stored, owed, now)
        # An article some run owed already is fetched and stored whatever its date: it is not ours to forget.
        unsure = {e.code for e, where in zip(listing.entries, places, strict=True) if where is Place.UNSURE} & set(wanted) - set(owed)
        stats.inc_value("backfill/undated_unsure", len(unsure))
        keep_within = {"keep_within": window.iso()}
        self.claim(wanted)
        more = bool(listing.next_cursor) and Place.OLDER not in places
        next_url = self.sources[source_name].next_page_url(response.url, listing.next_cursor) if more and listing.next_cursor else None
        timed = [t for t in times if t is not None]
        oldest = min(timed) if timed else None
        if oldest is not None:
            stats.min_value("backfill/oldest", f"{oldest.astimezone(BEIJING):%Y-%m-%d}")
        if next_url is None:
            stats.inc_value("backfill/lists_complete")
        # Owed before requested, and the cursor moved with them: a kill from here on resumes at next_url.
        listed = {code: {**hints, "targets": targets} for code, (targets, hints) in wanted.items()}
        self.storage.record_backfill_page(source_name, config["url"], window.since, window.until, listed, now,
                                          next_url=next_url, oldest=oldest, new=set(wanted) - set(stored))
        yield from self.request_wanted(config, wanted, dict.fromkeys(unsure, keep_within))
        if next_url is not None:
            yield self.backfill_request(next_url, config, page + 1, window)

    def follow(
        self, source: str, outcomes: Iterable[Outcome], context: dict[str, Any] | None = None
    ) -> Iterator[Request | ArticleItem]:
        """As the crawl, except that an article fetched to learn its date (context ``keep_within``:
        since and until) is kept only inside the range."""
        for outcome in super().follow(source, outcomes, context):
            if isinstance(outcome, ArticleItem) and context and "keep_within" in context:
                window = DateRange.parse(*context["keep_within"])
                when = parse_published(outcome.date_raw, fetched_at=outcome.fetched_at)
                # No date at all: the dates stage quarantines it, with the reason, as in a crawl.
                if when is not None and not window.holds(when):
                    assert self.storage is not None
                    self.crawler.stats.inc_value("backfill/outside_range")
                    self.storage.forget_owed(source, outcome.code)  # listed, but not this backfill's to store
                    continue
            yield outcome
