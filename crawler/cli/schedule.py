"""``finews schedule --every 5m``: a crawl every interval, each in a fresh process.

Each run is ``finews crawl`` in a child process (Twisted's reactor cannot be
restarted, and a process per run caps what any leak can cost).  Runs never
overlap: a run longer than the interval delays the next one and missed ticks are
skipped.  One scheduler per site (``.finews-schedule.lock``).  SIGINT or SIGTERM
stop the scheduler: the running crawl gets one SIGTERM and finishes cleanly.
Exit status: 0 when no run failed, 1 otherwise.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from types import FrameType

from crawler.cli.errors import UsageError
from crawler.config import AppConfig, parse_duration
from crawler.lock import hold


def parse_interval(text: str) -> float:
    """Seconds in ``30s``, ``5m``, ``1h`` or a bare number of seconds."""
    try:
        return parse_duration(text)
    except ValueError:
        raise UsageError(f"--every {text!r}: expected a positive interval such as 30s, 5m or 1h") from None


def crawl_command(config: AppConfig) -> list[str]:
    command = [sys.executable, "-m", "crawler.cli"]
    if config.path is not None:
        command += ["-c", str(config.path)]
    return [*command, "crawl"]


def schedule(config: AppConfig, *, every: str, max_runs: int | None) -> int:
    from crawler.cli import EXIT_BUSY, EXIT_FAILED, EXIT_OK

    interval = parse_interval(every)
    if max_runs is not None and max_runs < 1:
        raise UsageError("--max-runs must be at least 1")
    stop = threading.Event()
    child: list[subprocess.Popen[bytes]] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()
        for process in child:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)

    with hold(config.site_dir / ".finews-schedule.lock"):
        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        failed = 0
        runs = 0
        try:
            next_at = time.monotonic()
            while not stop.is_set() and (max_runs is None or runs < max_runs):
                runs += 1
                log(f"run {runs} starting")
                process = subprocess.Popen(crawl_command(config), start_new_session=True)
                child[:] = [process]
                code = process.wait()
                child.clear()
                if code == EXIT_BUSY:
                    log(f"run {runs} skipped: another run holds the lock")
                elif code != 0 and not stop.is_set():
                    failed += 1
                log(f"run {runs} exited with status {code}")
                next_at = max(next_at + interval, time.monotonic())
                if max_runs is not None and runs >= max_runs:
                    break
                stop.wait(max(0.0, next_at - time.monotonic()))
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    log(f"stopped after {runs} run(s), {failed} failed")
    return EXIT_FAILED if failed else EXIT_OK


def log(message: str) -> None:
    print(f"{datetime.now():%Y-%m-%d %H:%M:%S} finews schedule: {message}", file=sys.stderr, flush=True)
