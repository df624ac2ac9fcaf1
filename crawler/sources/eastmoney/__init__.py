"""Eastmoney (东方财富): the content API, article pages and five list kinds (SPEC §5).

Parsers are pure functions over response text; ``EastmoneySource.PARSERS`` maps
each golden-fixture folder under ``tests/fixtures/sources/eastmoney/`` to a uniform
``(payload bytes, url) -> result`` adapter, so every parser is covered by fixtures.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any, ClassVar

from crawler.sources.base import ListPage, Parser, Source, decode_utf8
from crawler.sources.eastmoney import codes, lists, targets
from crawler.sources.eastmoney.article_page import PageArticle, parse_article_page, parse_continuation_page
from crawler.sources.eastmoney.codes import article_id, normalize_code
from crawler.sources.eastmoney.content_api import ApiArticle, parse_content_api
from crawler.sources.eastmoney.fetch import NAME, EastmoneyFetch
from crawler.sources.eastmoney.lists import LIST_KINDS, next_page_url, parse_list
from crawler.sources.eastmoney.noise import NOISE
from crawler.sources.fetching import FetchStrategy
from crawler.sources.noise import NoiseRules

__all__ = [
    "LIST_KINDS", "SOURCE", "ApiArticle", "EastmoneySource", "PageArticle", "article_id", "next_page_url",
    "normalize_code", "parse_article_page", "parse_content_api", "parse_continuation_page", "parse_list",
]


def _content_api(payload: bytes, url: str) -> ApiArticle | None:
    return parse_content_api(payload)


def _article_page(payload: bytes, url: str) -> PageArticle:
    return parse_article_page(decode_utf8(payload, "article page"), url)


def _continuation_page(payload: bytes, url: str) -> str | None:
    return parse_continuation_page(decode_utf8(payload, "article page"), url)


def _list(kind: str, payload: bytes, url: str) -> ListPage:
    return lists.parse_list(kind, payload)


class EastmoneySource(Source):
    NAME = NAME
    # Eastmoney's own hosts only (README "Running against the live site").  The original
    # system's other lists (legacy webapi type=45 and marketType 37-39) answer only at bare
    # addresses over plain HTTP, so they are not defaults; settings.yaml shows how to add one.
    DEFAULTS: ClassVar[Mapping[str, Any]] = {
        "share_link": "https://choicewzp1.eastmoney.com/html_News/NewsShare.html?infoCode={code}",
        "content_api": "https://choicewzp1.eastmoney.com/NewsData/GetNewsText.do?id={code}",
        "article_page": "https://finance.eastmoney.com/a/{id}.html",
        "lists": [
            {  # the rolling 7x24 news: the original's type=102 list
                "name": "rolling",
                "kind": "fastnews",
                "url": "https://np-weblist.eastmoney.com/comm/web/getFastNewsList?client=web"
                "&biz=web_724&fastColumn=102&sortEnd=&pageSize=50",
                "category": "emnews",
                "tag": "东财滚动新闻",
            },
            {  # the finance column (财经导读)
                "name": "finance",
                "kind": "columns",
                "url": "https://np-listapi.eastmoney.com/comm/web/getNewsByColumns?client=web"
                "&biz=web_news_col&column=350&order=1&needInteractData=0&page_size=50",
            },
        ],
    }
    TEMPLATES: ClassVar[Mapping[str, str]] = {"share_link": "{code}", "content_api": "{code}", "article_page": "{id}"}
    LIST_KINDS = lists.LIST_KINDS
    PARSERS: ClassVar[Mapping[str, Parser]] = {
        "content_api": _content_api,
        "article_page": _article_page,
        "continuation_page": _continuation_page,
        **{f"list_{kind}": partial(_list, kind) for kind in lists.LIST_KINDS},
    }
    CODE_PATTERN = codes.INFOCODE.pattern  # the infoCode; the 18 digits alone are the article id
    NOISE: ClassVar[NoiseRules] = NOISE

    @classmethod
    def normalize_code(cls, value: object) -> str | None:
        return codes.normalize_code(value)

    @classmethod
    def article_id(cls, code: str) -> str:
        return codes.article_id(code)

    def code_for(self, target: str) -> str:
        return targets.code_for(target)

    def parse_list(self, kind: str, payload: bytes) -> ListPage:
        return lists.parse_list(kind, payload)

    def next_page_url(self, url: str, cursor: dict[str, str]) -> str:
        return lists.next_page_url(url, cursor)

    def fetching(self) -> FetchStrategy:
        return EastmoneyFetch(self.templates["content_api"], self.templates["article_page"], self.article_id)


SOURCE = EastmoneySource
