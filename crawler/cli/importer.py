"""``finews import [PATH…] [--dry-run]``: read posts in the post format into the database.

Reads every ``*.md`` file of the site's ``_posts/`` (when it exists) and of each
PATH (a folder, searched recursively, or a file), each file once.  Files named like
a finews post (``<date>-<code>.md``, ``Site.post_name``) go first, so that of two files
naming one article (the original's ``<date>-NW<id>.md`` and ``<date>-<id>.md``) the
first is the article and the other its alias (pipelines/importer.py has the rules).

One line per file: ``new|updated|unchanged|duplicate <file> <post path>`` or
``failed <file> <reason>`` (the file is quarantined with its text), then a summary
``ok|failed: N new, N updated, N unchanged, N duplicate, N failed, N quarantined;
N posts, S s``.  On a terminal a progress line on stderr shows the import as it
goes.  ``--dry-run`` reads and cleans every file and prints ``ok <file> <post
path>`` (or ``duplicate``, ``failed``) for each, and writes nothing: it takes no
lock and does not open the database.

Articles are stored in batches of ``FINEWS_STORE_BATCH`` (one transaction each,
as a crawl's store does), under the run lock.  Exit status 0 when every file
imported, 1 when any failed (the others are still stored), 2 for usage errors
(a PATH that does not exist, no ``_posts/`` and no PATH).
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from pathlib import Path

from crawler.cli.errors import UsageError
from crawler.config import AppConfig
from pipelines.importer import Entry, PostImport, Result
from pipelines.site import POSTS, Site
from pipelines.store import StorePipeline

COUNTED = ("new", "updated", "unchanged", "duplicate", "failed", "quarantined")


def post_files(config: AppConfig, paths: Sequence[str]) -> list[Path]:
    """The files to import, each once: finews-named posts first, then the rest, each group in the order found.

    UsageError when a PATH does not exist.  A missing ``_posts/`` is a site with no post
    yet (a new repository's first scheduled run): nothing to import from there.
    """
    roots: list[Path] = []
    default = config.site_dir / POSTS
    if default.is_dir():
        roots.append(default)
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise UsageError(f"import: no such file or folder: {given}")
        roots.append(path)
    seen: set[Path] = set()
    found: list[Path] = []
    for root in roots:
        # Dot-files are not posts (Jekyll skips them; finews's temporaries are ".tmp-…").
        for path in [root] if root.is_file() else sorted(p for p in root.rglob("*.md") if p.is_file() and not p.name.startswith(".")):
            resolved = path.resolve()
            if resolved not in seen:
                seen.add(resolved)
                found.append(path)
    site = Site.of(config.site_dir, config.sources)
    return sorted(found, key=lambda p: site.post_name.match(p.name) is None)  # stable: the order found within each group


def import_posts(config: AppConfig, paths: Sequence[str], *, dry_run: bool) -> int:
    from crawler.cli import EXIT_FAILED, EXIT_OK, display

    files = post_files(config, paths)
    if not files:
        print(f"finews import: no post to import in {display(config.site_dir / POSTS)}"
              + (" or " + ", ".join(paths) if paths else ""), file=sys.stderr)
    started = time.monotonic()
    progress = Progress(len(files)) if sys.stderr.isatty() else None
    counts: Counter[str] = Counter()
    for result in run_import(config, files, dry_run=dry_run):
        counts[result.status] += 1
        print_result(result)
        if progress is not None:
            progress.tick(counts)
    if progress is not None:
        progress.done(counts)
    bad = counts["failed"] + counts["quarantined"]
    status = "failed" if bad else "ok"
    if dry_run:
        print(f"dry run, {status}: {counts['ok']} ok, {counts['duplicate']} duplicate, {bad} failed; "
              f"{len(files)} posts, {time.monotonic() - started:.1f} s")
    else:
        figures = ", ".join(f"{counts[name]} {name}" for name in COUNTED)
        print(f"{status}: {figures}; {len(files)} posts, {time.monotonic() - started:.1f} s")
    return EXIT_FAILED if bad else EXIT_OK


def run_import(config: AppConfig, files: Sequence[Path], *, dry_run: bool) -> Iterator[Result]:
    """Import *files* in batches; yields each file's result as its batch is stored."""
    from scrapy.utils.misc import load_object
    from scrapy.utils.test import get_crawler

    from crawler.lock import run_lock
    from crawler.settings import ITEM_PIPELINES, scrapy_settings

    # The stages exactly as a crawl configures them, from the same settings.
    crawler = get_crawler(settings_dict={**scrapy_settings(config), "FINEWS_DRY_RUN": dry_run})
    order = [path for path, _ in sorted(ITEM_PIPELINES.items(), key=lambda kv: kv[1])]
    assert order[-1] == f"{StorePipeline.__module__}.{StorePipeline.__name__}"  # the store is last, the stages before it
    stages = [load_object(path).from_crawler(crawler) for path in order[:-1]]
    with run_lock(config) if not dry_run else nullcontext():  # a dry run writes nothing: no lock
        store: StorePipeline | None = None if dry_run else StorePipeline.from_crawler(crawler)
        if store is not None:
            store.open_spider()
        try:
            importer = PostImport(stages, store, config.sources, config.categories, config.site_dir)
            size = store.batch_size if store is not None else 50
            batch: list[Entry] = []
            for path in files:
                batch.append(importer.prepare(path))
                if len(batch) >= size:
                    yield from importer.store(batch)
                    batch = []
            if batch:
                yield from importer.store(batch)
        finally:
            if store is not None:
                store.close_spider()


def print_result(result: Result) -> None:
    from crawler.cli import display

    if result.status in ("failed", "quarantined"):
        print(f"failed {display(result.path)} {result.detail}")
    else:
        print(f"{result.status} {display(result.path)} {display(result.detail)}")


class Progress:
    """``N/M posts, N stored, N failed`` on stderr, redrawn at most five times a second."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.last = 0.0

    def tick(self, counts: Counter[str]) -> None:
        now = time.monotonic()
        if now - self.last >= 0.2:
            self.last = now
            self.draw(counts)

    def draw(self, counts: Counter[str]) -> None:
        done = sum(counts.values())
        failed = counts["failed"] + counts["quarantined"]
        sys.stderr.write(f"\r{done}/{self.total} posts, {done - failed} stored, {failed} failed ")
        sys.stderr.flush()

    def done(self, counts: Counter[str]) -> None:
        self.draw(counts)
        sys.stderr.write("\n")
