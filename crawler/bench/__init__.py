"""``finews bench [--articles N] [--json]``: the figures of SPEC §11, measured in one run.

Everything runs against the bundled replay on loopback, in temporary folders
(under ``TMPDIR``: the post files and databases are written there, so that
folder's disk is part of every figure that stores).
Each figure is a median where it is repeated; ratios are computed inside the run,
because these machines are noisy.  Nothing here asserts a speed.  The keys:

- ``pipeline_articles_per_s``: the five stages alone (store included, batched as in
  a crawl), over the N replay articles' content-API bodies; ``lxml_parse_docs_per_s``:
  ``lxml.html`` parsing the same bodies (median of 7 passes), the yardstick;
- ``e2e_pages_per_s``: pages (list and article requests) per second of a whole
  ``finews crawl`` of N articles, process start-up included; ``scrapy_fetch_pages_per_s``:
  a plain Scrapy spider fetching the same URLs with the same settings, no pipelines;
- ``peak_rss_mb_n`` / ``peak_rss_mb_10n``: the largest RSS of the crawl process
  crawling N and 10·N articles; ``schedule_rss_mb_first`` / ``_last``: the largest
  RSS of any process of ``finews schedule`` (the crawl children included) during its
  first two and last two of eight runs;
- ``incremental_noop_s``: a second crawl of the 10·N articles with nothing new;
  ``list_fetch_s``: plain Scrapy fetching only that run's requests;
- ``near_dup_ms_1k`` / ``near_dup_ms_50k``: the median time the store stage takes
  for one new article with 1,000 and 50,000 stored articles in its ±2-day window;
- ``rebuild_posts_per_s``: ``finews rebuild`` of 50,000 stored articles into an
  empty site; ``startup_s``: ``finews --help`` in a fresh process.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psutil

from crawler.bench.pipeline import pipeline_rate
from crawler.bench.processes import crawl, finews, plain_scrapy, write_settings
from crawler.bench.storage import near_dup_ms, rebuild_rate, startup_s

MIB = 1024 * 1024
DEFAULT_ARTICLES = 1000


def crawl_and_compare(replay: Any, folder: Path) -> dict[str, Any]:
    """A first crawl, an incremental one, and plain Scrapy over each one's URLs."""
    folder.mkdir()
    settings = write_settings(folder, replay.sources())

    def urls(since: int) -> list[str]:
        return [f"{replay.url}{r.path}" + (f"?{urlencode(r.query)}" if r.query else "") for r in replay.requests[since:]]

    mark = len(replay.requests)
    seconds, peak, first = crawl(folder, settings)
    first_urls = urls(mark)
    mark = len(replay.requests)
    noop_s, _, second = crawl(folder, settings)
    noop_urls = urls(mark)
    return {
        "articles": first["new"], "pages": len(first_urls), "seconds": seconds, "peak": peak,
        "plain_s": plain_scrapy(folder, first_urls), "noop_s": noop_s, "noop_requests": second["requests"],
        "list_fetch_s": plain_scrapy(folder, noop_urls),
    }


def scheduler_rss(replay: Any, folder: Path, runs: int = 8) -> tuple[int, int]:
    """Largest RSS of any process of ``finews schedule`` during its first two and last two runs."""
    folder.mkdir()
    settings = write_settings(folder, replay.sources())
    command = [sys.executable, "-m", "crawler.cli", "-c", str(settings), "schedule", "--every", "1s", "--max-runs", str(runs)]
    child = subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    proc = psutil.Process(child.pid)
    assert child.stderr is not None
    os.set_blocking(child.stderr.fileno(), False)
    samples: list[tuple[int, int]] = []  # (runs started so far, largest RSS in the tree)
    started = 0
    while child.poll() is None:
        started += (child.stderr.read() or b"").count(b" starting")
        try:
            tree = [proc, *proc.children(recursive=True)]
            samples.append((started, max(p.memory_info().rss for p in tree)))
        except psutil.Error:
            pass
        time.sleep(0.05)
    return max(r for n, r in samples if n <= 2), max(r for n, r in samples if n >= runs - 1)


