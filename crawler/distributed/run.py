"""One distributed run: its lock, what its processes share, and when it is over.

``RunLock`` is the run lock of distributed mode: a Redis key set only if absent,
with a lease (``LEASE_S``) that a thread of the holder renews, so two
coordinators on different machines never run at once, and a coordinator killed
with SIGKILL blocks the next run for one lease at most.

``SharedRun`` is what the processes of a run keep in Redis: the run's id, the
codes it claimed (a list page's early stop must see every process's claims),
its per-list figures, each article's result, and the workers' heartbeats.

``DistributedRun`` is the Scrapy extension every distributed process runs.  It
publishes a heartbeat (``HEARTBEAT_S``) saying whether the process is busy, asks
the engine for the next queued request when it is idle (Scrapy's own idle poll
is every 5 s), records each article's result for the coordinator's summary, and
answers ``spider_idle``:

* a worker never closes while it is wanted: it waits for the next request, of
  this run or the next; with ``FINEWS_WORKER_ONCE`` it leaves when no run is in
  progress and the queue is empty;
* the coordinator closes when the queue is empty and no other process has been
  busy for ``QUIET_S`` (long enough for every worker to have published a
  heartbeat since it last took a request);
* either gives up (finish reason ``redis_unavailable``, the run fails) when
  Redis has not answered for ``FINEWS_REDIS_OUTAGE_S`` seconds.  Until then it
  waits, asking Redis once per heartbeat: never a busy loop.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError
from scrapy import signals
from scrapy.exceptions import CloseSpider, DontCloseSpider, NotConfigured

from crawler.distributed import Keys, connect
from crawler.lock import LockBusy
from crawler.report import Result, RunReport, target_failed

if TYPE_CHECKING:
    import redis
    from scrapy.crawler import Crawler

    from crawler.items import ArticleItem

logger = logging.getLogger(__name__)

LEASE_S = 60  # the run lock's lease, renewed every LEASE_S / 4
HEARTBEAT_S = 0.5
WORKER_TTL_S = 10  # a worker whose heartbeat is older than this is gone
QUIET_S = 1.5
RUN_TTL_S = 2 * 86400  # a run's shared keys outlive it this long (status, a late worker)
OUTAGE_S = 60.0
# The statistics a run's summary adds up over its processes (each sends what it added since it last did).
SHARED_STATS = ("downloader/request_count", "spider_exceptions/count", "articles/skipped", "articles/requested", "articles/deferred",
                "lists/entries", "lists/pages", "lists/failed", "backlog/requested", "backfill/newer_than_until",
                "backfill/older_than_since", "backfill/undated_unsure", "backfill/outside_range", "backfill/resumed",
                "backfill/lists_complete")

_RENEW = ("if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('pexpire', KEYS[2], ARGV[2]) "
          "return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0")
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[2]) return redis.call('del', KEYS[1]) end return 0"


def text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class RunLock:
    """The distributed run lock; ``with RunLock(client, keys):`` raises LockBusy when a run holds it."""

    def __init__(self, client: redis.Redis, keys: Keys, lease_s: float = LEASE_S) -> None:
        self.client, self.keys, self.lease_ms = client, keys, int(lease_s * 1000)
        self.token = f"{process_name()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost = False

    def __enter__(self) -> RunLock:
        if not self.client.set(self.keys.lock, self.token, nx=True, px=self.lease_ms):
            holder = self.client.get(self.keys.lock)
            shown = holder.decode("utf-8", "replace") if isinstance(holder, bytes) else "another process"
            raise LockBusy(f"another finews run is active (Redis lock {self.keys.lock} held by {shown}); try again later")
        self._thread = threading.Thread(target=self._renew, name="finews-run-lock", daemon=True)
        self._thread.start()
        return self

    def _renew(self) -> None:
        while not self._stop.wait(self.lease_ms / 4000):
            try:
                if not self.client.eval(_RENEW, 2, self.keys.lock, self.keys.run, self.token, self.lease_ms):
                    self.lost = True
                    logger.error("the Redis run lock %s was lost (expired or taken over)", self.keys.lock)
                    return
            except RedisError as exc:  # the lease still runs; the next renewal may get through
                logger.warning("could not renew the Redis run lock: %s", exc)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            self.client.eval(_RELEASE, 2, self.keys.lock, self.keys.run, self.token)
        except RedisError as error:  # the lease frees it soon enough
            logger.warning("could not release the Redis run lock (it expires in %d s): %s", self.lease_ms // 1000, error)


class SharedRun:
    """What the processes of the current run share in Redis."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.client, self.keys = client, keys
        self._current: tuple[float, int | None] = (0.0, None)

    @classmethod
    def from_settings(cls, settings: Any) -> SharedRun | None:
        url = settings.get("FINEWS_REDIS_URL")
        return cls(connect(url), Keys.of(settings)) if url else None

    # --- the run ----------------------------------------------------------------------
    def begin(self, run_id: int, lease_s: float = LEASE_S) -> None:
        """Run *run_id* begins (under the run lock): a fresh dupefilter, and the workers learn its id."""
        pipe = self.client.pipeline()
        pipe.delete(self.keys.dupefilter)
        pipe.set(self.keys.run, run_id, px=int(lease_s * 1000))  # renewed with the lock
        pipe.execute()
        self._current = (time.monotonic(), run_id)

    def current(self) -> int | None:
        """The id of the run in progress, or None (asked at most once per heartbeat)."""
        asked, run_id = self._current
        if time.monotonic() - asked >= HEARTBEAT_S:
            value = self.client.get(self.keys.run)
            run_id = int(value) if value is not None else None
            self._current = (time.monotonic(), run_id)
        return run_id

    @property
    def last_known_run(self) -> int | None:
        """The run id :meth:`current` last saw, without asking Redis."""
        return self._current[1]

    def queue_length(self) -> int:
        return int(self.client.zcard(self.keys.queue))

    def _expiring(self, key: str, command: str, *args: Any) -> None:
        """Run *command* on *key* and keep the key RUN_TTL_S longer, in one round trip."""
        pipe = self.client.pipeline()
        getattr(pipe, command)(key, *args)
        pipe.expire(key, RUN_TTL_S)
        pipe.execute()

    # --- claims and figures ------------------------------------------------------------
    def claim(self, run_id: int, codes: Iterable[str]) -> None:
        codes = list(codes)
        if codes:
            self._expiring(self.keys.of_run(run_id, "claimed"), "sadd", *codes)

    def claimed(self, run_id: int, codes: Iterable[str]) -> set[str]:
        codes = list(codes)
        if not codes:
            return set()
        flags = self.client.smismember(self.keys.of_run(run_id, "claimed"), codes)
        return {code for code, flag in zip(codes, flags, strict=True) if flag}

    def count(self, run_id: int, url: str, field: str, n: int = 1) -> None:
        self._expiring(self.keys.of_run(run_id, "lists"), "hincrby", f"{field} {url}", n)

    def figures(self, run_id: int) -> dict[str, dict[str, int]]:
        """list URL → {requests, items, failures, requested} of every process of the run."""
        figures: dict[str, dict[str, int]] = {}
        for field_url, n in self.client.hgetall(self.keys.of_run(run_id, "lists")).items():
            field, url = text(field_url).split(" ", 1)
            figures.setdefault(url, {"requests": 0, "items": 0, "failures": 0, "requested": 0})[field] = int(n)
        return figures

    def result(self, run_id: int, code: str, status: str, detail: str) -> None:
        self._expiring(self.keys.of_run(run_id, "results"), "hset", code, json.dumps([status, detail], ensure_ascii=False))

    def results(self, run_id: int) -> dict[str, tuple[str, str]]:
        """Article code → its last result in the run: (new, updated, …, failed or quarantined; post path or reason)."""
        rows = self.client.hgetall(self.keys.of_run(run_id, "results"))
        return {text(k): tuple(json.loads(v)) for k, v in rows.items()}

    def add_stats(self, run_id: int, deltas: dict[str, int]) -> None:
        key = self.keys.of_run(run_id, "stats")
        pipe = self.client.pipeline()
        for name, n in deltas.items():
            pipe.hincrby(key, name, n)
        pipe.expire(key, RUN_TTL_S)
        pipe.execute()

    def gather(self, run_id: int, report: RunReport, stats: dict[str, Any]) -> None:
        """Put what every process of run *run_id* did into the coordinator's *report* and *stats*.

        When Redis does not answer, the coordinator's own figures stand, and the
        run counts as failed (``stats["redis/gather_failed"]``)."""
        try:
            self._gather(run_id, report, stats)
        except RedisError as exc:
            logger.error("could not read the other processes' results from Redis: %s", exc)
            stats["redis/gather_failed"] = 1

    def _gather(self, run_id: int, report: RunReport, stats: dict[str, Any]) -> None:
        for code, (status, detail) in self.results(run_id).items():
            known = report.results.get(code)
            report.results[code] = Result(code, status, detail, known.targets if known else [])
        for name, n in self.client.hgetall(self.keys.of_run(run_id, "stats")).items():
            stats[text(name)] = int(n)

    # --- workers ---------------------------------------------------------------------
    def beat(self, name: str, state: dict[str, Any]) -> None:
        self.client.set(self.keys.worker(name), json.dumps(state), px=WORKER_TTL_S * 1000)

    def leave(self, name: str) -> None:
        self.client.delete(self.keys.worker(name))

    def workers(self) -> dict[str, dict[str, Any]]:
        """Every process seen in the last WORKER_TTL_S seconds: name → its last heartbeat."""
        names = list(self.client.scan_iter(match=self.keys.workers, count=500))
        found = {}
        for key, value in zip(names, self.client.mget(names) if names else [], strict=True):
            if value is not None:
                found[text(key).removeprefix(self.keys.worker(""))] = json.loads(value)
        return found


