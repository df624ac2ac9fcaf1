"""A real ``jekyll build`` of the demo site, with a hostile article among the posts."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from crawler.replay import ReplayServer
from tests.conftest import FIXTURES, require_command
from tests.crawler.cli_helpers import finews, write_settings

HOSTILE = FIXTURES / "cli" / "hostile-content-api.json"
HOSTILE_CODE = "NW202403051234567890"
LINK = re.compile(r'<a href="([^"]*)"')


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_command("jekyll", "jekyll")
    root = tmp_path_factory.mktemp("demo")
    run = finews("demo", "--dir", str(root), "--articles", "10", cwd=root, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    with ReplayServer(articles=0, fixtures=[HOSTILE]) as replay:
        settings = write_settings(root, replay.templates(), site={"base_url": ""})
        fetched = finews("-c", str(settings), "fetch", HOSTILE_CODE, cwd=root)
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    build = subprocess.run(
        ["jekyll", "build", "--source", str(root / "site"), "--destination", str(root / "_site")],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    assert "Liquid" not in build.stderr and "Error" not in build.stdout, build.stdout + build.stderr
    return root / "_site"


def post_pages(site: Path) -> list[Path]:
    return list(site.rglob("NW*.html"))


def test_every_post_is_built_with_a_three_link_footer(built_site: Path) -> None:
    pages = post_pages(built_site)
    assert len(pages) == 11
    for page in pages:
        html = page.read_text(encoding="utf-8")
        code = page.stem
        footer = html[html.rindex(f"infoCode={code}") - 200 : html.rindex("</article>")]  # the post's, not the site's
        links = LINK.findall(footer)
        assert len(links) == 3, (page, links)
        assert links[0].endswith(f"infoCode={code}")
        assert re.fullmatch(r"/category/[a-z0-9]+\.html", links[1])
        assert links[2] == "/"


def test_every_back_link_resolves(built_site: Path) -> None:
    for page in post_pages(built_site):
        for href in LINK.findall(page.read_text(encoding="utf-8")):
            if href.startswith("/") and not href.startswith("//"):
                target = built_site / href.lstrip("/")
                assert (target / "index.html" if href.endswith("/") else target).exists(), (page, href)


def test_category_pages_list_their_posts(built_site: Path) -> None:
    page = built_site / "category" / "ceshiribao.html"
    html = page.read_text(encoding="utf-8")
    assert "<h1>测试日报</h1>" in html
    assert f"{HOSTILE_CODE}.html" in html


def test_hostile_article_renders_nothing_as_code_or_markup(built_site: Path) -> None:
    (page,) = [p for p in post_pages(built_site) if p.stem == HOSTILE_CODE]
    html = page.read_text(encoding="utf-8")
    article = html[html.index("<article>") :]
    assert "<script" not in article.lower()
    assert not re.search(r"(href|src)\s*=\s*[\"']?\s*javascript", article, re.IGNORECASE)
    assert "onerror" not in article and "<iframe" not in article
    assert "&#123;&#123; site.time &#125;&#125;" in article  # literal braces, not the build time
    assert "&#123;% include x %&#125;" in article
    assert "[链接](javascript:alert(4)) 与 *强调* 与 # 标题" in article  # Markdown syntax stays text
    assert "<em>" not in article and "<h1>标题" not in article
    assert "测试：&quot;引号&quot; \\ 与 {{ site.time }} ---" in article  # the title, escaped once, no Liquid
