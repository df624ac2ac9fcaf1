"""Storage end to end: the real ``finews`` in a subprocess, the replay, SQLite and the real PostgreSQL.

One article whatever a target looks like; duplicates across codes; edits at the
source; ``finews rebuild`` byte for byte and offline; every command on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from crawler.replay import ReplayServer
from pipelines.models import metadata
from tests.conftest import GOLDEN_SEED
from tests.crawler.cli_helpers import ROOT, finews, write_settings

SEED_CODE = "NW202202092271461775"


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with ReplayServer(articles=6) as server:
        yield server


def table(url: str, name: str) -> list[dict[str, Any]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            t = metadata.tables[name]
            return [dict(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns)).mappings()]
    finally:
        engine.dispose()


def site_files(site: Path) -> dict[str, bytes]:
    """Every published file (dot-files such as the run lock are never published)."""
    return {str(p.relative_to(site)): p.read_bytes() for p in sorted(site.rglob("[!.]*")) if p.is_file()}


def ok(run: Any) -> Any:
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    return run


def test_every_form_of_a_target_is_one_article(replay: ReplayServer, tmp_path: Path, database_url: str) -> None:
    settings = write_settings(tmp_path, replay.templates(), database={"url": database_url})
    article = replay.articles[0]
    share = f"http://finews.zning.xyz/html_News/NewsShare.html?infoCode={article.code}"
    tracked = f"http://finance.eastmoney.com/a/{article.id}.html?from=timeline&utm_source=x"
    https = f"https://finance.eastmoney.com:443/a/{article.id}.html#comments"
    path = f"site/_posts/{article.date[:10]}-{article.code}.md"

    first = ok(finews("-c", str(settings), "fetch", share, cwd=tmp_path))
    assert first.stdout == f"new {article.code} {path}\n"
    again = ok(finews("-c", str(settings), "fetch", tracked, https, article.id, article.code.lower(), cwd=tmp_path))
    assert again.stdout == f"unchanged {article.code} {path}\n" * 4
    assert [r["code"] for r in table(database_url, "articles")] == [article.code]
    assert [p.name for p in (tmp_path / "site" / "_posts").iterdir()] == [Path(path).name]
    assert replay.count("api") == 2 and replay.count("share") == 0  # one request per run, never the pasted host


def test_two_codes_with_the_same_content_are_one_post(tmp_path: Path) -> None:
    seed = json.loads((GOLDEN_SEED / "content-api.json").read_text(encoding="utf-8"))
    copy_code = "NW202202102299999999"
    copy = tmp_path / "copy.json"
    copy_data = {**seed, "Id": copy_code, "url": f"http://finance.eastmoney.com/a/{copy_code[2:]}.html"}
    copy.write_text(json.dumps(copy_data, ensure_ascii=False), encoding="utf-8")
    with ReplayServer(articles=0, fixtures=[GOLDEN_SEED / "content-api.json", copy]) as replay:
        settings = write_settings(tmp_path, replay.templates())
        first = ok(finews("-c", str(settings), "fetch", SEED_CODE, cwd=tmp_path))
        run = ok(finews("-c", str(settings), "fetch", copy_code, cwd=tmp_path))
    post = f"site/_posts/2022-02-09-{SEED_CODE}.md"
    assert first.stdout == f"new {SEED_CODE} {post}\n"
    assert run.stdout == f"duplicate {copy_code} {post}\n"
    assert [p.name for p in (tmp_path / "site" / "_posts").iterdir()] == [Path(post).name]
    url = f"sqlite:///{tmp_path}/finews.db"
    (alias,) = table(url, "aliases")
    assert (alias["code"], alias["kind"]) == (copy_code, "duplicate")
    assert alias["article_id"] == table(url, "articles")[0]["id"]


def test_an_edit_at_the_source_updates_in_place_with_history(replay: ReplayServer, tmp_path: Path) -> None:
    settings = write_settings(tmp_path, replay.templates())
    article = replay.articles[2]
    ok(finews("-c", str(settings), "fetch", article.code, cwd=tmp_path))
    edited = replay.edit_article(article.code, title=article.title + "（更新）", date="2024-05-06 07:08:09")
    run = ok(finews("-c", str(settings), "fetch", article.code, cwd=tmp_path))
    new_path = tmp_path / "site" / "_posts" / f"2024-05-06-{article.code}.md"
    assert run.stdout == f"updated {article.code} site/_posts/2024-05-06-{article.code}.md\n"
    assert [p.name for p in (tmp_path / "site" / "_posts").iterdir()] == [new_path.name]
    assert f'title: "{edited.title}"' in new_path.read_text(encoding="utf-8")
    url = f"sqlite:///{tmp_path}/finews.db"
    (old,) = table(url, "article_history")
    assert old["title"] == article.title and old["post_path"] == f"_posts/{article.date[:10]}-{article.code}.md"
    (row,) = table(url, "articles")
    assert row["title"] == edited.title

    mtime = new_path.stat().st_mtime_ns
    again = ok(finews("-c", str(settings), "fetch", article.code, cwd=tmp_path))
    assert again.stdout == f"unchanged {article.code} site/_posts/2024-05-06-{article.code}.md\n"
    assert new_path.stat().st_mtime_ns == mtime
    assert len(table(url, "article_history")) == 1


def test_rebuild_brings_back_every_file_byte_for_byte_offline(replay: ReplayServer, tmp_path: Path, database_url: str) -> None:
    settings = write_settings(tmp_path, replay.templates(), database={"url": database_url})
    ok(finews("-c", str(settings), "fetch", *(a.code for a in replay.articles), cwd=tmp_path))
    written = site_files(tmp_path / "site")
    assert len([k for k in written if k.startswith("_posts/")]) == 6
    requests = len(replay.requests)
    shutil.rmtree(tmp_path / "site")

    run = ok(finews("-c", str(settings), "rebuild", cwd=tmp_path))
    assert site_files(tmp_path / "site") == written
    assert len(replay.requests) == requests  # no network
    lines = run.stdout.splitlines()
    assert sorted(lines[:-1]) == sorted(f"restored site/{name}" for name in written)
    pages = len([k for k in written if k.startswith("category/")])
    assert lines[-1] == f"restored {len(written)}, rewritten 0, removed orphans 0 (6 posts and {pages} category pages in the database)"

    again = ok(finews("-c", str(settings), "rebuild", cwd=tmp_path))
    assert again.stdout == f"restored 0, rewritten 0, removed orphans 0 (6 posts and {pages} category pages in the database)\n"


def test_rebuild_reports_and_repairs_drift(replay: ReplayServer, tmp_path: Path) -> None:
    settings = write_settings(tmp_path, replay.templates())
    ok(finews("-c", str(settings), "fetch", *(a.code for a in replay.articles[:3]), cwd=tmp_path))
    posts = tmp_path / "site" / "_posts"
    written = site_files(tmp_path / "site")
    missing, stale, kept = sorted(posts.iterdir())
    missing.unlink()
    stale.write_text("---\ntitle: edited by hand\n---\n", encoding="utf-8")
    orphan = posts / "2023-12-31-NW202312310000000001.md"
    orphan.write_text("no row names me\n", encoding="utf-8")
    own = posts / "2023-12-31-welcome-to-my-site.md"
    own.write_text("the site owner's post\n", encoding="utf-8")
    os.utime(kept, (1_000_000, 1_000_000))

    run = ok(finews("-c", str(settings), "rebuild", cwd=tmp_path))
    assert sorted(run.stdout.splitlines()[:-1]) == [
        f"removed orphan site/_posts/{orphan.name}",
        f"restored site/_posts/{missing.name}",
        f"rewritten site/_posts/{stale.name}",
    ]
    assert run.stdout.splitlines()[-1].startswith("restored 1, rewritten 1, removed orphans 1 (3 posts and ")
    assert kept.stat().st_mtime == 1_000_000
    assert own.read_text(encoding="utf-8") == "the site owner's post\n"
    assert {k: v for k, v in site_files(tmp_path / "site").items() if k != f"_posts/{own.name}"} == written


def test_rebuild_exit_status(tmp_path: Path) -> None:
    (tmp_path / "settings.yaml").write_text("database: {url: 'sqlite:///missing.db'}\n", encoding="utf-8")
    missing = finews("rebuild", cwd=tmp_path)
    assert missing.returncode == 1
    assert missing.stderr == f"finews: no database at {tmp_path / 'missing.db'}: nothing to rebuild from (check database.url)\n"
    assert not (tmp_path / "missing.db").exists()

    (tmp_path / "settings.yaml").write_text("database: {url: 'postgresql+psycopg://postgres:secret@127.0.0.1:1/finews'}\n",
                                            encoding="utf-8")
    down = finews("rebuild", cwd=tmp_path)
    assert down.returncode == 1
    assert down.stderr.startswith("finews: cannot open the database postgresql+psycopg://postgres:***@127.0.0.1:1/finews: ")
    assert down.stderr.count("\n") == 1 and "secret" not in down.stderr

    (tmp_path / "settings.yaml").write_text("dedupe: {near_duplicates: drop}\n", encoding="utf-8")
    bad = finews("rebuild", cwd=tmp_path)
    assert bad.returncode == 2
    assert "dedupe.near_duplicates must be one of publish, skip, got 'drop'" in bad.stderr
    (tmp_path / "settings.yaml").write_text("dedupe: {near_similarity: 2}\n", encoding="utf-8")
    assert "dedupe.near_similarity must be a number above 0 and at most 1" in finews("rebuild", cwd=tmp_path).stderr
    (tmp_path / "settings.yaml").write_text("dedupe: {window: 3}\n", encoding="utf-8")
    assert "unknown key 'dedupe.window'" in finews("rebuild", cwd=tmp_path).stderr


def test_a_near_duplicate_is_skipped_when_the_settings_say_so(replay: ReplayServer, tmp_path: Path) -> None:
    settings = write_settings(tmp_path, replay.templates(), dedupe={"near_duplicates": "skip"})
    first, second = replay.articles[0], replay.articles[1]
    text = list(first.paragraphs)
    replay.edit_article(first.code, paragraphs=text)
    text[1] = "据悉，相关部门将于近期出台配套措施，进一步优化营商环境。"
    replay.edit_article(second.code, title=first.title, paragraphs=text, date=first.date)
    ok(finews("-c", str(settings), "fetch", first.code, cwd=tmp_path))
    run = ok(finews("-c", str(settings), "fetch", second.code, cwd=tmp_path))
    assert run.stdout == f"duplicate {second.code} site/_posts/{first.date[:10]}-{first.code}.md\n"
    (alias,) = table(f"sqlite:///{tmp_path}/finews.db", "aliases")
    assert alias["kind"] == "near" and 0.5 <= alias["similarity"] < 1


def test_every_command_works_on_postgresql(replay: ReplayServer, tmp_path: Path, postgres_url: str) -> None:
    settings = write_settings(tmp_path, replay.templates(), database={"url": postgres_url})
    crawl = ok(finews("-c", str(settings), "crawl", "--json", cwd=tmp_path))
    assert json.loads(crawl.stdout.splitlines()[-1])["new"] == 6
    fetch = ok(finews("-c", str(settings), "fetch", replay.articles[0].code, cwd=tmp_path))
    assert fetch.stdout.startswith(f"unchanged {replay.articles[0].code} ")
    status = ok(finews("-c", str(settings), "status", cwd=tmp_path))
    assert status.stdout.startswith("articles: 6 in ")
    shutil.rmtree(tmp_path / "site" / "_posts")
    rebuild = ok(finews("-c", str(settings), "rebuild", cwd=tmp_path))
    assert rebuild.stdout.splitlines()[-1].startswith("restored 6, rewritten 0, removed orphans 0 (6 posts and ")
    assert len(table(postgres_url, "articles")) == 6 and table(postgres_url, "aliases") == []
    assert not (tmp_path / "finews.db").exists()  # nothing fell back to SQLite


GROUP_COMMIT_PROBE = """
import json, sys
from crawler.cli.run import run_spider
from crawler.config import load_config
report, stats = run_spider("fetch", load_config(sys.argv[1]), {"LOG_LEVEL": "ERROR"}, targets=sys.argv[2:])
print(json.dumps({"commits": stats.get("store/commits"), "new": stats.get("store/new")}))
"""


def test_under_scrapy_articles_share_commits(tmp_path: Path) -> None:
    """The group commit is the path a real crawl takes (Scrapy's asyncio reactor), not only the tests'."""
    with ReplayServer(articles=30) as replay:
        settings = write_settings(tmp_path, replay.templates())
        run = subprocess.run(
            [sys.executable, "-c", GROUP_COMMIT_PROBE, str(settings), *(a.code for a in replay.articles)],
            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120, check=False,
        )
    assert run.returncode == 0, run.stderr
    figures = json.loads(run.stdout.splitlines()[-1])
    assert figures["new"] == 30
    assert 1 <= figures["commits"] < 30


def test_a_crash_between_the_files_and_the_commit_is_repaired(replay: ReplayServer, tmp_path: Path) -> None:
    """SIGKILL after a batch wrote its files, before the commit: rebuild brings the site back to the database."""
    settings = write_settings(tmp_path, replay.templates())
    stored, edited, fresh = replay.articles[:3]
    ok(finews("-c", str(settings), "fetch", stored.code, edited.code, cwd=tmp_path))
    before = site_files(tmp_path / "site")
    replay.edit_article(edited.code, date="2024-05-06 07:08:09")

    killed = finews("-c", str(settings), "fetch", edited.code, fresh.code, cwd=tmp_path, env={"FINEWS_STORE_FAULT": "before_commit"})
    assert killed.returncode == -9
    posts = tmp_path / "site" / "_posts"
    moved, new = posts / f"2024-05-06-{edited.code}.md", posts / f"{fresh.date[:10]}-{fresh.code}.md"
    assert moved.exists() and new.exists()  # on disk; the database never heard of them
    assert not (posts / f"{edited.date[:10]}-{edited.code}.md").exists()

    run = ok(finews("-c", str(settings), "rebuild", cwd=tmp_path))
    # The lost batch wrote post files only: archive pages are rendered from committed rows.
    assert sorted(run.stdout.splitlines()[:-1]) == sorted([
        f"restored site/_posts/{edited.date[:10]}-{edited.code}.md",
        f"removed orphan site/_posts/{moved.name}",
        f"removed orphan site/_posts/{new.name}",
    ])
    # Every post is back as committed; a category page the lost batch created stays (only
    # files named like posts are ever removed) and is the page that article gets when refetched.
    leftover = {k: v for k, v in site_files(tmp_path / "site").items() if k not in before}
    assert all(k.startswith("category/") for k in leftover) and len(leftover) <= 1
    assert {k: v for k, v in site_files(tmp_path / "site").items() if k in before} == before

    again = ok(finews("-c", str(settings), "fetch", edited.code, fresh.code, cwd=tmp_path))
    assert again.stdout.splitlines() == [f"updated {edited.code} site/_posts/{moved.name}", f"new {fresh.code} site/_posts/{new.name}"]


def test_a_crash_after_the_commit_leaves_nothing_to_repair(replay: ReplayServer, tmp_path: Path) -> None:
    """Posts and rows agree at once; the archive months wait in the database and the next run renders them."""
    settings = write_settings(tmp_path, replay.templates())
    codes = [a.code for a in replay.articles[:3]]
    killed = finews("-c", str(settings), "fetch", *codes, cwd=tmp_path, env={"FINEWS_STORE_FAULT": "after_commit"})
    assert killed.returncode == -9
    assert table(f"sqlite:///{tmp_path}/finews.db", "archive_pending")
    assert not (tmp_path / "site" / "archive").exists()
    ok(finews("-c", str(settings), "fetch", codes[0], cwd=tmp_path))
    assert table(f"sqlite:///{tmp_path}/finews.db", "archive_pending") == []
    run = ok(finews("-c", str(settings), "rebuild", cwd=tmp_path))
    stored = len(table(f"sqlite:///{tmp_path}/finews.db", "articles"))
    assert stored >= 1
    assert run.stdout.startswith(f"restored 0, rewritten 0, removed orphans 0 ({stored} posts and ")
    assert len(list((tmp_path / "site" / "_posts").iterdir())) == stored
