"""Stage 4: map an article to the post format (SPEC §6).

``Post`` (crawler/items.py) holds exactly what a post file is made of, so the store
stage can keep it in the database and ``render_post`` can rewrite the file byte for
byte later.
``choose_category`` is the category rule (the list's category, else the settings
override, else the pinyin of the outlet, ``outlet_slug``); the store stage only
makes the chosen slug unique among outlets.  ``PostPipeline`` builds the ``Post``
of each item, with the share link of the item's source.  Reads ``FINEWS_SOURCES``,
``FINEWS_BASE_URL`` and ``FINEWS_CATEGORIES``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING

import yaml

from crawler.items import BEIJING, ArticleItem, CategoryChoice, Post
from crawler.sources import configured_sources

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from crawler.sources import Source

# Characters a YAML double-quoted scalar or a reader should never see in a title.
_LINE_BREAKS = re.compile(r"[\s\u0085\u2028\u2029]+")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
# Markdown and HTML specials in footer link text; Liquid braces as entities.  Quotes, dashes,
# dots, tildes and dollars too: kramdown (GFM input, Jekyll's default) would make typographic
# quotes and dashes of them, <del> of ~~x~~ and math of $$x$$.
_FOOTER_ESCAPES = {
    "\\": "\\\\", "[": "\\[", "]": "\\]", "*": "\\*", "_": "\\_", "`": "\\`",
    "<": "&lt;", ">": "&gt;", "&": "&amp;", "{": "&#123;", "}": "&#125;", "|": "\\|",
    "'": "\\'", '"': '\\"', "-": "\\-", ".": "\\.", "~": "\\~", "$": "\\$",
}


def clean_text(text: str) -> str:
    """One line of printable text: line breaks and control characters gone, spaces collapsed, NFC."""
    text = unicodedata.normalize("NFC", text)
    text = _LINE_BREAKS.sub(" ", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cs", "Cf") and ch not in "\ufffe\uffff")
    return text.strip()


def yaml_quoted(text: str) -> str:
    """*text* as a YAML double-quoted scalar (``\\`` and ``"`` escaped)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@lru_cache(maxsize=4096)  # a few hundred outlets and tags in all; a YAML parse is ~0.4 ms
def yaml_plain(text: str) -> str:
    """*text* bare when YAML reads it back as that same string, else double-quoted.

    "YAML" is PyYAML and Jekyll's Ruby Psych, which resolves more plain scalars: ``yEs``
    and ``oN`` are booleans there, ``1,000`` an integer, ``2024-1-2`` a date and ``:x``
    a symbol that Jekyll refuses, skipping the whole file (see :func:`_psych_string`).
    """
    if not _psych_string(text):
        return yaml_quoted(text)
    try:
        if yaml.safe_load(f"k: {text}") == {"k": text}:
            return text
    except yaml.YAMLError:
        pass
    return yaml_quoted(text)


_SLUG_LIKE = re.compile(r"[0-9a-z]*[a-z][0-9a-z]*")
_PSYCH_KEYWORDS = frozenset({"~", "null", "yes", "true", "on", "no", "false", "off"})


def _psych_string(text: str) -> bool:
    """True when Psych 4 (``ScalarScanner#tokenize``) reads the plain scalar *text* as a string.

    Conservative: a string that starts like a word (a letter, or one character other than
    a digit, ``.``, ``:`` or ``-`` and then a letter) and is no short keyword; an a-z0-9
    slug (its only other readings, ``0x…`` and ``0b…`` integers, PyYAML shares); or text
    outside ASCII that does not start with ``:`` (Psych's number and date forms are ASCII).
    """
    if _SLUG_LIKE.fullmatch(text):
        return True
    first = text[:1]
    if _is_letter(first) or (len(text) > 1 and first not in "0123456789.:-" and _is_letter(text[1])):
        return len(text) > 5 or text.casefold() not in _PSYCH_KEYWORDS
    return not text.isascii() and not text.startswith(":")


def _is_letter(ch: str) -> bool:
    return bool(ch) and unicodedata.category(ch).startswith("L")


def outlet_slug(outlet: str, overrides: Mapping[str, str]) -> str:
    """The category slug of *outlet*: the override, else its toneless pinyin in a-z0-9."""
    if outlet in overrides:
        return overrides[outlet]
    return pinyin_slug(outlet)


@lru_cache(maxsize=4096)  # outlets repeat across articles; pypinyin costs ~0.15 ms a call
def pinyin_slug(outlet: str) -> str:
    """The toneless pinyin of *outlet* in a-z0-9; ``media`` + a hash when nothing of it is left."""
    from pypinyin import Style, lazy_pinyin  # large dictionaries: load on first use

    slug = _NOT_ALNUM.sub("", "".join(lazy_pinyin(outlet, style=Style.NORMAL, errors="default")).lower())
    if not slug:
        slug = "media" + hashlib.sha1(outlet.encode("utf-8")).hexdigest()[:8]
    return slug


def render_post(post: Post) -> str:
    """The exact text of the post file."""
    date = post.published.astimezone(BEIJING)
    base = post.base_url
    footer_tag = "".join(_FOOTER_ESCAPES.get(ch, ch) for ch in post.tag)
    return (
        "---\n"
        "layout: post\n"
        f"title: {yaml_quoted(clean_text(post.title))}\n"
        f"date: {date:%Y-%m-%d %H:%M:%S} +0800\n"
        f"categories: {yaml_plain(post.slug)}\n"
        f"tags: {yaml_plain(post.tag)}\n"
        "---\n"
        f"{post.body}\n"
        "\n"
        f"<{post.share_link}>\n"
        "\n"
        f"[返回{footer_tag}]({base}/category/{post.slug}.html)｜[返回首页]({base}/)\n"
    )


def render_category_page(slug: str, title: str) -> str:
    """The exact text of ``category/<slug>.html``."""
    return f"---\nlayout: category\ntitle: {yaml_plain(clean_text(title))}\ncategory: {yaml_plain(slug)}\n---\n"


def post_tag(item: ArticleItem) -> str:
    """The post's tag: the list's, else "<outlet>新闻"."""
    return clean_text(item.tag) if item.tag else f"{clean_text(item.outlet or '')}新闻"


def choose_category(item: ArticleItem, overrides: Mapping[str, str]) -> CategoryChoice:
    """The category of *item*: the list's category, else the outlet's override, else its pinyin."""
    outlet = item.outlet or ""
    fixed = item.category is not None or outlet in overrides
    title = item.tag if item.category is not None and item.tag else outlet or post_tag(item)
    return CategoryChoice(item.category or outlet_slug(clean_text(outlet), overrides), title, outlet, fixed)


def build_post(item: ArticleItem, *, category: CategoryChoice, share_link: str, base_url: str) -> Post:
    """The post of a validated, cleaned and dated item; *share_link* is the article's link."""
    assert item.title and item.published and item.html is not None
    return Post(
        code=item.code,
        title=clean_text(item.title),
        published=item.published,
        slug=category.slug,
        tag=post_tag(item),
        body=item.html,
        share_link=share_link,
        base_url=base_url,
    )


class PostPipeline:
    def __init__(self, sources: Mapping[str, Source], base_url: str, overrides: Mapping[str, str], stats: StatsCollector) -> None:
        self.sources = sources
        self.base_url = base_url
        self.overrides = dict(overrides)
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PostPipeline:
        s = crawler.settings
        assert crawler.stats is not None
        return cls(configured_sources(s), s.get("FINEWS_BASE_URL", ""), s.getdict("FINEWS_CATEGORIES"), crawler.stats)

    def process_item(self, item: ArticleItem) -> ArticleItem:
        if item.quarantine is not None:
            return item
        if not clean_text(item.outlet or "") and not item.tag:
            item.set_quarantine("no outlet to name the category")
            self.stats.inc_value("post/no_outlet")
            return item
        share_link = self.sources[item.source].share_link(item.code)
        item.category_choice = choose_category(item, self.overrides)
        item.post = build_post(item, category=item.category_choice, share_link=share_link, base_url=self.base_url)
        self.stats.inc_value("post/built")
        return item