def run(n: int, *, near_stored: tuple[int, int] = (1000, 50_000), rebuild_posts: int = 50_000) -> dict[str, float]:
    from crawler.replay import ReplayServer

    with tempfile.TemporaryDirectory(prefix="finews-bench-") as tmp:
        root = Path(tmp)
        with ReplayServer(articles=n) as replay:
            stages, lxml_rate, _ = pipeline_rate(replay, root)
            small = crawl_and_compare(replay, root / "n")
            early, late = scheduler_rss(replay, root / "schedule")
        with ReplayServer(articles=10 * n) as big:
            large = crawl_and_compare(big, root / "10n")
        near = {k: near_dup_ms(root / f"near-{i}", k) for i, k in enumerate(near_stored)}
        return {
            "articles": n,
            "pipeline_articles_per_s": stages,
            "lxml_parse_docs_per_s": lxml_rate,
            "e2e_pages_per_s": small["pages"] / small["seconds"],
            "scrapy_fetch_pages_per_s": small["pages"] / small["plain_s"],
            "peak_rss_mb_n": small["peak"] / MIB,
            "peak_rss_mb_10n": large["peak"] / MIB,
            "schedule_rss_mb_first": early / MIB,
            "schedule_rss_mb_last": late / MIB,
            "incremental_noop_s": large["noop_s"],
            "list_fetch_s": large["list_fetch_s"],
            "incremental_requests": large["noop_requests"],
            "near_dup_ms_1k": near[near_stored[0]],
            "near_dup_ms_50k": near[near_stored[1]],
            "rebuild_posts_per_s": rebuild_rate(root / "rebuild", rebuild_posts),
            "startup_s": startup_s(root),
        }


def report(f: dict[str, float], *, near_stored: tuple[int, int], rebuild_posts: int) -> str:
    n = int(f["articles"])
    lines = [
        (f"pipeline stages alone (N = {n}):  {f['pipeline_articles_per_s']:8.1f} articles/s; lxml.html parse of the same bodies "
        f"{f['lxml_parse_docs_per_s']:8.1f} docs/s; ratio {f['pipeline_articles_per_s'] / f['lxml_parse_docs_per_s']:.3f}"),
        (f"finews crawl of N = {n}:          {f['e2e_pages_per_s']:8.1f} pages/s; plain Scrapy, same URLs and settings "
        f"{f['scrapy_fetch_pages_per_s']:8.1f} pages/s; ratio {f['e2e_pages_per_s'] / f['scrapy_fetch_pages_per_s']:.2f}"),
        (f"peak RSS of the crawl process:  N {f['peak_rss_mb_n']:.1f} MiB, 10N = {10 * n} {f['peak_rss_mb_10n']:.1f} MiB; "
        f"ratio {f['peak_rss_mb_10n'] / f['peak_rss_mb_n']:.2f}"),
        (f"finews schedule, any process:   first two runs {f['schedule_rss_mb_first']:.1f} MiB, last two of 8 "
        f"{f['schedule_rss_mb_last']:.1f} MiB; ratio {f['schedule_rss_mb_last'] / f['schedule_rss_mb_first']:.2f}"),
        (f"incremental crawl, nothing new, {10 * n} stored: {f['incremental_noop_s']:.2f} s ({int(f['incremental_requests'])} "
        f"requests); plain Scrapy, same requests {f['list_fetch_s']:.2f} s; ratio {f['incremental_noop_s'] / f['list_fetch_s']:.2f}"),
        (f"store one new article, near-duplicate window of {near_stored[0]}: {f['near_dup_ms_1k']:.1f} ms, of {near_stored[1]}: "
        f"{f['near_dup_ms_50k']:.1f} ms; ratio {f['near_dup_ms_50k'] / f['near_dup_ms_1k']:.2f}"),
        f"finews rebuild of {rebuild_posts} posts into an empty site: {f['rebuild_posts_per_s']:.0f} posts/s",
        f"finews --help: {f['startup_s']:.3f} s",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="finews bench", description="SPEC §11 figures against the replay on loopback")
    parser.add_argument("--articles", type=int, default=DEFAULT_ARTICLES, help="N (memory and the incremental run at 10·N)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--near", type=int, nargs=2, default=(1000, 50_000), metavar=("K1", "K2"), help=argparse.SUPPRESS)
    parser.add_argument("--rebuild-posts", type=int, default=50_000, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    near, posts = (args.near[0], args.near[1]), args.rebuild_posts
    figures = run(args.articles, near_stored=near, rebuild_posts=posts)
    print(json.dumps(figures) if args.json else report(figures, near_stored=near, rebuild_posts=posts))
    return 0


__all__ = ["finews", "main", "run"]
