"""Tests for pipelines.validate: what an article needs before any later stage sees it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem
from crawler.sources.eastmoney.content_api import parse_content_api
from pipelines.models import quarantine
from pipelines.store import StorePipeline
from pipelines.validate import ValidatePipeline, escape_lone_surrogates, validate_item, visible_text
from tests import eastmoney
from tests.pipelines.store_helpers import rows

EASTMONEY = eastmoney.SOURCES["eastmoney"]

CODE = "NW202403051234567892"


def item(**fields: Any) -> ArticleItem:
    """A complete item as a spider yields it, with *fields* replaced."""
    values: dict[str, Any] = {
        "title": "标题",
        "date_raw": "2024-03-05 10:11:12",
        "outlet": "测试日报",
        "body_html": "<p>正文</p>",
        **fields,
    }
    return ArticleItem(source="eastmoney", code=CODE, fetched_at=datetime(2024, 3, 5, tzinfo=UTC), **values)


def validate(it: ArticleItem) -> ArticleItem:
    return ValidatePipeline.from_crawler(get_crawler(settings_dict=eastmoney.settings())).process_item(it)


def test_a_complete_item_passes() -> None:
    it = validate(item())
    assert it.quarantine is None


# --- titles a reader would not see ---------------------------------------------------------

INVISIBLE_TITLES = {
    "empty": "",
    "spaces": "  \t ",
    "zero-width space": "\u200b\u200b",
    "BOM": "\ufeff",
    "word joiner": "\u2060",
    "bidi marks": "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c",
    "C0 controls": "\x00\x01\x07\x1b\x7f",
    "C1 controls": "\x80\x85\x9b\x9f",
    "line separators": "\u2028\u2029\r\n",
    "ideographic spaces": "\u3000\u3000",
    "NBSP and soft hyphen": "\u00a0\u00ad",
    "Hangul fillers": "\u3164\u115f\u1160\uffa0",
    "variation selectors": "\ufe0f\U000e0100",
    "braille blank": "\u2800",
    "a mixture": "\u3000\u200b\ufeff \u2060\x01\u200e\u3164",
}


@pytest.mark.parametrize("title", INVISIBLE_TITLES.values(), ids=INVISIBLE_TITLES.keys())
def test_a_title_of_invisible_characters_is_no_title(title: str) -> None:
    assert visible_text(title) == ""
    assert validate_item(item(title=title), EASTMONEY) == "no title"
    assert validate(item(title=title)).quarantine == "no title"


@pytest.mark.parametrize("title", ["A", "\u200b标题\u200b", "\u3000\u3000一", "😀", "\u2800x", "0"])
def test_a_title_with_one_visible_character_passes(title: str) -> None:
    assert validate_item(item(title=title), EASTMONEY) is None


# --- lone surrogates -------------------------------------------------------------------------

SURROGATE_FIELDS = [
    ("title", "标题\ud800", "title"),
    ("date_raw", "2024-03-05 10:11:12\udfff", "date"),
    ("outlet", "测试\udc00日报", "outlet"),
    ("authors", ["记者\ud801"], "author"),
    ("body_html", "<p>正文\ud800段落</p>", "body"),
    ("tag", "\udbff标签", "tag"),
    ("category", "slug\ud800", "category"),
    ("list_meta", {"http://list/": {"title": "标题\ud800"}}, "list metadata"),
]


@pytest.mark.parametrize(("field", "value", "name"), SURROGATE_FIELDS, ids=[f for f, _, _ in SURROGATE_FIELDS])
def test_a_lone_surrogate_in_any_text_field_quarantines(field: str, value: object, name: str) -> None:
    it = validate(item(**{field: value}))
    assert it.quarantine == f"{name} holds invalid characters (lone surrogate)"


def test_a_surrogate_only_title_is_reported_as_invalid_not_missing() -> None:
    assert validate_item(item(title="\ud800"), EASTMONEY) == "title holds invalid characters (lone surrogate)"


def test_an_escaped_pair_is_one_character_not_a_surrogate() -> None:
    payload = json.dumps({"Title": "表情\ud83d\ude00", "Date": "2024-03-05 10:11:12", "text": "<p>正文\ud83d\ude00</p>"})
    assert "\\ud83d\\ude00" in payload  # escaped on the wire, as the source writes it
    api = parse_content_api(payload.encode("ascii"))
    assert api is not None and api.title == "表情😀"
    assert validate_item(item(title=api.title, body_html=api.body_html), EASTMONEY) is None


def test_a_content_api_body_with_a_lone_surrogate_escape_is_quarantined() -> None:
    payload = b'{"Title": "\\u6807\\u9898", "Date": "2024-03-05 10:11:12", "content": "<p>\\u6b63\\ud800</p>"}'
    api = parse_content_api(payload)  # the parser returns what the JSON says
    assert api is not None and api.body_html == "<p>正\ud800</p>"
    it = validate(item(title=api.title, body_html=api.body_html, raw={"api": payload.decode("ascii")}))
    assert it.quarantine == "body holds invalid characters (lone surrogate)"
    assert it.raw == {"api": payload.decode("ascii")}  # the payload text holds only the escape


def test_escape_lone_surrogates() -> None:
    assert escape_lone_surrogates("a\ud800b\udfffc") == "a\\ud800b\\udfffc"
    assert escape_lone_surrogates("标题😀") == "标题😀"


def test_the_quarantine_row_is_written_even_when_the_raw_payload_holds_a_surrogate(database_url: str, tmp_path: Path) -> None:
    crawler = get_crawler(settings_dict={
        "FINEWS_SOURCES": eastmoney.SOURCES, "FINEWS_DATABASE_URL": database_url, "FINEWS_SITE_DIR": str(tmp_path / "site"),
    })
    store = StorePipeline.from_crawler(crawler)
    store.open_spider()
    try:
        it = validate(item(body_html="<p>\ud800</p>", raw={"api": '{"content": "<p>\ud800</p>"}'}))
        with pytest.raises(DropItem, match="lone surrogate"):
            store.process_item(it)
    finally:
        store.close_spider()
    (row,) = rows(database_url, quarantine)
    assert row["reason"] == "body holds invalid characters (lone surrogate)"
    assert json.loads(row["payload"]) == {"api": '{"content": "<p>\\ud800</p>"}'}
