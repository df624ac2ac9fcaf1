"""Scrapy settings for finews: the fixed project settings, and how settings.yaml reaches Scrapy.

``scrapy crawl`` and the ``finews`` CLI both read this module (scrapy.cfg names it);
importing it reads no file.  Whoever starts the process loads settings.yaml once
and hands it over as the ``FINEWS_*`` keys of :func:`scrapy_settings`: the CLI
directly; under ``scrapy crawl``, :func:`load_settings_file` does it when the
crawler is created (``$FINEWS_CONFIG`` or ``./settings.yaml``), unless the keys
are there already.  Components read only those keys, through ``from_crawler``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

    from crawler.config import AppConfig

BOT_NAME = "finews"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Stage order; pipelines/__init__.py documents the same numbers.
ITEM_PIPELINES = {
    "pipelines.validate.ValidatePipeline": 100,
    "pipelines.clean.CleanPipeline": 200,
    "pipelines.dates.DatesPipeline": 300,
    "pipelines.post.PostPipeline": 400,
    "pipelines.store.StorePipeline": 800,
}

EXTENSIONS = {
    "crawler.failures.FailureLedger": 100,  # failed articles are remembered (pipelines/backlog.py)
    "crawler.cli.progress.ProgressLine": 500,  # only with FINEWS_PROGRESS (a terminal)
    # Off (REMOTE_CONTROL_ENABLED below); listed as None so that Scrapy does not even import
    # it: it brings aiohttp's web server, about 0.13 s of every run's start.
    "scrapy.extensions.remote_control.RemoteControl": None,
}

DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.AllowedHostsMiddleware": 50,
    "crawler.middlewares.PartialResponseMiddleware": 560,  # before RetryMiddleware (550) sees the response
    "crawler.middlewares.RetryAfterMiddleware": 570,  # sees a 429 before it is retried; holds the retry
    "crawler.middlewares.NonTextResponseMiddleware": 595,  # before HttpCompression (590) unpacks a cut body
    "crawler.middlewares.HostConcurrencyMiddleware": 650,  # above every middleware that makes a new request
}

# Only http(s): a crafted URL must never read local files (Scrapy security notes).
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}
# A forged certificate must not put a stranger's text on the site: TLS is verified against
# the system's CA store (Scrapy's default is not to verify).
DOWNLOAD_VERIFY_CERTIFICATES = True
# A run whose peak RSS passes this ends as failed (finish reason memusage_exceeded, exit 1)
# instead of meeting the OOM killer; a normal run stays under 200 MB.
MEMUSAGE_LIMIT_MB = 1024
MEMUSAGE_WARNING_MB = 512
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
ROBOTSTXT_OBEY = False  # the endpoints are APIs and article pages named by id, not a site walk
COOKIES_ENABLED = False
DOWNLOAD_FAIL_ON_DATALOSS = True
REDIRECT_MAX_TIMES = 3
# crawl.delay is the least time between two requests to one host, as the README says;
# Scrapy's default jitter (0.5) would space them anywhere from 0.5 to 1.5 times the delay.
DOWNLOAD_DELAY_JITTER = 0
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# Scrapy runs each response's output through this many tasks, created afresh per response: an
# article page yields one item, and 100 tasks per page cost more than parsing it.  The store still
# batches items across responses, which Scrapy handles concurrently.
CONCURRENT_ITEMS = 8
# Scrapy re-reads and re-parses a generator callback's source at every call to warn about a
# `return value` in it (a bound method misses its cache); tests/crawler/test_spider_callbacks.py
# checks the spiders' callbacks once instead.
WARN_ON_GENERATOR_RETURN_VALUE = False
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"


def scrapy_settings(config: AppConfig) -> dict[str, Any]:
    """The ``FINEWS_*`` keys and the Scrapy knobs that settings.yaml controls."""
    crawl = config.crawl
    return {
        "FINEWS_SITE_DIR": str(config.site_dir),
        "FINEWS_BASE_URL": config.base_url,
        "FINEWS_DATABASE_URL": config.database_url,
        "FINEWS_FSYNC_FILES": config.fsync_files,
        "FINEWS_PAGE_SIZE": config.page_size,
        "FINEWS_SOURCES": dict(config.sources),
        "FINEWS_LISTS": [vars(lst) for lst in config.lists],
        "FINEWS_ALLOWED_HOSTS": sorted(config.hosts()),
        "FINEWS_CATEGORIES": dict(config.categories),
        "FINEWS_NEAR_DUPLICATES": config.dedupe.near_duplicates,
        "FINEWS_NEAR_SIMILARITY": config.dedupe.near_similarity,
        "FINEWS_NEAR_WINDOW_DAYS": config.dedupe.near_window_days,
        "FINEWS_MAX_ATTEMPTS": crawl.max_attempts,
        "FINEWS_BACKOFF_SECONDS": crawl.backoff_s,
        "CONCURRENT_REQUESTS": crawl.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.per_host,
        "DOWNLOAD_DELAY": crawl.delay,
        "RETRY_TIMES": crawl.retries,
        "DOWNLOAD_TIMEOUT": crawl.timeout,
        "DOWNLOAD_MAXSIZE": crawl.max_size_mb * 1024 * 1024,
        "DOWNLOAD_WARNSIZE": crawl.max_size_mb * 1024 * 1024 // 2,
        "USER_AGENT": crawl.user_agent,
    }


def distributed_settings(config: AppConfig) -> dict[str, Any]:
    """Distributed mode (``redis.url``): the queue, dupefilter, run extension and host delay in Redis.

    For the processes that share a run's queue (``crawl``, ``backfill`` and ``worker``), on top of
    :func:`scrapy_settings`.
    """
    from crawler.distributed import REDIS_PARAMS, Keys

    assert config.redis_url is not None
    keys = Keys(config.redis_prefix)
    return {
        "FINEWS_REDIS_URL": config.redis_url,
        "FINEWS_REDIS_PREFIX": config.redis_prefix,
        "FINEWS_REDIS_OUTAGE_S": config.redis_max_outage,
        "SCHEDULER": "crawler.distributed.queue.RedisScheduler",
        "SCHEDULER_QUEUE_CLASS": "crawler.distributed.queue.JsonPriorityQueue",
        "SCHEDULER_SERIALIZER": "crawler.distributed.serializer",
        "SCHEDULER_PERSIST": True,  # the queue is the run's, not this process's: never flushed at close
        "SCHEDULER_QUEUE_KEY": keys.queue,
        "SCHEDULER_DUPEFILTER_KEY": keys.dupefilter,
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "REDIS_URL": config.redis_url,
        "REDIS_PARAMS": REDIS_PARAMS,
        # crawl.delay is reserved per host in Redis across every process (politeness.py);
        # Scrapy's own per-process delay on top would only slow each process down.
        "FINEWS_HOST_DELAY": config.crawl.delay,
        "DOWNLOAD_DELAY": 0,
        # Every process's store waits for the one writer lock of the database (pipelines/records.py),
        # and holds its reactor while it waits: fewer, larger batches keep the processes apart.
        "FINEWS_STORE_BATCH_SECONDS": 1.0,
        "EXTENSIONS": {**EXTENSIONS, "crawler.distributed.run.DistributedRun": 200},
        # Last before the download: the wait for the host's slot is as close to the request as it can be.
        "DOWNLOADER_MIDDLEWARES": {**DOWNLOADER_MIDDLEWARES, "crawler.distributed.politeness.SharedHostDelayMiddleware": 950},
    }



def load_settings_file(settings: BaseSettings) -> None:
    """Under ``scrapy crawl``: settings.yaml as ``FINEWS_*`` keys, unless the process's starter set them.

    Called from the spiders' ``update_settings``, while Scrapy creates the crawler:
    a bad file stops ``scrapy crawl`` with its one-line reason (Scrapy's usage
    error, exit 2), before anything is fetched.
    """
    if settings.get("FINEWS_SOURCES") is not None:
        return  # the finews CLI loaded the file and set the keys itself
    from scrapy.exceptions import UsageError

    from crawler.config import ConfigError, load_config

    try:
        config = load_config()
    except ConfigError as exc:
        raise UsageError(str(exc), print_help=False) from None
    settings.setdict(scrapy_settings(config), priority="spider")
