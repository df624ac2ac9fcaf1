"""Benchmarks against the replay on loopback (``make bench``; SPEC §11).

Prints figures measured in one run, as ratios where a comparison is meant,
because these machines are noisy.  Nothing here asserts a speed:

- articles per second through the pipeline stages alone (no network);
- pages per second of ``finews crawl`` end to end, against plain Scrapy fetching
  the same URLs with no pipelines, and their ratio;
- peak memory (RSS) of a crawl of N and of 10·N articles;
- the time of an incremental run with nothing new;
- the resident memory of ``finews schedule`` over its first and last runs.

``python -m crawler.bench [--articles N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import psutil
import yaml

if TYPE_CHECKING:
    from scrapy.http import Response

CRAWL = {"delay": 0, "concurrency": 16, "per_host": 16, "retries": 1, "timeout": 10, "max_pages": 1000}


def write_settings(folder: Path, sources: dict[str, Any]) -> Path:
    blocks = {name: {k: v for k, v in block.items() if k != "share_link"} for name, block in sources.items()}
    data = {"site": {"dir": "site"}, "database": {"url": "sqlite:///finews.db"}, "sources": blocks, "crawl": CRAWL}
    path = folder / "settings.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def measure(command: list[str], cwd: Path) -> tuple[float, int, str]:
    """Run *command*; returns (seconds, peak RSS in bytes sampled every 20 ms, stdout)."""
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    proc = psutil.Process(child.pid)
    peak = 0
    while child.poll() is None:
        try:
            peak = max(peak, proc.memory_info().rss)
        except psutil.Error:
            break
        time.sleep(0.02)
    out = child.communicate()[0]
    if child.returncode != 0:
        raise SystemExit(f"bench: {' '.join(command)} exited with {child.returncode}")
    return time.perf_counter() - started, peak, out


def crawl(folder: Path, settings: Path) -> tuple[float, int, dict[str, Any]]:
    seconds, peak, out = measure([sys.executable, "-m", "crawler.cli", "-c", str(settings), "crawl", "--json"], folder)
    return seconds, peak, json.loads(out.splitlines()[-1])


def pipeline_rate(replay: Any, folder: Path) -> float:
    """Articles per second through validate → clean → dates → post → store, payloads in memory."""
    from scrapy.utils.misc import load_object
    from scrapy.utils.test import get_crawler

    from crawler.config import load_config
    from crawler.items import ArticleItem
    from crawler.settings import ITEM_PIPELINES, scrapy_settings

    config = load_config(write_settings(folder, replay.sources()))
    (name, source), = config.sources.items()
    parse_api = source.PARSERS["content_api"]
    items = []
    for article in replay.articles:
        if article.api != "full":
            continue
        url = source.url("content_api", article.code)
        with urllib.request.urlopen(url) as response:
            api: Any = parse_api(response.read(), url)
        assert api is not None
        items.append(
            ArticleItem(source=name, code=article.code, fetched_at=datetime.now(UTC), title=api.title,
                        date_raw=api.date, outlet=api.outlet, body_html=api.body_html, base_url=api.url)
        )
    crawler = get_crawler(settings_dict={
        **scrapy_settings(config), "FINEWS_BASE_URL": "",
        "FINEWS_DATABASE_URL": f"sqlite:///{folder}/pipelines.db", "FINEWS_SITE_DIR": str(folder / "pipelines-site"),
    })
    stages = [load_object(path).from_crawler(crawler) for path, _ in sorted(ITEM_PIPELINES.items(), key=lambda kv: kv[1])]
    for stage in stages:
        getattr(stage, "open_spider", lambda: None)()
    warm, items = items[0], items[1:]  # first use loads dictionaries (pinyin, dateparser): not steady state
    for stage in stages:
        warm = stage.process_item(warm)
    started = time.perf_counter()
    for item in items:
        passed = item
        for stage in stages:
            passed = stage.process_item(passed)
    elapsed = time.perf_counter() - started
    for stage in stages:
        getattr(stage, "close_spider", lambda: None)()
    return len(items) / elapsed


def baseline(urls_file: Path) -> None:
    """Plain Scrapy: fetch every URL in *urls_file*, no pipelines, same concurrency."""
    from scrapy import Request, Spider
    from scrapy.crawler import CrawlerProcess

    urls = urls_file.read_text(encoding="utf-8").split()

    class Plain(Spider):
        name = "plain"

        async def start(self) -> AsyncIterator[Request]:
            for url in urls:
                yield Request(url, dont_filter=True, meta={"handle_httpstatus_all": True})

        def parse(self, response: Response, **kwargs: Any) -> None:
            return None

    process = CrawlerProcess({"LOG_LEVEL": "ERROR", "CONCURRENT_REQUESTS": CRAWL["concurrency"],
                              "CONCURRENT_REQUESTS_PER_DOMAIN": CRAWL["per_host"], "DOWNLOAD_DELAY": 0,
                              "TELNETCONSOLE_ENABLED": False, "ROBOTSTXT_OBEY": False})
    process.crawl(Plain)
    process.start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.bench")
    parser.add_argument("--articles", type=int, default=100, help="N (memory is also measured at 10·N)")
    parser.add_argument("--baseline", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline:
        baseline(args.baseline)
        return 0
    from crawler.replay import ReplayServer

    n = args.articles
    with tempfile.TemporaryDirectory(prefix="finews-bench-") as tmp:
        root = Path(tmp)
        with ReplayServer(articles=n) as replay:
            rate = pipeline_rate(replay, root)
            small = crawl_and_compare(replay, root / "n")
            early, late = scheduler_rss(replay, root / "schedule", runs=8)
        with ReplayServer(articles=10 * n) as big:
            large = crawl_and_compare(big, root / "10n")
    mib = 1024 * 1024
    print(f"pipelines alone:          {rate:8.1f} articles/s")
    for label, run in (("N", small), ("10N", large)):
        print(
            f"end to end, {label:>3} = {run['articles']:5d}: finews {run['finews_pps']:7.1f} pages/s, plain Scrapy "
            f"{run['plain_pps']:7.1f} pages/s, ratio {run['finews_pps'] / run['plain_pps']:.2f} ({run['pages']} pages; "
            f"times include process start-up)"
        )
    print(
        f"peak RSS of the crawl:    N {small['peak'] / mib:.1f} MiB, 10N {large['peak'] / mib:.1f} MiB "
        f"(ratio {large['peak'] / small['peak']:.2f})"
    )
    for label, run in (("N", small), ("10N", large)):
        print(
            f"incremental, nothing new, {label:>3}: {run['incremental_s']:.2f} s and {run['incremental_requests']} requests "
            f"(first run {run['seconds']:.2f} s, ratio {run['incremental_s'] / run['seconds']:.2f})"
        )
    print(
        f"finews schedule RSS:      first two runs {early / mib:.1f} MiB, last two of 8 runs {late / mib:.1f} MiB "
        f"(ratio {late / early:.2f})"
    )
    return 0


def scheduler_rss(replay: Any, folder: Path, runs: int) -> tuple[int, int]:
    """Peak RSS of the scheduler process during its first two and its last two runs."""
    folder.mkdir()
    settings = write_settings(folder, replay.sources())
    command = [sys.executable, "-m", "crawler.cli", "-c", str(settings), "schedule", "--every", "1s", "--max-runs", str(runs)]
    child = subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    proc = psutil.Process(child.pid)
    samples: list[tuple[int, int]] = []  # (runs started so far, rss)
    assert child.stderr is not None
    started = 0
    os.set_blocking(child.stderr.fileno(), False)
    while child.poll() is None:
        started += (child.stderr.read() or b"").count(b" starting")
        try:
            samples.append((started, proc.memory_info().rss))
        except psutil.Error:
            break
        time.sleep(0.05)
    early = max(rss for n, rss in samples if n <= 2)
    late = max(rss for n, rss in samples if n >= runs - 1)
    return early, late


def crawl_and_compare(replay: Any, folder: Path) -> dict[str, Any]:
    """First crawl, incremental crawl, and plain Scrapy over the first crawl's URLs."""
    folder.mkdir()
    settings = write_settings(folder, replay.sources())
    mark = len(replay.requests)
    seconds, peak, first = crawl(folder, settings)
    urls = [f"{replay.url}{r.path}" + (f"?{urlencode(r.query)}" if r.query else "") for r in replay.requests[mark:]]
    incremental_s, _, second = crawl(folder, settings)
    urls_file = folder / "urls.txt"
    urls_file.write_text("\n".join(urls), encoding="utf-8")
    plain_s, _, _ = measure([sys.executable, "-m", "crawler.bench", "--baseline", str(urls_file)], folder)
    return {
        "articles": first["new"],
        "pages": len(urls),
        "seconds": seconds,
        "peak": peak,
        "finews_pps": len(urls) / seconds,
        "plain_pps": len(urls) / plain_s,
        "incremental_s": incremental_s,
        "incremental_requests": second["requests"],
    }


if __name__ == "__main__":
    sys.exit(main())
