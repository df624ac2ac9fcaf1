"""Reading one post file back (pipelines/post_reader.py): the seed, the original's real posts, each failure."""

from __future__ import annotations

import pytest

from pipelines.clean import clean_body
from pipelines.post_reader import PostError, read_post
from tests import eastmoney
from tests.conftest import GOLDEN_SEED
from tests.real_posts import POSTS
from tests.real_posts import read_post as real_body

OVERRIDES = {"科技日报": "kejiribao"}
SEED_NAME = "2022-02-09-NW202202092271461775.md"
NOISE = eastmoney.NOISE


def read(text: str, name: str = SEED_NAME):  # type: ignore[no-untyped-def]
    return read_post(text, name, eastmoney.SOURCES, OVERRIDES)


def seed_text() -> str:
    return (GOLDEN_SEED / "expected-post.md").read_text(encoding="utf-8")


def test_the_seed_post_reads_as_the_fetched_article() -> None:
    post = read(seed_text())
    assert (post.source, post.code, post.named_code) == ("eastmoney", "NW202202092271461775", "NW202202092271461775")
    assert post.title == "重庆数字产业发展“十四五”规划发布"
    assert post.date == "2022-02-09 20:13:37"
    assert (post.outlet, post.category, post.tag) == ("科技日报", None, None)  # the outlet's own category
    assert post.share_link == "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202202092271461775"
    body = seed_text().split("---\n", 2)[2].split("\n\n<http", 1)[0]
    assert post.body == body  # no footer line in it
    assert clean_body(post.body, noise=NOISE) == body  # a finews body survives cleaning unchanged
    assert post.list_meta() == {"title": post.title, "showtime": post.date, "outlet": "科技日报"}


@pytest.mark.parametrize("path", POSTS, ids=lambda p: p.name)
def test_the_originals_real_posts(path) -> None:  # type: ignore[no-untyped-def]
    real = real_body(path)
    post = read(path.read_text(encoding="utf-8"), path.name)
    digits = path.name[11:-3].removeprefix("NW")
    assert post.code == f"NW{digits}" and post.named_code == path.name[11:-3]
    assert post.outlet == real.outlet
    assert post.body.endswith(real.body)
    if path.name[11:13] != "NW":  # the rolling news: a list-level category and tag, the digest kept
        assert (post.category, post.tag) == ("emnews", "东财滚动新闻")
        assert post.body.startswith("<blockquote>") and post.body.count("<blockquote>") == 1
        assert post.body.split("\n", 1)[0].endswith(f"（{real.outlet}）</blockquote>")
    else:
        assert (post.category, post.tag) == (None, None)
        assert "<blockquote>" not in post.body


def test_the_digest_is_escaped_and_survives_cleaning() -> None:
    text = seed_text().replace("---\n<p>", "---\n> 摘要 <b>a</b> & b\n> 第二行（新华社）\n\n<p>", 1)
    post = read(text)
    first = clean_body(post.body, noise=NOISE).split("\n")[0]
    assert first == "<blockquote>摘要 &lt;b&gt;a&lt;/b&gt; &amp; b 第二行（新华社）</blockquote>"


def test_an_other_offset_is_converted_to_beijing_time() -> None:
    assert read(seed_text().replace("2022-02-09 20:13:37 +0800", "2022-02-09 12:13:37 +0000")).date == "2022-02-09 20:13:37"
    assert read(seed_text().replace("2022-02-09 20:13:37 +0800", "2022-02-09 20:13")).date == "2022-02-09 20:13:00"


def test_the_code_comes_from_the_share_link_when_the_name_has_none() -> None:
    post = read(seed_text(), "2022-02-09-hello.md")
    assert (post.code, post.named_code) == ("NW202202092271461775", None)


@pytest.mark.parametrize(
    ("change", "name", "reason"),
    [
        (("title: \"重庆数字产业发展“十四五”规划发布\"", 'title: ""'), SEED_NAME, "no title"),
        (("date: 2022-02-09 20:13:37 +0800", "date:  +0800"), SEED_NAME, "no date"),
        (("date: 2022-02-09 20:13:37 +0800", "date: soon"), SEED_NAME, "unparsable date 'soon'"),
        (("<http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202202092271461775>", "<http://example.org/>"),
         "2022-02-09-hello.md", "no article code in the file name"),
        (("规划发布\"\n", "规划发布\n"), SEED_NAME, "unparsable front matter"),  # an unclosed quote
        (("title: \"重庆", "title: [重庆"), SEED_NAME, "unparsable front matter"),
        (("layout: post\n", "- post\n"), SEED_NAME, "unparsable front matter"),
    ],
)
def test_each_failure_has_its_reason(change: tuple[str, str], name: str, reason: str) -> None:
    text = seed_text()
    assert change[0] in text
    with pytest.raises(PostError) as failed:
        read(text.replace(change[0], change[1], 1), name)
    assert failed.value.reason.startswith(reason)
    if name == SEED_NAME:  # the file named its article: the quarantine row can be keyed by it
        assert (failed.value.source, failed.value.code) == ("eastmoney", "NW202202092271461775")


def test_no_front_matter() -> None:
    with pytest.raises(PostError, match="no front matter"):
        read("<p>just html</p>\n")
