"""The Jekyll site that posts, category and archive pages live in (``finews init``, ``finews demo``).

``write_skeleton(site_dir, theme)`` creates, when missing, every file of
``crawler/skeleton/site/`` (the ``default``, ``post``, ``category`` and
``archive`` layouts, the home page, a stylesheet, and two ``_plugins/`` files:
the fix for Jekyll 4.3.0/4.3.1's quadratic write loop and the per-category
feeds) and a ``_config.yml`` made from the settings' ``site`` block (*theme*).
A file that exists is never touched: once written, the skeleton is the site
owner's, and their own theme wins.  Every layout escapes each front-matter value
it prints, since titles and outlet names come from crawled pages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.files import write_atomic

if TYPE_CHECKING:
    from crawler.config import AppConfig

FILES = Path(__file__).resolve().parent / "site"


@dataclass(frozen=True)
class Theme:
    """What ``_config.yml`` takes from settings.yaml's ``site`` block."""

    title: str = "finews"
    url: str | None = None  # absolute site URL: feeds and SEO tags need it for absolute links
    feed_items: int = 50
    page_size: int = 50


def theme_of(config: AppConfig) -> Theme:
    """The theme settings.yaml's ``site`` block asks for."""
    return Theme(title=config.site_title, url=config.site_url, feed_items=config.feed_items, page_size=config.page_size)


def config_text(theme: Theme) -> str:
    """The ``_config.yml`` written for *theme* (values as JSON, which YAML reads as they are)."""
    url = "" if theme.url is None else f"url: {json.dumps(theme.url)}\n"
    return f"""\
# Written by `finews init` from settings.yaml's site block; yours from now on (finews never
# rewrites a file that exists: delete this one and run `finews init` to take new settings).
title: {json.dumps(theme.title, ensure_ascii=False)}
description: 东方财富财经新闻
lang: zh-CN
{url}timezone: Asia/Shanghai
markdown: kramdown
kramdown:
  # Article bodies are HTML blocks; their text must never be read as Markdown.
  parse_block_html: false
plugins: [jekyll-feed, jekyll-seo-tag, jekyll-sitemap]
feed:
  posts_limit: {theme.feed_items}   # site.feed_items: entries per Atom feed
page_size: {theme.page_size}        # site.page_size: post links per home, category or archive page
home_per_outlet: 5                  # newest posts of each outlet on the home page
exclude: [".tmp-*"]
"""


def skeleton_files(theme: Theme) -> dict[str, str]:
    """Every skeleton file by its path under the site root."""
    files = {str(p.relative_to(FILES)): p.read_text(encoding="utf-8") for p in sorted(FILES.rglob("*")) if p.is_file()}
    return {"_config.yml": config_text(theme), **files}


def write_skeleton(site_dir: Path, theme: Theme | None = None) -> list[Path]:
    """Create the skeleton files missing under *site_dir*; returns the files written."""
    written = []
    for name, text in skeleton_files(theme or Theme()).items():
        path = site_dir / name
        if not path.exists():
            write_atomic(path, text)
            written.append(path)
    (site_dir / "_posts").mkdir(parents=True, exist_ok=True)
    (site_dir / "category").mkdir(parents=True, exist_ok=True)
    return written
