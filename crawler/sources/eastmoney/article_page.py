"""Eastmoney article page (SPEC 5.3): ``/a/<id>.html`` HTML -> :class:`PageArticle`.

Contract:

* :func:`parse_article_page` recognises the current layout (``div#ContentBody.txtinfos``
  with ``.contentwrap .title`` and ``.infos .item`` metadata) and the legacy layout
  (``div.newsContent`` with ``h1``, ``div.time-source`` and ``#ContentBody``), and
  raises :class:`SourceFormatError` when a page has neither layout's body;
* metadata is returned as shown on the page (the date stays ``2022年02月09日 20:13``);
* ``body_html`` is the inner HTML of ``#ContentBody``, unchanged: noise inside the body
  (ads, promos, the editor line) is left for the cleaner, noise beside it is out of scope;
* ``continuation_urls`` are the absolute URLs of ``<id>_<n>.html`` (n >= 2) linked from
  the page, in page order, deduplicated, without the page itself;
* :func:`parse_continuation_page` returns the body of page N, None when it is empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml import html as lxml_html
from parsel import Selector, SelectorList

from crawler.sources.base import SourceFormatError
from crawler.sources.eastmoney.text import split_names, squash
from crawler.sources.fetching import wire_type

WHAT = "article page"

# Selectors are data: a layout change edits these, and a new layout adds a block.
CURRENT_BODY = "div#ContentBody.txtinfos"
CURRENT_TITLE = ".contentwrap .title"
CURRENT_INFO_ITEMS = ".infos .item"
LEGACY_BODY = "div.newsContent #ContentBody"
LEGACY_TITLE = "div.newsContent h1"
LEGACY_TIME = "div.time-source div.time"
LEGACY_SOURCE = "div.time-source div.source"
LEGACY_BYLINE = "div.time-source > *"
ANY_BODY = "#ContentBody"

TITLE_SUFFIX = "_东方财富网"
_PAGE_DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?")
_LABEL = re.compile(r"^(来源|作者)\s*[：:]\s*(.*)$")
_PAGE_NAME = re.compile(r"(\d{18})(?:_(\d+))?\.html?")


@wire_type
@dataclass(frozen=True)
class PageArticle:
    layout: str  # "current" or "legacy"
    title: str | None
    date: str | None  # as shown, e.g. "2022年02月09日 20:13"
    outlet: str | None
    authors: tuple[str, ...]  # from "作者：Y"; never the editor line
    body_html: str | None  # inner HTML of #ContentBody, unchanged
    continuation_urls: tuple[str, ...]


def parse_article_page(html: str, url: str) -> PageArticle:
    """Parse page 1 of an article; *url* resolves relative continuation links."""
    sel = Selector(text=html)
    if body := sel.css(CURRENT_BODY):
        layout, meta = "current", _current_meta(sel)
    elif body := sel.css(LEGACY_BODY):
        layout, meta = "legacy", _legacy_meta(sel)
    else:
        raise SourceFormatError(
            f"{WHAT}: no {CURRENT_BODY} (current layout) nor {LEGACY_BODY} (legacy layout) in {url}"
        )
    title, date, outlet, authors = meta
    return PageArticle(
        layout=layout,
        title=title or _head_title(sel),
        date=date,
        outlet=outlet,
        authors=authors,
        body_html=inner_html(body[0]),
        continuation_urls=continuation_urls(sel, url),
    )


def parse_continuation_page(html: str, url: str) -> str | None:
    """The ``#ContentBody`` inner HTML of page N of an article; None when it is empty."""
    body = Selector(text=html).css(ANY_BODY)
    if not body:
        raise SourceFormatError(f"{WHAT}: no {ANY_BODY} on continuation page {url}")
    return inner_html(body[0])


Meta = tuple[str | None, str | None, str | None, tuple[str, ...]]


def _current_meta(sel: Selector) -> Meta:
    date: str | None = None
    outlet: str | None = None
    authors: tuple[str, ...] = ()
    for item in sel.css(CURRENT_INFO_ITEMS):
        text = _text(item)
        if not text:
            continue
        label = _LABEL.match(text)
        if label and label.group(1) == "作者":
            authors = authors or split_names(label.group(2))
        elif label:
            outlet = outlet or label.group(2) or None
        elif date is None and _PAGE_DATE.fullmatch(text):
            date = text
        elif outlet is None:
            # the bare outlet is the first unlabelled item; counters and links come after it
            outlet = text
    return _text(sel.css(CURRENT_TITLE)), date, outlet, authors


def _legacy_meta(sel: Selector) -> Meta:
    source = sel.css(LEGACY_SOURCE)
    outlet = squash(source.attrib.get("data-source", "")) or None
    if outlet is None and (shown := _text(source)):
        label = _LABEL.match(shown)
        outlet = (label.group(2) if label else shown) or None
    # only the time-source children are searched: p.res-edit (the editor) is no byline
    labels = (_LABEL.match(_text(item) or "") for item in sel.css(LEGACY_BYLINE))
    authors = next((split_names(m.group(2)) for m in labels if m and m.group(1) == "作者"), ())
    return _text(sel.css(LEGACY_TITLE)), _text(sel.css(LEGACY_TIME)), outlet, authors


def _head_title(sel: Selector) -> str | None:
    title = _text(sel.css("head > title"))
    if title and title.endswith(TITLE_SUFFIX):
        title = title[: -len(TITLE_SUFFIX)].strip()
    return title or None


def _text(selected: Selector | SelectorList[Selector]) -> str | None:
    """Whitespace-squashed text of the (first) selected element, None when blank."""
    if isinstance(selected, SelectorList):
        if not selected:
            return None
        selected = selected[0]
    return squash("".join(selected.xpath(".//text()").getall())) or None


def inner_html(element: Selector) -> str | None:
    """Serialise the children of *element* (text, elements, comments); None when blank."""
    root = element.root
    parts = [escape(root.text, quote=False)] if root.text else []
    parts.extend(lxml_html.tostring(child, encoding="unicode", with_tail=True) for child in root)
    joined = "".join(parts)
    return joined if joined.strip() else None


def continuation_urls(sel: Selector, url: str) -> tuple[str, ...]:
    """Absolute URLs of this article's pages 2, 3 … linked from the page, in page order."""
    own = _PAGE_NAME.fullmatch(_last_segment(url))
    if own is None:
        return ()
    here = urldefrag(url).url
    found: dict[str, None] = {}
    for href in sel.css("a::attr(href)").getall():
        target = urldefrag(urljoin(url, href.strip())).url
        page = _PAGE_NAME.fullmatch(_last_segment(target))
        if page and page.group(1) == own.group(1) and page.group(2) and int(page.group(2)) >= 2 and target != here:
            found.setdefault(target)
    return tuple(found)


def _last_segment(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[-1]
