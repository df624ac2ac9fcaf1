"""The minimal Jekyll site that posts and category pages live in.

``write_skeleton(site_dir)`` creates, when missing, ``_config.yml`` (Beijing
timezone), the ``default``, ``post`` and ``category`` layouts and an index, so
that ``jekyll build`` of the site succeeds.  Existing files are left alone: the
site owner's own theme wins.  Every layout escapes each front-matter value it
prints, since titles and outlet names come from crawled pages.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.files import write_atomic

CONFIG = """\
title: finews
description: 东方财富财经新闻
timezone: Asia/Shanghai
markdown: kramdown
kramdown:
  # Article bodies are HTML blocks; their text must never be read as Markdown.
  parse_block_html: false
exclude: [".tmp-*"]
"""

DEFAULT_LAYOUT = """\
<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{% if page.title %}{{ page.title | escape }} - {% endif %}{{ site.title | escape }}</title>
</head>
<body>
<header><a href="{{ '/' | relative_url }}">{{ site.title | escape }}</a></header>
<main>
{{ content }}
</main>
</body>
</html>
"""

POST_LAYOUT = """\
---
layout: default
---
<article>
<h1>{{ page.title | escape }}</h1>
<p><time datetime="{{ page.date | date_to_xmlschema }}">{{ page.date | date: "%Y-%m-%d %H:%M" }}</time>
{% for tag in page.tags %}<span>{{ tag | escape }}</span>{% endfor %}</p>
{{ content }}
</article>
"""

CATEGORY_LAYOUT = """\
---
layout: default
---
<h1>{{ page.title | escape }}</h1>
<ul>
{% for post in site.categories[page.category] %}\
<li><a href="{{ post.url | relative_url }}">{{ post.title | escape }}</a> <time>{{ post.date | date: "%Y-%m-%d %H:%M" }}</time></li>
{% endfor %}</ul>
"""

INDEX = """\
---
layout: default
title: 首页
---
<ul>
{% for post in site.posts limit: 100 %}\
<li><a href="{{ post.url | relative_url }}">{{ post.title | escape }}</a> <time>{{ post.date | date: "%Y-%m-%d %H:%M" }}</time></li>
{% endfor %}</ul>
"""

FILES = {
    "_config.yml": CONFIG,
    "_layouts/default.html": DEFAULT_LAYOUT,
    "_layouts/post.html": POST_LAYOUT,
    "_layouts/category.html": CATEGORY_LAYOUT,
    "index.html": INDEX,
}


def write_skeleton(site_dir: Path) -> list[Path]:
    """Create the skeleton files missing under *site_dir*; returns the files written."""
    written = []
    for name, text in FILES.items():
        path = site_dir / name
        if not path.exists():
            write_atomic(path, text)
            written.append(path)
    (site_dir / "_posts").mkdir(parents=True, exist_ok=True)
    (site_dir / "category").mkdir(parents=True, exist_ok=True)
    return written
