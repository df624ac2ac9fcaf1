"""Tests for pipelines.clean: golden bodies, sanitizer guarantees, Liquid/Markdown safety."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from bs4 import BeautifulSoup, NavigableString, Tag
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem
from pipelines.clean import _CLEANER, CleanPipeline
from pipelines.clean_blocks import BodyTooComplex
from pipelines.clean_rules import ALLOWED_ATTRIBUTES, ALLOWED_TAGS
from tests import eastmoney
from tests.conftest import FIXTURES, GOLDEN_SEED, assert_golden
from tests.eastmoney import clean_body

CASES_DIR = FIXTURES / "pipelines" / "clean"
CASES = sorted(p.name.removesuffix(".in.html") for p in CASES_DIR.glob("*.in.html"))
BASE_URL = "https://finance.eastmoney.com/a/202202092271461775.html"
TOP_LEVEL = {"p", "h2", "h3", "h4", "blockquote", "ul", "ol", "table", "figure"}

XSS_VECTORS = [
    '<a href="javascript:alert(1)">a</a>',
    '<a href="JaVaScRiPt:alert(1)">a</a>',
    '<a href=" javascript:alert(1)">a</a>',
    '<a href="jav&#x09;ascript:alert(1)">a</a>',
    '<a href="jav\tascript:alert(1)">a</a>',
    '<a href="java\nscript:alert(1)">a</a>',
    '<a href="&#106;avascript:alert(1)">a</a>',
    '<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;:alert(1)">a</a>',
    '<p><a href="vbscript:msgbox(1)">v</a></p>',
    "<img src=x onerror=alert(1)>",
    '<p><img src="https://a.example/x.png" onerror="alert(1)" onload="alert(2)"></p>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "<svg><g/onload=alert(1)></svg>",
    "<p>t<svg><script>alert(1)</script></svg></p>",
    '<math><mi xlink:href="data:x,<script>alert(1)</script>">m</mi></math>',
    '<p style="width:expression(alert(1))">e</p>',
    '<style>@import "https://evil.example/x.css";</style><p>s</p>',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<a href="data:text/html,<script>alert(1)</script>">d</a>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)"><p>m</p>',
    '<base href="https://evil.example/"><p>b</p>',
    '<form action="javascript:alert(1)"><input type="submit"></form>',
    '<p><button formaction="javascript:alert(1)">b</button></p>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    '<p>x<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript></p>',
    "<p>a<script>alert(1)</script>b</p>",
    '<table><tr><td><a href="javascript:alert(1)" onmouseover="alert(2)">c</a></td></tr></table>',
    "<p>x<plaintext><script>alert(1)</script></p>",
    "<xmp><script>alert(1)</script></xmp>",
    "<p>a<template><img src=x onerror=alert(1)></template></p>",
    "<object data=x></object><embed src=x><p>o</p>",
    '<p class="c" id="i" lang="en" title="t" dir="rtl" style="color:red" markdown="1">attributes</p>',
    '<p><a href="https://ok.example/" rel="opener" target="_blank" onclick="alert(1)">rel</a></p>',
]
FORBIDDEN = [
    "javascript", "vbscript", "onerror", "onload", "onmouseover", "<script", "<iframe",
    "srcdoc", "<svg", "<math", "expression(", "data:", "<meta", "http-equiv", "<base",
    "<form", "formaction", "<style", "style=", "<noscript", "<button", "<object", "<embed",
    "class=", "id=", "lang=", "dir=", "rel=", "target=", "markdown=",
]
LIQUID = ["{{ site.time }}", "{% include x %}", "{% endraw %}{{ site.secret }}", "{{", "}}", "a{b}c"]


def _case_input(case: str) -> str:
    return (CASES_DIR / f"{case}.in.html").read_text(encoding="utf-8")


def _fixture_inputs() -> list[str]:
    return [_case_input(case) for case in CASES]


def _corpus() -> list[str]:
    return _fixture_inputs() + XSS_VECTORS + [f"<p>{x}</p>" for x in LIQUID] + LIQUID


def _parse(html: str) -> BeautifulSoup:
    # html.parser adds no implied tags, so what it shows is what the output holds.
    return BeautifulSoup(html, "html.parser")


# --- golden ----------------------------------------------------------------------------


def test_fixture_cases_are_present() -> None:
    assert {"content_style", "page_noise", "tables", "nested_p", "loose_text"} <= set(CASES)


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str, update_golden: bool) -> None:
    actual = clean_body(_case_input(case), base_url=BASE_URL)
    assert_golden(CASES_DIR / f"{case}.out.html", actual, update_golden)


def test_seed_body_matches_expected_post() -> None:
    payload = json.loads((GOLDEN_SEED / "content-api.json").read_text(encoding="utf-8"))
    lines = (GOLDEN_SEED / "expected-post.md").read_text(encoding="utf-8").split("\n")
    front_matter_end = [i for i, line in enumerate(lines) if line == "---"][1]
    body_end = lines.index("", front_matter_end)
    expected = "\n".join(lines[front_matter_end + 1 : body_end])
    assert clean_body(payload["text"], base_url=payload["url"]) == expected


# --- behaviour the goldens rely on, stated directly -------------------------------------


def test_content_style_noise_and_links() -> None:
    out = clean_body(_case_input("content_style"), base_url=BASE_URL)
    for gone in ("webquoteklinepic", "loading.gif", "acttg", "ad.jpg", "adConfig", "quote.eastmoney",
                 "data.eastmoney"):
        assert gone not in out
    assert 'src="https://np-newspic.dfcfw.com/download/D25411860209621573498_w690h389.jpg"' in out
    assert "<p>图为蔚来ET7（资料图）</p>" in out
    assert out.endswith("<p>（文章来源：证券时报网）</p>")
    assert "<p>蔚来（NIO）2月9日" in out


def test_page_noise_keeps_news_that_mentions_account_opening() -> None:
    out = clean_body(_case_input("page_noise"), base_url=BASE_URL)
    assert "新增开户数同比增长两成" in out
    for gone in ("一站式开户", "妙想", "打开微信", "郑重声明", "免责条款", "责任编辑", "编辑：", "原标题", "选股", "与本站立场无关"):
        assert gone not in out
    assert '<a href="https://finance.eastmoney.com/a/202202082270000000.html">相关报道</a>' in out


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<!-- EM_StockImg_Start --><p><img src="https://k.example/x.png"></p><!-- EM_StockImg_End --><p>正文</p>',
         "<p>正文</p>"),
        (('<p>前<!-- EM_StockImg_Start --><img src="https://k.example/x.png"></p>'
          '<p><img src="https://k.example/y.png"><!-- EM_StockImg_End -->后</p>'), "<p>前</p>\n<p>后</p>"),
        ('<p>a</p><!-- EM_StockImg_Start --><p>b</p>', "<p>a</p>\n<p>b</p>"),  # unmatched: nothing dropped
    ],
    ids=["at-start", "across-paragraphs", "unmatched"],
)
def test_kline_blocks(html: str, expected: str) -> None:
    assert clean_body(html) == expected


@pytest.mark.parametrize(
    "html",
    [
        "<p>券商手机开户占比提升至九成。</p>",
        '<p><a href="https://finance.eastmoney.com/a/2.html">券商开户数创新高</a></p>',
        "<p>某公司发布AI助手，东方财富APP月活跃用户增长。</p>",
        "<p>支付宝扫一扫功能升级。</p>",
        "<p>（编辑部）本报讯</p>",
    ],
)
def test_news_that_resembles_noise_stays(html: str) -> None:
    assert clean_body(html) == html


@pytest.mark.parametrize(
    "html",
    [
        '<p><a href="https://emcreative.eastmoney.com/x">【开户福利】东方财富证券手机开户，佣金优惠&gt;&gt;</a></p>',
        "<p>打开微信，点击底部的“发现”，</p><p>使用“扫一扫”即可将网页分享至朋友圈。</p>",
        "<div>风险提示及免责条款：市场有风险，投资需谨慎。</div>",
        '<p class="em_media">（责任编辑：DF532）</p>',
        '<div class="ad_context_2"><a href="https://acttg.eastmoney.com/pub/1"><img src="https://z1.dfcfw.com/a.jpg"></a></div>',
    ],
)
def test_noise_recognised_by_text_or_link_goes(html: str) -> None:
    assert clean_body(html) == ""


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://finance.eastmoney.com/a/1.html", "https://img.example/x.jpg"),
        ("http://finance.eastmoney.com/a/1.html", "http://img.example/x.jpg"),
        (None, "https://img.example/x.jpg"),
    ],
)
def test_protocol_relative_image_follows_base_scheme(base_url: str | None, expected: str) -> None:
    html = '<img src="loading.gif" data-original="//img.example/x.jpg">'
    assert clean_body(html, base_url=base_url) == f'<p><img src="{expected}"></p>'


def test_relative_url_without_base_is_dropped() -> None:
    assert clean_body('<p><a href="/a/1.html">t</a><img src="/x.png"></p>') == "<p>t</p>"


def test_stray_unclosed_p_and_empty_paragraphs_vanish() -> None:
    html = '<p><p align="center"></p>\n <p>\u3000\u3000正文</p><p><br></p><p> &nbsp; </p>'
    assert clean_body(html) == "<p>正文</p>"


def test_text_is_nfc_and_whitespace_collapsed() -> None:
    assert clean_body("<p>\u00a0\u00a0Cafe\u0301 \n\t  au\u3000 lait  </p>") == "<p>Café au lait</p>"


@pytest.mark.parametrize(
    "html", ["", "   ", "<p>\u3000\u3000</p>", "<script>x</script>", "<!-- c -->", "<p><br></p>"]
)
def test_nothing_left_is_empty_string(html: str) -> None:
    assert clean_body(html) == ""


# --- security and publishing safety -------------------------------------------------------


@pytest.mark.parametrize("vector", XSS_VECTORS)
@pytest.mark.parametrize("context", ["{}", "<p>before</p>{}<p>after</p>", "<div><p>{}</p></div>"])
def test_xss_vectors_do_not_survive(vector: str, context: str) -> None:
    out = clean_body(context.format(vector), base_url=BASE_URL).lower()
    for needle in FORBIDDEN:
        assert needle not in out, f"{needle!r} survived in {out!r}"


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<a href="/rel">t</a>', "<a>t</a>"),
        ('<img src="//cdn.example/x.png">', "<img>"),
        ('<a href="https://x.example/" title="t" rel="r">t</a>',
         '<a href="https://x.example/" title="t">t</a>'),
        ('<p lang="en" title="t">x</p>', "<p>x</p>"),
        ("<p>a<noscript>b</noscript><svg><text>c</text></svg></p>", "<p>a</p>"),
    ],
)
def test_sanitizer_configuration(html: str, expected: str) -> None:
    """The nh3 settings themselves, without the lxml stage in front."""
    assert _CLEANER.clean(html) == expected


@pytest.mark.parametrize("payload", LIQUID)
@pytest.mark.parametrize(
    "context", ["<p>{}</p>", "{}", '<p><a href="https://x.example/?q={}" title="{}">t</a></p>']
)
def test_no_liquid_braces_survive(payload: str, context: str) -> None:
    out = clean_body(context.replace("{}", payload))
    assert "{" not in out and "}" not in out
    assert "&#123;" in out or "&#125;" in out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>"),
        ("*emph*", "<p>*emph*</p>"),
        ("# h", "<p># h</p>"),
        ("loose text", "<p>loose text</p>"),
        ('<div markdown="1">[c](javascript:alert(2))</div>', "<p>[c](javascript:alert(2))</p>"),
        ("<p>a</p>\n> quote\n<p>b</p>", "<p>a</p>\n<p>&gt; quote</p>\n<p>b</p>"),
    ],
)
def test_markdown_text_ends_up_inside_a_block(text: str, expected: str) -> None:
    assert clean_body(text) == expected


@pytest.mark.parametrize("html", _corpus())
def test_output_is_blocks_only_one_per_line(html: str) -> None:
    _assert_blocks_only(clean_body(html, base_url=BASE_URL))


@pytest.mark.parametrize("html", _corpus())
def test_output_uses_only_the_allow_list(html: str) -> None:
    out = clean_body(html, base_url=BASE_URL)
    for tag in _parse(out).find_all(True):
        assert tag.name in ALLOWED_TAGS, f"<{tag.name}> is not allowed: {out!r}"
        allowed = ALLOWED_ATTRIBUTES.get(tag.name, set())
        assert set(tag.attrs) <= allowed, f"<{tag.name}> has {sorted(tag.attrs)}: {out!r}"
        for attr in ("href", "src"):
            if tag.has_attr(attr):
                assert tag[attr].startswith(("http://", "https://")), f"{attr}={tag[attr]!r}"


@pytest.mark.parametrize(("html", "expected"), [
    ("<p>a<b> </b>b</p>", "<p>a b</p>"),
    ("<p>涨<span>&nbsp;</span>跌</p>", "<p>涨 跌</p>"),
    ("<p><b> </b>正文</p>", "<p>正文</p>"),
])
def test_an_inline_element_of_white_space_leaves_one_space(html: str, expected: str) -> None:
    assert clean_body(html, base_url="https://finance.eastmoney.com/a/1.html") == expected


@pytest.mark.parametrize("html", _corpus())
def test_idempotent(html: str) -> None:
    once = clean_body(html, base_url=BASE_URL)
    assert clean_body(once, base_url=BASE_URL) == once


def _assert_blocks_only(out: str) -> None:
    """Each line is exactly one allowed top-level block, with no text outside it."""
    assert out == out.strip() and "\n\n" not in out
    for line in filter(None, out.split("\n")):
        nodes = list(_parse(line).contents)
        assert len(nodes) == 1, f"one block per line expected: {line!r}"
        assert isinstance(nodes[0], Tag) and nodes[0].name in TOP_LEVEL, f"not a block: {line!r}"
        assert not isinstance(nodes[0], NavigableString)


@pytest.mark.parametrize(
    "html",
    [
        "<div>" * 150 + "x" + "</div>" * 150,
        "<p>" + "x<span id=quote_1></span>" * 6000 + "</p>",
        "<p>x</p>" * 60_000,
    ],
    ids=["deep", "wide", "large"],
)
@pytest.mark.timeout(30)
def test_hostile_bodies_are_refused_quickly(html: str) -> None:
    with pytest.raises(BodyTooComplex, match="cleaning budget"):
        clean_body(html)


def test_long_real_article_is_within_budget() -> None:
    paragraph = ('<p>\u3000\u3000正文<span id="stock_1.600000"><a class="keytip" '
                 'href="http://quote.eastmoney.com/">浦发</a></span>。</p>\n')
    assert clean_body(paragraph * 1000).count("\n") == 999


# --- the pipeline -------------------------------------------------------------------------


def _item(**kwargs: object) -> ArticleItem:
    fetched = datetime(2022, 2, 9, tzinfo=UTC)
    return ArticleItem(source="eastmoney", code="NW202202092271461775", fetched_at=fetched, **kwargs)  # type: ignore[arg-type]


def test_pipeline_cleans_body() -> None:
    crawler = get_crawler(settings_dict=eastmoney.settings())
    pipeline = CleanPipeline.from_crawler(crawler)
    item = pipeline.process_item(_item(body_html="<p>\u3000\u3000正文</p>", base_url=BASE_URL))
    assert item.html == "<p>正文</p>" and item.quarantine is None
    assert crawler.stats.get_value("clean/items") == 1
    assert crawler.stats.get_value("clean/empty") is None


@pytest.mark.parametrize("body", [None, "", "<p>郑重声明：本文不构成投资建议。</p><script>x</script>"])
def test_pipeline_quarantines_empty_body(body: str | None) -> None:
    crawler = get_crawler(settings_dict=eastmoney.settings())
    item = CleanPipeline.from_crawler(crawler).process_item(_item(body_html=body))
    assert item.html == ""
    assert item.quarantine == "empty body after cleaning"
    assert crawler.stats.get_value("clean/empty") == 1
    assert crawler.stats.get_value("clean/items") == 1


def test_pipeline_quarantines_body_over_budget() -> None:
    crawler = get_crawler(settings_dict=eastmoney.settings())
    item = CleanPipeline.from_crawler(crawler).process_item(_item(body_html="<b>" * 500 + "x"))
    assert item.html is None
    assert item.quarantine is not None and "cleaning budget" in item.quarantine
    assert crawler.stats.get_value("clean/too_complex") == 1


def test_pipeline_leaves_quarantined_item_untouched() -> None:
    crawler = get_crawler(settings_dict=eastmoney.settings())
    item = _item(body_html="<p>正文</p>")
    item.set_quarantine("no title")
    assert CleanPipeline.from_crawler(crawler).process_item(item) is item
    assert item.html is None and item.quarantine == "no title"
    assert crawler.stats.get_value("clean/items") is None
