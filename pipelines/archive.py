"""Archive pages: every post of a category reachable through pages of at most ``page_size`` links.

A category's posts are grouped by Beijing month and, inside a month, numbered
oldest first and cut into pages of ``page_size``:

- ``archive/<slug>/<YYYY-MM>/<n>.html``: posts ``(n-1)·size+1 … n·size`` of the
  month, newest first on the page;
- ``archive/<slug>/<YYYY-MM>/index.html``: the month's pages;
- ``archive/<slug>/index.html``: the category's months.

A new post lands at the end of its month, so it changes the month's last page
(or starts a new one, and then the month index too, and the category index when
the month is new): a run with k new posts rewrites O(k) archive files, and a
month that is over never changes again unless an article of it is back-filled,
edited at the source or removed.  Pages link posts by their Jekyll URL
(``/<slug>/<YYYY>/<MM>/<DD>/<code>.html``, the default post permalink) under
``site.baseurl``, and carry every text as escaped HTML with Liquid's braces as
entities, so nothing crawled is ever read as markup or Liquid.  ``archive_files``
is pure: the store stage (for the months a batch touched) and ``finews rebuild``
(for all of them) write what it returns.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from crawler.items import BEIJING
from pipelines.post import clean_text, yaml_quoted

ARCHIVE = "archive"


@dataclass(frozen=True)
class Entry:
    """One post as an archive page lists it."""

    code: str
    title: str
    published: datetime  # aware

    @property
    def month(self) -> str:
        return f"{self.published.astimezone(BEIJING):%Y-%m}"

    def url(self, slug: str) -> str:
        """The post's URL below ``site.baseurl`` (Jekyll's default post permalink)."""
        return f"/{slug}/{self.published.astimezone(BEIJING):%Y/%m/%d}/{self.code}.html"


def month_of(published: datetime) -> str:
    """The archive month (Beijing) of a post published at *published*."""
    return f"{published.astimezone(BEIJING):%Y-%m}"


def escape(text: str) -> str:
    """*text* as HTML text that Liquid leaves alone."""
    return html.escape(clean_text(text)).replace("{", "&#123;").replace("}", "&#125;")


def page_path(slug: str, month: str, number: int) -> str:
    return f"{ARCHIVE}/{slug}/{month}/{number}.html"


def month_index_path(slug: str, month: str) -> str:
    return f"{ARCHIVE}/{slug}/{month}/index.html"


def category_index_path(slug: str) -> str:
    return f"{ARCHIVE}/{slug}/index.html"


def _page(title: str, slug: str, body: list[str]) -> str:
    head = f"---\nlayout: archive\ntitle: {yaml_quoted(clean_text(title))}\ncategory: {slug}\n---\n"
    return head + "\n".join(body) + "\n"


def _link(href: str, text: str, note: str = "") -> str:
    tail = f" {note}" if note else ""
    return f'<li><a href="{{{{ site.baseurl }}}}{href}">{escape(text)}</a>{tail}</li>'


def first_changed_page(entries: Iterable[Entry], since: datetime | None, page_size: int) -> int:
    """The number of the first page a change at *since* can alter (1 for None: the whole month).

    Pages hold posts oldest first, so a post added, moved or removed at *since*
    shifts only the pages from its own onward.  Posts at exactly *since* count
    as after it, which may rewrite one page more than needed, never one less.
    """
    if since is None:
        return 1
    return sum(1 for e in entries if e.published < since) // page_size + 1


def month_files(
    slug: str, title: str, month: str, entries: Iterable[Entry], page_size: int, *, first_page: int = 1,
) -> dict[str, str]:
    """The month's index and its pages from *first_page* on, of category *slug* (*title*: the outlet), by path."""
    ordered = sorted(entries, key=lambda e: (e.published, e.code))
    chunks = [ordered[i : i + page_size] for i in range(0, len(ordered), page_size)]
    label = f"{month[:4]}年{month[5:]}月"
    files: dict[str, str] = {}
    pages = []
    for number, chunk in enumerate(chunks, 1):
        # Only the page's first post is named: it never changes, so a new post rewrites no index.
        first = chunk[0].published.astimezone(BEIJING)
        pages.append(_link(f"/{page_path(slug, month, number)}", f"第{number}页", f"<time>自 {first:%m-%d %H:%M}</time>"))
        if number < first_page:
            continue
        lines = ['<ul class="posts">']
        for entry in reversed(chunk):
            stamp = entry.published.astimezone(BEIJING)
            lines.append(_link(entry.url(slug), entry.title, f'<time datetime="{stamp.isoformat()}">{stamp:%m-%d %H:%M}</time>'))
        lines.append("</ul>")
        if number > 1:
            lines.append(f'<p class="meta"><a href="{{{{ site.baseurl }}}}/{page_path(slug, month, number - 1)}">较早</a></p>')
        files[page_path(slug, month, number)] = _page(f"{title} {label} 第{number}页", slug, lines)
    if chunks:
        files[month_index_path(slug, month)] = _page(f"{title} {label}", slug, ['<ol class="pages">', *reversed(pages), "</ol>"])
    return files


def category_index(slug: str, title: str, months: Iterable[str]) -> tuple[str, str]:
    """The category's index of months: (path, text)."""
    links = [_link(f"/{ARCHIVE}/{slug}/{m}/", f"{m[:4]}年{m[5:]}月") for m in sorted(set(months), reverse=True)]
    return category_index_path(slug), _page(f"{title} 往期归档", slug, ['<ul class="months">', *links, "</ul>"])


def archive_files(slug: str, title: str, entries: Iterable[Entry], page_size: int) -> dict[str, str]:
    """Every archive file of category *slug*, by path."""
    by_month: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_month[entry.month].append(entry)
    files: dict[str, str] = {}
    for month, group in by_month.items():
        files.update(month_files(slug, title, month, group, page_size))
    path, text = category_index(slug, title, by_month)
    files[path] = text
    return files
