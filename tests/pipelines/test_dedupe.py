"""Duplicates across codes through the store: aliases, near-duplicates, the comparison window."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pipelines import dedupe
from pipelines.dates import BEIJING
from pipelines.dedupe import NearPolicy
from pipelines.fingerprint import band_keys, similarity
from pipelines.models import aliases, article_bands, articles, near_duplicates
from pipelines.store import StorePipeline
from tests.pipelines.store_helpers import CODE, dump, make_item, open_store, rows

SECOND = "NW202403050812345679"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pipelines" / "near_duplicates.json"
CASES = json.loads(FIXTURES.read_text(encoding="utf-8"))
NEAR = next(c for c in CASES if c["near"])


def near_pair() -> tuple[dict[str, str], dict[str, str]]:
    return NEAR["a"], NEAR["b"]


def test_same_content_under_another_code_is_an_alias(store: StorePipeline, site: Path, database_url: str) -> None:
    first = store.process_item(make_item())
    later = datetime(2024, 3, 7, 10, 0, tzinfo=BEIJING)  # the date does not make it another article
    dup = store.process_item(make_item(SECOND, date=later, list_meta={"title": "标题"}))
    assert dup.outcome == "duplicate"
    assert dup.post_path == first.post_path
    assert [p.name for p in (site / "_posts").iterdir()] == [f"2024-03-05-{CODE}.md"]
    (row,) = rows(database_url, articles)
    (alias,) = rows(database_url, aliases)
    assert (alias["code"], alias["article_id"], alias["kind"], alias["similarity"]) == (SECOND, row["id"], "duplicate", 1.0)
    assert alias["list_meta"] == '{"title": "标题"}'
    before = dump(database_url)
    assert store.process_item(make_item(SECOND, date=later, list_meta={"title": "标题"})).outcome == "duplicate"
    assert dump(database_url) == before  # seen again: zero writes
    assert store.stats.get_value("store/duplicate") == 2


def test_an_alias_whose_content_diverges_becomes_an_article(store: StorePipeline, site: Path, database_url: str) -> None:
    store.process_item(make_item())
    assert store.process_item(make_item(SECOND)).outcome == "duplicate"
    assert store.process_item(make_item(SECOND, body="<p>完全不同的另一篇文章，讲的是别的事情。</p>")).outcome == "new"
    assert rows(database_url, aliases) == []
    assert len(rows(database_url, articles)) == 2


def test_a_near_duplicate_is_published_and_recorded(store: StorePipeline, site: Path, database_url: str) -> None:
    a, b = near_pair()
    store.process_item(make_item(**a))
    second = store.process_item(make_item(SECOND, **b))
    assert second.outcome == "new"
    assert len(list((site / "_posts").iterdir())) == 2
    first_row, second_row = rows(database_url, articles)
    (record,) = rows(database_url, near_duplicates)
    assert (record["article_id"], record["similar_id"]) == (second_row["id"], first_row["id"])
    assert NearPolicy().min_similarity <= record["similarity"] < 1
    assert rows(database_url, aliases) == []


def test_a_near_duplicate_can_be_skipped(database_url: str, site: Path) -> None:
    a, b = near_pair()
    store = open_store(database_url, site, FINEWS_NEAR_DUPLICATES="skip")
    try:
        first = store.process_item(make_item(**a))
        second = store.process_item(make_item(SECOND, **b))
    finally:
        store.close_spider()
    assert second.outcome == "duplicate"
    assert second.post_path == first.post_path
    assert len(list((site / "_posts").iterdir())) == 1
    (alias,) = rows(database_url, aliases)
    assert alias["kind"] == "near" and alias["code"] == SECOND and alias["title"] == b["title"]
    assert rows(database_url, near_duplicates) == []


def test_near_duplicates_are_only_sought_within_the_window(database_url: str, site: Path) -> None:
    a, b = near_pair()
    store = open_store(database_url, site, FINEWS_NEAR_DUPLICATES="skip", FINEWS_NEAR_WINDOW_DAYS=2)
    try:
        store.process_item(make_item(**a))
        far_later = datetime(2024, 3, 5, 8, 1, 2, tzinfo=BEIJING) + timedelta(days=3)
        assert store.process_item(make_item(SECOND, date=far_later, **b)).outcome == "new"
    finally:
        store.close_spider()
    assert rows(database_url, aliases) == []


def test_a_long_window_looks_up_every_days_band_keys(database_url: str, site: Path) -> None:
    # 61 days of 32 band keys each (1,952 keys, more than SQLite once allowed bound parameters); the match is on the last day
    a, b = near_pair()
    store = open_store(database_url, site, FINEWS_NEAR_DUPLICATES="skip", FINEWS_NEAR_WINDOW_DAYS=30)
    try:
        much_later = datetime(2024, 3, 5, 8, 1, 2, tzinfo=BEIJING) + timedelta(days=29, hours=12)
        store.process_item(make_item(**a, date=much_later))  # its keys are among the window's last
        assert store.process_item(make_item(SECOND, **b)).outcome == "duplicate"
    finally:
        store.close_spider()
    assert [(r["code"], r["kind"]) for r in rows(database_url, aliases)] == [(SECOND, "near")]


def test_the_best_candidate_outside_the_window_gives_way_to_the_next(database_url: str, site: Path) -> None:
    # Both stored articles share a band with the new one; the closer copy is 30 s before the
    # window opens (on the window's first day, so the index returns it): the other one is the match.
    a, b = near_pair()
    new_at = datetime(2024, 3, 5, 8, 1, 2, tzinfo=BEIJING)
    store = open_store(database_url, site, FINEWS_NEAR_DUPLICATES="skip", FINEWS_NEAR_WINDOW_DAYS=2)
    try:
        closer = {**b, "title": b["title"] + "（快讯）"}  # the new article's body: more similar than *a*, not equal
        outside = store.process_item(make_item("NW202403050812345601", **closer, date=new_at - timedelta(days=2, seconds=30)))
        inside = store.process_item(make_item("NW202403050812345602", **{**a, "title": a["title"] + "（更新）"}, date=new_at))
        assert (outside.outcome, inside.outcome) == ("new", "new")
        assert store.process_item(make_item(SECOND, **b, date=new_at)).outcome == "duplicate"
    finally:
        store.close_spider()
    (alias,) = rows(database_url, aliases)
    stored = {r["id"]: r["code"] for r in rows(database_url, articles)}
    assert (alias["code"], alias["kind"], stored[alias["article_id"]]) == (SECOND, "near", "NW202403050812345602")
    assert alias["similarity"] < similarity(signature_of(closer), signature_of(b))  # the copy outside the window scores higher


def test_a_stricter_threshold_publishes_it_unrecorded(database_url: str, site: Path) -> None:
    a, b = near_pair()
    store = open_store(database_url, site, FINEWS_NEAR_SIMILARITY=0.95)
    try:
        store.process_item(make_item(**a))
        assert store.process_item(make_item(SECOND, **b)).outcome == "new"
    finally:
        store.close_spider()
    assert rows(database_url, near_duplicates) == []


def test_an_update_is_never_taken_for_a_duplicate(store: StorePipeline, database_url: str) -> None:
    store.process_item(make_item(body="<p>一</p>"))
    store.process_item(make_item(SECOND, body="<p>二</p>"))
    assert store.process_item(make_item(SECOND, body="<p>一</p>")).outcome == "updated"  # now equal to the first
    assert rows(database_url, aliases) == []


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_every_fixture_pair_is_decided_as_labelled_through_the_index(case: dict, store: StorePipeline, database_url: str) -> None:
    store.process_item(make_item(**case["a"]))
    assert store.process_item(make_item(SECOND, **case["b"])).outcome == "new"
    assert len(rows(database_url, near_duplicates)) == (1 if case["near"] else 0)


def index_of(database_url: str) -> set[tuple[int, int]]:
    return {(r["band_key"], r["article_id"]) for r in rows(database_url, article_bands)}


def expected_index(database_url: str) -> set[tuple[int, int]]:
    stored = rows(database_url, articles)
    return {(key, r["id"]) for r in stored for key in band_keys(r["signature"] or b"", dedupe.day_of(r["published_at"]))}


def test_the_band_index_follows_every_stored_signature(store: StorePipeline, database_url: str) -> None:
    a, b = near_pair()
    store.process_item(make_item(**a))
    store.process_item(make_item(SECOND, **b))
    store.process_item(make_item("NW202403050812345680", body="<p><img src='https://example.invalid/a.png'></p>"))  # the title alone
    assert len(index_of(database_url)) == 3 * 32 and index_of(database_url) == expected_index(database_url)
    assert store.process_item(make_item(SECOND, body="<p>完全不同的另一篇文章，讲的是别的事情。</p>")).outcome == "updated"
    assert index_of(database_url) == expected_index(database_url)  # the old keys are gone, the new ones there
    moved = make_item(SECOND, body="<p>完全不同的另一篇文章，讲的是别的事情。</p>", date=datetime(2024, 3, 9, 8, 0, tzinfo=BEIJING))
    assert store.process_item(moved).outcome == "updated"
    assert index_of(database_url) == expected_index(database_url)  # keyed by the new day


def test_an_article_moved_to_another_day_is_found_there(store: StorePipeline, database_url: str) -> None:
    a, b = near_pair()
    store.process_item(make_item(**a, date=datetime(2024, 3, 1, 8, 0, tzinfo=BEIJING)))
    store.process_item(make_item(**a, date=datetime(2024, 3, 9, 8, 0, tzinfo=BEIJING)))  # the source corrected its date
    store.process_item(make_item(SECOND, **b, date=datetime(2024, 3, 10, 23, 0, tzinfo=BEIJING)))  # two UTC days later
    assert len(rows(database_url, near_duplicates)) == 1


def unrelated(n: int) -> str:
    return "".join(f"<p>第{n}号公告：编号{n * 7919 + i}的项目于{i + 1}月完成验收，涉及金额{n * 31 + i * 17}万元。</p>" for i in range(4))


def test_the_lookup_compares_only_articles_sharing_a_band(store: StorePipeline, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(40):  # same window, unrelated texts
        store.process_item(make_item(f"NW2024030508{n:08d}", title=f"公告{n}", body=unrelated(n)))
    a, b = near_pair()
    store.process_item(make_item(**a))
    compared: list[float] = []

    def counting(x: bytes, y: bytes) -> float:
        compared.append(similarity(x, y))
        return compared[-1]

    monkeypatch.setattr(dedupe, "similarity", counting)
    store.process_item(make_item(SECOND, **b))
    assert len(rows(database_url, near_duplicates)) == 1
    assert 1 <= len(compared) <= 3, compared  # a scan of the window would compare all 41


def test_a_threshold_below_the_index_scans_the_window(database_url: str, site: Path) -> None:
    case = next(c for c in CASES if c["name"] == "two earnings reports of the same shape")
    assert not set(band_keys(signature_of(case["a"]), 0)) & set(band_keys(signature_of(case["b"]), 0))  # the index alone would miss it
    store = open_store(database_url, site, FINEWS_NEAR_SIMILARITY=0.2)
    try:
        store.process_item(make_item(**case["a"]))
        store.process_item(make_item(SECOND, **case["b"]))
    finally:
        store.close_spider()
    assert len(rows(database_url, near_duplicates)) == 1


def signature_of(article: dict[str, str]) -> bytes:
    from pipelines.fingerprint import signature
    from pipelines.post import build_post

    post = build_post(make_item(**article), category=make_item(**article).category_choice, share_link="", base_url="")
    return signature(post.title, post.body)
