from __future__ import annotations

from datetime import datetime

import pytest
import yaml

from pipelines.dates import BEIJING
from pipelines.post import Post, clean_text, outlet_slug, render_category_page, render_post

FRONT_KEYS = ["layout", "title", "date", "categories", "tags"]


def make_post(**changes: object) -> Post:
    values: dict[str, object] = {
        "code": "NW202202092271461775",
        "title": "标题",
        "published": datetime(2022, 2, 9, 20, 13, 37, tzinfo=BEIJING),
        "slug": "kejiribao",
        "tag": "科技日报新闻",
        "body": "<p>正文</p>",
        "share_link": "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202202092271461775",
        "base_url": "//finews.withounder.com",
    }
    values.update(changes)
    return Post(**values)  # type: ignore[arg-type]


def front_matter(text: str) -> dict[str, object]:
    head, _, _ = text[4:].partition("\n---\n")
    data = yaml.safe_load(head)
    assert isinstance(data, dict)
    return data


def test_layout_of_a_post() -> None:
    text = render_post(make_post())
    assert text == (
        "---\nlayout: post\ntitle: \"标题\"\ndate: 2022-02-09 20:13:37 +0800\ncategories: kejiribao\n"
        "tags: 科技日报新闻\n---\n<p>正文</p>\n\n"
        "<http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202202092271461775>\n\n"
        "[返回科技日报新闻](//finews.withounder.com/category/kejiribao.html)｜[返回首页](//finews.withounder.com/)\n"
    )
    assert make_post().path == "_posts/2022-02-09-NW202202092271461775.md"


@pytest.mark.parametrize(
    "title",
    [
        'A "quoted": title \\ with\nnewline\n---\nlayout: evil',
        "yes",
        "2024-01-02",
        "# not a comment",
        "{{ site.github }} {% include x %}",
        "\ufeffBOM\tTab\x00NUL\x1bESC",
        "NEL\x85LS\u2028PS\u2029end",
        "</title><script>alert(1)</script>",
        "长" * 1000,
        "'single' & \"double\"",
    ],
)
def test_hostile_titles_keep_exactly_five_keys(title: str) -> None:
    text = render_post(make_post(title=title))
    data = front_matter(text)
    assert list(data) == FRONT_KEYS
    assert data["title"] == clean_text(title)
    assert data["layout"] == "post"
    assert "\n" not in str(data["title"])


def test_clean_text_removes_controls_and_breaks() -> None:
    assert clean_text(" a\nb\r\n\tc\u2028d\x85e\x07f\ufeff ") == "a b c d ef"


@pytest.mark.parametrize("tag", ["X: Y新闻", "*star新闻", "[a]新闻", "{{ x }}新闻", "a|b<c>&新闻", "yes"])
def test_odd_tags_stay_yaml_and_markdown_safe(tag: str) -> None:
    text = render_post(make_post(tag=tag))
    assert front_matter(text)["tags"] == tag
    footer = text.rstrip("\n").rsplit("\n", 1)[1]
    assert "{{" not in footer and "<c>" not in footer
    assert footer.endswith("｜[返回首页](//finews.withounder.com/)")


def test_dates_are_written_in_beijing_time() -> None:
    utc = datetime.fromisoformat("2024-03-05T15:30:00+00:00")  # 23:30 in Beijing
    post = make_post(published=utc)
    assert "date: 2024-03-05 23:30:00 +0800\n" in render_post(post)
    assert post.path.startswith("_posts/2024-03-05-")


@pytest.mark.parametrize(
    ("outlet", "slug"),
    [("科技日报", "kejiribao"), ("21世纪经济报道", "21shijijingjibaodao"), ("Reuters 路透", "reuterslutou"),
     ("证券时报·e公司", "zhengquanshibaoegongsi")],
)
def test_pinyin_slugs(outlet: str, slug: str) -> None:
    assert outlet_slug(outlet, {}) == slug


def test_slug_override_and_fallback() -> None:
    assert outlet_slug("科技日报", {"科技日报": "kjrb"}) == "kjrb"
    fallback = outlet_slug("···", {})
    assert fallback.startswith("media") and fallback.isalnum()


def test_category_page() -> None:
    assert render_category_page("kejiribao", "科技日报") == "---\nlayout: category\ntitle: 科技日报\ncategory: kejiribao\n---\n"
    assert yaml.safe_load(render_category_page("x", "a: b").strip("-\n"))["title"] == "a: b"
