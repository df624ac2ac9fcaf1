"""``finews fetch`` end to end: a real process, a real replay, a real SQLite file."""

from __future__ import annotations

import html
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, select

from crawler.replay import ReplayServer
from pipelines.models import quarantine
from tests.conftest import FIXTURES, GOLDEN_SEED
from tests.crawler.cli_helpers import ROOT, finews, write_settings

SEED_CODE = "NW202202092271461775"
SHARE = f"http://finews.zning.xyz/html_News/NewsShare.html?infoCode={SEED_CODE}"


@pytest.fixture
def seed_replay() -> Iterator[ReplayServer]:
    with ReplayServer(articles=4, fixtures=[GOLDEN_SEED / "content-api.json"]) as replay:
        yield replay


def test_golden_seed_post(seed_replay: ReplayServer, tmp_path: Path) -> None:
    settings = write_settings(tmp_path, seed_replay.templates())
    run = finews("-c", str(settings), "fetch", SHARE, cwd=tmp_path)
    post = tmp_path / "site" / "_posts" / f"2022-02-09-{SEED_CODE}.md"
    assert run.returncode == 0, run.stderr
    assert run.stdout == f"new {SEED_CODE} site/_posts/2022-02-09-{SEED_CODE}.md\n"
    assert post.read_bytes() == (GOLDEN_SEED / "expected-post.md").read_bytes()
    category = tmp_path / "site" / "category" / "kejiribao.html"
    assert category.read_bytes() == (GOLDEN_SEED / "expected-category.html").read_bytes()

    mtime = post.stat().st_mtime_ns
    again = finews("-c", str(settings), "fetch", SEED_CODE[2:], cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"unchanged {SEED_CODE} site/_posts/2022-02-09-{SEED_CODE}.md\n"
    assert post.stat().st_mtime_ns == mtime
    assert seed_replay.count("share") == 0  # a share link is resolved from its query, never fetched


def test_dry_run_prints_the_post_and_writes_nothing(seed_replay: ReplayServer, tmp_path: Path) -> None:
    settings = write_settings(tmp_path, seed_replay.templates())
    run = finews("-c", str(settings), "fetch", "--dry-run", SEED_CODE, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout == (GOLDEN_SEED / "expected-post.md").read_text(encoding="utf-8")
    assert not (tmp_path / "site").exists()
    assert not (tmp_path / "finews.db").exists()


def test_every_generated_article_is_published(tmp_path: Path) -> None:
    with ReplayServer(articles=12) as replay:
        settings = write_settings(tmp_path, replay.templates())
        codes = [a.code for a in replay.articles]
        run = finews("-c", str(settings), "fetch", *codes, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [["new", code] for code in codes]
    for article in replay.articles:
        post = tmp_path / "site" / "_posts" / f"{article.date[:10]}-{article.code}.md"
        text = post.read_text(encoding="utf-8")
        head = yaml.safe_load(text.split("---\n")[1])
        assert head["title"] == article.title
        assert str(head["date"]).startswith(article.date[:16])
        assert head["tags"] == f"{article.outlet}新闻"
        for paragraph in article.paragraphs:
            assert html.escape(paragraph, quote=False) in text, (article.code, paragraph)


def test_errors_are_one_line_each(tmp_path: Path) -> None:
    with ReplayServer(articles=3, faults="api:NW209901011234567890=malformed_json") as replay:
        settings = write_settings(tmp_path, replay.templates())
        good = replay.articles[0].code
        run = finews(
            "-c", str(settings), "fetch", "hello", "NW209901019999999999", "NW209901011234567890", good, cwd=tmp_path
        )
    assert run.returncode == 1
    lines = run.stdout.splitlines()
    assert lines[0].startswith("failed hello not a share link")
    assert lines[1] == "failed NW209901019999999999 content API: 404 not found; article page: 404 not found"
    assert lines[2].startswith("failed NW209901011234567890 content API: malformed JSON")
    assert lines[3].startswith(f"new {good} ")
    assert "Traceback" not in run.stderr
    assert len(list((tmp_path / "site" / "_posts").glob("*.md"))) == 1


def test_empty_body_is_quarantined(tmp_path: Path) -> None:
    code = "NW202403051234567891"  # title and date, an empty body, no article page
    with ReplayServer(articles=0, fixtures=[FIXTURES / "cli" / "empty-body-content-api.json"]) as replay:
        settings = write_settings(tmp_path, replay.templates())
        run = finews("-c", str(settings), "fetch", code, cwd=tmp_path)
    assert run.returncode == 1
    assert run.stdout == f"failed {code} quarantined: empty body\n"
    assert not list(tmp_path.glob("site/_posts/*.md"))
    engine = create_engine(f"sqlite:///{tmp_path}/finews.db")
    with engine.connect() as conn:
        (row,) = conn.execute(select(quarantine)).mappings().all()
    engine.dispose()
    assert row["code"] == code and row["reason"] == "empty body"
    assert '"api"' in row["payload"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fetch"], "the following arguments are required: TARGET"),
        (["-c", "nope.yaml", "fetch", "NW202202092271461775"], "cannot read settings file"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    run = finews(*args, cwd=tmp_path)
    assert run.returncode == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr


def test_bad_settings_exit_2_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "settings.yaml").write_text("crawl: {delay: fast}\n", encoding="utf-8")
    run = finews("fetch", SEED_CODE, cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.strip() == "finews: settings.yaml: crawl.delay must be a number, got 'fast'"
    assert not (tmp_path / "finews.db").exists()


def test_plain_scrapy_commands_work_from_the_project_root(seed_replay: ReplayServer, tmp_path: Path) -> None:
    settings = write_settings(tmp_path, seed_replay.templates())
    env = {**os.environ, "FINEWS_CONFIG": str(settings), "PYTHONPATH": str(ROOT)}
    scrapy = [sys.executable, "-m", "scrapy"]
    listed = subprocess.run([*scrapy, "list"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == ["backfill", "crawl", "fetch", "worker"]
    crawled = subprocess.run(
        [*scrapy, "crawl", "fetch", "-a", f"targets={SHARE}"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert crawled.returncode == 0, crawled.stderr
    post = tmp_path / "site" / "_posts" / f"2022-02-09-{SEED_CODE}.md"
    assert post.read_bytes() == (GOLDEN_SEED / "expected-post.md").read_bytes()


def test_settings_are_read_when_a_crawler_starts_not_on_import(tmp_path: Path) -> None:
    bad = tmp_path / "settings.yaml"
    bad.write_text("crawl: {delay: fast}\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("FINEWS_CONFIG", None)
    imported = subprocess.run([sys.executable, "-c", "import crawler.settings"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=60, check=False)
    assert imported.returncode == 0, imported.stderr
    env["FINEWS_CONFIG"] = str(bad)
    scrapy = [sys.executable, "-m", "scrapy"]
    listed = subprocess.run([*scrapy, "list"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert listed.stdout.split() == ["backfill", "crawl", "fetch", "worker"], listed.stderr
    crawled = subprocess.run([*scrapy, "crawl", "fetch", "-a", f"targets={SEED_CODE}"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120, check=False)
    assert crawled.returncode == 2  # Scrapy's usage error, before any request
    assert f"error: {bad}: crawl.delay must be a number, got 'fast'" in crawled.stderr
    assert "Traceback" not in crawled.stderr


def page_only_article(replay: ReplayServer) -> str:
    return next(a.code for a in replay.articles if a.api == "missing")


@pytest.mark.parametrize(
    ("fault", "status", "reason"),
    [
        ("wrong_charset", "failed", "article page: not valid UTF-8 (declared 'text/html; charset=utf-8')"),
        ("truncate_nolength", "failed", "article page: truncated response from "),
        ("truncate_nolengthx1", "new", ""),  # the retry gets the whole page
    ],
)
def test_bad_page_bytes_are_never_published(tmp_path: Path, fault: str, status: str, reason: str) -> None:
    with ReplayServer(articles=8) as probe:
        code = page_only_article(probe)
    kind, _, times = fault.partition("x")
    spec = f"page:{code}={kind}" + (f"x{times}" if times else "")
    with ReplayServer(articles=8, faults=spec) as replay:
        settings = write_settings(tmp_path, replay.templates())
        run = finews("-c", str(settings), "fetch", code, cwd=tmp_path)
    line = run.stdout.strip()
    expected = f"{status} {code} content API: 404 not found; {reason}" if reason else f"{status} {code} "
    assert line.startswith(expected), run.stdout + run.stderr
    assert run.returncode == (0 if status == "new" else 1)
    assert len(list(tmp_path.glob("site/_posts/*.md"))) == (1 if status == "new" else 0)


def test_retry_after_is_honoured(tmp_path: Path) -> None:
    with ReplayServer(articles=2, faults="api:*=retry_after:2x1") as replay:
        settings = write_settings(tmp_path, replay.templates())
        code = replay.articles[0].code
        run = finews("-c", str(settings), "fetch", code, cwd=tmp_path)
        hits = [r for r in replay.requests if r.kind == "api"]
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith(f"new {code} ")
    assert [h.status for h in hits] == [429, 200]
    assert hits[1].at - hits[0].at >= 1.9
