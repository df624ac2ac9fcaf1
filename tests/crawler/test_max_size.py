"""``crawl.max_size_mb`` reaches Scrapy (DOWNLOAD_MAXSIZE) and aborts larger responses."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.cli.run import project_settings
from crawler.config import load_config
from crawler.replay import ReplayServer
from crawler.settings import scrapy_settings
from tests.crawler.cli_helpers import finews, write_settings


@pytest.mark.parametrize("mb", [1, 3, 8])
def test_max_size_mb_is_scrapys_download_maxsize(tmp_path: Path, mb: int) -> None:
    path = tmp_path / "settings.yaml"
    path.write_text(f"crawl: {{max_size_mb: {mb}}}\n", encoding="utf-8")
    config = load_config(path)
    assert scrapy_settings(config)["DOWNLOAD_MAXSIZE"] == mb * 1024 * 1024
    settings = project_settings(config)
    assert settings.getint("DOWNLOAD_MAXSIZE") == mb * 1024 * 1024
    assert settings.getint("DOWNLOAD_WARNSIZE") <= mb * 1024 * 1024


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("huge:2", "response larger than 1 MiB (crawl.max_size_mb)"),  # Content-Length says it up front
        ("gzip_bomb:2", "response larger than 1 MiB once decompressed (crawl.max_size_mb)"),
    ],
)
def test_a_response_over_max_size_mb_fails_with_the_reason(tmp_path: Path, fault: str, reason: str) -> None:
    with ReplayServer(articles=1, faults=f"*:*={fault}") as replay:
        code = replay.articles[0].code
        settings = write_settings(tmp_path, replay.templates(), crawl={"max_size_mb": 1})
        run = finews("-c", str(settings), "fetch", code, cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout == f"failed {code} content API: {reason}; article page: {reason}\n"
    assert not list(tmp_path.glob("site/_posts/*.md"))
