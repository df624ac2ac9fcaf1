"""``finews backfill`` end to end: real processes, the replay, a real SQLite file (SPEC §4).

The replay's articles are 4–12 hours apart (crawler/replay/generator.py), so 600 of
them span January to July 2024 and a range of a few weeks cuts them in the middle.
A page size of 20 makes the lists 30 pages long, against a ``max_pages`` of 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from crawler.cli import EXIT_BUSY, EXIT_USAGE, main
from crawler.config import ConfigError, load_config
from crawler.items import BEIJING
from crawler.lock import run_lock
from crawler.replay import GeneratedArticle, ReplayServer
from crawler.spiders.backfill import DateRange, Place, place
from pipelines.models import articles, backfill_progress, backlog, runs
from tests.crawler.cli_helpers import ROOT, finews, rows_in, write_settings

ARTICLES = 600
PAGE_SIZE = 20


def paged_lists(replay: ReplayServer, kinds: tuple[str, ...] = ("columns", "fastnews"), **extra: Any) -> dict[str, Any]:
    """The replay's templates with only its paged lists, each capped at two pages for `crawl`."""
    templates = replay.templates()
    templates["lists"] = [{**lst, "max_pages": 2, **extra.get(lst["kind"], {})} for lst in templates["lists"] if lst["kind"] in kinds]
    return templates


def summary(stdout: str) -> dict[str, Any]:
    assert stdout.strip(), "no output"
    return json.loads(stdout.strip().splitlines()[-1])


def stored_codes(folder: Path, url: str | None = None) -> set[str]:
    engine = create_engine(url or f"sqlite:///{folder}/finews.db")
    with engine.connect() as conn:
        codes = {row.code for row in conn.execute(select(articles.c.code))}
    engine.dispose()
    return codes


def dated_in(replay: ReplayServer, since: str, until: str) -> set[str]:
    """The replay's own truth: the codes of the articles dated within [since, until] (Beijing days)."""
    return {a.code for a in replay.articles if since <= a.date[:10] <= until}


def api_requests(replay: ReplayServer, start: int = 0) -> Counter[str]:
    """Content-API requests per code, from the *start*-th request the replay received on."""
    return Counter(r.query.get("id", "") for r in replay.requests[start:] if r.kind == "api")


def undated_at_day_change(oldest_first: list[GeneratedArticle], near: int) -> int:
    """The index, from *near* on, of an article the lists show without a time whose older
    neighbour is dated the day before: a range bound between the two days falls next to it."""
    for i in range(near, len(oldest_first) - 1):
        if "showtime" in oldest_first[i].blank_in_lists and oldest_first[i - 1].date[:10] < oldest_first[i].date[:10]:
            return i
    raise AssertionError(f"no undated article at a day change after {near}")


def test_place_puts_undated_items_between_their_neighbours() -> None:
    window = DateRange(date(2024, 3, 1), date(2024, 3, 2))

    def at(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=BEIJING)

    newest_first = [at("2024-03-03 00:00:00"), None, at("2024-03-02 23:59:59"), None, at("2024-03-01 00:00:00"),
                    None, at("2024-02-29 23:59:59"), None]
    assert place(newest_first, window) == [
        Place.NEWER, Place.UNSURE, Place.INSIDE, Place.INSIDE, Place.INSIDE, Place.UNSURE, Place.OLDER, Place.OLDER,
    ]
    assert place([None, at("2024-03-05 08:00:00")], window) == [Place.NEWER, Place.NEWER]
    assert place([None], window) == [Place.UNSURE]
    with pytest.raises(ValueError, match="after"):
        DateRange(date(2024, 3, 2), date(2024, 3, 1))


