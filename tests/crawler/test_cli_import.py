"""``finews import``: posts in the post format back into the database (SPEC §4, §9).

The import runs in-process (``crawler.cli.main``) on SQLite and PostgreSQL; the
crawl after an import runs as real processes against the replay.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine

from crawler.cli import main
from crawler.cli.importer import Progress
from crawler.replay import ReplayServer
from pipelines.importer import file_key
from pipelines.models import aliases, articles, quarantine
from tests.conftest import GOLDEN_SEED
from tests.crawler.cli_helpers import finews, write_settings
from tests.eastmoney import GOLDEN_SHARE_LINK
from tests.pipelines.store_helpers import dump, rows
from tests.real_posts import POSTS, outlets

SEED_NAME = "2022-02-09-NW202202092271461775.md"


@pytest.fixture
def site(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A settings file in *tmp_path* (the working folder) for site ``site/`` and the test's database; returns it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FINEWS_CONFIG", raising=False)
    # The posts of the original system print its share link: the settings name it, as the golden test does.
    data = {"site": {"dir": "site"}, "database": {"url": database_url}, "categories": {"科技日报": "kejiribao"},
            "sources": {"eastmoney": {"share_link": GOLDEN_SHARE_LINK}}}
    settings = tmp_path / "settings.yaml"
    settings.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    (tmp_path / "site" / "_posts").mkdir(parents=True)
    return settings


def run(capsys: pytest.CaptureFixture[str], settings: Path, *args: str) -> tuple[int, list[str]]:
    code = main(["-c", str(settings), *args])
    return code, capsys.readouterr().out.splitlines()


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Every file below *folder* but dot-files (the run lock) with its mtime and bytes."""
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(folder.rglob("[!.]*")) if p.is_file()}


def url_of(settings: Path) -> str:
    return str(yaml.safe_load(settings.read_text(encoding="utf-8"))["database"]["url"])


def seed_in_posts(settings: Path) -> Path:
    target = settings.parent / "site" / "_posts" / SEED_NAME
    shutil.copyfile(GOLDEN_SEED / "expected-post.md", target)
    return target


def old_posts(settings: Path) -> Path:
    """The original's four real posts in ``site/old_post/`` (where the original kept them)."""
    folder = settings.parent / "site" / "old_post"
    folder.mkdir()
    for path in POSTS:
        shutil.copyfile(path, folder / path.name)
    return folder


def test_the_seed_round_trip(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    post = seed_in_posts(site)
    before = snapshot(site.parent / "site")
    code, out = run(capsys, site, "import")
    assert code == 0, out
    assert out[0] == f"new site/_posts/{SEED_NAME} site/_posts/{SEED_NAME}"
    assert out[-1].startswith("ok: 1 new, 0 updated, 0 unchanged, 0 duplicate, 0 failed, 0 quarantined; 1 posts, ")
    assert post.read_bytes() == (GOLDEN_SEED / "expected-post.md").read_bytes()
    assert snapshot(site.parent / "site")[f"_posts/{SEED_NAME}"] == before[f"_posts/{SEED_NAME}"]  # not even rewritten
    assert (site.parent / "site" / "category" / "kejiribao.html").read_text(encoding="utf-8") == (
        GOLDEN_SEED / "expected-category.html").read_text(encoding="utf-8")
    imported = snapshot(site.parent / "site")
    post.unlink()
    code, out = run(capsys, site, "rebuild")
    assert code == 0, out
    assert out == [f"restored site/_posts/{SEED_NAME}",
                   "restored 1, rewritten 0, removed orphans 0 (1 posts and 1 category pages in the database)"]
    assert post.read_bytes() == (GOLDEN_SEED / "expected-post.md").read_bytes()
    after = snapshot(site.parent / "site")
    assert {k: v for k, v in after.items() if k != f"_posts/{SEED_NAME}"} == {
        k: v for k, v in imported.items() if k != f"_posts/{SEED_NAME}"}  # the rebuild changed no other file


def test_the_originals_real_posts_import(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old_posts(site)
    code, out = run(capsys, site, "import", "site/old_post")
    assert code == 0, out
    assert sorted(line.split()[0] for line in out[:-1]) == ["new"] * 4
    by_code = {row["code"]: row for row in rows(url_of(site), articles)}
    assert set(by_code) == {"NW" + p.name[11:-3].removeprefix("NW") for p in POSTS}
    for path in POSTS:
        row = by_code["NW" + path.name[11:-3].removeprefix("NW")]
        outlet = outlets()[path.name]
        assert row["outlet"] == outlet
        text = (site.parent / "site" / row["post_path"]).read_text(encoding="utf-8")
        head = yaml.safe_load(text.split("---\n")[1])
        original = yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])
        assert (head["title"], head["categories"], head["tags"]) == (original["title"], original["categories"], original["tags"])
        assert f"\n<p>（文章来源：{outlet}）</p>\n\n<http://finews.zning.xyz/" in text  # the outlet line, then the share link
        for noise in ("class=", "style=", "<span", "EM_StockImg", "display:none", "keytip"):
            assert noise not in row["body"], (path.name, noise)
        if original["categories"] == "emnews":  # the digest, kept as the first block
            assert row["body"].startswith("<blockquote>") and row["body"].split("\n")[0].endswith(f"（{outlet}）</blockquote>")
        else:
            assert row["body"].startswith("<p>")


