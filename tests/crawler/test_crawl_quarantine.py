"""``finews crawl`` does not refetch a quarantined article; ``finews fetch CODE`` retries it.

An article whose content API and page give no body is quarantined on the first crawl;
refetching it every run would fail every run (README: Scheduled runs).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from crawler.replay import ReplayServer
from tests.conftest import FIXTURES
from tests.crawler.cli_helpers import finews, write_settings

CODE = "NW202403051234567891"  # listed by the replay, title and date, an empty body, no article page
FIXTURE = FIXTURES / "cli" / "empty-body-content-api.json"


def summary(run: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert run.stdout, run.stderr
    return json.loads(run.stdout.splitlines()[-1])


def requests_for(replay: ReplayServer, code: str) -> dict[str, int]:
    """Requests the replay received for *code*, by endpoint: its content API and its page."""
    api = sum(1 for r in replay.requests if r.kind == "api" and r.query.get("id") == code)
    page = sum(1 for r in replay.requests if r.kind == "page" and code[2:] in r.path)
    return {"api": api, "page": page}


def test_a_quarantined_article_is_not_refetched_by_crawl(tmp_path: Path) -> None:
    with ReplayServer(articles=3, fixtures=[FIXTURE]) as replay:
        settings = write_settings(tmp_path, replay.templates())
        first = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path)
        assert (summary(first)["new"], summary(first)["quarantined"]) == (3, 1), first.stdout + first.stderr
        assert requests_for(replay, CODE) == {"api": 1, "page": 1}

        second = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path)
        assert second.returncode == 0, second.stdout + second.stderr
        assert (summary(second)["new"], summary(second)["quarantined"]) == (0, 0)
        assert requests_for(replay, CODE) == {"api": 1, "page": 1}  # listed again, not asked again

        by_hand = finews("-c", str(settings), "fetch", CODE, cwd=tmp_path)
        assert by_hand.stdout == f"failed {CODE} quarantined: empty body\n"
        assert requests_for(replay, CODE) == {"api": 2, "page": 2}
