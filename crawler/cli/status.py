"""``finews status [--check] [--json]``: what is stored, how the runs went, what is owed or failing.

Plain ``status`` prints articles per category, the health, each list's last
run, the last runs, the backlog (articles listed but not stored yet, failing
and parked articles) and the quarantine; it exits 0.  ``--check`` prints only
the health, one line per reason, and exits 0 when healthy, 1 otherwise: for a
monitor.  ``--json`` prints the same as one JSON object.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from crawler.config import AppConfig
from crawler.health import Health, assess, to_json
from pipelines.storage import Storage


def status(config: AppConfig, *, check: bool = False, as_json: bool = False) -> int:
    from crawler.cli import EXIT_FAILED, EXIT_OK

    storage = Storage.acquire(config.database_url)
    try:
        health = assess(storage, [lst.url for lst in config.lists], datetime.now(UTC), config.health)
        report = None if check else storage.status_report(config.lists)
    finally:
        storage.release()
    if check:
        if as_json:
            print(json.dumps(to_json(health), ensure_ascii=False))
        else:
            print("healthy" if not health.reasons else "\n".join(f"failing: {reason}" for reason in health.reasons))
        return EXIT_OK if not health.reasons else EXIT_FAILED
    assert report is not None
    if as_json:
        print(json.dumps({"health": to_json(health), **report}, ensure_ascii=False, default=str))
    else:
        print_report(health, report)
    return EXIT_OK


def print_report(health: Health, report: dict[str, Any]) -> None:
    print(f"articles: {report['articles']} in {len(report['categories'])} categories")
    for c in report["categories"]:
        print(f"  {c['articles']:6d}  {c['slug']}  {c['title']}")
    print(f"health: {health.status}")
    for reason in health.reasons:
        print(f"  {reason}")
    print(f"lists ({len(report['lists'])}):")
    for lst in report["lists"]:
        last = lst["last_run"]
        shown = (f"run #{last['run_id']}: {last['requests']} pages, {last['items']} items, {last['failures']} failed, "
                 f"{last['requested']} articles requested") if last else "not crawled yet"
        print(f"  {lst['kind']:8s}  {lst['url']}  {shown}")
    print(f"last runs ({len(report['runs'])}):")
    for run in report["runs"]:
        shown = ", ".join(f"{v} {k}" for k, v in run["counts"].items() if v) or "nothing"
        ended = f"{run['seconds']:.1f} s" if run["seconds"] is not None else "no end recorded"
        print(f"  #{run['id']} {run['command']} {run['started_at']:%Y-%m-%d %H:%M:%S} UTC  {run['status']}  "
              f"{shown}; {run['requests'] or 0} requests, {ended}")
    print(f"backlog: {report['pending']} listed, not stored yet; {len(report['failing'])} failing; {len(report['parked'])} parked")
    for row in report["failing"]:
        print(f"  failing {row['code']}  {row['attempts']} attempts, next {row['next_attempt_at']:%Y-%m-%d %H:%M} UTC: {row['reason']}")
    for row in report["parked"]:
        print(f"  parked  {row['code']}  {row['attempts']} attempts, since {row['parked_at']:%Y-%m-%d %H:%M} UTC: {row['reason']}"
              f"  (retry: finews fetch {row['code']})")
    print(f"quarantine ({len(report['quarantine'])}):")
    for row in report["quarantine"]:
        print(f"  {row['code']}  {row['reason']}  (since {row['since']:%Y-%m-%d %H:%M} UTC)")