def test_an_id_named_and_an_nw_named_post_are_one_article(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = site.parent / "site" / "old_post"
    folder.mkdir()
    rolling = next(p for p in POSTS if p.name == "2022-01-21-202201212257099936.md")
    shutil.copyfile(rolling, folder / rolling.name)
    own = rolling.read_text(encoding="utf-8").replace(
        "categories: emnews\ntags: 东财滚动新闻", "categories: zhengquanshibao\ntags: 证券时报新闻")
    (folder / "2022-01-21-NW202201212257099936.md").write_text(own, encoding="utf-8")
    code, out = run(capsys, site, "import", "site/old_post")
    assert code == 0, out
    post = "site/_posts/2022-01-21-NW202201212257099936.md"
    assert out[:2] == [f"new site/old_post/2022-01-21-NW202201212257099936.md {post}",
                       f"duplicate site/old_post/2022-01-21-202201212257099936.md {post}"]
    [row] = rows(url_of(site), articles)
    assert (row["code"], row["category"], row["tag"]) == ("NW202201212257099936", "zhengquanshibao", "证券时报新闻")  # the NW file wins
    [alias] = rows(url_of(site), aliases)
    assert (alias["code"], alias["article_id"], alias["kind"]) == ("202201212257099936", row["id"], "file")
    assert alias["post_path"] == "old_post/2022-01-21-202201212257099936.md"
    assert (folder / rolling.name).read_bytes() == rolling.read_bytes()  # the alias's file stays: its URL keeps working
    assert sorted(p.name for p in (site.parent / "site" / "_posts").iterdir()) == ["2022-01-21-NW202201212257099936.md"]


BROKEN = {
    "2022-02-10-NW202202102271461776.md": (("title: \"重庆数字产业发展“十四五”规划发布\"", 'title: ""'), "no title"),
    "2022-02-10-NW202202102271461777.md": (("date: 2022-02-09 20:13:37 +0800", "date:  +0800"), "no date"),
    "2022-02-10-notes.md": (("infoCode=NW202202092271461775>", "x=1>"), "no article code in the file name"),
    "2022-02-10-NW202202102271461778.md": (("规划发布\"\n", "规划发布\n"), "unparsable front matter: "),
}


def test_a_post_that_cannot_be_imported_is_failed_and_quarantined(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed_in_posts(site)
    folder = site.parent / "broken"
    folder.mkdir()
    seed = (GOLDEN_SEED / "expected-post.md").read_text(encoding="utf-8")
    for name, ((old, new), _) in BROKEN.items():
        assert old in seed
        (folder / name).write_text(seed.replace(old, new, 1), encoding="utf-8")
    code, out = run(capsys, site, "import", "broken")
    assert code == 1
    failed = {line.split()[1]: line for line in out if line.startswith("failed ")}
    assert set(failed) == {f"broken/{name}" for name in BROKEN}
    for name, (_, reason) in BROKEN.items():
        assert failed[f"broken/{name}"].startswith(f"failed broken/{name} {reason}")
    assert f"new site/_posts/{SEED_NAME} site/_posts/{SEED_NAME}" in out  # the others still import
    assert out[-1].startswith("failed: 1 new, 0 updated, 0 unchanged, 0 duplicate, 0 failed, 4 quarantined; 5 posts")
    held = {row["code"]: row for row in rows(url_of(site), quarantine)}
    assert set(held) == {"NW202202102271461776", "NW202202102271461777", "NW202202102271461778", file_key("2022-02-10-notes.md")}
    for name in BROKEN:
        payload = json.loads(next(r for r in held.values() if json.loads(r["payload"])["file"].endswith(name))["payload"])
        assert payload["post"] == (folder / name).read_text(encoding="utf-8")  # the raw text
    [stored] = rows(url_of(site), articles)
    assert stored["code"] == "NW202202092271461775"

    before, files = dump(url_of(site)), snapshot(site.parent / "site")
    code, again = run(capsys, site, "import", "broken")
    assert code == 1 and again[:-1] == [line.replace("new ", "unchanged ", 1) for line in out[:-1]]
    assert dump(url_of(site)) == before and snapshot(site.parent / "site") == files  # not even a quarantine row's time


def test_a_second_import_changes_nothing(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed_in_posts(site)
    old_posts(site)
    code, first = run(capsys, site, "import", "site/old_post")
    assert code == 0, first
    before, files = dump(url_of(site)), snapshot(site.parent / "site")
    code, second = run(capsys, site, "import", "site/old_post")
    assert code == 0, second
    assert dump(url_of(site)) == before
    assert snapshot(site.parent / "site") == files  # no file rewritten
    statuses = [line.split()[0] for line in second[:-1]]
    assert statuses == ["unchanged"] * 5 + ["duplicate"] * 4  # the posts first, then the original's files naming them
    assert second[-1].startswith("ok: 0 new, 0 updated, 5 unchanged, 4 duplicate, 0 failed, 0 quarantined; 9 posts")
    code, rebuilt = run(capsys, site, "rebuild")  # what the import wrote is what the database stands for
    assert (code, rebuilt) == (0, ["restored 0, rewritten 0, removed orphans 0 (5 posts and 3 category pages in the database)"])
    assert snapshot(site.parent / "site") == files


def test_a_dry_run_writes_nothing(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed_in_posts(site)
    old_posts(site)
    (site.parent / "site" / "old_post" / "2022-02-10-notes.md").write_text("no front matter\n", encoding="utf-8")
    files = snapshot(site.parent)
    code, out = run(capsys, site, "import", "--dry-run", "site/old_post")
    assert code == 1
    assert f"ok site/_posts/{SEED_NAME} site/_posts/{SEED_NAME}" in out
    assert "failed site/old_post/2022-02-10-notes.md no front matter (the file must start with a --- line and close it with another)" in out
    assert out[-1].startswith("dry run, failed: 5 ok, 0 duplicate, 1 failed; 6 posts")
    assert snapshot(site.parent) == files  # no database file, no post, no category page, no lock
    if url_of(site).startswith("postgresql"):
        engine = create_engine(url_of(site))
        with engine.connect() as conn:  # not even migrated
            assert conn.exec_driver_sql("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").scalar() == 0
        engine.dispose()


def test_a_missing_path_is_a_usage_error(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-c", str(site), "import", "no-such-folder"]) == 2
    assert "no such file or folder: no-such-folder" in capsys.readouterr().err



def test_a_site_without_posts_yet_imports_nothing_and_succeeds(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.rmtree(site.parent / "site" / "_posts")  # a new repository: git keeps no empty _posts/
    assert main(["-c", str(site), "import"]) == 0
    captured = capsys.readouterr()
    assert "no post to import" in captured.err
    assert captured.out.splitlines()[-1].startswith("ok: 0 new, 0 updated, 0 unchanged, 0 duplicate, 0 failed, 0 quarantined; 0 posts")


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with ReplayServer(articles=12, page_size=5) as server:
        yield server


def test_a_crawl_after_importing_the_committed_posts_fetches_no_article(replay: ReplayServer, tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    settings_a = write_settings(first, replay.templates(), crawl={"max_pages": 20})
    crawled = finews("-c", str(settings_a), "crawl", "--json", cwd=first)
    assert crawled.returncode == 0, crawled.stdout + crawled.stderr
    assert json.loads(crawled.stdout.splitlines()[-1])["new"] == 12
    shutil.copytree(first / "site" / "_posts", second / "site" / "_posts")  # the committed posts, a lost database
    settings_b = write_settings(second, replay.templates(), crawl={"max_pages": 20})
    imported = finews("-c", str(settings_b), "import", cwd=second)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert imported.stdout.splitlines()[-1].startswith("ok: 12 new, 0 updated, 0 unchanged")
    posts = snapshot(second / "site" / "_posts")
    assert {k: data for k, (_, data) in posts.items()} == {k: data for k, (_, data) in snapshot(first / "site" / "_posts").items()}
    api, page = replay.count("api"), replay.count("page")
    again = finews("-c", str(settings_b), "crawl", "--json", cwd=second)
    assert again.returncode == 0, again.stdout + again.stderr
    result = json.loads(again.stdout.splitlines()[-1])
    assert (replay.count("api"), replay.count("page")) == (api, page)  # list pages only
    assert result["new"] == 0 and result["updated"] == 0 and result["unchanged"] == 12
    assert snapshot(second / "site" / "_posts") == posts


def test_another_run_holding_the_lock_stops_the_import(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from crawler.lock import LOCK_NAME, hold

    seed_in_posts(site)
    with hold(site.parent / "site" / LOCK_NAME):
        assert main(["-c", str(site), "import"]) == 75
    assert "another finews run is active" in capsys.readouterr().err
    assert main(["-c", str(site), "import", "--dry-run"]) == 0  # a dry run takes no lock


def test_the_progress_line(capsys: pytest.CaptureFixture[str]) -> None:
    progress = Progress(3)
    progress.done(Counter(new=1, unchanged=1, quarantined=1))
    assert capsys.readouterr().err == "\r3/3 posts, 2 stored, 1 failed \n"
