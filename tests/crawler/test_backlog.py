"""Nothing listed is forgotten, failures are remembered (SPEC §9), at the size of real use.

Every test runs the real ``finews crawl`` in fresh processes against the replay on
127.0.0.1 with a paged list (many pages), stops runs the ways runs really stop
(SIGKILL at random moments, SIGINT, ``--max-items``, a full disk, a poisoned
post path), then reruns until a run reports nothing new, and checks the end state
with :func:`assert_complete`: every listed article stored exactly once, rows equal
post files, no temporary or torn file, every post parses, the backlog is empty
and ``finews rebuild`` changes nothing.

Reliability matrix rows: B1 (SIGINT, then the rerun completes the rest), B2
(SIGKILL, reruns), B8 (disk full, file size limit), B9 (one poisoned item is
retried next run).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, func, select

from crawler.replay import ReplayServer
from pipelines.models import articles, backlog, list_walks, runs
from tests.crawler.cli_helpers import ROOT, finews, rows_in, write_settings

SEED = 20261201  # the kill moments are random but reproducible
# Politeness as in production, scaled down (two requests per host, a delay between them), so that
# list pages and articles interleave as they do on the real site.
POLITE = {"concurrency": 8, "per_host": 2, "delay": 0.05}


def columns_only(replay: ReplayServer, max_pages: int) -> dict[str, Any]:
    """The replay's templates with only its paged columns list."""
    templates = replay.templates()
    templates["lists"] = [{**lst, "max_pages": max_pages} for lst in templates["lists"] if lst["kind"] == "columns"]
    return templates


def start(settings: Path, cwd: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("FINEWS_CONFIG", None)
    return subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "-c", str(settings), "crawl", "--json", *args],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )



def wait_until_recorded(victim: subprocess.Popen[str], folder: Path, runs_before: int) -> None:
    """Return once *victim* has written its ``runs`` row: on a loaded machine start-up alone can take
    seconds, and a run killed before its row exists is no interrupted run."""
    deadline = time.monotonic() + 120
    while rows_in(folder, "runs") <= runs_before:
        assert victim.poll() is None, "the crawl exited before it recorded its run"
        assert time.monotonic() < deadline, "the crawl recorded no run within 120 s"
        time.sleep(0.05)


def summary(stdout: str) -> dict[str, Any]:
    return json.loads(stdout.strip().splitlines()[-1])


def rerun_until_quiet(settings: Path, cwd: Path, limit: int = 8) -> list[dict[str, Any]]:
    """Plain crawls until one stores nothing new; their summaries.  Each must exit 0."""
    results = []
    for _ in range(limit):
        run = finews("-c", str(settings), "crawl", "--json", cwd=cwd, timeout=280)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        results.append(summary(run.stdout))
        if results[-1]["new"] == 0:
            return results
    pytest.fail(f"still storing new articles after {limit} reruns: {results}")


def db_url(folder: Path) -> str:
    return f"sqlite:///{folder}/finews.db"


def assert_complete(folder: Path, codes: set[str], url: str | None = None) -> None:
    """The end state every interrupted history must reach; see the module docstring."""
    engine = create_engine(url or db_url(folder))
    with engine.connect() as conn:
        stored = conn.execute(select(articles.c.code, articles.c.post_path)).all()
        owed = conn.execute(select(func.count()).select_from(backlog)).scalar_one()
    engine.dispose()
    stored_codes = [code for code, _ in stored]
    assert len(stored_codes) == len(set(stored_codes))
    missing = codes - set(stored_codes)
    assert not missing, f"{len(missing)} of {len(codes)} listed articles never stored, e.g. {sorted(missing)[:3]}"
    assert set(stored_codes) == codes
    assert owed == 0
    posts_dir = folder / "site" / "_posts"
    files = {p.name for p in posts_dir.iterdir()}
    assert files == {Path(path).name for _, path in stored}, "post files differ from the rows (temporary or orphan files left)"
    for name in files:
        text = (posts_dir / name).read_text(encoding="utf-8")
        head, sep, body = text.partition("\n---\n")
        assert head.startswith("---\n") and sep, name
        front = yaml.safe_load(head[4:])
        assert set(front) == {"layout", "title", "date", "categories", "tags"} and front["title"], name
        assert body.endswith("｜[返回首页](//finews.withounder.com/)\n"), f"{name} is torn"
    rebuild = finews("-c", str(folder / "settings.yaml"), "rebuild", cwd=folder)
    assert rebuild.returncode == 0, rebuild.stdout + rebuild.stderr
    assert rebuild.stdout.strip().splitlines()[-1].startswith("restored 0, rewritten 0, removed orphans 0 ")


