"""Article pages (SPEC 5.3): both layouts, continuation pages, noise, date without seconds."""

from __future__ import annotations

import re

from lxml import html as lxml_html

from crawler.replay import ReplayServer, corpus
from crawler.replay.generator import GeneratedArticle

from .support import body_paragraphs, fetch, squash

NOISE_MARKERS = ("开户", "AI助手", "打开微信", "郑重声明", "风险提示及免责条款", "责任编辑", "原标题")


def page(replay: ReplayServer, a: GeneratedArticle, n: int = 1) -> str:
    suffix = "" if n == 1 else f"_{n}"
    got = fetch(f"{replay.url}/a/{a.id}{suffix}.html")
    assert got.status == 200, (a.code, n)
    assert got.headers["Content-Type"] == "text/html; charset=utf-8"
    return got.body.decode("utf-8")


def shown_date(a: GeneratedArticle) -> str:
    return f"{a.date[:4]}年{a.date[5:7]}月{a.date[8:10]}日 {a.date[11:16]}"


def text_of(root: lxml_html.HtmlElement, xpath: str) -> str:
    found = root.xpath(xpath)
    assert found, xpath
    return squash(found[0].text_content())


def test_current_layout(replay: ReplayServer) -> None:
    bare = labelled = 0
    for a in (x for x in replay.articles if x.layout == "current"):
        html = page(replay, a)
        root = lxml_html.document_fromstring(html)
        assert f"<title>{a.title}_东方财富网</title>" in html
        assert text_of(root, '//div[@class="contentwrap"]/div[@class="title"]') == a.title
        items = [squash(i.text_content()) for i in root.xpath('//div[@class="infos"]/div[@class="item"]')]
        assert items[0] == shown_date(a) and re.fullmatch(r"\d{4}年\d\d月\d\d日 \d\d:\d\d", items[0])
        if items[1] == a.outlet:
            bare += 1
        else:
            assert items[1] == f"来源：{a.outlet}"
            labelled += 1
        assert (f"作者：{' '.join(a.authors)}" in items) == bool(a.authors)
        assert root.xpath('//div[@id="ContentBody"][@class="txtinfos"]')
    assert bare and labelled


def test_legacy_layout(replay: ReplayServer) -> None:
    for a in (x for x in replay.articles if x.layout == "legacy"):
        html = page(replay, a)
        root = lxml_html.document_fromstring(html)
        assert text_of(root, '//div[@class="newsContent"]/h1') == a.title
        assert text_of(root, '//div[@class="time-source"]/div[@class="time"]') == shown_date(a)
        (source,) = root.xpath('//div[@class="time-source"]/div[@class="source"]')
        assert source.get("data-source") == a.outlet and squash(source.text_content()) == f"来源：{a.outlet}"
        assert root.xpath('//div[@class="newsContent"]/div[@id="ContentBody"][@class="Body"]')
        last = lxml_html.document_fromstring(page(replay, a, a.pages))
        assert text_of(last, '//div[@id="ContentBody"]/p[@class="res-edit"]').startswith("(责任编辑：")


def test_every_page_carries_its_share_of_the_paragraphs(replay: ReplayServer) -> None:
    for a in replay.articles:
        seen: list[str] = []
        for n in range(1, a.pages + 1):
            texts = [t for t in body_paragraphs(page(replay, a, n)) if not any(m in t for m in NOISE_MARKERS)]
            assert texts or a.pages == 1, f"page {n} of {a.code} is empty"
            seen.extend(texts)
        assert seen == list(a.paragraphs), a.code


def test_page_one_links_the_continuation_pages(replay: ReplayServer) -> None:
    multi = [a for a in replay.articles if a.pages > 1]
    assert {a.pages for a in multi} == {2, 3}
    for a in multi:
        root = lxml_html.document_fromstring(page(replay, a))
        hrefs = set(root.xpath('//div[@id="pagerbox"]//a/@href'))
        assert hrefs == {f"{a.id}_{n}.html" for n in range(2, a.pages + 1)}
        assert fetch(f"{replay.url}/a/{a.id}_{a.pages + 1}.html").status == 404
        assert fetch(f"{replay.url}/a/{a.id}_1.html").status == 404
    single = next(a for a in replay.articles if a.pages == 1)
    assert "pagerbox" not in page(replay, single)
    assert fetch(f"{replay.url}/a/{single.id}_2.html").status == 404


def test_pages_carry_the_noise_of_the_real_site(replay: ReplayServer) -> None:
    for layout in ("current", "legacy"):
        pages = [page(replay, a, a.pages) for a in replay.articles if a.layout == layout]
        firsts = [page(replay, a) for a in replay.articles if a.layout == layout]
        joined = "".join(pages + firsts)
        for marker in ('<div class="ad_context_', "<script", 'class="em_handle_adv_close"', "acttg.eastmoney.com",
                       'class="em_xuangu"', "打开微信，点击底部的“发现”", "郑重声明", "风险提示及免责条款",
                       '<div class="zwothers">原标题：', corpus.PROMO_AI, corpus.PROMO_ACCOUNT):
            assert marker in joined, (layout, marker)
        inside = "".join(html.split('id="ContentBody"', 1)[1].split("</div>\n<", 1)[0] for html in firsts)
        assert 'class="ad_context_' in inside, "an ad inside the body"
    current = "".join(page(replay, a) for a in replay.articles if a.layout == "current")
    assert '<div class="statement">' in current and '<div class="editor">' in current


def test_unknown_pages_answer_404(replay: ReplayServer) -> None:
    for path in ("/a/209901012200000000.html", "/a/123.html", "/a/", "/nothing"):
        assert fetch(replay.url + path).status == 404
    assert fetch(replay.url + "/robots.txt").body == b"User-agent: *\nAllow: /\n"
    assert "finews replay" in fetch(replay.url + "/").body.decode("utf-8")


def test_pages_load_some_images_lazily_and_open_with_the_k_line_blocks(replay: ReplayServer) -> None:
    """Lazy ``data-src`` images belong to article pages (the content API never has them)."""
    firsts = {a.code: page(replay, a) for a in replay.articles}
    joined = "".join(firsts.values())
    assert '<img data-src="https://np-newspic.dfcfw.com/download/' in joined
    assert '<img src="https://np-newspic.dfcfw.com/download/' in joined
    charted = [html for html in firsts.values() if "<!-- EM_StockImg_Start -->" in html]
    assert charted
    for html in charted:
        inside = html.split('id="ContentBody"', 1)[1]
        assert inside.index("<!-- EM_StockImg_Start -->") < inside.index("<p>\u3000\u3000"), "charts before the text"
