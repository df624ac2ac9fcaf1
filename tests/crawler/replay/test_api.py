"""The content API and the share shell (SPEC 5.1, 5.2) as served by the replay."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from crawler.replay import ReplayServer
from crawler.replay.generator import GeneratedArticle, Story
from crawler.replay.linker import SPACER
from tests.conftest import GOLDEN_SEED

from .support import FIXTURE_CODE, fetch, paragraphs


def api(replay: ReplayServer, code: str) -> dict:
    got = fetch(f"{replay.url}/NewsData/GetNewsText.do?id={code}")
    assert got.status == 200, code
    assert got.headers["Content-Type"] == "application/json; charset=utf-8"
    value = got.json()
    assert isinstance(value, dict)
    return value


def lower(obj: dict) -> dict:
    return {k.lower(): v for k, v in obj.items()}


def served(replay: ReplayServer, **want: object) -> list[GeneratedArticle]:
    found = [a for a in replay.articles if all(getattr(a, k) == v for k, v in want.items())]
    assert found, f"no article with {want}"
    return found


def test_full_articles_carry_every_field(replay: ReplayServer) -> None:
    for a in served(replay, api="full"):
        obj = lower(api(replay, a.code))
        assert obj["id"] == a.code and obj["title"] == a.title and obj["date"] == a.date
        assert obj["medianame"] == a.outlet == obj["from"]
        assert obj["author"] == list(a.authors)
        assert obj["url"] == f"{replay.url}/a/{a.id}.html"
        body = obj.get("text") or obj["content"]
        assert paragraphs(body) == list(a.paragraphs), a.code


def test_key_casing_varies(replay: ReplayServer) -> None:
    keys = [set(api(replay, a.code)) for a in served(replay, api="full")]
    assert any("Title" in k for k in keys) and any("title" in k for k in keys)


def stories(replay: ReplayServer, style: str) -> list[Story]:
    """The stories of *style* whose content API answers with a body (full or partial)."""
    return [s for s in replay._stories.values() if s.article.style == style and s.article.api != "missing"]


def klines_first(body: str) -> int:
    """The number of K-line blocks (each after the hidden spacer) that open *body*."""
    block = re.compile(re.escape(SPACER) + r"<!-- EM_StockImg_Start -->.*?<!-- EM_StockImg_End -->")
    count, at = 0, 0
    while match := block.match(body, at):
        count, at = count + 1, match.end()
    assert "EM_StockImg_Start" not in body[at:], "K-line blocks come first, before the text"
    return count


def test_text_style_is_one_line_or_the_seed_shape(replay: ReplayServer) -> None:
    shapes = Counter()
    for story in stories(replay, "text"):
        a = story.article
        text = api(replay, a.code)["text"]
        assert text.endswith(f'</p><p class="em_media">（文章来源：{a.outlet}）</p>')
        assert "<span" not in text and "content" not in api(replay, a.code)
        if story.shape == "seed":
            assert text.startswith('<p><p align="center"></p>\n <p>\u3000\u3000')
            assert "\n <p><strong>" in text and "EM_StockImg" not in text
        else:
            assert "\n" not in text and "<p><p" not in text
            assert text.startswith(SPACER) == (klines_first(text) > 0)
        shapes[story.shape, klines_first(text) if story.shape == "line" else 0] += 1
    assert {("seed", 0), ("line", 1), ("line", 2)} <= set(shapes), shapes


def test_content_style_has_the_linker_markup(replay: ReplayServer) -> None:
    bodies = {}
    charts = Counter()
    for story in stories(replay, "content"):
        a = story.article
        obj = api(replay, a.code)
        bodies[a.code] = content = obj["content"]
        charts[klines_first(content)] += 1
        assert ("\n" in content) == (story.shape == "joined")
        assert content.count("<!-- EM_StockImg_Start -->") == content.count("<!-- EM_StockImg_End -->")
        for marker in ('<span id="stock_', '<span id="quote_', 'class="keytip" data-code="',
                       '<span web="1" href="http://quote.eastmoney.com/unify/r/', 'class="em_stock_key_common"',
                       '<span id="bk_90.BK', '<span id="bkquote_90.BK', '<span id="Info.', 'class="infokey">'):
            assert marker in content, (a.code, marker)
        if "text" in obj:
            assert obj["text"] == content
    assert set(charts) == {0, 1, 2}, f"bodies with no, one and two K-line blocks: {charts}"
    joined = "".join(bodies.values())
    assert "webquoteklinepic.eastmoney.com/GetPic.aspx?nid=" in joined
    assert 'width="578" height="276" /></a></p><!-- EM_StockImg_End -->' in joined
    assert re.search(r'<span id="Info\.116\.\d{5}"><a href="http://quote\.eastmoney\.com/unify/r/116\.\d{5}" '
                     r'class="keytip" data-code="116,\d{5}">[^<]+</a></span>(?!<span id="quote_)', joined), "an H share"
    assert re.search(r'<center><img src="https://np-newspic\.dfcfw\.com/download/D\d+_w\d+h\d+\.jpg" width="552" '
                     r'style="[^"]*" /></center><p style="text-align:center;">[^<]*图片来源：', joined), "an image"
    assert "data-src" not in joined, "lazy images belong to article pages"
    assert '（文章来源：<span id="bk_90.BK0473"><a ' in joined or '（文章来源：中国<span id="bk_90.BK0473">' in joined, \
        "an outlet split by a board link"
    assert any("text" in api(replay, code) for code in bodies), "an article with both text and content"


def test_partial_articles_lack_title_date_and_outlet(replay: ReplayServer) -> None:
    for a in served(replay, api="partial"):
        obj = lower(api(replay, a.code))
        assert not {"title", "date", "medianame", "from"} & set(obj)
        assert paragraphs(obj.get("text") or obj["content"]) == list(a.paragraphs)


def test_missing_articles_and_unknown_codes_answer_404(replay: ReplayServer) -> None:
    for a in served(replay, api="missing"):
        assert fetch(f"{replay.url}/NewsData/GetNewsText.do?id={a.code}").status == 404
        assert fetch(f"{replay.url}/a/{a.id}.html").status == 200
    for code in ("NW209901012200000000", "", "garbage"):
        got = fetch(f"{replay.url}/NewsData/GetNewsText.do?id={code}")
        assert got.status == 404 and got.headers["Content-Type"].startswith("text/html")


def test_bare_ids_name_the_same_article(replay: ReplayServer) -> None:
    a = served(replay, api="full")[0]
    by_id = fetch(f"{replay.url}/NewsData/GetNewsText.do?id={a.id}")
    assert by_id.body == fetch(f"{replay.url}/NewsData/GetNewsText.do?id={a.code}").body


def test_fixtures_are_served_verbatim_without_a_page(replay: ReplayServer, api_fixture: Path) -> None:
    got = fetch(f"{replay.url}/NewsData/GetNewsText.do?id={FIXTURE_CODE}")
    assert got.status == 200 and got.body == api_fixture.read_bytes()
    assert fetch(f"{replay.url}/NewsData/GetNewsText.do?id={FIXTURE_CODE[2:]}").body == got.body
    assert fetch(f"{replay.url}/a/{FIXTURE_CODE[2:]}.html").status == 404
    listed = fetch(f"{replay.url}/web/webapi?type=45").json()["nodeList"]
    assert listed[-1] == {"title": "回放固定稿件", "showtime": "2023-12-31 12:00:05", "infocode": FIXTURE_CODE,
                          "from": "测试日报", "simtitle": "回放固定稿件", "simdigest": "测试用的固定稿件，由回放按原样返回。"}
    assert all(item["infocode"] != FIXTURE_CODE for item in listed[:-1])


def test_the_seed_fixture_is_served_verbatim() -> None:
    seed = GOLDEN_SEED / "content-api.json"
    with ReplayServer(2, fixtures=[seed]) as server:
        got = fetch(f"{server.url}/NewsData/GetNewsText.do?id=NW202202092271461775")
        assert got.status == 200 and got.body == seed.read_bytes()
        columns = fetch(server.templates()["lists"][4]["url"]).json()["data"]["list"]
        assert columns[-1]["code"] == "202202092271461775" and columns[-1]["mediaName"] == "科技日报"


def test_bad_fixture_files_are_refused(tmp_path: Path) -> None:
    import pytest

    bad = tmp_path / "bad.json"
    for content, message in (("{", "not a JSON"), ("[]", "expected a JSON object"), ('{"Title": "x"}', "no Id")):
        bad.write_text(content, encoding="utf-8")
        with pytest.raises(ValueError, match=message):
            ReplayServer(1, fixtures=[bad])


def test_share_shell_is_static_and_holds_no_article(replay: ReplayServer) -> None:
    a, b = replay.articles[:2]
    one = fetch(f"{replay.url}/html_News/NewsShare.html?infoCode={a.code}")
    two = fetch(f"{replay.url}/html_News/NewsShare.html?infoCode={b.code}")
    assert one.status == 200 and one.headers["Content-Type"] == "text/html; charset=utf-8"
    assert one.body == two.body
    shell = one.body.decode("utf-8")
    assert "/NewsData/GetNewsText.do?id=" in shell and "infoCode" in shell and "<script>" in shell
    assert a.title not in shell and a.paragraphs[0] not in shell