def test_backfill_stores_exactly_the_articles_dated_in_the_range(database_url: str, tmp_path: Path) -> None:
    with ReplayServer(articles=ARTICLES, page_size=PAGE_SIZE) as replay:
        oldest_first = replay.articles[::-1]
        # Both bounds fall next to an article the lists show without a time: the one at `since`
        # must be fetched and kept, the one after `until` fetched and dropped.
        first = undated_at_day_change(oldest_first, 200)
        after = undated_at_day_change(oldest_first, 380)
        since, until = oldest_first[first].date[:10], oldest_first[after - 1].date[:10]
        expected = dated_in(replay, since, until)
        assert 100 < len(expected) < 250, (since, until, len(expected))
        settings = write_settings(tmp_path, paged_lists(replay), database={"url": database_url})

        started = time.monotonic()
        run = finews("-c", str(settings), "backfill", "--since", since, "--until", until, "--json", cwd=tmp_path, timeout=280)
        seconds = time.monotonic() - started
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        result = summary(run.stdout)
        print(f"backfill of {len(expected)} of {ARTICLES} articles over two lists: {seconds:.1f} s, {result['requests']} requests")
        assert stored_codes(tmp_path, database_url) == expected
        assert result["new"] == len(expected) and result["failed"] == 0 and result["status"] == "ok"
        posts = {p.name for p in (tmp_path / "site" / "_posts").glob("*.md")}
        assert {name[:10] for name in posts} <= {a.date[:10] for a in replay.articles if a.code in expected}
        assert len(posts) == len(expected)

        # Paged far past max_pages, down to the first page older than `since`, and no further.
        for lst in result["lists"]:
            assert lst["complete"] and lst["pages"] > 2 * 2, lst
            assert lst["oldest"][:10] < since
        pages_to_since = (len([a for a in replay.articles if a.date[:10] >= since]) - 1) // PAGE_SIZE + 1
        assert result["list_pages"] == 2 * pages_to_since
        # Articles outside the range were not fetched, except the undated ones the lists could not place.
        fetched = set(api_requests(replay))
        undated = {a.code for a in replay.articles if "showtime" in a.blank_in_lists}
        assert fetched - expected <= undated
        assert oldest_first[after].code in fetched - expected
        assert oldest_first[first].code in expected
        assert result["outside_range"] >= 1 and result["undated_unsure"] >= 2
        assert result["newer_than_until"] > 0 and result["older_than_since"] > 0

        # Again with the same range: the walk was complete, so it reads the lists again and fetches nothing.
        api = replay.count("api")
        again = finews("-c", str(settings), "backfill", "--since", since, "--until", until, "--json", cwd=tmp_path, timeout=280)
        assert again.returncode == 0, again.stderr[-2000:]
        assert summary(again.stdout)["new"] == 0 and summary(again.stdout)["resumed"] == 0
        assert replay.count("api") - api <= len(fetched - expected)  # only the undated one it dropped is asked again
        assert stored_codes(tmp_path, database_url) == expected



