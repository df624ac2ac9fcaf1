"""Archive pages (pipelines/archive.py): bounded, stable once their month is over, every post on one page."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from crawler.items import BEIJING
from pipelines.archive import Entry, archive_files, month_files

LINK = re.compile(r'href="\{\{ site\.baseurl \}\}(/emnews/[^"]+\.html)"')


def entries(n: int, start: datetime, step: timedelta, first: int = 0) -> list[Entry]:
    return [Entry(f"NW{202400000000000000 + first + i:018d}", f"标题 {first + i}", start + i * step) for i in range(n)]


JAN = entries(23, datetime(2024, 1, 1, 8, tzinfo=BEIJING), timedelta(hours=30))  # 2024-01-01 … 2024-01-28
FEB = entries(7, datetime(2024, 2, 1, 0, 30, tzinfo=BEIJING), timedelta(hours=5), first=100)


def test_pages_hold_at_most_page_size_posts_and_every_post_once() -> None:
    files = archive_files("emnews", "东财滚动新闻", JAN + FEB, 5)
    linked = [link for path, text in files.items() if not path.endswith("index.html") for link in LINK.findall(text)]
    assert sorted(linked) == sorted(e.url("emnews") for e in JAN + FEB)
    for path, text in files.items():
        assert len(LINK.findall(text)) <= 5, path
    assert sorted(p for p in files if "2024-01/" in p) == [f"archive/emnews/2024-01/{n}.html" for n in (1, 2, 3, 4, 5)] + [
        "archive/emnews/2024-01/index.html"]


def test_a_new_post_changes_only_the_last_page_of_its_month_and_never_an_earlier_month() -> None:
    before = archive_files("emnews", "东财滚动新闻", JAN + FEB, 5)
    late = Entry("NW202400000000009999", "新的", datetime(2024, 2, 2, 12, tzinfo=BEIJING))
    after = archive_files("emnews", "东财滚动新闻", [*JAN, *FEB, late], 5)
    changed = sorted(p for p in after if before.get(p) != after[p])
    assert changed == ["archive/emnews/2024-02/2.html"]  # page 2 of February: its 6th to 8th posts


def test_a_full_page_starts_a_new_one_and_the_month_index_names_it() -> None:
    before = month_files("emnews", "东财滚动新闻", "2024-02", FEB[:5], 5)
    after = month_files("emnews", "东财滚动新闻", "2024-02", FEB[:6], 5)
    assert before["archive/emnews/2024-02/1.html"] == after["archive/emnews/2024-02/1.html"]
    assert sorted(set(after) - set(before)) == ["archive/emnews/2024-02/2.html"]
    assert "/archive/emnews/2024-02/2.html" in after["archive/emnews/2024-02/index.html"]


def test_titles_are_escaped_html_that_liquid_leaves_alone() -> None:
    hostile = Entry("NW202400000000000001", '<script>x</script> {{ site.time }} {% include y %} "&', datetime(2024, 1, 1, tzinfo=BEIJING))
    (page,) = [t for p, t in archive_files("emnews", "{{ 标题 }}", [hostile], 5).items() if p.endswith("/1.html")]
    body = page.split("---\n", 2)[2]
    assert "<script>" not in body and "{{ site.time }}" not in body and "{%" not in body.replace("{{ site.baseurl }}", "")
    assert "&lt;script&gt;x&lt;/script&gt; &#123;&#123; site.time &#125;&#125; &#123;% include y %&#125; &quot;&amp;" in body
    assert 'title: "{{ 标题 }} 2024年01月 第1页"' in page  # front matter values are data; the layout escapes them


def test_months_are_beijing_months() -> None:
    from datetime import UTC

    midnight = Entry("NW202400000000000002", "跨月", datetime(2024, 1, 31, 16, 30, tzinfo=UTC))  # 00:30 on 1 February in Beijing
    assert midnight.month == "2024-02" and midnight.url("emnews") == "/emnews/2024/02/01/NW202400000000000002.html"
