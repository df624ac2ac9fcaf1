"""Running the real ``finews`` command against a replay served by the test process."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.eastmoney import GOLDEN_SHARE_LINK

ROOT = Path(__file__).resolve().parents[2]


def write_settings(folder: Path, templates: dict[str, Any], **overrides: Any) -> Path:
    """A settings.yaml in *folder* with every source template pointed at the replay.

    Posts print the golden post's share link, not the replay's (share links are never fetched).
    """
    eastmoney = {**templates, "share_link": GOLDEN_SHARE_LINK}
    data: dict[str, Any] = {
        "site": {"dir": "site"},
        "database": {"url": "sqlite:///finews.db"},
        "sources": {"eastmoney": eastmoney},
        "crawl": {"delay": 0, "retries": 1, "timeout": 5, "concurrency": 8, "per_host": 8},
    }
    for key, value in overrides.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    path = folder / "settings.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def finews(*args: str, cwd: Path, timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``finews ARGS`` in a fresh process, as a user would."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("FINEWS_CONFIG", None)
    full_env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def rows_in(folder: Path, table: str) -> int:
    """Rows of *table* in the folder's SQLite ``finews.db``, read while a run may be writing (0 before it exists)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{folder / 'finews.db'}?mode=ro", uri=True, timeout=5)) as conn:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    except sqlite3.OperationalError:  # no database or no table yet
        return 0
