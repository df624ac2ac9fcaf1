"""``finews status``: articles per category, the last runs, the quarantine."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from crawler.config import AppConfig
from pipelines.db import open_database
from pipelines.models import articles, categories, quarantine, runs

LAST_RUNS = 10


def status(config: AppConfig) -> int:
    from crawler.cli import EXIT_OK

    engine = open_database(config.database_url)
    try:
        with engine.connect() as conn:
            per_category = conn.execute(
                select(categories.c.slug, categories.c.title, func.count(articles.c.id))
                .select_from(categories.outerjoin(articles, articles.c.category == categories.c.slug))
                .group_by(categories.c.slug, categories.c.title)
                .order_by(func.count(articles.c.id).desc(), categories.c.slug)
            ).all()
            last_runs = conn.execute(select(runs).order_by(runs.c.id.desc()).limit(LAST_RUNS)).mappings().all()
            held = conn.execute(select(quarantine).order_by(quarantine.c.updated_at.desc())).mappings().all()
    finally:
        engine.dispose()
    total = sum(count for _, _, count in per_category)
    print(f"articles: {total} in {len(per_category)} categories")
    for slug, title, count in per_category:
        print(f"  {count:6d}  {slug}  {title}")
    print(f"last runs ({len(last_runs)}):")
    for run in last_runs:
        counts = json.loads(run["counts"]) if run["counts"] else {}
        shown = ", ".join(f"{v} {k}" for k, v in counts.items() if v) or "nothing"
        ended = f"{run['seconds']:.1f} s" if run["seconds"] is not None else "no end recorded"
        print(f"  #{run['id']} {run['command']} {run['started_at']:%Y-%m-%d %H:%M:%S} UTC  {run['status']}  {shown}; {run['requests'] or 0} requests, {ended}")
    print(f"quarantine ({len(held)}):")
    for row in held:
        print(f"  {row['code']}  {row['reason']}  (since {row['created_at']:%Y-%m-%d %H:%M} UTC)")
    return EXIT_OK
