"""Golden fixtures for every registered source parser, plus focused Eastmoney unit tests.

Each input under ``tests/fixtures/sources/<source>/<parser>/`` is parsed by
``builtin_sources()[<source>].PARSERS[<parser>]`` with the URL from the folder's ``meta.json``
and compared with ``<case>.expected.json``.  Regenerate with ``pytest --update-golden``
and review every changed expected file by hand.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from crawler.sources import builtin_sources
from crawler.sources.base import SourceFormatError
from crawler.sources.eastmoney.article_page import parse_article_page
from crawler.sources.eastmoney.codes import article_id, normalize_code
from crawler.sources.eastmoney.content_api import parse_content_api
from crawler.sources.eastmoney.lists import LIST_KINDS, next_page_url, parse_list
from tests.conftest import FIXTURES, assert_golden

SOURCES = builtin_sources()
SOURCE_FIXTURES = FIXTURES / "sources"
EXPECTED_SUFFIX = ".expected.json"


def _is_input(path: Path) -> bool:
    return path.is_file() and path.name != "meta.json" and not path.name.endswith(EXPECTED_SUFFIX)


INPUTS = sorted(p for p in SOURCE_FIXTURES.glob("*/*/*") if _is_input(p))


def _expected_path(path: Path) -> Path:
    return path.with_name(path.stem + EXPECTED_SUFFIX)


def _meta(folder: Path) -> dict[str, dict[str, str]]:
    meta_path = folder / "meta.json"
    assert meta_path.is_file(), f"add {meta_path} with {{case file: {{url, note}}}}"
    meta: dict[str, dict[str, str]] = json.loads(meta_path.read_text(encoding="utf-8"))
    return meta


def _as_json(value: object) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def _golden_text(value: object) -> str:
    return json.dumps(_as_json(value), sort_keys=True, ensure_ascii=False, indent=1) + "\n"


@pytest.mark.parametrize("path", INPUTS, ids=[str(p.relative_to(SOURCE_FIXTURES)) for p in INPUTS])
def test_golden(path: Path, update_golden: bool) -> None:
    parser_dir = path.parent
    source_name, parser_name = parser_dir.parent.name, parser_dir.name
    assert source_name in SOURCES, f"fixture folder {source_name!r} names no registered source"
    parsers = SOURCES[source_name].PARSERS
    assert parser_name in parsers, f"{parser_dir} names no parser of {source_name}; known: {sorted(parsers)}"
    meta = _meta(parser_dir)
    assert path.name in meta, f"describe {path.name} in {parser_dir / 'meta.json'} (url, note)"

    try:
        result: object = parsers[parser_name](path.read_bytes(), meta[path.name]["url"])
    except SourceFormatError as exc:
        result = {"error": str(exc)}
    assert_golden(_expected_path(path), _golden_text(result), update_golden)


@pytest.mark.parametrize("source_name", sorted(SOURCES))
def test_every_parser_has_fixtures(source_name: str) -> None:
    root = SOURCE_FIXTURES / source_name
    for parser_name in SOURCES[source_name].PARSERS:
        folder = root / parser_name
        inputs = [p for p in folder.glob("*") if _is_input(p)] if folder.is_dir() else []
        assert inputs, f"parser {source_name}.{parser_name} has no fixture: add inputs under {folder}"
        meta = _meta(folder)
        stale = sorted(set(meta) - {p.name for p in inputs})
        assert not stale, f"{folder / 'meta.json'} describes missing files {stale}"
        orphans = sorted(
            p.name for p in folder.glob("*" + EXPECTED_SUFFIX)
            if not any(i.stem == p.name[: -len(EXPECTED_SUFFIX)] for i in inputs)
        )
        assert not orphans, f"expected files without an input in {folder}: {orphans}"


# --- focused unit tests ------------------------------------------------------


def test_content_api_keys_are_case_insensitive() -> None:
    upper = parse_content_api('{"ID":"NW202301010000000001","TITLE":"标题","MEDIANAME":"新华社","TEXT":"<p>正文</p>"}')
    lower = parse_content_api('{"id":"NW202301010000000001","title":"标题","medianame":"新华社","text":"<p>正文</p>"}')
    assert upper == lower
    assert upper is not None and upper.outlet == "新华社" and upper.style == "text"


@pytest.mark.parametrize("payload", ["", "  \n", "null", "{}", b"", b"null", '{"Id":"NW202301010000000001"}'])
def test_content_api_without_body_is_none(payload: str | bytes) -> None:
    assert parse_content_api(payload) is None


def test_content_api_errors_are_one_line() -> None:
    with pytest.raises(SourceFormatError, match=r"^content API: malformed JSON at line 1 column 6 \(Expecting .:. delimiter\)$"):
        parse_content_api('{"a" 1}')
    with pytest.raises(SourceFormatError, match=r"^content API: expected a JSON object, got array$"):
        parse_content_api("[]")
    with pytest.raises(SourceFormatError, match=r"^content API: body is not valid UTF-8$"):
        parse_content_api('{"Title":"沪指"}'.encode("gbk"))


def test_content_api_outlet_prefers_medianame_then_from_then_body() -> None:
    body = '<p class="em_media">（文章来源：<span><a class="infokey">经济</a></span>日报）</p>'
    both = parse_content_api(json.dumps({"Title": "t", "medianame": "甲", "From": "乙", "text": body}))
    from_only = parse_content_api(json.dumps({"Title": "t", "medianame": " ", "From": "乙", "text": body}))
    neither = parse_content_api(json.dumps({"Title": "t", "text": body}))
    blank = parse_content_api(json.dumps({"Title": "t", "text": '<p class="em_media">（文章来源：）</p>'}))
    ascii_parens = parse_content_api(json.dumps({"Title": "t", "text": '<p class="em_media">(文章来源: 新华社 )</p>'}))
    outlets = [a.outlet if a else None for a in (both, from_only, neither, blank, ascii_parens)]
    assert outlets == ["甲", "乙", "经济日报", None, "新华社"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("NW202202092271461775", "NW202202092271461775"),
        ("nw202202092271461775", "NW202202092271461775"),
        (" 202202092271461775 ", "NW202202092271461775"),
        (202202092271461775, "NW202202092271461775"),
        ("NW20220209227146177", None),  # 17 digits
        ("2022020922714617750", None),  # 19 digits
        ("ZT20230517", None),
        (None, None),
        (True, None),
    ],
)
def test_normalize_code(value: object, expected: str | None) -> None:
    assert normalize_code(value) == expected


def test_article_id() -> None:
    assert article_id("NW202202092271461775") == "202202092271461775"
    with pytest.raises(ValueError, match="not an Eastmoney article code"):
        article_id("NW1")


@pytest.mark.parametrize(
    "wrapper",
    ["cb({})", "cb({});", "  jQuery1830_1684({}) ;\n", "window.cb_1({})", "cb(\n{}\n)"],
)
def test_columns_jsonp_variants(wrapper: str) -> None:
    data = '{"code":"1","data":{"list":[{"code":"202301010000000001","title":"t"}],"page_index":1,"page_size":1,"totle_hits":2}}'
    page = parse_list("columns", wrapper.replace("{}", data))
    assert [e.code for e in page.entries] == ["NW202301010000000001"]
    assert page.next_cursor == {"page_index": "2"}


def test_columns_empty_list_ends_paging_whatever_the_count() -> None:
    page = parse_list("columns", '{"data":{"list":[],"page_index":2,"page_size":50,"totle_hits":900}}')
    assert page == type(page)(entries=(), next_cursor=None)


def test_unknown_kind_names_the_kind_and_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"'rss'.*nodelist, records, record, fastnews, columns") as info:
        parse_list("rss", "{}")
    assert not isinstance(info.value, SourceFormatError)
    assert LIST_KINDS == ("nodelist", "records", "record", "fastnews", "columns")


@pytest.mark.parametrize("kind", LIST_KINDS)
def test_list_empty_or_malformed_payload_is_a_format_error(kind: str) -> None:
    with pytest.raises(SourceFormatError, match=f"^list {kind}: empty response$"):
        parse_list(kind, b"")
    with pytest.raises(SourceFormatError, match=f"^list {kind}: malformed JSON"):
        parse_list(kind, "{")


@pytest.mark.parametrize(
    ("url", "cursor", "expected"),
    [
        ("https://h/l?client=web&page_index=1&page_size=50", {"page_index": "2"}, "https://h/l?client=web&page_index=2&page_size=50"),
        ("https://h/l?client=web&page_size=50", {"page_index": "2"}, "https://h/l?client=web&page_size=50&page_index=2"),
        ("https://h/l?sortEnd=&pageSize=3&b=%2C", {"sortEnd": "1684389912640735"}, "https://h/l?sortEnd=1684389912640735&pageSize=3&b=%2C"),
        ("https://h/l?a=1&sortEnd=5&sortEnd=6#x", {"sortEnd": "7"}, "https://h/l?a=1&sortEnd=7#x"),
        ("https://h/l", {"page_index": "2"}, "https://h/l?page_index=2"),
        ("https://h/l?cb=jQuery1830_1684&page_index=1", {"page_index": "a b&c"}, "https://h/l?cb=jQuery1830_1684&page_index=a%20b%26c"),
    ],
)
def test_next_page_url(url: str, cursor: dict[str, str], expected: str) -> None:
    assert next_page_url(url, cursor) == expected


def test_continuation_urls_exclude_the_page_itself_and_other_articles() -> None:
    html = (
        '<div class="contentwrap"><div class="title">t</div>'
        '<div class="txtinfos" id="ContentBody"><p>x</p></div>'
        '<a href="202301010000000001.html">1</a><a href="202301010000000001_2.html">2</a>'
        '<a href="202301010000000001_3.html">3</a><a href="202301010000000002_2.html">other</a></div>'
    )
    page = parse_article_page(html, "https://finance.eastmoney.com/a/202301010000000001_2.html")
    assert page.continuation_urls == ("https://finance.eastmoney.com/a/202301010000000001_3.html",)
