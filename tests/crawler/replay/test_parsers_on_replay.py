"""The Eastmoney parsers read everything the replay serves (both styles, layouts, all lists)."""

from __future__ import annotations

import pytest

from crawler.replay import ReplayServer
from crawler.replay.generator import GeneratedArticle
from tests.conftest import GOLDEN_SEED

from .support import FIXTURE_CODE, fetch, squash

eastmoney = pytest.importorskip("crawler.sources.eastmoney")



def body_text(html: str) -> str:
    from lxml import html as lxml_html

    return squash(lxml_html.fragment_fromstring(html, create_parent="div").text_content())


def assert_paragraphs_in_order(a: GeneratedArticle, text: str) -> None:
    at = 0
    for paragraph in a.paragraphs:
        found = text.find(squash(paragraph), at)
        assert found >= 0, f"{a.code}: paragraph missing or out of order: {paragraph}"
        at = found + len(paragraph)


def test_content_api_parser(replay: ReplayServer) -> None:
    for a in replay.articles:
        got = fetch(f"{replay.url}/NewsData/GetNewsText.do?id={a.code}")
        if a.api == "missing":
            assert got.status == 404
            continue
        parsed = eastmoney.parse_content_api(got.body)
        assert parsed is not None and parsed.code == a.code
        assert parsed.outlet == a.outlet, "from medianame, or from the em_media line when partial"
        assert parsed.authors == a.authors
        assert parsed.style in (a.style, "text"), "the field the body came from; some carry both"
        if a.api == "full":
            assert (parsed.title, parsed.date) == (a.title, a.date)
        else:
            assert (parsed.title, parsed.date) == (None, None)
        assert_paragraphs_in_order(a, body_text(parsed.body_html))


def test_article_page_parsers(replay: ReplayServer) -> None:
    layouts = set()
    for a in replay.articles:
        url = f"{replay.url}/a/{a.id}.html"
        page = eastmoney.parse_article_page(fetch(url).body.decode("utf-8"), url)
        layouts.add(page.layout)
        assert page.layout == a.layout
        assert page.title == a.title
        assert page.date == f"{a.date[:4]}年{a.date[5:7]}月{a.date[8:10]}日 {a.date[11:16]}"
        assert page.outlet == a.outlet and page.authors == a.authors
        assert page.continuation_urls == tuple(f"{replay.url}/a/{a.id}_{n}.html" for n in range(2, a.pages + 1))
        bodies = [page.body_html]
        for more in page.continuation_urls:
            bodies.append(eastmoney.parse_continuation_page(fetch(more).body.decode("utf-8"), more))
        assert all(bodies), a.code
        assert_paragraphs_in_order(a, body_text("".join(bodies)))
    assert layouts == {"current", "legacy"}


def test_fixture_through_the_parser(replay: ReplayServer) -> None:
    parsed = eastmoney.parse_content_api(fetch(f"{replay.url}/NewsData/GetNewsText.do?id={FIXTURE_CODE}").body)
    assert (parsed.code, parsed.date, parsed.outlet) == (FIXTURE_CODE, "2023-12-31 12:00:05", "测试日报")


def test_seed_fixture_through_the_parser() -> None:
    seed = GOLDEN_SEED / "content-api.json"
    with ReplayServer(0, fixtures=[seed]) as server:
        got = fetch(f"{server.url}/NewsData/GetNewsText.do?id=NW202202092271461775")
        assert got.body == seed.read_bytes()
        parsed = eastmoney.parse_content_api(got.body)
    assert (parsed.date, parsed.outlet) == ("2022-02-09 20:13:37", "科技日报")


@pytest.mark.parametrize("kind", ["nodelist", "records", "record", "fastnews", "columns"])
def test_list_parser(replay: ReplayServer, kind: str) -> None:
    url = next(x["url"] for x in replay.templates()["lists"] if x["kind"] == kind)
    truth = {a.code: a for a in replay.articles}
    entries = []
    for _ in range(10):
        page = eastmoney.parse_list(kind, fetch(url).body)
        entries.extend(page.entries)
        if page.next_cursor is None:
            break
        url = eastmoney.next_page_url(url, page.next_cursor)
    codes = [e.code for e in entries]
    everything = [*truth, FIXTURE_CODE]
    if kind in ("records", "record"):
        assert codes == everything[: replay.page_size]
    else:
        assert codes == everything
    for e in entries:
        a = truth.get(e.code)
        if a is None:
            continue
        # the parser reads an empty title or showtime as none: the article's own fill in
        assert e.title == (None if "title" in a.blank_in_lists else a.title)
        assert e.showtime == (None if "showtime" in a.blank_in_lists else a.date)
        assert e.outlet in (None, a.outlet)
        assert e.url in (None, f"{replay.url}/a/{a.id}.html")


def test_list_parser_reads_jsonp(replay: ReplayServer) -> None:
    url = next(x["url"] for x in replay.templates()["lists"] if x["kind"] == "columns")
    page = eastmoney.parse_list("columns", fetch(url + "&callback=cb").body)
    assert [e.code for e in page.entries] == [a.code for a in replay.articles[: replay.page_size]]