def test_sigkill_at_twenty_random_moments_loses_nothing(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    # Slow enough, with POLITE, that twenty kills cannot finish the crawl between them.
    with ReplayServer(articles=2000, page_size=50) as replay:
        settings = write_settings(tmp_path, columns_only(replay, max_pages=40), crawl=POLITE)
        stored_after_kills = []
        for _ in range(20):
            before = rows_in(tmp_path, "runs")
            victim = start(settings, tmp_path)
            wait_until_recorded(victim, tmp_path, before)
            time.sleep(rng.uniform(0.2, 5.0))
            victim.kill()
            victim.communicate(timeout=30)
            posts = tmp_path / "site" / "_posts"
            stored_after_kills.append(len(list(posts.glob("*.md"))) if posts.exists() else 0)
        assert stored_after_kills[-1] < 2000, "the kills came too late to interrupt anything"
        quiet = rerun_until_quiet(settings, tmp_path)
        assert_complete(tmp_path, {a.code for a in replay.articles})
        assert quiet[-1]["new"] == 0 and quiet[-1]["failed"] == 0
        print(f"posts after each kill: {stored_after_kills}; new per rerun: {[r['new'] for r in quiet]}")
        assert len(set(stored_after_kills)) > 10, f"most killed runs stored nothing: {stored_after_kills}"
    engine = create_engine(db_url(tmp_path))
    with engine.connect() as conn:
        statuses = [row.status for row in conn.execute(select(runs.c.status).order_by(runs.c.id))]
        (walk,) = conn.execute(select(list_walks)).all()
    engine.dispose()
    assert statuses[:20].count("killed") == 20  # each was killed after writing its row
    assert "running" not in statuses
    assert walk.complete


def test_max_items_then_plain_runs(database_url: str, tmp_path: Path) -> None:
    with ReplayServer(articles=300, page_size=50) as replay:
        settings = write_settings(tmp_path, columns_only(replay, max_pages=10), database={"url": database_url})
        capped = finews("-c", str(settings), "crawl", "--json", "--max-items", "10", cwd=tmp_path)
        assert capped.returncode == 0, capped.stderr
        assert summary(capped.stdout)["new"] == 10
        first = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path)
        assert summary(first.stdout)["new"] == 290, first.stdout  # the deferred 290 are owed, and fetched
        rerun_until_quiet(settings, tmp_path)
        assert_complete(tmp_path, {a.code for a in replay.articles}, database_url)


def test_owed_articles_pushed_past_max_pages_are_still_fetched(tmp_path: Path) -> None:
    """A busy hour: what a capped run listed sinks below max_pages; only the backlog still names it."""
    with ReplayServer(articles=100, page_size=50) as replay:
        settings = write_settings(tmp_path, columns_only(replay, max_pages=2))
        capped = finews("-c", str(settings), "crawl", "--json", "--max-items", "10", cwd=tmp_path)
        assert summary(capped.stdout)["new"] == 10
        replay.add_articles(100)  # the 90 owed ones are on pages 3 and 4 now
        after = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path)
        assert after.returncode == 0, after.stderr
        assert summary(after.stdout)["new"] == 190
        assert_complete(tmp_path, {a.code for a in replay.articles})


def test_a_walk_cut_short_is_finished_by_the_next_run(tmp_path: Path) -> None:
    """Page 1 stored, page 2 failed: the next run must not stop at the stored page 1."""
    with ReplayServer(articles=300, page_size=50, faults="list:*=slow:0.5") as replay:
        settings = write_settings(tmp_path, columns_only(replay, max_pages=10), crawl={"retries": 0})
        run = start(settings, tmp_path)
        deadline = time.monotonic() + 60
        while not any(r.kind == "list" for r in replay.requests) and time.monotonic() < deadline:
            time.sleep(0.01)
        replay.set_faults("list:*=status:500")  # page 2 is asked for only after page 1 answered, 0.5 s later
        out, err = run.communicate(timeout=120)
        assert run.returncode == 1, err
        assert summary(out)["new"] == 50 and summary(out)["lists_failed"] == 1
        replay.set_faults("")
        after = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path)
        assert after.returncode == 0, after.stderr
        assert summary(after.stdout)["new"] == 250
        again = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path)
        assert summary(again.stdout)["list_pages"] == 1  # that walk finished: paging stops early again
        assert_complete(tmp_path, {a.code for a in replay.articles})


