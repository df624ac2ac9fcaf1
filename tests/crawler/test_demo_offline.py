"""``finews demo`` is offline for its readers too: its built pages load nothing from a third party."""

from __future__ import annotations

import re
import subprocess
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler.cli.demo import DEMO_PORT
from crawler.replay import ReplayServer
from tests.conftest import require_command
from tests.crawler.cli_helpers import finews

ARTICLES = 30
# Everything a browser fetches on its own when it opens a page (links are only followed on a click).
RESOURCE = re.compile(
    r'<(?:img|script|iframe|source|video|audio|embed|track)\b[^>]*?\s(?:src|srcset|poster)="([^"]*)"'
    r'|<link\b[^>]*?\shref="([^"]*)"[^>]*>|<object\b[^>]*?\sdata="([^"]*)"|url\(\s*[\'"]?([^\'")]+)',
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    require_command("jekyll", "jekyll")
    root = tmp_path_factory.mktemp("demo")
    run = finews("demo", "--dir", str(root), "--articles", str(ARTICLES), cwd=root, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    build = subprocess.run(
        ["jekyll", "build", "--source", str(root / "site"), "--destination", str(root / "_site")],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    return root, run.stdout


def fetched_hosts(page: str) -> set[str]:
    hosts = set()
    for match in RESOURCE.finditer(page):
        for url in filter(None, match.groups()):
            for part in url.split(","):  # srcset: "url 2x, url 1x"
                words = part.split()
                target = urlsplit(words[0]) if words else None
                if target is not None and (target.scheme or target.netloc):
                    hosts.add(target.hostname or "")
    return hosts


def test_no_built_page_loads_anything_from_another_host(demo: tuple[Path, str]) -> None:
    root, _ = demo
    pages = [p for p in (root / "_site").rglob("*") if p.suffix in (".html", ".xml", ".css")]
    posts = [p for p in pages if p.name.startswith("NW")]
    assert len(posts) >= ARTICLES - 5
    images = 0
    for page in pages:
        text = page.read_text(encoding="utf-8")
        images += text.count("<img ")
        assert fetched_hosts(text) <= {"127.0.0.1"}, page
    assert images > 0  # the replay's bodies do carry images: they are served by the replay itself


def test_the_demo_says_where_its_links_point_and_a_plain_replay_serves_them_again(demo: tuple[Path, str]) -> None:
    root, stdout = demo
    note = next(line for line in stdout.splitlines() if line.startswith("share links and images"))
    port = int(re.search(r"127\.0\.0\.1:(\d+)", note).group(1))  # type: ignore[union-attr]
    assert ("--port" in note) == (port != DEMO_PORT) and f"--articles {ARTICLES}" in note
    post = next((root / "site" / "_posts").glob("*.md")).read_text(encoding="utf-8")
    share = re.search(r"<(http://127\.0\.0\.1:\d+/html_News/NewsShare\.html\?infoCode=NW\d{18})>", post)
    assert share is not None and f":{port}/" in share.group(1)
    image = re.search(r'src="(http://127\.0\.0\.1:\d+/download/[^"]+)"', "".join(
        p.read_text(encoding="utf-8") for p in (root / "site" / "_posts").glob("*.md")))
    assert image is not None
    with ReplayServer(articles=ARTICLES, port=port, local_images=True):  # the demo's replay, started again
        for url in (share.group(1), image.group(1)):
            with urllib.request.urlopen(url, timeout=10) as response:
                assert response.status == 200
        with urllib.request.urlopen(image.group(1), timeout=10) as response:
            assert response.headers["Content-Type"] == "image/svg+xml" and response.read().startswith(b"<svg ")