def test_a_killed_backfill_resumes_and_refetches_nothing_it_stored(tmp_path: Path) -> None:
    with ReplayServer(articles=ARTICLES, page_size=PAGE_SIZE) as replay:
        since, until = "2024-03-01", "2024-07-31"
        expected = dated_in(replay, since, until)
        # Politeness as in production, scaled down, so that the run is still going when it is killed.
        settings = write_settings(tmp_path, paged_lists(replay, ("columns",)), crawl={"per_host": 2, "delay": 0.03})
        # A scheduled crawl stored the newest two pages: the backfill must skip them by their list metadata.
        crawl = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path, timeout=280)
        assert crawl.returncode == 0 and summary(crawl.stdout)["new"] == 2 * PAGE_SIZE, crawl.stderr[-2000:]
        by_crawl = stored_codes(tmp_path)
        crawled = len(replay.requests)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("FINEWS_CONFIG", None)
        victim = subprocess.Popen(
            [sys.executable, "-m", "crawler.cli", "-c", str(settings), "backfill", "--since", since, "--until", until, "--json"],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 120
        while rows_in(tmp_path, "articles") < len(by_crawl) + 25:
            assert victim.poll() is None, victim.communicate()[1][-2000:]
            assert time.monotonic() < deadline, "nothing stored within 120 s"
            time.sleep(0.02)
        victim.kill()
        victim.communicate(timeout=30)
        at_kill = stored_codes(tmp_path)
        seen = len(replay.requests)
        assert len(by_crawl) + 25 <= len(at_kill) < len(expected), "the kill came too late to interrupt anything"
        engine = create_engine(f"sqlite:///{tmp_path}/finews.db")
        with engine.connect() as conn:
            (saved,) = conn.execute(select(backfill_progress)).all()
        assert not saved.complete and saved.pages >= 1

        rerun = finews("-c", str(settings), "backfill", "--since", since, "--until", until, "--json", cwd=tmp_path, timeout=280)
        assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-2000:]
        result = summary(rerun.stdout)
        print(f"killed with {len(at_kill)} of {len(expected)} stored ({len(by_crawl)} by a crawl), {saved.pages} pages read; "
              f"the rerun stored {result['new']} in {result['seconds']} s")
        assert result["resumed"] == 1
        assert stored_codes(tmp_path) == expected  # the union is exact
        again = api_requests(replay, seen)
        assert not set(again) & at_kill, f"refetched stored articles: {sorted(set(again) & at_kill)[:3]}"
        assert not set(api_requests(replay, crawled)) & by_crawl, "the backfill refetched what the crawl stored"
        assert max(api_requests(replay, crawled).values()) <= 2  # at most once more, for the ones in flight at the kill
        # The rerun began at the saved page, not at the first one.
        first_list = next(r for r in replay.requests[seen:] if r.kind == "list")
        assert int(first_list.query["page_index"]) == saved.pages + 1
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(backlog)).scalar_one() == 0
            assert conn.execute(select(backfill_progress.c.complete)).scalar_one()
            statuses = [row.status for row in conn.execute(select(runs.c.status).order_by(runs.c.id))]
        engine.dispose()
        assert statuses == ["ok", "killed", "ok"]


def test_list_named_or_numbered_walks_only_that_list(tmp_path: Path) -> None:
    with ReplayServer(articles=60, page_size=PAGE_SIZE) as replay:
        settings = write_settings(tmp_path, paged_lists(replay, ("fastnews", "columns"), columns={"name": "finance"}))
        run = finews("-c", str(settings), "backfill", "--since", "2024-01-01", "--until", "2024-12-31", "--list", "finance",
                     "--json", cwd=tmp_path)
        assert run.returncode == 0, run.stderr[-2000:]
        result = summary(run.stdout)
        assert [(lst["list"], lst["name"], lst["kind"]) for lst in result["lists"]] == [(2, "finance", "columns")]
        assert {r.path for r in replay.requests if r.kind == "list"} == {"/comm/web/getNewsByColumns"}
        assert result["new"] == 60 and result["list_pages"] == 3  # 60 articles, 20 a page, the third one the last
        text = finews("-c", str(settings), "backfill", "--since", "2024-01-01", "--until", "2024-12-31", "--list", "1", cwd=tmp_path)
        assert text.returncode == 0, text.stderr[-2000:]
        lines = text.stdout.strip().splitlines()
        # fastnews learns the end from a fourth page with no data
        assert lines[0] == "list 1 (fastnews): 4 pages, back to 2024-01-02 07:05, complete", lines
        assert lines[-1].startswith("ok: 0 new,") and lines[-1].endswith("; backfill 2024-01-01..2024-12-31"), lines
        assert {r.path for r in replay.requests if r.kind == "list"} == {"/comm/web/getNewsByColumns", "/comm/web/getFastNewsList"}