def test_sigint_then_reruns(tmp_path: Path) -> None:
    with ReplayServer(articles=300, page_size=50) as replay:
        settings = write_settings(tmp_path, columns_only(replay, max_pages=10), crawl=POLITE)
        run = start(settings, tmp_path)
        deadline = time.monotonic() + 60
        while len(list((tmp_path / "site" / "_posts").glob("*.md"))) < 120 and time.monotonic() < deadline:
            time.sleep(0.1)
        run.send_signal(signal.SIGINT)
        out, err = run.communicate(timeout=60)
        assert run.returncode == 1, err
        assert summary(out)["status"] == "interrupted"
        assert summary(out)["new"] < 300
        quiet = rerun_until_quiet(settings, tmp_path)
        assert_complete(tmp_path, {a.code for a in replay.articles})
        print(f"stored before SIGINT took effect: {summary(out)['new']}; new per rerun: {[r['new'] for r in quiet]}")


@pytest.fixture
def small_disk(tmp_path: Path) -> Any:
    """A 1 MiB tmpfs (root only), unmounted afterwards; yields (folder, grow) where grow() adds space."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", str(disk)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {mounted.stderr.strip()}")

    def grow() -> None:
        subprocess.run(["mount", "-o", "remount,size=256m", str(disk)], check=True)

    try:
        yield disk, grow
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_full_disk_then_space_returns(small_disk: Any) -> None:
    disk, grow = small_disk
    with ReplayServer(articles=300, page_size=50) as replay:
        settings = write_settings(disk, columns_only(replay, max_pages=10))
        full = finews("-c", str(settings), "crawl", "--json", cwd=disk, timeout=280)
        assert full.returncode != 0, "the disk never filled: make it smaller"
        stored_full = len(list((disk / "site" / "_posts").glob("*.md")))
        assert stored_full < 300
        for temporary in (disk / "site" / "_posts").glob(".*"):
            pytest.fail(f"temporary file left after the disk filled: {temporary.name}")
        grow()
        quiet = rerun_until_quiet(settings, disk)
        assert_complete(disk, {a.code for a in replay.articles})
        print(f"posts when the disk was full: {stored_full}; new per rerun: {[r['new'] for r in quiet]}")


def test_a_file_size_limit_fails_the_run_and_the_next_run_completes(tmp_path: Path) -> None:
    """``ulimit -f``: writes past the limit fail with EFBIG (Python ignores SIGXFSZ), like a full disk."""
    import resource

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, 256 * 1024))

    with ReplayServer(articles=300, page_size=50) as replay:
        settings = write_settings(tmp_path, columns_only(replay, max_pages=10))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("FINEWS_CONFIG", None)
        limited = subprocess.run(
            [sys.executable, "-m", "crawler.cli", "-c", str(settings), "crawl", "--json"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=280, preexec_fn=limit_file_size, check=False,
        )
        assert limited.returncode == 1, limited.stdout[-1000:] + limited.stderr[-1000:]
        assert len(list((tmp_path / "site" / "_posts").glob("*.md"))) < 300
        rerun_until_quiet(settings, tmp_path)
        assert_complete(tmp_path, {a.code for a in replay.articles})


def test_a_poisoned_post_path_fails_one_article_which_the_next_run_stores(tmp_path: Path) -> None:
    with ReplayServer(articles=60, page_size=20) as replay:
        settings = write_settings(tmp_path, columns_only(replay, max_pages=5), crawl={"max_attempts": 3, "backoff": "1h"})
        victim = replay.articles[30]
        poison = tmp_path / "site" / "_posts" / f"{victim.date[:10]}-{victim.code}.md"
        poison.mkdir(parents=True)  # renaming a post over a folder fails: a storage error for this item only
        first = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path)
        assert first.returncode == 1
        assert summary(first.stdout)["new"] == 59 and summary(first.stdout)["failed"] == 1
        assert f"failed {victim.code}" in first.stdout
        poison.rmdir()
        # A storage failure is ours, not the article's: no back-off, so the next run retries it.
        second = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path)
        assert second.returncode == 0, second.stdout + second.stderr
        assert summary(second.stdout)["new"] == 1
        assert_complete(tmp_path, {a.code for a in replay.articles})


def fault_plan(codes: list[str], rng: random.Random) -> tuple[str, dict[str, str]]:
    """5% 500s, 5% timeouts, 2% truncated bodies and 2% 429s, each on the first request of its article."""
    picked = rng.sample(codes, k=len(codes) * 14 // 100)
    kinds = ["status:500"] * 5 + ["timeout:3"] * 5 + ["truncate"] * 2 + ["retry_after:1"] * 2
    plan = {code: kinds[i * len(kinds) // len(picked)] for i, code in enumerate(picked)}
    return ";".join(f"api:{code}={kind}x1" for code, kind in plan.items()), plan


def test_a_faulty_source_still_stores_every_article_once(tmp_path: Path) -> None:
    with ReplayServer(articles=500, page_size=50) as replay:
        faults, plan = fault_plan([a.code for a in replay.articles], random.Random(SEED))
        replay.set_faults(faults)
        settings = write_settings(tmp_path, columns_only(replay, max_pages=10), crawl={"timeout": 1, "retries": 3})
        run = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path, timeout=280)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        assert summary(run.stdout)["new"] == 500
        assert {kind.split(":")[0] for kind in plan.values()} == {"status", "timeout", "truncate", "retry_after"}
        rerun_until_quiet(settings, tmp_path)
        assert_complete(tmp_path, {a.code for a in replay.articles})


def test_an_article_failing_for_good_fails_three_runs_then_is_parked(tmp_path: Path) -> None:
    with ReplayServer(articles=40, page_size=20) as replay:
        broken = replay.articles[25].code
        replay.set_faults(f"api:{broken}=status:500;page:{broken}=status:500")
        settings = write_settings(tmp_path, columns_only(replay, max_pages=5), crawl={"retries": 0, "backoff": 0})
        exits = []
        for _ in range(5):
            run = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path)
            exits.append(run.returncode)
        assert exits == [1, 1, 1, 0, 0]
        api_hits = sum(1 for r in replay.requests if r.kind == "api" and broken[2:] in r.query.get("id", ""))
        assert api_hits == 3  # parked: the last two runs did not ask for it
        status = finews("-c", str(settings), "status", cwd=tmp_path)
        assert f"parked  {broken}  3 attempts" in status.stdout
        assert "HTTP 500" in status.stdout
        as_json = json.loads(finews("-c", str(settings), "status", "--json", cwd=tmp_path).stdout)
        assert [row["code"] for row in as_json["parked"]] == [broken]
        replay.set_faults("")
        by_hand = finews("-c", str(settings), "fetch", broken, cwd=tmp_path)
        assert by_hand.returncode == 0 and by_hand.stdout.startswith(f"new {broken}")
        assert json.loads(finews("-c", str(settings), "status", "--json", cwd=tmp_path).stdout)["parked"] == []
        assert_complete(tmp_path, {a.code for a in replay.articles})


def test_a_failed_article_backs_off(tmp_path: Path) -> None:
    with ReplayServer(articles=10, page_size=10) as replay:
        broken = replay.articles[3].code
        replay.set_faults(f"api:{broken}=status:500;page:{broken}=status:500")
        settings = write_settings(tmp_path, columns_only(replay, max_pages=2), crawl={"retries": 0, "backoff": "1h"})
        assert finews("-c", str(settings), "crawl", cwd=tmp_path).returncode == 1
        replay.set_faults("")
        second = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path)
        assert second.returncode == 0  # skipping a backing-off article is not a failure
        assert summary(second.stdout)["new"] == 0
        status = json.loads(finews("-c", str(settings), "status", "--json", cwd=tmp_path).stdout)
        (failing,) = status["failing"]
        assert failing["code"] == broken and failing["attempts"] == 1 and failing["reason"].startswith("content API: HTTP 500")
        engine = create_engine(db_url(tmp_path))
        with engine.begin() as conn:  # an hour later
            conn.exec_driver_sql("UPDATE backlog SET next_attempt_at = datetime(next_attempt_at, '-61 minutes')")
        engine.dispose()
        third = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path)
        assert third.returncode == 0 and summary(third.stdout)["new"] == 1
        assert_complete(tmp_path, {a.code for a in replay.articles})
