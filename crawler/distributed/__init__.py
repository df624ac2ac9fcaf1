"""Distributed mode: many finews processes share one run through Redis (SPEC §10).

With ``redis.url`` set, ``finews crawl`` is a run's *coordinator* and
``finews worker`` processes, on this machine or others, help it.  What they
share, and where:

* the request queue and the per-run request dupefilter live in Redis, through
  scrapy-redis (crawler/distributed/queue.py), with requests as JSON
  (crawler/distributed/serializer.py), never pickle;
* the articles, the backlog and the run records live in the one PostgreSQL
  database every process names in ``database.url``;
* the run lock is a Redis key with a lease (crawler/distributed/run.py): two
  coordinators, wherever they run, never overlap;
* the per-host delay is reserved in Redis (crawler/distributed/politeness.py),
  so ``crawl.delay`` holds across every process.

Nothing correct depends on Redis keeping what it holds: every article a run
requests is in the database's backlog before its request is queued, so the
requests a killed worker had taken, or a Redis restart lost, are fetched by the
next run (pipelines/backlog.py).  Redis only lets the processes share the work.

Key names all start with ``redis.prefix`` (default ``finews``); :class:`Keys`
lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import redis

# Short timeouts: a Redis that went away must be noticed in seconds, not minutes.
REDIS_PARAMS: dict[str, Any] = {"socket_timeout": 10, "socket_connect_timeout": 5, "health_check_interval": 30}


@dataclass(frozen=True)
class Keys:
    """The Redis keys of one finews installation."""

    prefix: str = "finews"

    @classmethod
    def of(cls, settings: Any) -> Keys:
        """The keys ``FINEWS_REDIS_PREFIX`` names in Scrapy *settings*."""
        return cls(settings.get("FINEWS_REDIS_PREFIX") or cls.prefix)

    @property
    def queue(self) -> str:
        return f"{self.prefix}:requests"

    @property
    def dupefilter(self) -> str:
        """Fingerprints of the requests queued in the current run; emptied when a run begins."""
        return f"{self.prefix}:dupefilter"

    @property
    def rejected(self) -> str:
        """Queue entries that were not requests (a crafted pickle, say), kept for a look: newest first."""
        return f"{self.prefix}:rejected"

    @property
    def lock(self) -> str:
        return f"{self.prefix}:lock"

    @property
    def run(self) -> str:
        """The id of the run in progress (absent between runs)."""
        return f"{self.prefix}:run"

    def worker(self, name: str) -> str:
        return f"{self.prefix}:worker:{name}"

    @property
    def workers(self) -> str:
        return f"{self.prefix}:worker:*"

    def of_run(self, run_id: int, what: str) -> str:
        return f"{self.prefix}:run:{run_id}:{what}"

    def host(self, host: str) -> str:
        return f"{self.prefix}:host:{host}"


class RedisUnavailable(RuntimeError):
    """Redis did not answer when the command started."""


def require(client: redis.Redis, url: str) -> redis.Redis:
    """*client* once it answered a PING; RedisUnavailable (one line, URL without password) when not."""
    from redis.exceptions import RedisError

    try:
        client.ping()
    except RedisError as exc:
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        shown = parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]).geturl()
        raise RedisUnavailable(f"Redis at {shown} is not answering: {exc}") from None
    return client


def connect(url: str) -> redis.Redis:
    """A client for *url* (nothing is sent until the first command)."""
    import redis

    return redis.Redis.from_url(url, **REDIS_PARAMS)
