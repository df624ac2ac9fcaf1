"""The generated articles: deterministic, well-formed, covering every variant."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime

import pytest

from crawler.replay import ReplayServer
from crawler.replay.generator import ArticleFactory


def test_same_seed_and_n_give_the_same_articles() -> None:
    assert ReplayServer(30).articles == ReplayServer(30).articles
    assert ReplayServer(30, seed=1).articles != ReplayServer(30).articles


def test_articles_do_not_depend_on_how_many_come_after() -> None:
    grown = ReplayServer(10)
    added = grown.add_articles(5)
    assert grown.articles == ReplayServer(15).articles
    assert added == ReplayServer(15).articles[:5]


def test_factory_refuses_gaps() -> None:
    factory = ArticleFactory()
    factory.make(0)
    with pytest.raises(ValueError, match="expected index 1"):
        factory.make(2)


def test_codes_ids_and_dates_are_well_formed() -> None:
    articles = ReplayServer(200).articles
    assert len({a.code for a in articles}) == 200
    for a in articles:
        assert re.fullmatch(r"\d{18}", a.id), a.id
        assert a.code == "NW" + a.id
        when = datetime.strptime(a.date, "%Y-%m-%d %H:%M:%S")
        assert a.id.startswith(when.strftime("%Y%m%d"))
        assert when.year == 2024
    dates = [a.date for a in articles]
    assert dates == sorted(dates, reverse=True) and len(set(dates)) == len(dates), "newest first, no ties"
    seconds = Counter(a.date.endswith(":00") for a in articles)
    assert seconds[False] > 10 * seconds[True] > 0, "mostly non-zero seconds, a few zero"


def test_midnight_edges_and_past_dates() -> None:
    articles = ReplayServer(1200).articles
    times = {a.date[11:] for a in articles}
    assert "23:30:00" in times and "00:05:41" in times
    assert max(a.date for a in articles) < datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def test_default_distribution_covers_every_variant() -> None:
    articles = ReplayServer(20).articles
    combos = Counter((a.style, a.layout) for a in articles)
    assert set(combos) == {("text", "current"), ("text", "legacy"), ("content", "current"), ("content", "legacy")}
    apis = Counter(a.api for a in articles)
    assert apis["partial"] >= 2 and apis["missing"] >= 2 and apis["full"] >= 12 and apis["empty"] == 0
    assert {a.pages for a in articles} == {1, 2, 3}
    assert any(a.api == "missing" and a.pages > 1 for a in articles), "a page-only article that continues"
    assert any(a.api == "partial" and a.pages > 1 for a in articles)
    assert any(a.authors for a in articles) and any(len(a.authors) == 2 for a in articles)
    assert any(not a.authors for a in articles)


def test_paragraphs_are_clean_text_ending_with_the_outlet_line() -> None:
    for a in ReplayServer(40).articles:
        assert len(a.paragraphs) >= 6
        assert a.paragraphs[-1] == f"（文章来源：{a.outlet}）"
        for text in a.paragraphs:
            assert text == text.strip() and "  " not in text and "\u3000" not in text
            assert "<" not in text or "市盈率<" in text
        assert a.title and "\n" not in a.title


def test_stories_carry_every_kind_of_markup() -> None:
    server = ReplayServer(40)
    charts, images = Counter(), Counter()
    for story in server._stories.values():
        kinds = [b.kind for b in story.blocks]
        mentions = [p for b in story.blocks for p in b.parts if not isinstance(p, str)]
        assert {m.kind for m in mentions} == {"stock", "board", "info"}
        stocks = {m.ref for m in mentions if m.kind == "stock"}
        assert len(stocks) >= 5, "two companies and their peers"
        assert sum(m.kind == "stock" for m in mentions) > len(stocks), "some are mentioned again"
        n = kinds.count("kline")
        assert kinds[:n] == ["kline"] * n, "K-line blocks open the body"
        if story.shape == "seed":
            assert n == 0 and story.article.style == "text"
        charts[n] += 1
        images[story.article.style, kinds.count("img")] += 1
        for at, kind in enumerate(kinds):
            if kind == "img":
                assert kinds[at + 1] == "caption" and "图片来源：" in story.blocks[at + 1].text
    assert set(charts) == {0, 1, 2}
    assert {("text", 0), ("content", 0), ("content", 1), ("content", 2)} == set(images), images
    shapes = Counter(s.shape for s in server._stories.values())
    assert set(shapes) == {"line", "seed", "joined"} and shapes["line"] > shapes["seed"] + shapes["joined"]


def test_a_few_articles_are_listed_without_title_or_showtime() -> None:
    blank = Counter(a.blank_in_lists for a in ReplayServer(400).articles)
    assert blank[("showtime",)] == blank[("title",)] == blank[("title", "showtime")] == 10
    assert blank[()] == 370


def test_articles_are_not_near_duplicates_of_each_other() -> None:
    def shingles(text: str) -> set[str]:
        letters = "".join(ch for ch in text if ch.isalnum())
        return {letters[i : i + 3] for i in range(len(letters) - 2)}

    sets = [shingles(a.title + "".join(a.paragraphs[:-1])) for a in ReplayServer(120).articles]
    worst = max(len(x & y) / len(x | y) for n, x in enumerate(sets) for y in sets[n + 1 :])
    assert worst < 0.6, f"two articles share {worst:.0%} of their 3-shingles: a dedupe stage would merge them"


def test_no_paragraph_looks_like_noise() -> None:
    noise = ("开户", "AI助手", "打开微信", "郑重声明", "风险提示", "责任编辑", "原标题", "扫一扫")
    for a in ReplayServer(150).articles:
        for text in (a.title, *a.paragraphs):
            assert not any(marker in text for marker in noise), (a.code, text)


def test_a_permanent_empty_fault_marks_every_article_it_hits() -> None:
    assert {a.api for a in ReplayServer(5, faults="api:*=empty").articles} == {"empty"}
    assert "empty" not in {a.api for a in ReplayServer(5, faults="api:*=emptyx1").articles}
