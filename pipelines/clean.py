"""The cleaning stage: raw body HTML → sanitized body, one block per line (SPEC §7).

``clean_body`` is a pure function of the body and its source's :class:`NoiseRules`;
``CleanPipeline`` applies it to ``ArticleItem.body_html`` with the rules of the item's
source and quarantines items whose body is empty afterwards.  Reads ``FINEWS_SOURCES``.

BeautifulSoup with the ``lxml`` tree builder does the structural work.  lxml closes an
open ``<p>`` when another block starts, as browsers and nh3's html5ever do, so the stray
``<p><p align="center"></p>`` of the text style parses as two empty paragraphs instead of
one paragraph holding the whole article (``html.parser`` nests them); it is also the
fastest builder.  nh3 runs last; only the brace encoding of step 7 follows it.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import warnings
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import nh3
from bs4 import BeautifulSoup, Comment, MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning
from bs4.element import PageElement, PreformattedString, Tag

from crawler.sources import configured_sources
from crawler.sources.noise import NoiseRules
from pipelines import clean_rules as R  # noqa: N812 - R. marks each rule table at its many uses
from pipelines.clean_blocks import (
    BodyTooComplex,
    blockify,
    check_budget,
    drop_empty,
    has_block,
    has_content,
    replace_text,
    tags,
    trim,
)

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from crawler.items import ArticleItem
    from crawler.sources import Source

logger = logging.getLogger(__name__)

_CLEANER = nh3.Cleaner(
    tags=set(R.ALLOWED_TAGS),
    clean_content_tags=set(R.CLEAN_CONTENT_TAGS),
    attributes=R.ALLOWED_ATTRIBUTES,
    url_schemes=set(R.URL_SCHEMES),
    link_rel=None,  # rel is not in the allow-list; nh3 would add "noopener noreferrer"
    url_relative="deny",  # step 5 made URLs absolute; a relative one left is dropped
)
_WS = re.compile(r"\s+")  # Unicode-aware: also U+3000 and NBSP
_HIDDEN = re.compile(r"display:none|visibility:hidden")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))


def clean_body(html: str, *, noise: NoiseRules, base_url: str | None = None) -> str:
    """Return the cleaned, sanitized body of one article, or "" when nothing is left.

    *noise* are the rules of the article's source (what of its markup is not the article).

    *html* is the raw body (content API ``text``/``content``, or the inner HTML of
    ``div#ContentBody``, pages joined), valid Unicode: lxml refuses a lone surrogate with
    UnicodeEncodeError, and the validate stage quarantines such bodies before this stage.
    The result holds one top-level block element per line, joined by "\\n", without
    leading or trailing blank lines or final newline.
    Every text node sits inside a block element, so kramdown leaves it alone, and only
    the tags and attributes of ``clean_rules.ALLOWED_*`` occur.  Relative and
    protocol-relative URLs are resolved against *base_url* (https when it is None).

    Each block is sanitized by nh3 on its own; afterwards only ``{`` and ``}`` are replaced
    by ``&#123;`` and ``&#125;`` so Jekyll never sees Liquid.  That is not an edit of the
    structure: sanitized HTML has no raw-text elements, so the entities decode to the
    same characters in the same DOM.  The function is idempotent, braces included: a
    second pass decodes the entities and encodes them again.

    Raises :class:`~pipelines.clean_blocks.BodyTooComplex` when the parsed body exceeds
    the work budget of ``clean_rules`` (``MAX_DEPTH``, ``MAX_CHILDREN``, ``MAX_NODES``).
    """
    soup = _parse(html)
    root = soup.body
    if root is None:
        return ""
    check_budget(root)
    for start, end in noise.cut_between:
        _cut_between(soup, start, end)
    for node in soup.find_all(string=lambda s: isinstance(s, PreformattedString)):
        node.extract()  # comments, CDATA, doctypes, processing instructions
    _drop_noise(root, noise)
    _unwrap_links(root, base_url, noise)
    _fix_images(root, base_url)
    for tag in tags(root, R.RENAME):
        tag.name = R.RENAME[tag.name]
    root.smooth()  # merge the text pieces the unwrapping left side by side
    _normalize_text(root)
    drop_empty(root)
    lines = []
    editor = re.compile(noise.editor_pattern) if noise.editor_pattern else None
    for block in blockify(soup, root.contents):
        if _is_text_noise(block, noise, editor):
            continue
        for leaf in tags(block, R.BLOCKS):
            if not leaf.decomposed and _is_text_noise(leaf, noise, editor):
                leaf.decompose()
        trim(block)
        if has_content(block):
            sanitized = _CLEANER.clean(str(block))
            if sanitized:
                lines.append(sanitized.replace("{", "&#123;").replace("}", "&#125;"))
    return "\n".join(lines)


def _parse(html: str) -> BeautifulSoup:
    with warnings.catch_warnings():
        # The input is always an HTML fragment, even when it looks like a URL or XML.
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        return BeautifulSoup(html or "", "lxml")


def _cut_between(soup: BeautifulSoup, start_marker: str, end_marker: str) -> None:
    """Remove everything between each *start_marker* comment and the next *end_marker* comment.

    Walks document order, so the two comments need not be siblings; an unmatched start
    removes nothing (a truncated body keeps its text).
    """
    for start in soup.find_all(string=lambda s: isinstance(s, Comment) and s.strip() == start_marker):
        between: list[PageElement] = []
        for node in start.next_elements:
            if isinstance(node, Comment) and node.strip() == end_marker:
                keep = {id(parent) for parent in node.parents}
                for victim in between:
                    if id(victim) not in keep:
                        victim.extract()
                break
            between.append(node)


def _drop_noise(root: Tag, noise: NoiseRules) -> None:
    victims = [*tags(root, R.DROP_TAGS), *(root.select(noise.drop_selector) if noise.drop_selector else ())]
    if noise.ad_close_images:
        victims += [img.find_parent("a") or img for img in root.select(noise.ad_close_images)]
    victims += [tag for tag in root.find_all(True) if _is_hidden_or_ad(tag, noise)]
    for tag in victims:
        if not tag.decomposed:
            tag.decompose()


def _is_hidden_or_ad(tag: Tag, noise: NoiseRules) -> bool:
    style = "".join(str(tag.get("style") or "").split()).lower()
    return bool(
        _HIDDEN.search(style)
        or tag.has_attr("hidden")
        or any(c.startswith(noise.ad_class_prefixes) for c in tag.get("class") or [])
        or (tag.name == "a" and _host_in(tag.get("href"), noise.promo_hosts))
    )


def _unwrap_links(root: Tag, base_url: str | None, noise: NoiseRules) -> None:
    """Unwrap the source's stock/keyword markup and links that cannot stay; drop promo links."""
    for tag in root.select(noise.unwrap_selector) if noise.unwrap_selector else ():
        tag.unwrap()
    for tag in root.find_all(R.INLINE_WRAPPERS):
        tag.unwrap()
    for a in root.find_all("a"):
        if a.decomposed:
            continue
        if any(phrase in _WS.sub("", a.get_text()) for phrase in noise.promo_phrases):
            a.decompose()
            continue
        href = _absolute(a.get("href"), base_url)
        if href is None or _host_in(href, noise.quote_hosts):
            a.unwrap()  # quote pages, anchors, javascript: etc.: the text is what matters
        else:
            a["href"] = href
            if a.has_attr("title"):
                # bs4 types any attribute as str | list; title is single-valued, so always a str
                a["title"] = _WS.sub(" ", a["title"]).strip()  # type: ignore[arg-type]


def _fix_images(root: Tag, base_url: str | None) -> None:
    """Make lazy images real and URLs absolute; drop images without a usable http(s) src."""
    for img in root.find_all("img"):
        raw = next((img.get(attr) for attr in R.LAZY_SRC_ATTRS if img.get(attr)), img.get("src"))
        src = _absolute(raw, base_url)
        if src is None:
            img.decompose()  # data: URIs, placeholders without a real source, etc.
            continue
        img["src"] = src
        if img.has_attr("alt"):
            # bs4 types any attribute as str | list; alt is single-valued, so always a str
            img["alt"] = unicodedata.normalize("NFC", _WS.sub(" ", img["alt"]).strip())  # type: ignore[arg-type]


def _absolute(url: object, base_url: str | None) -> str | None:
    """Return *url* as an absolute http(s) URL, or None when it cannot be one."""
    if not isinstance(url, str):
        return None
    # What browsers do: trim C0 controls and spaces, drop tabs and newlines inside.
    url = re.sub(r"[\t\n\r]", "", url.strip(_C0_AND_SPACE))
    url = url.replace(" ", "%20")
    try:
        if url.startswith("//"):
            scheme = urlsplit(base_url).scheme if base_url else "https"
            url = ("http:" if scheme == "http" else "https:") + url
        elif base_url:
            url = urljoin(base_url, url)
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in R.URL_SCHEMES and parts.hostname else None


def _host_in(url: object, hosts: Iterable[str]) -> bool:
    try:
        host = (urlsplit(url).hostname or "") if isinstance(url, str) else ""
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return False
    return any(host == h or host.endswith("." + h) for h in hosts)


def _is_text_noise(tag: Tag, noise: NoiseRules, editor: re.Pattern[str] | None) -> bool:
    """A leaf block that is a disclaimer, or a short marker (promo, share) or editor line."""
    if has_block(tag):
        return False  # a wrapper's text is its children's business
    text = _WS.sub("", tag.get_text())
    if noise.disclaimer_prefixes and text.startswith(noise.disclaimer_prefixes):
        return True
    short = len(text) <= R.SHORT_BLOCK_CHARS
    return short and (any(m in text for m in noise.short_block_markers) or (editor is not None and editor.match(text) is not None))


def _normalize_text(root: Tag) -> None:
    """NFC and collapse every whitespace run (U+3000 and NBSP included) to one space."""
    for node in root.find_all(string=True):
        replace_text(node, _WS.sub(" ", unicodedata.normalize("NFC", node)))


class CleanPipeline:
    """Fill ``item.html`` from ``item.body_html``; quarantine items left without a body.

    Stats: ``clean/items`` (items cleaned), ``clean/empty`` (quarantined as empty),
    ``clean/too_complex`` (quarantined as over the work budget).  Items already
    quarantined by an earlier stage pass through untouched.
    """

    def __init__(self, sources: Mapping[str, Source], stats: StatsCollector | None = None) -> None:
        self.sources = sources
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CleanPipeline:
        return cls(configured_sources(crawler.settings), crawler.stats)

    def process_item(self, item: ArticleItem) -> ArticleItem:
        if item.quarantine is not None:
            return item
        self._inc("clean/items")
        try:
            item.html = clean_body(item.body_html or "", noise=self.sources[item.source].NOISE, base_url=item.base_url)
        except BodyTooComplex as exc:
            logger.warning("article %s: %s", item.code, exc)
            item.set_quarantine(str(exc))
            self._inc("clean/too_complex")
            return item
        if not item.html:
            logger.info("article %s: empty body after cleaning", item.code)
            item.set_quarantine("empty body after cleaning")
            self._inc("clean/empty")
        return item

    def _inc(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(key)
