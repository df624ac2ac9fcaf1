"""``finews rebuild``: rewrite every post and category page from the database, offline.

Prints one line per file it had to change (``restored``, ``rewritten``,
``removed orphan``) and a summary ``restored N, rewritten N, removed orphans N``.
Files already equal to the database are not touched (their mtime stays).  Exit
status 0; 1 when the database cannot be opened (one line, no traceback), or it
holds no article while the site has posts (a wrong ``database.url`` must not
empty the site); 2 for configuration errors (raised before this runs).
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from crawler.config import AppConfig
from pipelines.db import open_database
from pipelines.projection import EmptyDatabase, reconcile
from pipelines.site import Site

LABELS = {"restored": "restored", "rewritten": "rewritten", "removed": "removed orphan"}


def rebuild(config: AppConfig) -> int:
    from crawler.cli import EXIT_FAILED, EXIT_OK, display, first_line

    url = make_url(config.database_url)
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") and not Path(url.database).exists():
        print(f"finews: no database at {url.database}: nothing to rebuild from (check database.url)", file=sys.stderr)
        return EXIT_FAILED

    def report(action: str, path: Path) -> None:
        print(f"{LABELS[action]} {display(path)}", flush=True)

    try:
        engine = open_database(config.database_url)
    except Exception as exc:  # a driver, network or migration error: the database is not usable
        print(f"finews: cannot open the database {shown}: {first_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    try:
        drift = reconcile(
            engine, Site(config.site_dir), share_link=config.eastmoney.share_link, base_url=config.base_url, report=report
        )
    except (SQLAlchemyError, EmptyDatabase) as exc:
        print(f"finews: rebuild stopped: {first_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        engine.dispose()
    print(
        f"restored {len(drift.restored)}, rewritten {len(drift.rewritten)}, removed orphans {len(drift.removed)}"
        f" ({drift.posts} posts and {drift.pages} category pages in the database)"
    )
    return EXIT_OK

