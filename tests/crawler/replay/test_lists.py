"""The five list kinds (SPEC 5.4): fields, order, paging to the end, JSONP, new and revised articles."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from crawler.replay import ReplayServer

from .support import FIXTURE_CODE, fetch, paragraphs


def lists(replay: ReplayServer) -> dict[str, str]:
    return {item["kind"]: item["url"] for item in replay.templates()["lists"]}


def get(url: str) -> Any:
    got = fetch(url)
    assert got.status == 200, url
    assert got.headers["Content-Type"] == "application/json; charset=utf-8"
    return got.json()


def with_query(url: str, **params: object) -> str:
    for key, value in params.items():
        url, n = re.subn(rf"([?&]{key}=)[^&]*", rf"\g<1>{value}", url)
        if not n:
            url += f"&{key}={value}"
    return url


def all_codes(replay: ReplayServer) -> list[str]:
    return [a.code for a in replay.articles] + [FIXTURE_CODE]


def test_item_fields_per_kind(replay: ReplayServer) -> None:
    urls = lists(replay)
    newest = replay.articles[0]
    node = get(urls["nodelist"])["nodeList"][0]
    assert set(node) == {"title", "showtime", "infocode", "from", "simtitle", "simdigest"}
    assert (node["infocode"], node["title"], node["showtime"], node["from"]) == (
        newest.code, newest.title, newest.date, newest.outlet)
    assert node["simdigest"] == newest.paragraphs[0] or newest.paragraphs[0].startswith(node["simdigest"])
    rec = get(urls["records"])["records"][0]
    assert set(rec) == {"infoCode", "id", "title", "digest", "showtime", "url_w"}
    assert rec["infoCode"] == newest.code and rec["id"] == newest.id
    assert rec["digest"].startswith(f"【{newest.title}】") and rec["url_w"] == f"{replay.url}/a/{newest.id}.html"
    one = get(urls["record"])["record"][0]
    assert {"title", "datetime", "infoCode", "medianame"} <= set(one)
    assert (one["infoCode"], one["datetime"], one["medianame"]) == (newest.code, newest.date, newest.outlet)
    fast = get(urls["fastnews"])
    assert fast["code"] == "1" and set(fast["data"]) == {"sortEnd", "fastNewsList"}
    item = fast["data"]["fastNewsList"][0]
    assert {"code", "title", "summary", "showTime", "realSort"} <= set(item)
    assert item["code"] == newest.id and item["showTime"] == newest.date and item["summary"].startswith("【")
    col = get(urls["columns"])
    assert set(col["data"]) == {"page_index", "page_size", "totle_hits", "list"}
    entry = col["data"]["list"][0]
    assert {"code", "showTime", "title", "mediaName", "summary", "uniqueUrl"} <= set(entry)
    assert entry["code"] == newest.id and entry["mediaName"] == newest.outlet
    assert entry["uniqueUrl"] == f"{replay.url}/a/{newest.id}.html"


def test_showtimes_have_seconds_and_fall(replay: ReplayServer) -> None:
    items = get(lists(replay)["nodelist"])["nodeList"]
    times = [i["showtime"] for i in items if i["showtime"]]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", t) for t in times)
    assert times == sorted(times, reverse=True)


def test_a_few_entries_have_an_empty_title_or_showtime(replay: ReplayServer) -> None:
    """As the source's lists do; the lists keep their order by the article's own date."""
    blank = {a.code: a.blank_in_lists for a in replay.articles if a.blank_in_lists}
    assert sorted(blank.values()) == [("showtime",), ("title",)], "the 20 articles list one of each"
    truth = {a.code: a for a in replay.articles}
    urls = lists(replay)
    shown = {
        "nodelist": [(i["infocode"], i["title"], i["showtime"]) for i in get(urls["nodelist"])["nodeList"]],
        "columns": [(f"NW{i['code']}", i["title"], i["showTime"])
                    for i in get(with_query(urls["columns"], page_size=50))["data"]["list"]],
        "record": [(i["infoCode"], i["title"], i["datetime"])
                   for i in get(with_query(urls["record"], pagesize=50))["record"]],
    }
    for kind, entries in shown.items():
        for code, title, showtime in entries:
            a = truth.get(code)
            if a is None:
                continue
            assert title == ("" if "title" in a.blank_in_lists else a.title), (kind, code)
            assert showtime == ("" if "showtime" in a.blank_in_lists else a.date), (kind, code)
        assert [code for code, _, _ in entries] == all_codes(replay), kind


def test_nodelist_is_one_page_honouring_count(replay: ReplayServer) -> None:
    url = lists(replay)["nodelist"]
    assert [i["infocode"] for i in get(url)["nodeList"]] == all_codes(replay)
    assert len(get(with_query(url, count=3))["nodeList"]) == 3


def test_fastnews_pages_by_sort_end_to_the_end(replay: ReplayServer) -> None:
    url, codes, sorts = lists(replay)["fastnews"], [], []
    for _ in range(10):
        data = get(url)["data"]
        if data is None:
            break
        batch = data["fastNewsList"]
        assert 0 < len(batch) <= replay.page_size
        codes += ["NW" + i["code"] for i in batch]
        sorts += [int(i["realSort"]) for i in batch]
        assert data["sortEnd"] == batch[-1]["realSort"]
        url = with_query(url, sortEnd=data["sortEnd"])
    else:
        pytest.fail("fastnews never ended")
    assert codes == all_codes(replay)
    assert sorts == sorted(sorts, reverse=True) and len(set(sorts)) == len(sorts)


def test_columns_pages_by_index_to_the_end(replay: ReplayServer) -> None:
    url, codes, index = lists(replay)["columns"], [], 1
    while True:
        data = get(with_query(url, page_index=index))["data"]
        assert data["page_index"] == index and data["page_size"] == replay.page_size
        assert data["totle_hits"] == len(all_codes(replay))
        if not data["list"]:
            break
        codes += ["NW" + i["code"] for i in data["list"]]
        index += 1
    assert codes == all_codes(replay) and index == 4


@pytest.mark.parametrize(("kind", "key"), [("records", "records"), ("record", "record")])
def test_legacy_lists_page_by_pageindex(replay: ReplayServer, kind: str, key: str) -> None:
    url = lists(replay)[kind]
    codes = []
    for index in range(1, 5):
        codes += [i["infoCode"] for i in get(with_query(url, pageindex=index, pagesize=7))[key]]
    assert codes == all_codes(replay)


def test_jsonp_when_a_callback_is_named(replay: ReplayServer) -> None:
    for kind in ("columns", "fastnews"):
        plain = get(lists(replay)[kind])
        got = fetch(lists(replay)[kind] + "&callback=jQuery1124_17000")
        assert got.headers["Content-Type"] == "application/javascript; charset=utf-8"
        text = got.body.decode("utf-8")
        assert text.startswith("jQuery1124_17000(") and text.endswith(")")
        assert json.loads(text[len("jQuery1124_17000("):-1]) == plain
    assert fetch(lists(replay)["columns"] + "&callback=alert(1)//").status == 400


def test_bad_paging_parameters_answer_400(replay: ReplayServer) -> None:
    urls = lists(replay)
    assert fetch(with_query(urls["columns"], page_index="x")).status == 400
    assert fetch(with_query(urls["columns"], page_index=0)).status == 400
    assert fetch(with_query(urls["fastnews"], sortEnd="abc")).status == 400
    assert fetch(replay.url + "/web/webapi?type=999").status == 404


def test_new_articles_top_every_list() -> None:
    with ReplayServer(12, page_size=5) as server:
        before = server.articles
        added = server.add_articles(3)
        assert [a.date for a in added] == sorted((a.date for a in added), reverse=True)
        assert added[-1].date > before[0].date and server.articles == added + before
        want = [a.code for a in added]
        urls = lists(server)
        assert [i["infocode"] for i in get(urls["nodelist"])["nodeList"][:3]] == want
        assert [i["infoCode"] for i in get(urls["records"])["records"][:3]] == want
        assert [i["infoCode"] for i in get(urls["record"])["record"][:3]] == want
        assert ["NW" + i["code"] for i in get(urls["fastnews"])["data"]["fastNewsList"][:3]] == want
        assert ["NW" + i["code"] for i in get(urls["columns"])["data"]["list"][:3]] == want
        assert get(urls["columns"])["data"]["totle_hits"] == 15
        for a in added:
            assert fetch(f"{server.url}/a/{a.id}.html").status == 200


def test_edited_articles_are_served_revised() -> None:
    with ReplayServer(8) as server:
        target = next(a for a in server.articles if a.api == "full" and a.style == "content")
        revised = server.edit_article(target.code, title="修订后的标题", paragraphs=["第一段。", "第二段 & 结尾。"])
        assert revised.title == "修订后的标题" and revised.paragraphs == ("第一段。", "第二段 & 结尾。")
        assert (revised.code, revised.date, revised.style) == (target.code, target.date, target.style)
        obj = get(f"{server.url}/NewsData/GetNewsText.do?id={target.code}")
        assert {k.lower(): v for k, v in obj.items()}["title"] == "修订后的标题"
        assert paragraphs(obj["content"]) == ["第一段。", "第二段 & 结尾。"]
        assert "修订后的标题" in fetch(f"{server.url}/a/{target.id}.html").body.decode("utf-8")
        moved = server.edit_article(target.id, date="2025-01-01 09:30:15")
        assert server.articles[0] == moved and moved.title == "修订后的标题"
        top = get(lists(server)["columns"])["data"]["list"][0]
        assert (top["code"], top["showTime"], top["title"]) == (target.id, "2025-01-01 09:30:15", "修订后的标题")
        with pytest.raises(KeyError):
            server.edit_article("NW209901012200000000", title="x")
        with pytest.raises(ValueError, match="does not match format"):
            server.edit_article(target.code, date="2025-01-01")
