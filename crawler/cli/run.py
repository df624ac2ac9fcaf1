"""Running a spider in this process and collecting what happened.

Twisted's reactor runs once per process: each command runs one crawl, and
``finews schedule`` starts a fresh process for every run.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings

from crawler.config import AppConfig
from crawler.report import RunReport
from crawler.settings import scrapy_settings


def project_settings(config: AppConfig, overrides: dict[str, Any] | None = None) -> Settings:
    """Scrapy settings for *config*, with command-line *overrides* on top."""
    settings = get_project_settings()
    settings.setdict(scrapy_settings(config), priority="project")
    settings.setdict(overrides or {}, priority="cmdline")
    return settings


def run_spider(
    spider: str, config: AppConfig, overrides: dict[str, Any] | None = None, **spider_args: Any
) -> tuple[RunReport, dict[str, Any]]:
    """Run *spider* to completion; returns the report and the final stats."""
    settings = project_settings(config, overrides)
    process = CrawlerProcess(settings, install_root_handler=True)
    logging.getLogger("scrapy").propagate = True
    crawler = process.create_crawler(spider)
    report = RunReport().connect(crawler)
    process.crawl(crawler, **spider_args)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    return report, stats