def redis_report(client: redis.Redis, keys: Keys) -> dict[str, Any]:
    """What ``finews status`` shows of distributed mode: the run, the queue, the workers seen recently."""
    shared = SharedRun(client, keys)
    now = time.time()
    workers = [
        {"name": name, "role": w.get("role"), "busy": bool(w.get("busy")), "seen_s_ago": round(now - float(w.get("seen", now)), 1)}
        for name, w in sorted(shared.workers().items())
    ]
    return {"run": shared.current(), "queue": shared.queue_length(), "rejected": int(client.llen(keys.rejected)), "workers": workers}


class DistributedRun:
    """The extension of a distributed process: heartbeats, results, and when to close (module docstring)."""

    def __init__(self, crawler: Crawler, shared: SharedRun) -> None:
        self.crawler, self.shared = crawler, shared
        settings = crawler.settings
        self.role = settings.get("FINEWS_REDIS_ROLE") or "worker"
        self.once = settings.getbool("FINEWS_WORKER_ONCE")
        self.outage_s = settings.getfloat("FINEWS_REDIS_OUTAGE_S", OUTAGE_S)
        self.name = process_name()
        self.started = time.time()
        self.busy_published = False
        self.quiet_since: float | None = None
        self.loop: Any = None
        self.sent: dict[str, int] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DistributedRun:
        shared = SharedRun.from_settings(crawler.settings)
        if shared is None:
            raise NotConfigured("redis.url is not set")
        ext = cls(crawler, shared)
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.idle, signal=signals.spider_idle)
        crawler.signals.connect(ext.scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.dropped, signal=signals.item_dropped)
        crawler.signals.connect(ext.errored, signal=signals.item_error)
        crawler.signals.connect(ext.failed, signal=target_failed)
        return ext

    # --- lifecycle -------------------------------------------------------------------
    def opened(self) -> None:
        from twisted.internet import task

        scheduler = self.scheduler
        if scheduler is not None:
            scheduler.on_pop = self.took_request
        self.loop = task.LoopingCall(self.tick)
        self.loop.start(HEARTBEAT_S, now=True)

    def closed(self, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.send_stats()
        with contextlib.suppress(RedisError):  # else its heartbeat expires by itself
            self.shared.leave(self.name)

    @property
    def scheduler(self) -> Any:
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None)
        return getattr(slot, "scheduler", None)

    def down_for(self) -> float:
        scheduler = self.scheduler
        return scheduler.down_for() if scheduler is not None and hasattr(scheduler, "down_for") else 0.0

    def is_idle(self) -> bool:
        engine = self.crawler.engine
        try:
            return engine is not None and engine.spider_is_idle()
        except RuntimeError:  # the engine has no slot yet, or no more
            return True

    def send_stats(self) -> None:
        """Add to the run's statistics what this process counted since the last call."""
        stats = self.crawler.stats
        if stats is None:
            return
        now = {name: int(stats.get_value(name, 0)) for name in SHARED_STATS}
        deltas = {name: n - self.sent.get(name, 0) for name, n in now.items() if n != self.sent.get(name, 0)}
        try:
            run_id = self.shared.current()
            if deltas and run_id is not None:
                self.shared.add_stats(run_id, deltas)
                self.sent = now
        except RedisError:
            pass  # sent with the next heartbeat

    def tick(self) -> None:
        self.send_stats()
        idle = self.is_idle()
        self.publish(busy=not idle)
        if idle:
            # Ask the scheduler now rather than at Scrapy's next 5-second heartbeat.
            slot = getattr(self.crawler.engine, "_slot", None)
            if slot is not None:
                slot.nextcall.schedule()

    def took_request(self) -> None:
        if not self.busy_published:
            self.publish(busy=True)

    def publish(self, *, busy: bool) -> None:
        state = {"role": self.role, "busy": busy, "pid": os.getpid(), "host": socket.gethostname(),
                 "started": self.started, "seen": time.time(), "run": self.shared.last_known_run}
        try:
            self.shared.beat(self.name, state)
            self.busy_published = busy
        except RedisError:
            pass  # the scheduler notices the outage and counts it

    # --- closing ---------------------------------------------------------------------
    def idle(self) -> None:
        down = self.down_for()
        if down >= self.outage_s:
            logger.error("Redis has not answered for %.0f s: giving up", down)
            raise CloseSpider("redis_unavailable")
        if down > 0:
            raise DontCloseSpider
        try:
            done = self.run_is_over()
        except RedisError:
            raise DontCloseSpider from None
        if not done:
            raise DontCloseSpider

    def run_is_over(self) -> bool:
        if self.role == "worker":
            return self.once and self.shared.current() is None and self.shared.queue_length() == 0
        if self.shared.queue_length():
            self.quiet_since = None
            return False
        others = {name: w for name, w in self.shared.workers().items() if name != self.name}
        if any(w.get("busy") for w in others.values()):
            self.quiet_since = None
            return False
        if not others:
            return True
        now = time.monotonic()
        if self.quiet_since is None:
            self.quiet_since = now
        return now - self.quiet_since >= QUIET_S

    # --- results ----------------------------------------------------------------------
    # The same results as crawler/report.py's RunReport, for the coordinator's summary.
    def record(self, code: str, status: str, detail: str) -> None:
        try:
            run_id = self.shared.current()
            if run_id is not None:
                self.shared.result(run_id, code, status, detail)
        except RedisError as exc:
            logger.warning("could not record the result of %s in Redis: %s", code, exc)

    def scraped(self, item: ArticleItem, **_: Any) -> None:
        self.record(item.code, item.outcome or "new", item.post_path or "")

    def dropped(self, item: ArticleItem, exception: BaseException, **_: Any) -> None:
        self.record(item.code, "quarantined" if item.quarantine else "failed", str(exception))

    def errored(self, item: ArticleItem, failure: Any, **_: Any) -> None:
        self.record(item.code, "failed", f"{type(failure.value).__name__}: {failure.value}")

    def failed(self, code: str, reason: str, **_: Any) -> None:
        self.record(code, "failed", reason)
