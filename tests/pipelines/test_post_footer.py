"""The footer's back-link: a tag holding Markdown brackets stays one well-formed link."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from datetime import datetime

import pytest

from pipelines.dates import BEIJING
from pipelines.post import Post, render_post

BASE = "//finews.withounder.com"
HOME = f"[返回首页]({BASE}/)"
# One inline link whose text may hold backslash escapes but no bare bracket.
LINK = re.compile(r"\[((?:\\.|[^\\\[\]])*)\]\(([^()\s]*)\)")

# tag -> the footer's first link, written out by hand
CASES = {
    "[a]新闻": r"[返回\[a\]新闻](//finews.withounder.com/category/slug.html)",
    "a]新闻": r"[返回a\]新闻](//finews.withounder.com/category/slug.html)",
    "[新闻": r"[返回\[新闻](//finews.withounder.com/category/slug.html)",
    "](javascript:x)新闻": r"[返回\](javascript:x)新闻](//finews.withounder.com/category/slug.html)",
    "[x](javascript:alert(1))新闻": r"[返回\[x\](javascript:alert(1))新闻](//finews.withounder.com/category/slug.html)",
    "\\]新闻": r"[返回\\\]新闻](//finews.withounder.com/category/slug.html)",
}


def footer(tag: str) -> str:
    post = Post(
        code="NW202403051234567890", title="标题", published=datetime(2024, 3, 5, 10, tzinfo=BEIJING),
        slug="slug", tag=tag, body="<p>正文</p>", share_link="http://s/x", base_url=BASE,
    )
    return render_post(post).rstrip("\n").rsplit("\n", 1)[1]


def unescape(text: str) -> str:
    """Link text as a reader sees it: Markdown backslash escapes and HTML entities resolved."""
    return html.unescape(re.sub(r"\\(.)", r"\1", text))


@pytest.mark.parametrize("tag", CASES, ids=range(len(CASES)))
def test_the_footer_line_is_exact(tag: str) -> None:
    assert footer(tag) == f"{CASES[tag]}｜{HOME}"


@pytest.mark.parametrize("tag", CASES, ids=range(len(CASES)))
def test_the_back_link_is_one_well_formed_link(tag: str) -> None:
    back, sep, home = footer(tag).partition("｜")
    assert sep and home == HOME
    match = LINK.fullmatch(back)
    assert match, back
    assert unescape(match.group(1)) == f"返回{tag}"
    assert match.group(2) == f"{BASE}/category/slug.html"


def test_kramdown_renders_exactly_the_two_links() -> None:
    if shutil.which("ruby") is None or subprocess.run(["ruby", "-rkramdown", "-e", ""], capture_output=True, check=False).returncode:
        if os.environ.get("FINEWS_REQUIRE_SERVICES") == "1":
            pytest.fail("ruby with kramdown is not installed (FINEWS_REQUIRE_SERVICES=1 requires it)")
        pytest.skip("ruby with kramdown is not installed (apt-get install jekyll)")
    lines = "\n\n".join(footer(tag) for tag in CASES)
    rendered = subprocess.run(
        ["ruby", "-rkramdown", "-e", "print Kramdown::Document.new($stdin.read).to_html"],
        input=lines, capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    links = re.findall(r'<a href="([^"]*)">(.*?)</a>', rendered)
    expected = []
    for tag in CASES:
        expected += [(f"{BASE}/category/slug.html", html.escape(f"返回{tag}", quote=False)), (f"{BASE}/", "返回首页")]
    assert links == expected, rendered
