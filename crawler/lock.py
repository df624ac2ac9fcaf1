"""One writer at a time per site and database.

``run_lock(config)`` takes an exclusive ``flock`` on ``<site.dir>/.finews.lock``
(and, for SQLite, on ``<database>.lock``) without waiting; a second run gets
:class:`LockBusy` at once.  The kernel drops a ``flock`` when its holder dies, so
a run killed with SIGKILL never blocks the next one.  Jekyll ignores dot-files,
so the lock file is never published.  Distributed mode takes a lock in Redis
instead (see :func:`run_lock`).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from crawler.config import AppConfig
from crawler.config_values import sqlite_file

LOCK_NAME = ".finews.lock"


class LockBusy(RuntimeError):
    """Another finews run holds the lock."""


def lock_paths(config: AppConfig) -> list[Path]:
    paths = [config.site_dir / LOCK_NAME]
    database = sqlite_file(config.database_url)
    if database is not None:
        paths.append(Path(f"{database}.lock"))
    return paths


@contextmanager
def hold(path: Path) -> Iterator[None]:
    """Hold an exclusive flock on *path*; raise LockBusy when another process has it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "another process"
            raise LockBusy(f"another finews run is active on {path.parent} (pid {holder}); try again later") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock


@contextmanager
def run_lock(config: AppConfig) -> Iterator[None]:
    """Hold every lock of *config*'s site and database for the duration of a run.

    In distributed mode (``redis.url``) the lock is the run lock in Redis
    (crawler/distributed/run.py), which holds across machines; the site folder
    is shared with the workers, so it gets no flock.
    """
    if config.redis_url is not None:
        from crawler.distributed import Keys, connect, require
        from crawler.distributed.run import RunLock

        client = require(connect(config.redis_url), config.redis_url)
        with RunLock(client, Keys(config.redis_prefix)):
            yield
        return
    with ExitStack() as stack:
        for path in lock_paths(config):
            stack.enter_context(hold(path))
        yield
