"""Eastmoney (东方财富): parsers for the content API, article pages and the five list kinds.

Pure functions over response text (SPEC section 5); no fetching, no Scrapy.  ``PARSERS``
maps each golden-fixture folder under ``tests/fixtures/sources/eastmoney/`` to a uniform
``(payload bytes, url) -> result`` adapter, so every parser is covered by fixtures.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from crawler.sources.base import Parser, decode_utf8
from crawler.sources.eastmoney.article_page import PageArticle, parse_article_page, parse_continuation_page
from crawler.sources.eastmoney.codes import article_id, normalize_code
from crawler.sources.eastmoney.content_api import ApiArticle, parse_content_api
from crawler.sources.eastmoney.lists import LIST_KINDS, ListEntry, ListPage, next_page_url, parse_list

__all__ = [
    "LIST_KINDS",
    "NAME",
    "PARSERS",
    "ApiArticle",
    "ListEntry",
    "ListPage",
    "PageArticle",
    "article_id",
    "next_page_url",
    "normalize_code",
    "parse_article_page",
    "parse_content_api",
    "parse_continuation_page",
    "parse_list",
]

NAME = "eastmoney"


def _content_api(payload: bytes, url: str) -> ApiArticle | None:
    return parse_content_api(payload)


def _article_page(payload: bytes, url: str) -> PageArticle:
    return parse_article_page(decode_utf8(payload, "article page"), url)


def _continuation_page(payload: bytes, url: str) -> str | None:
    return parse_continuation_page(decode_utf8(payload, "article page"), url)


def _list(kind: str, payload: bytes, url: str) -> ListPage:
    return parse_list(kind, payload)


PARSERS: Mapping[str, Parser] = {
    "content_api": _content_api,
    "article_page": _article_page,
    "continuation_page": _continuation_page,
    **{f"list_{kind}": partial(_list, kind) for kind in LIST_KINDS},
}
