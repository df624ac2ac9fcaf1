"""The clean stage on the source's real bodies (``tests/fixtures/real/``) and on the replay's.

The same properties for both: the noise is gone (spacer, K-line blocks, quote placeholders,
linker markup), every visible paragraph is whole and in order, the outlet line stays a
plain paragraph, images stay with their caption.
"""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from crawler.replay import markup
from crawler.replay.generator import ArticleFactory
from tests.eastmoney import clean_body
from tests.real_posts import RealPost, real_posts

NOISE = ("EM_StockImg", "webquoteklinepic", "K图", "display:none", "quote.eastmoney.com", "data.eastmoney.com",
         "<span", "class=", "id=", "style=", "data-code", "web=", "<br")


def visible_paragraphs(fragment: str) -> list[str]:
    """Texts of the <p> elements a reader sees (hidden ones skipped), whitespace squashed."""
    root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    texts = []
    for p in root.iter("p"):
        if "display:none" in (p.get("style") or ""):
            continue
        if text := " ".join(p.text_content().split()):
            texts.append(text)
    return texts


def assert_clean(raw: str, out: str, outlet: str, what: str) -> None:
    for gone in NOISE:
        assert gone not in out, f"{what}: {gone!r} survived cleaning"
    assert visible_paragraphs(out) == visible_paragraphs(raw), f"{what}: visible text changed"
    assert out.endswith(f"<p>（文章来源：{outlet}）</p>"), f"{what}: the outlet line is not kept as a plain paragraph"
    assert out.count("<p>") == len(out.splitlines()), f"{what}: one paragraph per line"


@pytest.mark.parametrize("post", real_posts(), ids=lambda p: p.name)
def test_real_bodies_clean_as_required(post: RealPost) -> None:
    out = clean_body(post.body, base_url="http://finance.eastmoney.com/a/1.html")
    assert_clean(post.body, out, post.outlet, post.name)
    assert "<img" not in out, "the only images of the real bodies are K-line charts, which go"


def test_the_outlet_split_by_a_board_link_is_read_whole() -> None:
    split = [p for p in real_posts() if 'id="bk_' in p.body.rsplit('class="em_media"', 1)[1]]
    assert {p.outlet for p in split} == {"证券时报", "中国证券报"}
    for post in split:
        assert clean_body(post.body).endswith(f"<p>（文章来源：{post.outlet}）</p>")


def test_replay_bodies_clean_as_the_real_ones_do() -> None:
    factory = ArticleFactory(0)
    images = 0
    for i in range(60):
        story = factory.make(i)
        raw = markup.body(story)
        out = clean_body(raw, base_url=f"https://finance.eastmoney.com/a/{story.article.id}.html")
        assert_clean(raw, out, story.article.outlet, story.article.code)
        assert visible_paragraphs(out) == list(story.article.paragraphs)
        srcs = [b.src for b in story.blocks if b.kind == "img"]
        images += len(srcs)
        for src in srcs:
            assert f'<p><img src="{src}" width="552"></p>\n<p>' in out, "an image stays, its caption follows it"
    assert images >= 20
