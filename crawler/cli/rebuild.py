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
from crawler.config_values import sqlite_file
from pipelines.projection import EmptyDatabase, UnknownSource, reconcile
from pipelines.site import Site
from pipelines.storage import Storage

LABELS = {"restored": "restored", "rewritten": "rewritten", "removed": "removed orphan"}


def rebuild(config: AppConfig) -> int:
    from crawler.cli import EXIT_FAILED, EXIT_OK, display, first_line

    shown = make_url(config.database_url).render_as_string(hide_password=True)
    if not Storage.exists(config.database_url):
        print(f"finews: no database at {sqlite_file(config.database_url)}: nothing to rebuild from (check database.url)", file=sys.stderr)
        return EXIT_FAILED

    def report(action: str, path: Path) -> None:
        print(f"{LABELS[action]} {display(path)}", flush=True)

    try:
        storage = Storage.acquire(config.database_url)
    except Exception as exc:  # a driver, network or migration error: the database is not usable
        print(f"finews: cannot open the database {shown}: {first_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    try:
        site = Site.of(config.site_dir, config.sources)
        drift = reconcile(storage.engine, site, config.sources, base_url=config.base_url, report=report, sync_files=config.fsync_files,
                          page_size=config.page_size)
    except (SQLAlchemyError, EmptyDatabase, UnknownSource) as exc:
        print(f"finews: rebuild stopped: {first_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        storage.release()
    print(
        f"restored {len(drift.restored)}, rewritten {len(drift.rewritten)}, removed orphans {len(drift.removed)}"
        f" ({drift.posts} posts and {drift.pages} category pages in the database)"
    )
    return EXIT_OK

