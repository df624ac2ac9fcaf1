"""``finews backfill [--since DATE] [--until DATE] [--list NAME] [--json]``: history, polite and resumable.

Walks every configured list (or the one named) past its ``max_pages`` until its
items are older than ``--since`` or it ends, and stores the articles dated
within the range (crawler/spiders/backfill.py).  Dates are ``YYYY-MM-DD`` in
Beijing time, both inclusive; ``--until`` defaults to today, ``--since`` to 29
days before ``--until`` (30 days in all).  A list is named by its ``name`` key
or by its position (1, 2, …) among the configured lists, in settings order.

It runs as ``crawl`` does: the same run lock (a backfill and a scheduled crawl
never overlap; the second exits 75), the same politeness settings, a ``runs``
row (command ``backfill``), a progress line on a terminal and the same summary,
followed by one line per list (pages its walk has read, the oldest day reached,
whether it is complete).  Exit status 0, 1 when anything failed (or a signal
stopped it: the next backfill of the same range resumes), 2 for a bad date, a
range whose start is after its end, or an unknown list.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from crawler.cli.errors import UsageError
from crawler.config import AppConfig
from crawler.config_values import ListConfig
from crawler.items import BEIJING

if TYPE_CHECKING:
    from crawler.cli.run import RunOutcome
    from crawler.spiders.backfill import DateRange

DEFAULT_DAYS = 30  # without --since: this many days, --until included


@dataclass(frozen=True)
class ListReport:
    """One list's walk after the run, for the summary."""

    number: int  # position among the configured lists, from 1
    config: ListConfig
    pages: int
    oldest: datetime | None
    complete: bool

    def line(self) -> str:
        name = f" {self.config.name}" if self.config.name else ""
        oldest = f"back to {self.oldest.astimezone(BEIJING):%Y-%m-%d %H:%M}" if self.oldest else "no dated item"
        state = "complete" if self.complete else "not complete (run the same backfill again to resume)"
        return f"list {self.number}{name} ({self.config.kind}): {self.pages} pages, {oldest}, {state}"

    def as_json(self) -> dict[str, Any]:
        return {
            "list": self.number, "name": self.config.name, "kind": self.config.kind, "url": self.config.url,
            "pages": self.pages, "complete": self.complete,
            "oldest": None if self.oldest is None else f"{self.oldest.astimezone(BEIJING):%Y-%m-%d %H:%M:%S}",
        }


def parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value) if len(value) == 10 else _bad(value, option)
    except ValueError:
        return _bad(value, option)


def _bad(value: str, option: str) -> date:
    raise UsageError(f"backfill {option}: expected a date YYYY-MM-DD, got {value!r}")


def date_range(since: str | None, until: str | None, today: date) -> DateRange:
    """The range the options name; UsageError for a bad date or since after until."""
    from crawler.spiders.backfill import DateRange

    last = parse_day(until, "--until") if until is not None else today
    first = parse_day(since, "--since") if since is not None else last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise UsageError(f"backfill: --since {first} is after --until {last}")
    return DateRange(first, last)


def chosen_lists(config: AppConfig, name: str | None) -> list[tuple[int, ListConfig]]:
    """(position, list) of the lists to walk: all, or the one *name* names (its name or its position)."""
    numbered = list(enumerate(config.lists, 1))
    if not numbered:
        raise UsageError("backfill: no list is configured (sources.<name>.lists)")
    if name is None:
        return numbered
    found = [(n, lst) for n, lst in numbered if lst.name == name or str(n) == name]
    if not found:
        known = ", ".join(f"{n}" + (f" ({lst.name})" if lst.name else "") for n, lst in numbered)
        raise UsageError(f"backfill --list: no list {name!r}; configured: {known}")
    return found


def summary_json(outcome: RunOutcome, window: DateRange, reports: list[ListReport]) -> dict[str, Any]:
    from crawler.cli.crawl import summary_json as crawl_json

    stats = outcome.stats
    return {
        **crawl_json(outcome),
        "since": window.since.isoformat(),
        "until": window.until.isoformat(),
        "newer_than_until": int(stats.get("backfill/newer_than_until", 0)),
        "older_than_since": int(stats.get("backfill/older_than_since", 0)),
        "undated_unsure": int(stats.get("backfill/undated_unsure", 0)),
        "outside_range": int(stats.get("backfill/outside_range", 0)),
        "resumed": int(stats.get("backfill/resumed", 0)),
        "lists": [r.as_json() for r in reports],
    }


def backfill(config: AppConfig, *, since: str | None, until: str | None, list_name: str | None,
             as_json: bool, verbose: bool) -> int:
    from crawler.cli import EXIT_FAILED, EXIT_OK
    from crawler.cli.crawl import summary_line
    from crawler.cli.run import locked_run
    from pipelines.storage import Storage

    window = date_range(since, until, datetime.now(UTC).astimezone(BEIJING).date())
    lists = chosen_lists(config, list_name)
    overrides: dict[str, Any] = {
        "FINEWS_BACKFILL_SINCE": window.since.isoformat(),
        "FINEWS_BACKFILL_UNTIL": window.until.isoformat(),
        "FINEWS_BACKFILL_LIST": lists[0][1].url if list_name is not None else "",
        "LOG_LEVEL": "INFO" if verbose else "ERROR",
    }
    if sys.stderr.isatty() and not verbose:
        overrides["FINEWS_PROGRESS"] = True
    outcome = locked_run("backfill", "backfill", config, overrides)
    storage = Storage.acquire(config.database_url)
    try:
        reports = []
        for number, lst in lists:
            progress = storage.backfill_progress(lst.source, lst.url, window.since, window.until)
            reports.append(ListReport(number, lst, progress.pages if progress else 0,
                                      progress.oldest_at if progress else None, bool(progress and progress.complete)))
    finally:
        storage.release()
    for result in outcome.report.results.values():
        if result.status in ("failed", "quarantined"):
            print(f"failed {result.code} {result.detail}")
    if as_json:
        print(json.dumps(summary_json(outcome, window, reports), ensure_ascii=False))
    else:
        for report in reports:
            print(report.line())
        print(f"{summary_line(outcome)}; backfill {window.since}..{window.until}")
    return EXIT_OK if outcome.status == "ok" else EXIT_FAILED
