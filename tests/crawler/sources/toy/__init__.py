"""A minimal source that exists only for the tests: proof that a source is a folder plus settings.

It is registered by settings alone (``sources.toy.module: tests.crawler.sources.toy``)
and nothing outside this folder knows it.  Its wire format is made up and small:

- a list ``GET <list url>[?page=N]``: ``{"items": [{"id", "title", "time", "outlet"}], "next": N | null}``;
- an article ``GET <article_api with {id}>``: ``{"title", "time", "outlet", "html"}``, or 404.

Codes are ``TOY`` + 6 digits (``TOY000001``), the id the digits alone.  A user names an
article as ``toy:1``, ``TOY000001`` or a link ``…/toy/1``.  Its noise: ``div.toy-ad``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from crawler.items import ArticleItem
from crawler.sources.base import (
    ListEntry,
    ListPage,
    Parser,
    Source,
    SourceFormatError,
    TargetError,
    decode_utf8,
    expect_object,
    load_json,
    text_field,
)
from crawler.sources.fetching import FetchStrategy, NoArticle, Outcome, Reply, Step
from crawler.sources.noise import NoiseRules

_CODE = re.compile(r"(?:TOY)?(\d{1,6})", re.IGNORECASE)
_TARGET = re.compile(r"toy:(\d{1,6})", re.IGNORECASE)
_LINK = re.compile(r"/toy/(\d{1,6})/?$")


def normalize(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    match = _CODE.fullmatch(value.strip())
    return f"TOY{int(match.group(1)):06d}" if match else None


def parse_article(payload: bytes) -> dict[str, Any]:
    what = "toy article"
    obj = expect_object(load_json(decode_utf8(payload, what), what), what)
    return {
        "title": text_field(obj, ("title",), what),
        "time": text_field(obj, ("time",), what),
        "outlet": text_field(obj, ("outlet",), what),
        "html": text_field(obj, ("html",), what),
    }


def parse_latest(payload: bytes) -> ListPage:
    what = "toy list"
    top = expect_object(load_json(decode_utf8(payload, what), what), what)
    items = top.get("items")
    if not isinstance(items, list):
        raise SourceFormatError(f"{what}: items must be an array")
    entries = []
    for raw in items:
        obj = expect_object(raw, what)
        code = normalize(obj.get("id"))
        if code is not None:
            entries.append(ListEntry(code, text_field(obj, ("title",), what), text_field(obj, ("time",), what),
                                     text_field(obj, ("outlet",), what), None, None))
    following = top.get("next")
    return ListPage(tuple(entries), {"page": str(following)} if following else None)


class ToyFetch(FetchStrategy):
    def __init__(self, article_api: str) -> None:
        self.article_api = article_api

    def start(self, code: str, targets: list[str], hints: dict[str, Any]) -> Step:
        state = {"code": code, "targets": targets, "hints": hints, "at": datetime.now(UTC)}
        return Step(self.article_api.format(code=code, id=ToySource.article_id(code)), "article", state)

    def on_reply(self, step: Step, reply: Reply) -> Iterator[Outcome]:
        state = step.state
        if reply.status == 404:
            yield NoArticle(state["code"], state["targets"], "toy article: 404 not found")
            return
        try:
            article = parse_article(reply.body)
        except SourceFormatError as exc:
            yield NoArticle(state["code"], state["targets"], str(exc))
            return
        hints = state["hints"]
        yield ArticleItem(
            source=ToySource.NAME,
            code=state["code"],
            fetched_at=state["at"],
            targets=state["targets"],
            title=hints.get("title") or article["title"],
            date_raw=hints.get("date") or article["time"],
            outlet=hints.get("outlet") or article["outlet"],
            body_html=article["html"],
            base_url=reply.url,
            raw={"api": reply.text},
            category=hints.get("category"),
            tag=hints.get("tag"),
            list_meta=hints.get("list_meta", {}),
        )

    def on_error(self, step: Step, reason: str) -> Iterator[Outcome]:
        yield NoArticle(step.state["code"], step.state["targets"], f"toy article: {reason}")


class ToySource(Source):
    NAME = "toy"
    DEFAULTS: ClassVar[Mapping[str, Any]] = {
        "share_link": "https://toy.invalid/share/{id}",
        "article_api": "https://toy.invalid/api/{id}.json",
        "lists": [],
    }
    TEMPLATES: ClassVar[Mapping[str, str]] = {"share_link": "{id}", "article_api": "{id}"}
    LIST_KINDS = ("latest",)
    PARSERS: ClassVar[Mapping[str, Parser]] = {
        "article": lambda payload, url: parse_article(payload),
        "list_latest": lambda payload, url: parse_latest(payload),
    }
    CODE_PATTERN = r"TOY\d{6}"
    NOISE = NoiseRules(drop_selector="div.toy-ad")

    @classmethod
    def normalize_code(cls, value: object) -> str | None:
        return normalize(value)

    @classmethod
    def article_id(cls, code: str) -> str:
        return str(int(code[3:]))

    def code_for(self, target: str) -> str:
        text = target.strip()
        match = _TARGET.fullmatch(text) or _LINK.search(urlsplit(text).path if "://" in text else "")
        code = normalize(match.group(1)) if match else (normalize(text) if text.upper().startswith("TOY") else None)
        if code is None:
            raise TargetError("not a toy article: expected toy:<n>, TOY + 6 digits or a …/toy/<n> link")
        return code

    def parse_list(self, kind: str, payload: bytes) -> ListPage:
        return parse_latest(payload)

    def next_page_url(self, url: str, cursor: dict[str, str]) -> str:
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        query.update(cursor)
        return urlunsplit(parts._replace(query=urlencode(query)))

    def fetching(self) -> FetchStrategy:
        return ToyFetch(self.templates["article_api"])


SOURCE = ToySource

__all__ = ["SOURCE", "ToySource"]
