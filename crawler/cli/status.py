"""``finews status [--check] [--json]``: what is stored, how the runs went, what is owed or failing.

Plain ``status`` prints articles per category, the health, each list's last
run, the last runs, the backlog (articles listed but not stored yet, failing
and parked articles) and the quarantine; it exits 0.  ``--check`` prints only
the health, one line per reason, and exits 0 when healthy, 1 otherwise: for a
monitor.  ``--json`` prints the same as one JSON object.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, func, select

from crawler.config import AppConfig
from crawler.health import Health, assess, to_json
from pipelines import backlog
from pipelines.db import open_database
from pipelines.models import articles, categories, quarantine, run_lists, runs

LAST_RUNS = 10


def status(config: AppConfig, *, check: bool = False, as_json: bool = False) -> int:
    from crawler.cli import EXIT_FAILED, EXIT_OK

    engine = open_database(config.database_url)
    try:
        with engine.connect() as conn:
            health = assess(conn, [lst.url for lst in config.eastmoney.lists], datetime.now(timezone.utc), config.health)
            report = None if check else gather(conn, config)
    finally:
        engine.dispose()
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


def gather(conn: Connection, config: AppConfig) -> dict[str, Any]:
    """Everything plain ``status`` shows, as JSON-ready values."""
    per_category = conn.execute(
        select(categories.c.slug, categories.c.title, func.count(articles.c.id))
        .select_from(categories.outerjoin(articles, articles.c.category == categories.c.slug))
        .group_by(categories.c.slug, categories.c.title)
        .order_by(func.count(articles.c.id).desc(), categories.c.slug)
    ).all()
    last_runs = conn.execute(select(runs).order_by(runs.c.id.desc()).limit(LAST_RUNS)).mappings().all()
    lists = []
    for lst in config.eastmoney.lists:
        row = conn.execute(select(run_lists).where(run_lists.c.url == lst.url).order_by(run_lists.c.run_id.desc()).limit(1)).mappings().first()
        lists.append({"url": lst.url, "kind": lst.kind, "last_run": dict(row) if row else None})
    troubled = backlog.troubled(conn)
    held = conn.execute(select(quarantine).order_by(quarantine.c.updated_at.desc())).mappings().all()
    return {
        "articles": sum(count for _, _, count in per_category),
        "categories": [{"slug": slug, "title": title, "articles": count} for slug, title, count in per_category],
        "runs": [{**{k: v for k, v in run.items() if k != "counts"}, "counts": json.loads(run["counts"] or "{}")} for run in last_runs],
        "lists": lists,
        "pending": backlog.pending_count(conn),
        "failing": [article_line(row) for row in troubled if row["parked_at"] is None],
        "parked": [article_line(row) for row in troubled if row["parked_at"] is not None],
        "quarantine": [{"code": row["code"], "reason": row["reason"], "since": row["created_at"]} for row in held],
    }


def article_line(row: Any) -> dict[str, Any]:
    return {"code": row["code"], "attempts": row["attempts"], "reason": row["last_reason"],
            "next_attempt_at": row["next_attempt_at"], "parked_at": row["parked_at"]}


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
        print(f"  #{run['id']} {run['command']} {run['started_at']:%Y-%m-%d %H:%M:%S} UTC  {run['status']}  {shown}; {run['requests'] or 0} requests, {ended}")
    print(f"backlog: {report['pending']} listed, not stored yet; {len(report['failing'])} failing; {len(report['parked'])} parked")
    for row in report["failing"]:
        print(f"  failing {row['code']}  {row['attempts']} attempts, next {row['next_attempt_at']:%Y-%m-%d %H:%M} UTC: {row['reason']}")
    for row in report["parked"]:
        print(f"  parked  {row['code']}  {row['attempts']} attempts, since {row['parked_at']:%Y-%m-%d %H:%M} UTC: {row['reason']}"
              f"  (retry: finews fetch {row['code']})")
    print(f"quarantine ({len(report['quarantine'])}):")
    for row in report["quarantine"]:
        print(f"  {row['code']}  {row['reason']}  (since {row['since']:%Y-%m-%d %H:%M} UTC)")
