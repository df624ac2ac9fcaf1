"""Load ``settings.yaml``: defaults in code, the file overrides only what it names.

``load_config(path)`` returns a frozen :class:`AppConfig`.  The file is found from
the argument, else ``$FINEWS_CONFIG``, else ``./settings.yaml`` (absent → all
defaults).  Unknown keys and bad values raise :class:`ConfigError` naming the key
and the file; relative paths (``site.dir``, SQLite files) are relative to the
settings file's folder.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from crawler.config_values import ConfigError, ListConfig, check_list_names, check_slug, check_str, check_url, sqlite_file
from crawler.sources import Source, source_class

__all__ = ["AppConfig", "ConfigError", "load_config", "parse_duration"]

CONFIG_ENV = "FINEWS_CONFIG"
DEFAULT_FILE = "settings.yaml"
# The sources configured when settings.yaml names none; each brings its own block's defaults.
DEFAULT_SOURCES = ("eastmoney",)

# Politeness defaults for the real site: a few requests at a time, spaced out.
CRAWL_DEFAULTS: dict[str, Any] = {
    "concurrency": 8,
    "per_host": 2,
    "delay": 0.5,
    "retries": 3,
    "timeout": 30.0,
    "max_pages": 5,
    "max_size_mb": 8,
    "user_agent": "finews (+https://github.com/finews/finews)",
    # Failed articles (README "Failures and the backlog"): the next attempt waits
    # `backoff`, four times longer after each further failure; the attempt that
    # reaches `max_attempts` parks the article.  15m, 1h, parked: an outage of the
    # source shorter than an hour and a quarter parks nothing.
    "max_attempts": 3,
    "backoff": "15m",
}

# `finews status --check` and the alerts webhook (SPEC §3, §4).
HEALTH_DEFAULTS: dict[str, Any] = {"max_age": "30m", "failing_runs": 3}
ALERTS_DEFAULTS: dict[str, Any] = {"webhook_url": None}

# Near-duplicates (README "Storage"): a new code whose text shares at least
# `near_similarity` of its 3-character shingles with an article published within
# `near_window_days` is recorded; `publish` posts it anyway, `skip` makes it an alias.
DEDUPE_DEFAULTS: dict[str, Any] = {
    "near_duplicates": "publish",
    "near_similarity": 0.5,
    "near_window_days": 2,
}
NEAR_ACTIONS = ("publish", "skip")
FSYNC_MODES = ("batch", "file")
MAX_PAGE_SIZE = 250  # SPEC §3: post links per page, at most

DEFAULTS: dict[str, Any] = {
    # fsync: "batch" makes each batch's renames durable with one fsync per folder at its
    # commit; "file" also fsyncs every post file's data before its rename (slower disks
    # pay a flush per post; without it a power cut can leave a post to `finews rebuild`).
    # url, title, feed_items, page_size: what readers get (SPEC §6), written into the
    # site's _config.yml by `finews init`; page_size also bounds each archive page finews writes.
    "site": {
        "dir": "site", "base_url": "//finews.withounder.com", "fsync": "batch",
        "url": None, "title": "finews", "feed_items": 50, "page_size": 50,
    },
    "database": {"url": "sqlite:///finews.db"},
    "sources": {},  # filled from each source's own defaults by merge_sources
    "categories": {},
    "crawl": CRAWL_DEFAULTS,
    "dedupe": DEDUPE_DEFAULTS,
    "health": HEALTH_DEFAULTS,
    "alerts": ALERTS_DEFAULTS,
    "redis": {"url": None, "prefix": "finews", "max_outage": "1m"},
}

DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd]?)$")
DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}

@dataclass(frozen=True)
class CrawlConfig:
    concurrency: int
    per_host: int
    delay: float
    retries: int
    timeout: float
    max_pages: int
    max_size_mb: int
    user_agent: str
    max_attempts: int = 3
    backoff_s: float = 900.0


@dataclass(frozen=True)
class DedupeConfig:
    near_duplicates: str  # "publish" or "skip"
    near_similarity: float  # 0 < x <= 1
    near_window_days: float


@dataclass(frozen=True)
class HealthConfig:
    max_age_s: float  # the last finished crawl must be younger than this
    failing_runs: int  # a list failing (or empty) this many runs in a row is unhealthy


@dataclass(frozen=True)
class AppConfig:
    path: Path | None  # the settings file read, None when all defaults
    site_dir: Path
    base_url: str
    database_url: str
    sources: Mapping[str, Source]  # by name, in settings order
    categories: Mapping[str, str] = field(default_factory=dict)
    crawl: CrawlConfig = field(default_factory=lambda: _crawl(CRAWL_DEFAULTS, "crawl", ""))
    dedupe: DedupeConfig = field(default_factory=lambda: _dedupe(DEDUPE_DEFAULTS, ""))
    health: HealthConfig = field(default_factory=lambda: _health(HEALTH_DEFAULTS, ""))
    webhook_url: str | None = None
    fsync_files: bool = False  # site.fsync: file
    site_url: str | None = None  # absolute URL of the built site (feeds, SEO tags)
    site_title: str = "finews"
    feed_items: int = 50  # entries per Atom feed
    page_size: int = 50  # post links per home, category or archive page
    redis_url: str | None = None  # distributed mode (crawler/distributed)
    redis_prefix: str = "finews"  # the start of every Redis key this installation uses
    redis_max_outage: float = 60.0  # seconds a distributed process waits for Redis before it gives up

    @property
    def lists(self) -> tuple[ListConfig, ...]:
        """The lists of every enabled source, in settings order: what ``crawl`` walks."""
        return tuple(lst for source in self.sources.values() if source.enabled for lst in source.lists)

    def hosts(self) -> frozenset[str]:
        """The hosts of every enabled source: the only hosts the crawler fetches."""
        return frozenset().union(*(source.hosts() for source in self.sources.values() if source.enabled))


def find_config(path: str | Path | None = None) -> Path | None:
    """The settings file to read: *path*, else $FINEWS_CONFIG, else ./settings.yaml if present."""
    if path is not None:
        return Path(path)
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    default = Path(DEFAULT_FILE)
    return default if default.exists() else None


def load_config(path: str | Path | None = None) -> AppConfig:
    """Read and validate the settings file; see the module docstring."""
    file = find_config(path)
    data: Any = {}
    where = "built-in defaults"
    if file is not None:
        where = str(file)
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{file}: cannot read settings file: {exc.strerror}") from exc
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{file}: not valid YAML: {_yaml_reason(exc)}") from exc
    sources = data.pop("sources", None) if isinstance(data, dict) else None
    merged = merge(DEFAULTS, data, "", where)
    merged["sources"] = merge_sources(sources, where)
    base = file.resolve().parent if file is not None else Path.cwd()
    return build(merged, base, where, file.resolve() if file else None)


def merge(defaults: Any, override: Any, key: str, where: str) -> Any:
    """Overlay *override* on *defaults*; mappings merge key by key, anything else replaces."""
    if isinstance(defaults, dict):
        if override is None:
            return defaults
        if not isinstance(override, dict):
            raise ConfigError(f"{where}: {key or 'the file'} must be a mapping")
        if key == "categories":
            return dict(override)
        out = dict(defaults)
        for name, value in override.items():
            full = f"{key}.{name}" if key else str(name)
            if name not in defaults:
                known = ", ".join(sorted(defaults)) or "none"
                raise ConfigError(f"{where}: unknown key {full!r} (known: {known})")
            out[name] = merge(defaults[name], value, full, where)
        return out
    return override


def merge_sources(override: Any, where: str) -> dict[str, tuple[type[Source], dict[str, Any]]]:
    """Each configured source's class and merged block: the default sources, then those the file adds.

    A block may name its source's package with ``module`` (default
    ``crawler.sources.<name>``), so a source outside this package is registered by
    settings alone.
    """
    if override is None:
        override = {}
    if not isinstance(override, dict):
        raise ConfigError(f"{where}: sources must be a mapping")
    out: dict[str, tuple[type[Source], dict[str, Any]]] = {}
    for name in [*DEFAULT_SOURCES, *(n for n in override if n not in DEFAULT_SOURCES)]:
        block = override.get(name)
        if block is None:
            block = {}
        if not isinstance(block, dict):
            raise ConfigError(f"{where}: sources.{name} must be a mapping")
        module = block.get("module")
        if module is not None:
            check_str(module, f"sources.{name}.module", where)
        try:
            cls = source_class(str(name), module)
        except LookupError as exc:
            raise ConfigError(f"{where}: sources.{name}: {exc}") from None
        extra = {k: block[k] for k in ("module", "enabled") if k in block}
        rest = {k: v for k, v in block.items() if k not in extra}
        out[str(name)] = (cls, {**merge(dict(cls.DEFAULTS), rest, f"sources.{name}", where), **extra})
    return out


def build(data: dict[str, Any], base: Path, where: str, path: Path | None) -> AppConfig:
    """Validate the merged mapping and turn it into an :class:`AppConfig`."""
    site = data["site"]
    site_dir = Path(check_str(site["dir"], "site.dir", where))
    base_url = check_str(site["base_url"], "site.base_url", where, empty=True).rstrip("/")
    if site["fsync"] not in FSYNC_MODES:
        raise ConfigError(f"{where}: site.fsync must be one of {', '.join(FSYNC_MODES)}, got {site['fsync']!r}")
    for name, top in (("feed_items", 1000), ("page_size", MAX_PAGE_SIZE)):
        value = site[name]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            raise ConfigError(f"{where}: site.{name} must be a whole number from 1 to {top}, got {value!r}")
    site_url = None if site["url"] is None else check_url(site["url"], "site.url", where).rstrip("/")
    crawl = _crawl(data["crawl"], "crawl", where)
    sources = {name: cls.configure(block, max_pages=crawl.max_pages, where=where) for name, (cls, block) in data["sources"].items()}
    check_list_names([lst for source in sources.values() for lst in source.lists], "sources.*.lists", where)
    categories = {str(outlet): check_slug(slug, f"categories.{outlet}", where) for outlet, slug in (data["categories"] or {}).items()}
    database_url = _database_url(data["database"]["url"], base, where)
    redis_url, redis_prefix, redis_max_outage = _redis(data["redis"], database_url, where)
    return AppConfig(
        path=path,
        site_dir=site_dir if site_dir.is_absolute() else base / site_dir,
        base_url=base_url,
        database_url=database_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        redis_max_outage=redis_max_outage,
        sources=sources,
        categories=categories,
        crawl=crawl,
        dedupe=_dedupe(data["dedupe"], where),
        health=_health(data["health"], where),
        fsync_files=site["fsync"] == "file",
        site_url=site_url,
        site_title=check_str(site["title"], "site.title", where),
        feed_items=site["feed_items"],
        page_size=site["page_size"],
        webhook_url=(
            None if data["alerts"]["webhook_url"] is None else check_url(data["alerts"]["webhook_url"], "alerts.webhook_url", where)
        ),
    )


def _redis(block: Mapping[str, Any], database_url: str, where: str) -> tuple[str | None, str, float]:
    """redis.url, redis.prefix and redis.max_outage (seconds), checked."""
    url, prefix = block["url"], block["prefix"]
    if url is not None and not str(url).startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"{where}: redis.url must be a redis:// URL or null, got {url!r}")
    if not isinstance(prefix, str) or not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", prefix):
        raise ConfigError(f"{where}: redis.prefix must be 1 to 64 letters, digits, '_', '.' or '-', got {prefix!r}")
    if url is not None and sqlite_file(database_url) is not None:
        # Workers on several machines cannot share a SQLite file, and SQLite has one writer at a time.
        raise ConfigError(f"{where}: redis.url (distributed mode) needs a PostgreSQL database.url, not SQLite")
    try:
        max_outage = parse_duration(block["max_outage"])
    except ValueError as exc:
        raise ConfigError(f"{where}: redis.max_outage: {exc}") from None
    return url, prefix, max_outage


def _database_url(value: Any, base: Path, where: str) -> str:
    url = check_str(value, "database.url", where)
    try:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
    except Exception as exc:  # SQLAlchemy raises several types for bad URLs
        raise ConfigError(f"{where}: database.url is not a database URL: {url!r}") from exc
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ConfigError(f"{where}: database.url must be sqlite or postgresql, got {parsed.drivername!r}")
    db = sqlite_file(url)
    if db is not None and not db.is_absolute():
        url = parsed.set(database=str(base / db)).render_as_string(hide_password=False)
    return url


def _crawl(raw: Mapping[str, Any], key: str, where: str) -> CrawlConfig:
    def num(name: str, kind: type, minimum: float) -> Any:
        value = raw[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)):
            raise ConfigError(f"{where}: {key}.{name} must be a {'whole ' if kind is int else ''}number, got {value!r}")
        if value < minimum:
            raise ConfigError(f"{where}: {key}.{name} must be at least {minimum}, got {value!r}")
        return kind(value)

    return CrawlConfig(
        concurrency=num("concurrency", int, 1),
        per_host=num("per_host", int, 1),
        delay=num("delay", float, 0),
        retries=num("retries", int, 0),
        timeout=num("timeout", float, 0.1),
        max_pages=num("max_pages", int, 1),
        max_size_mb=num("max_size_mb", int, 1),
        user_agent=check_str(raw["user_agent"], f"{key}.user_agent", where),
        max_attempts=num("max_attempts", int, 1),
        backoff_s=_duration(raw["backoff"], f"{key}.backoff", where, zero=True),
    )


def parse_duration(value: Any, *, zero: bool = False) -> float:
    """Seconds in ``30s``, ``5m``, ``1h``, ``2d`` or a bare number of seconds; ValueError otherwise."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = DURATION_RE.match(str(value).strip())
        if not match:
            raise ValueError(f"expected a duration such as 30s, 5m or 1h, got {value!r}")
        seconds = float(match.group(1)) * DURATION_UNITS[match.group(2)]
    if seconds < 0 or (seconds == 0 and not zero):
        raise ValueError(f"expected a {'' if zero else 'positive '}duration such as 30s, 5m or 1h, got {value!r}")
    return seconds


