"""The ``finews`` command line (SPEC §4).

Exit status: 0 when every target or item succeeded, 1 when any failed (the
others are still stored), 2 for usage or configuration errors.  Errors are one
line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from crawler.cli.errors import UsageError
from crawler.config import CONFIG_ENV, ConfigError, load_config
from crawler.distributed import RedisUnavailable
from crawler.lock import LockBusy

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_BUSY = 75  # EX_TEMPFAIL: another run holds the lock; try again later


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="finews", description="Crawl financial news into a Jekyll site and a database.")
    top.add_argument("-c", "--config", metavar="PATH", help=f"settings file (default: ${CONFIG_ENV} or ./settings.yaml)")
    top.add_argument("-v", "--verbose", action="store_true", help="show Scrapy's log")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fetch = sub.add_parser("fetch", help="fetch the named articles now")
    fetch.add_argument("targets", nargs="+", metavar="TARGET", help="share link, article URL, infoCode (NW…) or 18-digit id")
    fetch.add_argument("--force", action="store_true", help="refetch and rewrite even when unchanged")
    fetch.add_argument("--dry-run", action="store_true", help="print the posts that would be written; write nothing")

    crawl = sub.add_parser("crawl", help="one scheduled run over every configured list")
    crawl.add_argument("--max-items", type=int, metavar="N", help="fetch at most N articles this run")
    crawl.add_argument("--json", action="store_true", help="print the summary as one JSON object on the last line")

    backfill = sub.add_parser("backfill", help="page the lists past max_pages into the past; resumable")
    backfill.add_argument("--since", metavar="DATE", help="oldest day to store, YYYY-MM-DD Beijing time (default: 29 days before --until)")
    backfill.add_argument("--until", metavar="DATE", help="newest day to store, inclusive (default: today)")
    backfill.add_argument("--list", metavar="NAME", dest="list_name", help="only this list: its name, or its position 1, 2, …")
    backfill.add_argument("--json", action="store_true", help="print the summary as one JSON object on the last line")

    worker = sub.add_parser("worker", help="distributed mode: help the runs of `crawl` from the Redis queue")
    worker.add_argument("--once", action="store_true", help="leave when no run is in progress and the queue is empty")
    worker.add_argument("--json", action="store_true", help="print the summary as one JSON object")

    schedule = sub.add_parser("schedule", help="run `crawl` every interval, each run in a fresh process")
    schedule.add_argument("--every", required=True, metavar="INTERVAL", help="e.g. 30s, 5m, 1h")
    schedule.add_argument("--max-runs", type=int, metavar="N", help="stop after N runs")

    sub.add_parser("rebuild", help="rewrite every post and category page from the database")
    status = sub.add_parser("status", help="counts, health, lists, last runs, failing and parked articles, quarantine")
    status.add_argument("--check", action="store_true", help="print only the health; exit 1 when failing (for monitors)")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    sub.add_parser("init", help="create the minimal Jekyll files in site.dir when missing")
    importer = sub.add_parser("import", help="read posts in the post format (site _posts/ and each PATH) into the database")
    importer.add_argument("paths", nargs="*", metavar="PATH", help="a folder of posts (e.g. the original's old_post/) or a post file")
    importer.add_argument("--dry-run", action="store_true", help="read and clean every post, print what would be stored; write nothing")

    replay = sub.add_parser("replay", help="serve the bundled replay of the source on 127.0.0.1")
    replay.add_argument("--port", type=int, default=8765)
    replay.add_argument("--articles", type=int, default=20)
    replay.add_argument("--faults", default="", help='e.g. "api:*=status:503x2;page:NW…=timeout"')
    replay.add_argument("--fixture", action="append", default=[], metavar="JSON", help="also serve this content-API response")

    bench = sub.add_parser("bench", help="the SPEC §11 figures against the replay (takes minutes)")
    bench.add_argument("--articles", type=int, default=1000, metavar="N", help="N (memory and the incremental run at 10·N)")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument("--site", action="store_true", help="instead: jekyll build of generated sites (seconds per post, profile phases)")
    bench.add_argument("--posts", type=int, nargs="+", default=[5000, 50_000], metavar="N", help="with --site: site sizes")
    bench.add_argument("--without-fix", type=int, nargs="*", default=[], metavar="N",
                       help="with --site: also build these sizes without _plugins/each_site_file.rb")

    demo = sub.add_parser("demo", help="replay + fetch into ./demo (SQLite, Jekyll site)")
    demo.add_argument("--dir", default="demo", help="folder to fill (default ./demo)")
    demo.add_argument("--articles", type=int, default=20)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run_command(parser().parse_args(argv))
    except BrokenPipeError:
        # The reader went away (`finews status | head`): stop quietly, as other tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED


def run_command(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError  # not needed by --help, and a fifth of a second to import

    try:
        if args.command == "replay":
            from crawler.replay import run_replay

            return run_replay(port=args.port, articles=args.articles, faults=args.faults, fixtures=args.fixture)
        if args.command == "bench" and args.site:
            from crawler.bench.site import main as site_bench

            without = ["--without-fix", *map(str, args.without_fix)] if args.without_fix else []
            return site_bench(["--posts", *map(str, args.posts), *without, *(["--json"] if args.json else [])])
        if args.command == "bench":
            from crawler.bench import main as bench

            return bench(["--articles", str(args.articles), *(["--json"] if args.json else [])])
        if args.command == "demo":
            from crawler.cli.demo import demo

            return demo(Path(args.dir), articles=args.articles, verbose=args.verbose)
        config = load_config(args.config)
        if args.command == "init":
            from crawler.skeleton import theme_of, write_skeleton

            for path in write_skeleton(config.site_dir, theme_of(config)):
                print(f"created {display(path)}")
            return EXIT_OK
        if args.command == "fetch":
            from crawler.cli.fetch import fetch

            return fetch(config, args.targets, force=args.force, dry_run=args.dry_run, verbose=args.verbose)
        if args.command == "crawl":
            from crawler.cli.crawl import crawl

            return crawl(config, max_items=args.max_items, as_json=args.json, verbose=args.verbose)
        if args.command == "backfill":
            from crawler.cli.backfill import backfill

            return backfill(config, since=args.since, until=args.until, list_name=args.list_name,
                            as_json=args.json, verbose=args.verbose)
        if args.command == "worker":
            from crawler.cli.worker import worker

            return worker(config, once=args.once, as_json=args.json, verbose=args.verbose)
        if args.command == "schedule":
            from crawler.cli.schedule import schedule

            return schedule(config, every=args.every, max_runs=args.max_runs)
        if args.command == "rebuild":
            from crawler.cli.rebuild import rebuild

            return rebuild(config)
        if args.command == "import":
            from crawler.cli.importer import import_posts

            return import_posts(config, args.paths, dry_run=args.dry_run)
        if args.command == "status":
            from crawler.cli.status import status

            return status(config, check=args.check, as_json=args.json)
    except (ConfigError, UsageError) as exc:
        print(f"finews: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except LockBusy as exc:
        print(f"finews: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except RedisUnavailable as exc:
        print(f"finews: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except SQLAlchemyError as exc:
        print(f"finews: database error: {first_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    raise AssertionError(args.command)


def display(path: str | Path) -> str:
    """*path* relative to the working folder when it is below it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def first_line(exc: BaseException) -> str:
    """The first line of what went wrong, without the statement and link SQLAlchemy adds below it."""
    inner = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(inner).splitlines() if line.strip()]
    return lines[0] if lines else type(inner).__name__
