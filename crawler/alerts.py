"""The alerts webhook (SPEC §3 ``alerts``): one JSON POST each time the health changes.

``health_changed(previous, current)`` decides whether a run's health is news:
``failing`` after anything else, or ``healthy`` after ``failing`` (sent as
``recovered``).  The first run ever sends only if it is failing.  A webhook that
fails (refused, timed out, non-2xx) gets a line on stderr and never fails the run.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any

from crawler.health import Health

TIMEOUT_S = 10


def health_changed(previous: str | None, current: Health) -> bool:
    if current.status == "failing":
        return previous != "failing"
    return previous == "failing"


def message(current: Health, *, run_id: int, at: datetime, site: str) -> dict[str, Any]:
    return {
        "status": "failing" if current.status == "failing" else "recovered",
        "reasons": current.reasons,
        "run": run_id,
        "at": at.isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "site": site,
    }


def post(url: str, body: dict[str, Any]) -> str | None:
    """POST *body* as JSON to *url*; None on success, else a one-line reason."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json", "User-Agent": "finews"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return str(getattr(exc, "reason", exc))
    return None

