"""``finews status [--check] [--json]``: what is stored, how the runs went, what is owed or failing.

Plain ``status`` prints articles per category, the health, each list's last
run, the last runs, the backlog (articles listed but not stored yet, failing
and parked articles) and the quarantine, and in distributed mode the run in progress, the length of
the Redis queue and the workers seen recently; it exits 0.  ``--check`` prints only
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
    if config.redis_url is not None:
        report["redis"] = distributed_report(config.redis_url, config.redis_prefix)
    if as_json:
        print(json.dumps({"health": to_json(health), **report}, ensure_ascii=False, default=str))
    else:
        print_report(health, report)
    return EXIT_OK


def distributed_report(url: str, prefix: str) -> dict[str, Any]:
    """The Redis side of distributed mode, or the one-line reason it cannot be read."""
    from redis.exceptions import RedisError

    from crawler.distributed import Keys, connect
    from crawler.distributed.run import redis_report

    try:
        return redis_report(connect(url), Keys(prefix))
    except RedisError as exc:
        return {"error": f"Redis is not answering: {exc}"}


def print_redis(found: dict[str, Any]) -> None:
    from crawler.distributed.run import WORKER_TTL_S

    if "error" in found:
        print(f"distributed: {found['error']}")
        return
    run = f"run #{found['run']} in progress" if found["run"] is not None else "no run in progress"
    print(f"distributed: {run}; {found['queue']} requests queued; {found['rejected']} rejected queue entries kept")
    print(f"workers seen in the last {WORKER_TTL_S} s ({len(found['workers'])}):")
    for w in found["workers"]:
        print(f"  {w['name']}  {w['role']}  {'busy' if w['busy'] else 'idle'}  (heartbeat {w['seen_s_ago']} s ago)")


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
    if "redis" in report:
        print_redis(report["redis"])