@pytest.mark.parametrize(("args", "reason"), [
    (["--since", "2024-13-01"], "backfill --since: expected a date YYYY-MM-DD, got '2024-13-01'"),
    (["--until", "yesterday"], "backfill --until: expected a date YYYY-MM-DD, got 'yesterday'"),
    (["--since", "2024-03-02", "--until", "2024-03-01"], "backfill: --since 2024-03-02 is after --until 2024-03-01"),
    (["--list", "nope"], "backfill --list: no list 'nope'; configured: 1, 2 (finance)"),
    (["--list", "3"], "backfill --list: no list '3'; configured: 1, 2 (finance)"),
])
def test_usage_errors_exit_2_with_one_line(args: list[str], reason: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    templates = {"content_api": "http://127.0.0.1:9/x?id={code}", "article_page": "http://127.0.0.1:9/a/{id}.html",
                 "lists": [{"kind": "fastnews", "url": "http://127.0.0.1:9/f"},
                           {"kind": "columns", "url": "http://127.0.0.1:9/c", "name": "finance"}]}
    settings = write_settings(tmp_path, templates)
    assert main(["-c", str(settings), "backfill", *args]) == EXIT_USAGE
    out, err = capsys.readouterr()
    assert err == f"finews: {reason}\n" and out == ""
    assert not (tmp_path / "finews.db").exists()  # refused before anything was opened


@pytest.mark.parametrize(("name", "message"), [
    ("12", "name must be a-z, 0-9, '-' and '_' (not only digits), got '12'"),
    ("Finance", "name must be a-z, 0-9, '-' and '_' (not only digits), got 'Finance'"),
    (["x"], "name must be a-z"),
])
def test_list_names_are_checked(name: Any, message: str, tmp_path: Path) -> None:
    settings = write_settings(tmp_path, {"lists": [{"kind": "columns", "url": "http://127.0.0.1:9/c", "name": name}]})
    with pytest.raises(ConfigError, match=r"sources\.eastmoney\.lists\[0\]\." + message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        load_config(settings)


def test_two_lists_may_not_share_a_name(tmp_path: Path) -> None:
    lists = [{"kind": "columns", "url": "http://127.0.0.1:9/c", "name": "a"},
             {"kind": "fastnews", "url": "http://127.0.0.1:9/f", "name": "a"}]
    with pytest.raises(ConfigError, match="two lists are named 'a'"):
        load_config(write_settings(tmp_path, {"lists": lists}))


def test_backfill_takes_the_run_lock(tmp_path: Path) -> None:
    settings = write_settings(tmp_path, {"lists": [{"kind": "columns", "url": "http://127.0.0.1:9/c"}]})
    with run_lock(load_config(settings)):
        run = finews("-c", str(settings), "backfill", "--since", "2024-01-01", "--until", "2024-01-02", cwd=tmp_path)
    assert run.returncode == EXIT_BUSY, run.stderr
    assert run.stderr.count("\n") == 1 and "another" in run.stderr.lower(), run.stderr


def test_default_range_is_the_thirty_days_up_to_today() -> None:
    from crawler.cli.backfill import date_range

    assert date_range(None, None, date(2024, 3, 31)) == DateRange(date(2024, 3, 2), date(2024, 3, 31))
    assert date_range(None, "2024-02-29", date(2030, 1, 1)) == DateRange(date(2024, 1, 31), date(2024, 2, 29))
    assert date_range("2024-03-05", None, date(2024, 3, 5)) == DateRange(date(2024, 3, 5), date(2024, 3, 5))


def test_scrapy_crawl_backfill_without_a_range_stops_before_fetching(tmp_path: Path) -> None:
    settings = write_settings(tmp_path, {"lists": [{"kind": "columns", "url": "http://127.0.0.1:9/c"}]})
    env = {**os.environ, "FINEWS_CONFIG": str(settings), "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "backfill", "-s", "FINEWS_BACKFILL_SINCE=2024-03-01"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 2, run.stderr[-2000:]
    assert "backfill needs FINEWS_BACKFILL_SINCE and FINEWS_BACKFILL_UNTIL" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "finews.db").exists()


def test_the_progress_line_shows_how_far_back_a_backfill_got(capsys: pytest.CaptureFixture[str]) -> None:
    from scrapy.utils.test import get_crawler

    from crawler.cli.progress import ProgressLine

    crawler = get_crawler(settings_dict={"FINEWS_PROGRESS": True})
    line = ProgressLine.from_crawler(crawler)
    line.draw()
    assert "back to" not in capsys.readouterr().err  # a crawl
    assert crawler.stats is not None
    crawler.stats.min_value("backfill/oldest", "2024-03-09")
    crawler.stats.min_value("backfill/oldest", "2024-03-01")
    crawler.stats.min_value("backfill/oldest", "2024-03-05")
    line.draw()
    assert capsys.readouterr().err.endswith(", 0 failed, back to 2024-03-01 ")
