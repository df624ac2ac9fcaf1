"""Scheduled runs end to end: real processes, the replay's five list kinds, a real SQLite file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, select

from crawler.replay import GeneratedArticle, ReplayServer
from pipelines.models import runs
from tests.conftest import GOLDEN_SEED
from tests.crawler.cli_helpers import ROOT, finews, write_settings
from tests.crawler.replay.support import fetch

ARTICLES = 24


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with ReplayServer(articles=ARTICLES, page_size=5) as server:
        yield server


def summary(run: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert run.stdout, run.stderr
    return json.loads(run.stdout.splitlines()[-1])


def posts(site: Path) -> dict[str, Path]:
    return {p.name.split("-", 3)[3][:-3]: p for p in (site / "_posts").glob("*.md")}


def front(path: Path) -> dict[str, object]:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])


def snapshot(site: Path) -> dict[str, tuple[int, bytes]]:
    """Every published file (dot-files such as the run lock are not published) with its mtime and bytes."""
    return {str(p): (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(site.rglob("[!.]*")) if p.is_file()}


def own_date(article: GeneratedArticle) -> str:
    """The date a post of *article* carries (SPEC §8): the list's showtime, seconds included;
    the content API's Date when the list shows none; else the article page's, to the minute."""
    if "showtime" not in article.blank_in_lists or article.api == "full":
        return article.date
    return article.date[:16] + ":00"


def test_incremental_runs(replay: ReplayServer, tmp_path: Path) -> None:
    settings = write_settings(tmp_path, replay.templates(), crawl={"max_pages": 20})
    first = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    result = summary(first)
    assert result["status"] == "ok"
    assert result["new"] == ARTICLES and result["failed"] == 0
    stored = posts(tmp_path / "site")
    assert set(stored) == {a.code for a in replay.articles}
    for article in replay.articles:
        head = front(stored[article.code])
        assert head["title"] == article.title
        assert f"{head['date']}".startswith(own_date(article))

    api, page = replay.count("api"), replay.count("page")
    before = snapshot(tmp_path / "site")
    second = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert summary(second)["new"] == 0
    assert summary(second)["unchanged"] == ARTICLES
    assert (replay.count("api"), replay.count("page")) == (api, page)
    assert snapshot(tmp_path / "site") == before

    added = replay.add_articles(3)
    third = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path)
    assert third.returncode == 0, third.stdout + third.stderr
    assert summary(third)["new"] == 3
    assert replay.count("api") - api == 3
    assert {a.code for a in added} <= set(posts(tmp_path / "site"))


def test_list_entries_without_title_or_showtime_take_the_articles_own(replay: ReplayServer, tmp_path: Path) -> None:
    """An entry the list shows with an empty title or showtime gets the article's own, from
    the content API or, when the API lacks it too, the article page (SPEC §8): never a post
    named ``-<code>.md`` or dated ``date:  +0800``."""
    nodelist = next(lst for lst in replay.templates()["lists"] if lst["kind"] == "nodelist")
    shown = {i["infocode"]: i for i in json.loads(fetch(nodelist["url"]).body)["nodeList"]}
    blank = [a for a in replay.articles if a.blank_in_lists]
    assert {a.blank_in_lists for a in blank} == {("showtime",), ("title",), ("title", "showtime")}
    assert any(a.api != "full" for a in blank), "one whose content API lacks them too"
    for a in blank:
        assert all(shown[a.code][field] == "" for field in a.blank_in_lists), "the list really shows them empty"
    settings = write_settings(tmp_path, {**replay.templates(), "lists": [nodelist]})
    run = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert summary(run)["new"] == ARTICLES and summary(run)["quarantined"] == 0
    stored = posts(tmp_path / "site")
    for a in blank:
        path = stored[a.code]
        assert path.name == f"{own_date(a)[:10]}-{a.code}.md"
        text = path.read_text(encoding="utf-8")
        assert f"\ndate: {own_date(a)} +0800\n" in text, (a.code, a.blank_in_lists, a.api)
        assert front(path)["title"] == a.title


def test_list_category_and_tag(replay: ReplayServer, tmp_path: Path) -> None:
    templates = replay.templates()
    fastnews = [dict(lst, category="emnews", tag="东财滚动新闻", max_pages=1) for lst in templates["lists"] if lst["kind"] == "fastnews"]
    settings = write_settings(tmp_path, {**templates, "lists": fastnews})
    run = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    stored = posts(tmp_path / "site")
    assert stored and summary(run)["new"] == len(stored)
    for path in stored.values():
        head = front(path)
        assert (head["categories"], head["tags"]) == ("emnews", "东财滚动新闻")
        footer = "[返回东财滚动新闻](//finews.withounder.com/category/emnews.html)｜[返回首页](//finews.withounder.com/)\n"
        assert path.read_text(encoding="utf-8").endswith(footer)
    page = (tmp_path / "site" / "category" / "emnews.html").read_text(encoding="utf-8")
    assert page == "---\nlayout: category\ntitle: 东财滚动新闻\ncategory: emnews\n---\n"


def test_max_items_and_summary_line(replay: ReplayServer, tmp_path: Path) -> None:
    settings = write_settings(tmp_path, replay.templates())
    run = finews("-c", str(settings), "crawl", "--max-items", "4", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1].startswith("ok: 4 new, 0 updated, ")
    assert len(posts(tmp_path / "site")) == 4


def test_a_failed_article_fails_the_run(tmp_path: Path) -> None:
    with ReplayServer(articles=6) as probe:
        victim = probe.articles[2].code
    with ReplayServer(articles=6, faults=f"api:{victim}=status:503;page:{victim}=status:503") as replay:
        settings = write_settings(tmp_path, replay.templates())
        run = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path)
    assert run.returncode == 1
    result = summary(run)
    assert result["status"] == "failed" and result["failed"] == 1 and result["new"] == 5
    assert f"failed {victim} content API: HTTP 503; article page: HTTP 503" in run.stdout


def test_concurrent_runs_take_turns(tmp_path: Path) -> None:
    with ReplayServer(articles=8, faults="api:*=slow:1") as replay:
        settings = write_settings(tmp_path, replay.templates(), crawl={"concurrency": 1, "per_host": 1})
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        first = subprocess.Popen([sys.executable, "-m", "crawler.cli", "-c", str(settings), "crawl"],
                                 cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: replay.count("api") > 0, 30)
            started = time.monotonic()
            second = finews("-c", str(settings), "crawl", cwd=tmp_path)
            assert time.monotonic() - started < 10
            assert second.returncode == 75
            assert "another finews run is active" in second.stderr
            assert second.stderr.count("\n") == 1
        finally:
            out, err = first.communicate(timeout=120)
        assert first.returncode == 0, out + err


def test_sigkill_leaves_no_partial_file_and_the_next_run_completes(tmp_path: Path) -> None:
    with ReplayServer(articles=10, faults="api:*=slow:0.5") as replay:
        settings = write_settings(tmp_path, replay.templates(), crawl={"concurrency": 2, "per_host": 2})
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        victim = subprocess.Popen([sys.executable, "-m", "crawler.cli", "-c", str(settings), "crawl"],
                                  cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: len(list(tmp_path.glob("site/_posts/*.md"))) >= 2, 60)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        for post in tmp_path.glob("site/_posts/*"):
            assert post.suffix == ".md" or post.name.startswith(".tmp-")
            if post.suffix == ".md":
                assert post.read_text(encoding="utf-8").endswith("｜[返回首页](//finews.withounder.com/)\n")
        rerun = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        assert set(posts(tmp_path / "site")) == {a.code for a in replay.articles}
        assert not list(tmp_path.glob("site/_posts/.tmp-*"))
    statuses = [row.status for row in rows(tmp_path)]
    # The next run marked the killed one (no phantom "running" row); the lock did not block it.
    assert statuses == ["killed", "ok"]


def test_sigterm_stops_cleanly(tmp_path: Path) -> None:
    with ReplayServer(articles=12, faults="api:*=slow:0.5") as replay:
        settings = write_settings(tmp_path, replay.templates(), crawl={"concurrency": 1, "per_host": 1})
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        run = subprocess.Popen([sys.executable, "-m", "crawler.cli", "-c", str(settings), "crawl", "--json"],
                               cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for(lambda: len(list(tmp_path.glob("site/_posts/*.md"))) >= 1, 60)
        run.send_signal(signal.SIGTERM)
        out, err = run.communicate(timeout=60)
        assert run.returncode == 1, out + err
        assert json.loads(out.splitlines()[-1])["status"] == "interrupted"
        assert not list(tmp_path.glob("site/_posts/.tmp-*"))
        rerun = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        assert set(posts(tmp_path / "site")) == {a.code for a in replay.articles}


def test_schedule_runs_each_crawl_in_its_own_process(replay: ReplayServer, tmp_path: Path) -> None:
    settings = write_settings(tmp_path, replay.templates())
    run = finews("-c", str(settings), "schedule", "--every", "2s", "--max-runs", "3", cwd=tmp_path, timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    recorded = rows(tmp_path)
    assert [r.command for r in recorded] == ["crawl"] * 3
    assert [r.status for r in recorded] == ["ok"] * 3
    assert len({r.pid for r in recorded}) == 3
    assert len({r.pid for r in recorded} | {os.getpid()}) == 4
    assert all(b.started_at >= a.finished_at for a, b in pairwise(recorded))  # never two at once


def test_schedule_rejects_a_bad_interval(tmp_path: Path) -> None:
    run = finews("schedule", "--every", "soon", cwd=tmp_path)
    assert run.returncode == 2
    assert "expected a positive interval" in run.stderr


def test_status_shows_categories_runs_and_quarantine(replay: ReplayServer, tmp_path: Path) -> None:
    settings = write_settings(tmp_path, replay.templates())
    assert finews("-c", str(settings), "crawl", cwd=tmp_path).returncode == 0
    run = finews("-c", str(settings), "status", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"articles: {ARTICLES} in ")
    assert "last runs (1):" in run.stdout and " crawl " in run.stdout and " ok " in run.stdout
    assert "quarantine (0):" in run.stdout


def test_readme_cron_recipe_works_as_written(replay: ReplayServer, tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    line = next(entry for entry in readme.splitlines() if entry.startswith("*/5 * * * * "))
    command = line.split(" ", 5)[5]
    home = tmp_path / "home"
    project = home / "finews"
    project.mkdir(parents=True)
    (project / ".venv").symlink_to(Path(sys.prefix))
    write_settings(project, replay.templates())
    env = {**os.environ, "HOME": str(home), "PYTHONPATH": str(ROOT)}
    env.pop("FINEWS_CONFIG", None)
    done = subprocess.run(["/bin/sh", "-c", command], env=env, cwd="/", capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(posts(project / "site")) == ARTICLES


def rows(folder: Path) -> list:  # type: ignore[type-arg]
    engine = create_engine(f"sqlite:///{folder}/finews.db")
    with engine.connect() as conn:
        result = conn.execute(select(runs).order_by(runs.c.id)).all()
    engine.dispose()
    return list(result)


def wait_for(condition, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_a_listed_duplicate_is_not_refetched(tmp_path: Path) -> None:
    seed = GOLDEN_SEED / "content-api.json"
    copy = json.loads(seed.read_text(encoding="utf-8"))
    copy["Id"] = "NW202202092271461999"  # same article republished under another code
    twin = tmp_path / "twin.json"
    twin.write_text(json.dumps(copy, ensure_ascii=False), encoding="utf-8")
    with ReplayServer(articles=3, fixtures=[seed, twin]) as replay:
        settings = write_settings(tmp_path, replay.templates())
        first = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path)
        assert first.returncode == 0, first.stdout + first.stderr
        assert (summary(first)["new"], summary(first)["duplicate"]) == (4, 1)
        api = replay.count("api")
        second = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path)
        assert second.returncode == 0, second.stdout + second.stderr
        assert summary(second)["unchanged"] == 5
        assert replay.count("api") == api


def test_paging_reaches_articles_only_the_paged_lists_show(tmp_path: Path) -> None:
    # Slow paged lists: the newest articles are stored (from the quick list) before those lists'
    # first pages arrive, and paging must not take them for "stored before this run".
    with ReplayServer(articles=60, page_size=5, faults="list:fastnews=slow:0.5;list:columns=slow:0.5") as replay:
        templates = replay.templates()
        for lst in templates["lists"]:
            lst["url"] = lst["url"].replace("count=100", "count=10")  # the single-page list shows the newest 10
        settings = write_settings(tmp_path, templates, crawl={"max_pages": 50})
        run = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert summary(run)["new"] == 60


def test_progress_shows_on_a_terminal_only(replay: ReplayServer, tmp_path: Path) -> None:
    import pty

    settings = write_settings(tmp_path, replay.templates())
    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "-c", str(settings), "crawl"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=follower, timeout=120, check=False,
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert run.returncode == 0
    assert b"\r" in shown and f"{ARTICLES} stored, 0 failed".encode() in shown
    piped = finews("-c", str(settings), "crawl", cwd=tmp_path)
    assert "stored" not in piped.stderr
