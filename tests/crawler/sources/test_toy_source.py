"""A source added by a folder and settings alone goes end to end: fetch, post, store, rebuild, status.

The toy source (tests/crawler/sources/toy/) lives outside ``crawler/``; settings.yaml
registers it with ``sources.toy.module`` and switches Eastmoney off.  Nothing in
``crawler/`` or ``pipelines/`` knows it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.crawler.cli_helpers import finews
from tests.crawler.sources.toy.server import ToyServer


@pytest.fixture
def toy() -> Iterator[ToyServer]:
    with ToyServer() as server:
        yield server


@pytest.fixture
def project(tmp_path: Path, toy: ToyServer) -> Path:
    settings = {
        "site": {"dir": "site", "base_url": ""},
        "database": {"url": "sqlite:///finews.db"},
        "sources": {
            "eastmoney": {"enabled": False},
            "toy": {
                "module": "tests.crawler.sources.toy",
                "share_link": toy.url + "/toy/share/{id}",
                "article_api": toy.url + "/toy/api/{id}.json",
                "lists": [{"kind": "latest", "url": toy.url + "/toy/list.json", "tag": "玩具滚动"}],
            },
        },
        "crawl": {"delay": 0, "retries": 0, "timeout": 5},
    }
    (tmp_path / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    return tmp_path


def posts(project: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((project / "site" / "_posts").glob("*.md"))}


def test_the_toy_source_goes_end_to_end_by_settings_alone(project: Path, toy: ToyServer) -> None:
    crawl = finews("crawl", "--json", cwd=project)
    assert crawl.returncode == 0, crawl.stderr
    summary = json.loads(crawl.stdout.splitlines()[-1])
    assert (summary["new"], summary["failed"], summary["list_pages"]) == (4, 0, 2)
    written = posts(project)
    assert sorted(written) == [
        "2024-03-04-TOY000003.md", "2024-03-04-TOY000004.md", "2024-03-05-TOY000001.md", "2024-03-05-TOY000002.md",
    ]
    first = written["2024-03-05-TOY000001.md"]
    assert 'title: "玩具新闻一"' in first and "date: 2024-03-05 08:01:02 +0800" in first
    assert "tags: 玩具滚动" in first  # the list's tag wins
    assert "<p>第一篇正文。</p>\n<p>第二段。</p>\n" in first  # the toy's own noise rule removed the ad
    assert f"<{toy.url}/toy/share/1>" in first  # the source's share link
    assert "<script>" not in written["2024-03-05-TOY000002.md"]  # the generic cleaning applies too
    assert f'href="{toy.url}/toy/1"' in written["2024-03-05-TOY000002.md"]
    assert not any(path.startswith(("/NewsData", "/a/")) for path in toy.requests)

    by_hand = finews("fetch", "toy:5", "https://example.org/toy/2", cwd=project)
    assert by_hand.returncode == 0, by_hand.stderr
    assert by_hand.stdout.splitlines() == [
        "new TOY000005 site/_posts/2024-03-06-TOY000005.md",
        "unchanged TOY000002 site/_posts/2024-03-05-TOY000002.md",
    ]
    missing = finews("fetch", "toy:99", "NW202202092271461775", cwd=project)
    assert missing.returncode == 1
    assert missing.stdout.splitlines()[0] == "failed TOY000099 toy article: 404 not found"
    assert missing.stdout.splitlines()[1].startswith("failed NW202202092271461775 not a toy article")  # Eastmoney is off

    again = finews("crawl", "--json", cwd=project)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout.splitlines()[-1])["new"] == 0
    assert toy.requests.count("/toy/api/1.json") == 1  # incremental: nothing fetched twice

    before = posts(project)
    site = project / "site"
    (site / "_posts" / "2024-03-05-TOY000001.md").unlink()
    (site / "_posts" / "2024-03-04-TOY000003.md").write_text("drifted\n", encoding="utf-8")
    (site / "_posts" / "2024-01-01-TOY000777.md").write_text("an orphan\n", encoding="utf-8")
    (site / "_posts" / "2024-01-01-hello.md").write_text("the owner's own post\n", encoding="utf-8")
    rebuild = finews("rebuild", cwd=project)
    assert rebuild.returncode == 0, rebuild.stderr
    assert "restored site/_posts/2024-03-05-TOY000001.md" in rebuild.stdout
    assert "rewritten site/_posts/2024-03-04-TOY000003.md" in rebuild.stdout
    assert "removed orphan site/_posts/2024-01-01-TOY000777.md" in rebuild.stdout
    after = posts(project)
    assert after.pop("2024-01-01-hello.md") == "the owner's own post\n"  # not a post name of any source
    assert after == before

    status = finews("status", "--json", cwd=project)
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["articles"] == 5
    # The second crawl stopped after page 1: all of it known, and the first walk reached the end.
    assert [(lst["kind"], lst["last_run"]["requests"], lst["last_run"]["items"]) for lst in report["lists"]] == [("latest", 1, 3)]
    assert finews("status", "--check", cwd=project).stdout.strip() == "healthy"
