"""Running and sampling whole processes for the benchmarks: crawls, plain Scrapy, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
import yaml

if TYPE_CHECKING:
    from scrapy.http import Response

# The crawl settings of every benchmark run: no delay, so the figures are finews's own cost.
CRAWL = {"delay": 0, "concurrency": 16, "per_host": 16, "retries": 1, "timeout": 10, "max_pages": 1000}


def write_settings(folder: Path, sources: dict[str, Any]) -> Path:
    """A settings.yaml in *folder* pointing every source at the replay (posts keep the default share link)."""
    blocks = {name: {k: v for k, v in block.items() if k != "share_link"} for name, block in sources.items()}
    data = {"site": {"dir": "site"}, "database": {"url": "sqlite:///finews.db"}, "sources": blocks, "crawl": CRAWL}
    path = folder / "settings.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def measure(command: list[str], cwd: Path) -> tuple[float, int, str]:
    """Run *command*; (wall seconds, the largest RSS of any one process of its tree, sampled every 20 ms, stdout).

    Its output goes to a file, not a pipe: a command that prints more than a pipe holds
    (``rebuild`` prints a line per post) would otherwise block until the end of the run.
    """
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        child = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.DEVNULL)
        peak = _peak_rss(child)
        seconds = time.perf_counter() - started
        out.seek(0)
        printed = out.read().decode("utf-8", "replace")
    if child.returncode != 0:
        raise SystemExit(f"bench: {' '.join(command)} exited with {child.returncode}")
    return seconds, peak, printed


def _peak_rss(child: subprocess.Popen[bytes]) -> int:
    """The largest RSS of any one process of *child*'s tree until it exits, sampled every 20 ms."""
    proc = psutil.Process(child.pid)
    peak = 0
    while child.poll() is None:
        try:
            tree = [proc, *proc.children(recursive=True)]
        except psutil.Error:
            break
        for p in tree:
            try:
                peak = max(peak, p.memory_info().rss)
            except psutil.Error:
                continue
        time.sleep(0.02)
    child.wait()
    return peak


def finews(folder: Path, *args: str) -> tuple[float, int, str]:
    return measure([sys.executable, "-m", "crawler.cli", *args], folder)


def crawl(folder: Path, settings: Path) -> tuple[float, int, dict[str, Any]]:
    """One ``finews crawl --json``: (seconds, peak RSS, its summary)."""
    seconds, peak, out = finews(folder, "-c", str(settings), "crawl", "--json")
    return seconds, peak, json.loads(out.splitlines()[-1])


def plain_scrapy(folder: Path, urls: list[str]) -> float:
    """Seconds for a plain Scrapy spider to fetch *urls* with the crawl's settings and no pipelines."""
    urls_file = folder / "urls.txt"
    urls_file.write_text("\n".join(urls), encoding="utf-8")
    return measure([sys.executable, "-m", "crawler.bench.processes", str(urls_file)], folder)[0]


def _plain_spider(urls_file: Path) -> None:
    from scrapy import Request, Spider
    from scrapy.crawler import CrawlerProcess

    urls = urls_file.read_text(encoding="utf-8").split()

    class Plain(Spider):
        name = "plain"

        async def start(self) -> AsyncIterator[Request]:
            for url in urls:
                yield Request(url, dont_filter=True)

        def parse(self, response: Response, **kwargs: Any) -> None:
            return None

    process = CrawlerProcess({"LOG_LEVEL": "ERROR", "CONCURRENT_REQUESTS": CRAWL["concurrency"],
                              "CONCURRENT_REQUESTS_PER_DOMAIN": CRAWL["per_host"], "DOWNLOAD_DELAY": 0,
                              "TELNETCONSOLE_ENABLED": False, "ROBOTSTXT_OBEY": False})
    process.crawl(Plain)
    process.start()


if __name__ == "__main__":
    _plain_spider(Path(sys.argv[1]))
