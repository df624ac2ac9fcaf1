"""Is the scheduled crawl healthy?  (SPEC §4 ``status --check``, §3 ``health``.)

Unhealthy, with one reason each, when:

- no crawl run has finished, or the last one finished longer than
  ``health.max_age`` ago (the schedule stopped, or runs hang or die);
- a configured list failed (a page that could not be fetched or read) or listed
  nothing in each of the last ``health.failing_runs`` finished crawl runs.

A finished run is one with an end time: ok, failed or interrupted; a killed run
never finished.  :func:`assess` asks the storage for the runs' figures;
:func:`judge` is the pure rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from crawler.config import HealthConfig
from pipelines.storage import ListRun, Storage

__all__ = ["Health", "ListRun", "assess", "judge", "to_json"]


@dataclass(frozen=True)
class Health:
    reasons: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "failing" if self.reasons else "healthy"


def describe_age(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min" if minutes else f"{int(seconds)} s"


def judge(
    last_finished: datetime | None,
    history: Mapping[str, Sequence[ListRun]],
    now: datetime,
    config: HealthConfig,
) -> Health:
    """The health from the last finished crawl's end and each list's last runs (newest first)."""
    reasons = []
    if last_finished is None:
        reasons.append("no crawl run has finished yet")
    elif now - last_finished > timedelta(seconds=config.max_age_s):
        reasons.append(
            f"the last crawl finished {describe_age((now - last_finished).total_seconds())} ago "
            f"(health.max_age is {describe_age(config.max_age_s)})"
        )
    n = config.failing_runs
    for url, recent in history.items():
        last = list(recent)[:n]
        if len(last) < n:
            continue
        if all(r.failures for r in last):
            reasons.append(f"list {url} failed in each of the last {n} runs")
        elif all(r.failures or not r.items for r in last):
            reasons.append(f"list {url} failed or listed nothing in each of the last {n} runs")
    return Health(reasons)


def assess(storage: Storage, list_urls: Sequence[str], now: datetime, config: HealthConfig) -> Health:
    """The health of the crawl runs recorded in *storage*, for the lists configured now.

    A list is judged on the last ``failing_runs`` finished runs; when one of them
    stopped before reaching the list (no figures), the list is not judged yet.
    """
    last_finished, history = storage.list_history(list_urls, config.failing_runs)
    return judge(last_finished, history, now, config)


def to_json(health: Health) -> dict[str, Any]:
    return {"status": health.status, "reasons": health.reasons}
