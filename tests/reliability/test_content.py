"""RELIABILITY.md section 4, group E (content parsing): rows E1, E2, E3, E4, E5 and E6.

E1/E2: GBK bytes, labelled utf-8 or not labelled at all, in the content API, the article
page and a list: never published as mojibake or U+FFFD; the article falls back to the
other source or fails with the reason, a list fails as a list.  E3: labels are not
trusted: UTF-8 bytes under a gb2312 or malformed label, with GB18030-only characters, or
behind a BOM, read correctly; real GB18030 bytes are refused.  E4: dates (the table of
tests/pipelines/test_dates.py, plus reprocessing and an unparsable date end to end).  E5:
a soft 404 or an empty answer with status 200 publishes nothing.  E6: a 10,000-deep
document and a huge text node are handled in bounded time, without recursion errors.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse
from sqlalchemy import create_engine, select

from crawler.replay import ReplayServer
from crawler.sources.base import SourceFormatError
from crawler.sources.eastmoney.article_page import parse_article_page
from crawler.sources.eastmoney.content_api import parse_content_api
from crawler.sources.eastmoney.fetch import page_text
from crawler.sources.eastmoney.lists import parse_list
from pipelines.clean_blocks import BodyTooComplex
from pipelines.dates import BEIJING, parse_published
from pipelines.models import quarantine
from tests.crawler.cli_helpers import finews, write_settings
from tests.eastmoney import clean_body
from tests.reliability.support import Reply, Site, templates

CODE = "NW202401022200000001"
PAGE = f"/a/{CODE[2:]}.html"
RARE = "䶮𠀀"  # a GBK-less character and a GB18030 four-byte one (supplementary plane)
MOJIBAKE = ("\ufffd", "Ã", "Â", "¹", "Ö")


def posts(folder: Path) -> list[Path]:
    return sorted(folder.glob("site/_posts/*.md"))


def with_page(replay: ReplayServer) -> Any:
    """A complete article the API serves whole (so the article page is a second, full source)."""
    return next(a for a in replay.articles if a.api == "full")


def fetch(folder: Path, templates_: dict[str, Any], *codes: str, **overrides: Any) -> Any:
    settings = write_settings(folder, templates_, **overrides)
    return finews("-c", str(settings), "fetch", *codes, cwd=folder)


def quarantined(folder: Path) -> list[dict[str, Any]]:
    engine = create_engine(f"sqlite:///{folder}/finews.db")
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(quarantine)).mappings()]
    engine.dispose()
    return rows


# --- E1, E2: GBK where UTF-8 is due ------------------------------------------------------------


@pytest.mark.parametrize("kind", ["wrong_charset", "gbk_undeclared"])
def test_e1_e2_a_gbk_api_answer_falls_back_to_the_utf8_page(tmp_path: Path, kind: str) -> None:
    with ReplayServer(articles=4) as probe:
        code = with_page(probe).code
    with ReplayServer(articles=4, faults=f"api:{code}={kind}") as replay:
        article = next(a for a in replay.articles if a.code == code)
        run = fetch(tmp_path, replay.templates(), code)
        assert replay.count("page") >= 1  # the API answer was refused, the page read instead
    assert run.returncode == 0, run.stdout + run.stderr
    (post,) = posts(tmp_path)
    text = post.read_text(encoding="utf-8")
    assert article.title in text and article.paragraphs[0][:20] in text
    assert not any(mark in text for mark in MOJIBAKE)


@pytest.mark.parametrize("kind", ["wrong_charset", "gbk_undeclared"])
def test_e1_e2_gbk_in_both_sources_is_never_published(tmp_path: Path, kind: str) -> None:
    with ReplayServer(articles=4) as probe:
        code = with_page(probe).code
    with ReplayServer(articles=4, faults=f"api:{code}={kind};page:{code}={kind}") as replay:
        run = fetch(tmp_path, replay.templates(), code)
    assert run.returncode == 1
    line = run.stdout.strip()
    assert line.startswith(f"failed {code} content API: ") and "article page: " in line
    api, _, page = line.partition("; article page: ")
    assert "UTF-8" in api and "UTF-8" in page, line
    assert posts(tmp_path) == []


@pytest.mark.parametrize("kind", ["wrong_charset", "gbk_undeclared"])
def test_e1_e2_a_gbk_list_fails_as_a_list_and_the_others_still_deliver(tmp_path: Path, kind: str) -> None:
    with ReplayServer(articles=6, page_size=10, faults=f"list:columns={kind}") as replay:
        settings = write_settings(tmp_path, replay.templates())
        run = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path)
        codes = {a.code for a in replay.articles}
    assert run.returncode == 1  # a failed list fails the run
    summary = json.loads(run.stdout.splitlines()[-1])
    assert summary["status"] == "failed" and summary["lists_failed"] == 1
    assert summary["new"] == 6 and {p.name.split("-", 3)[3][:-3] for p in posts(tmp_path)} == codes
    for post in posts(tmp_path):
        assert not any(mark in post.read_text(encoding="utf-8") for mark in MOJIBAKE)


# --- E3: labels are not trusted --------------------------------------------------------------


def article_html(title: str, meta: str = '<meta charset="utf-8">') -> str:
    return (f"<!DOCTYPE html><html><head>{meta}<title>{title}_东方财富网</title></head><body>"
            f'<div class="contentwrap"><div class="title">{title}</div><div class="infos">'
            f'<div class="item">2024年01月02日 10:00</div><div class="item">来源：新华社</div></div>'
            f'<div class="txtinfos" id="ContentBody"><p>\u3000\u3000{title}的正文。</p></div></div></body></html>')


def response(body: bytes, content_type: str) -> HtmlResponse:
    return HtmlResponse(f"http://127.0.0.1{PAGE}", body=body, headers={"Content-Type": content_type})


@pytest.mark.parametrize(
    ("label", "meta", "bom"),
    [
        ("text/html; charset=gb2312", '<meta charset="gb2312">', False),  # a lying label, UTF-8 bytes
        ("text/html", '<meta httpequiv="ContentType" content="text/html; charset=gbk">', False),  # malformed meta
        ("text/html; charset=gbk", '<meta charset="gbk">', True),  # a UTF-8 BOM against the header
        ("text/html; charset=utf-8", "", False),
    ],
    ids=["gb2312-label", "malformed-meta", "bom-vs-header", "plain"],
)
def test_e3_utf8_article_pages_read_correctly_whatever_the_label(label: str, meta: str, bom: bool) -> None:
    title = f"测试{RARE}标题"
    body = article_html(title, meta).encode("utf-8")
    html = page_text(response(b"\xef\xbb\xbf" + body if bom else body, label))
    page = parse_article_page(html, f"http://127.0.0.1{PAGE}")
    assert page.title == title
    assert RARE in (page.body_html or "")


def test_e3_real_gb18030_bytes_are_refused_not_guessed() -> None:
    body = article_html(f"测试{RARE}标题", '<meta charset="gb2312">').encode("gb18030")
    with pytest.raises(SourceFormatError, match="not valid UTF-8"):
        page_text(response(body, "text/html; charset=gb2312"))
    api = json.dumps({"Id": CODE, "Title": f"标题{RARE}", "text": "<p>正文</p>"}, ensure_ascii=False)
    with pytest.raises(SourceFormatError, match="content API: body is not valid UTF-8"):
        parse_content_api(api.encode("gb18030"))
    listing = json.dumps({"nodeList": [{"title": f"标题{RARE}", "infocode": CODE, "showtime": "2024-01-02 10:00:00"}]}, ensure_ascii=False)
    with pytest.raises(SourceFormatError, match="not valid UTF-8"):
        parse_list("nodelist", listing.encode("gb18030"))


def test_e3_json_behind_a_bom_reads_correctly() -> None:
    api = json.dumps({"Id": CODE, "Title": f"标题{RARE}", "text": "<p>正文</p>"}, ensure_ascii=False)
    parsed = parse_content_api(b"\xef\xbb\xbf" + api.encode("utf-8"))
    assert parsed is not None and parsed.title == f"标题{RARE}"
    listing = json.dumps({"nodeList": [{"title": f"标题{RARE}", "infocode": CODE, "showtime": "2024-01-02 10:00:00"}]}, ensure_ascii=False)
    (entry,) = parse_list("nodelist", b"\xef\xbb\xbf" + listing.encode("utf-8")).entries
    assert entry.title == f"标题{RARE}"


# --- E4: dates ---------------------------------------------------------------------------------

FETCHED = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


@pytest.mark.parametrize("raw", ["2022-02-09 20:13:37", "2022年02月09日 20:13", "发布时间：2024-03-05 08:00", "2019 年 10 月 30 日"])
def test_e4_absolute_dates_do_not_depend_on_when_they_are_read(raw: str) -> None:
    now = parse_published(raw, fetched_at=FETCHED)
    later = parse_published(raw, fetched_at=FETCHED + timedelta(days=400))
    assert now is not None and now == later and now.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize("raw", ["3小时前", "昨天 10:20", "5分钟前"])
def test_e4_relative_dates_follow_the_fetch_time_they_are_given(raw: str) -> None:
    now = parse_published(raw, fetched_at=FETCHED)
    later = parse_published(raw, fetched_at=FETCHED + timedelta(days=1))
    assert now is not None and later is not None and later - now == timedelta(days=1)


@pytest.mark.parametrize("raw", ["02-03-2016", "15/4/2019"])
def test_e4_day_month_forms_are_aware_and_plausible_or_none(raw: str) -> None:
    """The source never writes D/M forms (lists and API: ``YYYY-MM-DD``, pages: ``YYYY年MM月DD日``);
    whatever dateparser makes of one, it is an aware Beijing time in the plausible range."""
    value = parse_published(raw, fetched_at=FETCHED)
    assert value is None or (value.utcoffset() == timedelta(hours=8) and datetime(1990, 1, 1, tzinfo=BEIJING) <= value <= FETCHED)


@pytest.mark.parametrize("raw", ["0001-01-01", "0001年01月01日"])
def test_e4_year_one_without_a_time_is_none(raw: str) -> None:
    assert parse_published(raw, fetched_at=FETCHED) is None


def test_e4_an_unparsable_date_is_quarantined_end_to_end(tmp_path: Path) -> None:
    answer = {"Id": CODE, "Title": "标题", "Date": "a", "medianame": "新华社", "text": "<p>\u3000\u3000正文内容。</p>"}
    with Site({"/api": Reply(200, json.dumps(answer, ensure_ascii=False).encode(), content_type="application/json")}) as site:
        run = fetch(tmp_path, templates(site), CODE)
    assert run.returncode == 1
    assert run.stdout == f"failed {CODE} quarantined: unparsable date 'a'\n"
    assert posts(tmp_path) == []
    assert [r["reason"] for r in quarantined(tmp_path)] == ["unparsable date 'a'"]


# --- E5: soft 404, empty answers -----------------------------------------------------------------

SOFT_404 = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>页面不存在_东方财富网</title></head>'
            '<body><div class="error"><h1>抱歉，您访问的页面不存在或已删除</h1><a href="/">返回首页</a></div></body></html>')


def test_e5_a_soft_404_page_publishes_nothing(tmp_path: Path) -> None:
    with Site({PAGE: Reply(200, SOFT_404.encode("utf-8"))}) as site:  # the API answers 404
        run = fetch(tmp_path, templates(site), CODE)
    assert run.returncode == 1
    assert run.stdout.startswith(f"failed {CODE} content API: 404 not found; article page: no div#ContentBody")
    assert run.stdout.count("article page") == 1
    assert posts(tmp_path) == []


@pytest.mark.parametrize(
    ("fault", "quarantines"),
    [("empty", True), ("null_body", True), ("empty_body", False)],  # well-formed but empty; `null`; zero bytes
)
def test_e5_empty_answers_with_status_200_publish_nothing(tmp_path: Path, fault: str, quarantines: bool) -> None:
    with ReplayServer(articles=4) as probe:
        code = with_page(probe).code
    page_fault = "empty" if fault == "null_body" else fault
    with ReplayServer(articles=4, faults=f"api:{code}={fault};page:{code}={page_fault}") as replay:
        run = fetch(tmp_path, replay.templates(), code)
    assert run.returncode == 1
    assert posts(tmp_path) == []
    if quarantines:  # title and date came, the body did not: kept with the reason
        assert run.stdout == f"failed {code} quarantined: empty body after cleaning\n"
        assert [r["code"] for r in quarantined(tmp_path)] == [code]
    else:  # nothing came at all: a failed target, retried by a later run
        assert run.stdout.startswith(f"failed {code} content API: no body; article page: ")


# --- E6: pathological documents ---------------------------------------------------------------

DEPTH = 10_000


def nested(depth: int = DEPTH) -> str:
    return "<div>" * depth + "<p>正文</p>" + "</div>" * depth


@pytest.mark.timeout(30)
@pytest.mark.parametrize("html", [nested(), "<b>" * DEPTH + "x", "<p>" + "<span>" * DEPTH + "x"], ids=["closed", "unclosed", "spans"])
def test_e6_cleaning_a_10000_deep_body_is_refused_quickly(html: str) -> None:
    with pytest.raises(BodyTooComplex, match="cleaning budget"):
        clean_body(html)


@pytest.mark.timeout(30)
def test_e6_parsing_a_10000_deep_article_page_is_bounded() -> None:
    html = article_html("深层嵌套").replace("<p>\u3000\u3000深层嵌套的正文。</p>", nested())
    page = parse_article_page(html, f"http://127.0.0.1{PAGE}")
    assert page.title == "深层嵌套"
    assert len(page.body_html or "") < len(html)  # lxml caps the depth instead of recursing


@pytest.mark.timeout(30)
def test_e6_a_huge_text_node_is_cleaned_in_bounded_time() -> None:
    text = "字" * 3_000_000
    assert clean_body(f"<p>{text}</p>") == f"<p>{text}</p>"


@pytest.mark.timeout(60)
def test_e6_a_10000_deep_api_body_is_quarantined_end_to_end(tmp_path: Path) -> None:
    answer = {"Id": CODE, "Title": "深层嵌套", "Date": "2024-01-02 10:00:00", "medianame": "新华社", "text": nested()}
    with Site({"/api": Reply(200, json.dumps(answer, ensure_ascii=False).encode(), content_type="application/json")}) as site:
        run = fetch(tmp_path, templates(site), CODE)
    assert run.returncode == 1
    assert run.stdout.startswith(f"failed {CODE} quarantined: body exceeds the cleaning budget")
    assert "RecursionError" not in run.stderr and "Traceback" not in run.stderr
    assert posts(tmp_path) == []
    assert len(quarantined(tmp_path)) == 1
