"""``finews crawl``: one scheduled run, a summary, an exit status from the run.

On a terminal a progress line on stderr shows the run as it goes.  The summary
always ends the output; with ``--json`` it is one JSON object on the last line
of stdout.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from crawler.cli.run import RunOutcome
from crawler.config import AppConfig


def summary_line(outcome: RunOutcome) -> str:
    c = outcome.counts()
    return (
        f"{outcome.status}: {c['new']} new, {c['updated']} updated, {c['unchanged']} unchanged, "
        f"{c['duplicate']} duplicate, {c['failed']} failed, {c['quarantined']} quarantined; "
        f"{outcome.requests} requests, {outcome.seconds:.1f} s"
    )


def summary_json(outcome: RunOutcome) -> dict[str, Any]:
    return {
        "status": outcome.status,
        **outcome.counts(),
        "requests": outcome.requests,
        "seconds": round(outcome.seconds, 3),
        "listed": int(outcome.stats.get("lists/entries", 0)),
        "list_pages": int(outcome.stats.get("lists/pages", 0)),
        "lists_failed": int(outcome.stats.get("lists/failed", 0)),
    }


def crawl(config: AppConfig, *, max_items: int | None, as_json: bool, verbose: bool) -> int:
    from crawler.cli import EXIT_FAILED, EXIT_OK
    from crawler.cli.run import locked_run

    overrides: dict[str, Any] = {"FINEWS_MAX_ITEMS": max_items or 0, "LOG_LEVEL": "INFO" if verbose else "ERROR"}
    if sys.stderr.isatty() and not verbose:
        overrides["FINEWS_PROGRESS"] = True
    outcome = locked_run("crawl", "crawl", config, overrides)
    for result in outcome.report.results.values():
        if result.status in ("failed", "quarantined"):
            print(f"failed {result.code} {result.detail}")
    print(json.dumps(summary_json(outcome)) if as_json else summary_line(outcome))
    return EXIT_OK if outcome.status == "ok" else EXIT_FAILED
