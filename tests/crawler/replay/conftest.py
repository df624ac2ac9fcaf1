"""Fixtures for the replay tests: a content-API fixture file and a shared 20-article server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.replay import ReplayServer

from .support import FIXTURE_CODE


@pytest.fixture(scope="module")
def api_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A content-API response file in the seed's shape (pretty-printed, text style), older than every article."""
    body = ("<p><p align=\"center\"></p>\n <p>\u3000\u3000测试用的固定稿件，由回放按原样返回。</p>"
            "<p class=\"em_media\">（文章来源：测试日报）</p>")
    value = {"Id": FIXTURE_CODE, "Title": "回放固定稿件", "Date": "2023-12-31 12:00:05", "medianame": "测试日报",
             "From": "测试日报", "Author": [], "url": "http://finance.eastmoney.com/a/202312312299999999.html",
             "text": body}
    path = tmp_path_factory.mktemp("fixtures") / "content-api.json"
    path.write_text(json.dumps(value, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def replay(api_fixture: Path) -> Iterator[ReplayServer]:
    with ReplayServer(20, fixtures=[api_fixture]) as server:
        yield server
