"""``finews worker [--once] [--json]``: help the distributed runs of ``finews crawl`` (crawler/distributed).

Needs ``redis.url``.  Runs until stopped by SIGINT or SIGTERM (the requests in
flight are finished first), or with ``--once`` until no run is in progress and
the queue is empty.  Ends with a summary of what this process stored.  Exit
status 0 when stopped so, 1 when Redis stayed away longer than
``redis.max_outage`` (or did not answer at the start), 2 without
``redis.url``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from crawler.config import AppConfig


def worker(config: AppConfig, *, once: bool, as_json: bool, verbose: bool) -> int:
    from crawler.cli import EXIT_FAILED, EXIT_OK
    from crawler.cli.errors import UsageError
    from crawler.cli.run import run_spider
    from crawler.distributed import connect, require

    if config.redis_url is None:
        raise UsageError("worker needs distributed mode: set redis.url in the settings")
    require(connect(config.redis_url), config.redis_url)
    overrides: dict[str, Any] = {"FINEWS_REDIS_ROLE": "worker", "FINEWS_WORKER_ONCE": once,
                                 "LOG_LEVEL": "INFO" if verbose else "ERROR"}
    report, stats = run_spider("worker", config, overrides, distributed=True)
    reason = str(stats.get("finish_reason", "unknown"))
    counts = report.counts()
    requests = int(stats.get("downloader/request_count", 0))
    if as_json:
        print(json.dumps({"finish_reason": reason, **counts, "requests": requests}))
    else:
        shown = ", ".join(f"{n} {status}" for status, n in counts.items())
        print(f"worker stopped ({reason}): {shown}; {requests} requests")
    if reason == "redis_unavailable":
        print("finews: worker: Redis stayed unreachable; stopped", file=sys.stderr)
    return EXIT_OK if reason in ("finished", "shutdown") else EXIT_FAILED