def _duration(value: Any, key: str, where: str, *, zero: bool = False) -> float:
    try:
        return parse_duration(value, zero=zero)
    except ValueError as exc:
        raise ConfigError(f"{where}: {key}: {exc}") from None


def _health(raw: Mapping[str, Any], where: str) -> HealthConfig:
    runs = raw["failing_runs"]
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        raise ConfigError(f"{where}: health.failing_runs must be a whole number >= 1, got {runs!r}")
    return HealthConfig(max_age_s=_duration(raw["max_age"], "health.max_age", where), failing_runs=runs)


def _dedupe(raw: Mapping[str, Any], where: str) -> DedupeConfig:
    action = raw["near_duplicates"]
    if action not in NEAR_ACTIONS:
        raise ConfigError(f"{where}: dedupe.near_duplicates must be one of {', '.join(NEAR_ACTIONS)}, got {action!r}")
    similarity = raw["near_similarity"]
    if isinstance(similarity, bool) or not isinstance(similarity, (int, float)) or not 0 < similarity <= 1:
        raise ConfigError(f"{where}: dedupe.near_similarity must be a number above 0 and at most 1, got {similarity!r}")
    days = raw["near_window_days"]
    if isinstance(days, bool) or not isinstance(days, (int, float)) or days < 0:
        raise ConfigError(f"{where}: dedupe.near_window_days must be a number of days, at least 0, got {days!r}")
    return DedupeConfig(near_duplicates=action, near_similarity=float(similarity), near_window_days=float(days))


def _yaml_reason(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or "syntax error"
    return f"{problem} at line {mark.line + 1}" if mark is not None else problem
