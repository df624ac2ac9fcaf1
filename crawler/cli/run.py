"""Running a spider in this process and recording what happened.

Twisted's reactor runs once per process: each command runs one crawl, and
``finews schedule`` starts a fresh process for every run.  ``locked_run`` adds
what every writing command needs: the run lock, a migrated database opened
before the first request (an unreachable database fails fast), a run record,
and a status computed from the run's statistics, since Scrapy itself reports
success after failed requests.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawler.config import AppConfig
from crawler.lock import run_lock
from crawler.report import RunReport
from crawler.settings import distributed_settings, scrapy_settings
from pipelines.storage import Storage

if TYPE_CHECKING:
    from crawler.distributed.run import SharedRun


def project_settings(config: AppConfig, overrides: dict[str, Any] | None = None, *, distributed: bool = False) -> Settings:
    """Scrapy settings for *config*, with command-line *overrides* on top; *distributed*: the queue in Redis."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")  # also outside the project folder
    settings.setdict(scrapy_settings(config), priority="project")
    if distributed:
        settings.setdict(distributed_settings(config), priority="project")
    settings.setdict(overrides or {}, priority="cmdline")
    return settings


def run_spider(
    spider: str, config: AppConfig, overrides: dict[str, Any] | None = None, *, keep_items: bool = False,
    distributed: bool = False, **spider_args: Any
) -> tuple[RunReport, dict[str, Any]]:
    """Run *spider* to completion; returns the report (with the items under *keep_items*) and the final stats."""
    settings = project_settings(config, overrides, distributed=distributed)
    process = CrawlerProcess(settings)
    logging.getLogger("scrapy").propagate = True
    crawler = process.create_crawler(spider)
    report = RunReport(keep_items=keep_items).connect(crawler)
    process.crawl(crawler, **spider_args)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    return report, stats


@dataclass
class RunOutcome:
    report: RunReport
    stats: dict[str, Any]
    seconds: float
    status: str  # ok, failed, interrupted

    def counts(self) -> dict[str, int]:
        """Articles by outcome; listed articles skipped as unchanged count as unchanged."""
        counts = self.report.counts()
        counts["unchanged"] += int(self.stats.get("articles/skipped", 0))
        return counts

    @property
    def requests(self) -> int:
        return int(self.stats.get("downloader/request_count", 0))


def run_status(report: RunReport, stats: dict[str, Any]) -> str:
    """ok, failed (any failed article, list, or spider error) or interrupted (a signal stopped it)."""
    if stats.get("finish_reason") == "shutdown":
        return "interrupted"
    errors = any(key.startswith("spider_exceptions/") for key in stats) or stats.get("lists/failed", 0) or stats.get("redis/gather_failed")
    if report.failed or errors or stats.get("finish_reason") != "finished":
        return "failed"
    return "ok"


def locked_run(command: str, spider: str, config: AppConfig, overrides: dict[str, Any], **spider_args: Any) -> RunOutcome:
    """Run *spider* under the run lock, with a run record; raises LockBusy when another run is active.

    Runs of this host left ``running`` by a killed process are marked ``killed``
    first.  After a crawl, the health is assessed and, when it changed, the
    alerts webhook is told.
    """
    # Distributed mode: a crawl or a backfill shares its queue with the workers and is the run's
    # coordinator; a fetch runs in this process, under the same run lock.
    distributed = config.redis_url is not None and command in ("crawl", "backfill")
    with run_lock(config):
        storage = Storage.acquire(config.database_url)
        storage.mark_killed()
        run_id = storage.start_run(command)
        started = time.monotonic()
        status = "failed"
        outcome: RunOutcome | None = None
        try:
            shared = begin_shared_run(config, run_id) if distributed else None
            overrides = {**overrides, "FINEWS_RUN_ID": run_id, **({"FINEWS_REDIS_ROLE": "coordinator"} if distributed else {})}
            report, stats = run_spider(spider, config, overrides, distributed=distributed, **spider_args)
            if shared is not None:
                shared.gather(run_id, report, stats)
            status = run_status(report, stats)
            outcome = RunOutcome(report, stats, time.monotonic() - started, status)
        finally:
            counts = outcome.counts() if outcome else {}
            requests = outcome.requests if outcome else 0
            storage.finish_run(run_id, status=status, counts=counts, requests=requests, seconds=time.monotonic() - started)
            if command == "crawl":
                record_health(storage, config, run_id)
            storage.release()
        return outcome


def begin_shared_run(config: AppConfig, run_id: int) -> SharedRun:
    from crawler.distributed import Keys, connect
    from crawler.distributed.run import SharedRun

    assert config.redis_url is not None
    shared = SharedRun(connect(config.redis_url), Keys(config.redis_prefix))
    shared.begin(run_id)
    return shared


def record_health(storage: Storage, config: AppConfig, run_id: int) -> None:
    """Keep the health after run *run_id*; when it changed, POST the alert (failures only warn)."""
    from crawler import alerts
    from crawler.health import assess

    now = datetime.now(UTC)
    health = assess(storage, [lst.url for lst in config.lists], now, config.health)
    previous = storage.previous_health(run_id)
    storage.set_health(run_id, health.status)
    if config.webhook_url and alerts.health_changed(previous, health):
        body = alerts.message(health, run_id=run_id, at=now, site=str(config.site_dir))
        error = alerts.post(config.webhook_url, body)
        if error is not None:
            print(f"finews: alerts.webhook_url: could not send the {body['status']} alert: {error}", file=sys.stderr)
