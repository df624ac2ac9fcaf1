"""deploy/github-actions/crawl.yml, step by step on this machine against the replay.

The workflow's own ``run:`` steps are executed in order, as the runner would (bash -eo
pipefail, in the checkout).  The actions it uses are stood in for by their local
equivalent: checkout is a clone of a bare repository, the cache is a folder (deleted
between runs to play an evicted cache), and setup-python, the pip install and the apt
install are the test's own environment.  Pages upload and deploy are not run: the build
step's ``_site`` is what they would publish.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from crawler.replay import ReplayServer
from tests.conftest import require_command
from tests.crawler.cli_helpers import ROOT, finews, write_settings

WORKFLOW = ROOT / "deploy" / "github-actions" / "crawl.yml"
ARTICLES = 40
PROVIDED = {"install": "the test's venv is linked as .venv", "jekyll-install": "CI installs Jekyll and its plugins"}


def steps() -> list[dict[str, Any]]:
    return list(yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]["crawl"]["steps"])


def git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True, timeout=60)
    return done.stdout


class Runner:
    """One machine for the workflow: a remote repository, an Actions cache, a fresh checkout per run."""

    def __init__(self, root: Path) -> None:
        self.root, self.remote, self.cache = root, root / "remote.git", root / "cache"
        self.runs = 0

    def run(self) -> tuple[Path, list[str]]:
        """Run the crawl job once; the checkout and the output of every step."""
        self.runs += 1
        work = self.root / f"run{self.runs}"
        output: list[str] = []
        for step in steps():
            uses, sid = step.get("uses", ""), step.get("id", "")
            if uses.startswith("actions/checkout@"):
                git("clone", "-q", str(self.remote), str(work), cwd=self.root)
            elif uses.startswith("actions/setup-python@") or sid in PROVIDED:
                if sid == "install":
                    (work / ".venv").symlink_to(Path(sys.prefix))
            elif uses.startswith("actions/cache/restore@"):
                if (self.cache / "finews.db").exists():
                    shutil.copy2(self.cache / "finews.db", work / "finews.db")
            elif uses.startswith("actions/cache/save@"):
                self.cache.mkdir(exist_ok=True)
                shutil.copy2(work / "finews.db", self.cache / "finews.db")
            elif uses.startswith("actions/upload-pages-artifact@"):
                assert (work / step["with"]["path"] / "index.html").is_file()
            elif uses:
                pytest.fail(f"{WORKFLOW.name}: no local stand-in for step {sid or uses!r}")
            else:
                env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(self.root)}
                env.pop("FINEWS_CONFIG", None)
                done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=work,
                                      env=env, capture_output=True, text=True, timeout=600, check=False)
                assert done.returncode == 0, f"step {sid}: {done.stdout}{done.stderr}"
                output.append(done.stdout)
        return work, output

    def forget_cache(self) -> None:
        shutil.rmtree(self.cache, ignore_errors=True)


@pytest.fixture
def site_repository(tmp_path: Path) -> Iterator[tuple[Runner, ReplayServer]]:
    require_command("jekyll", "jekyll")
    replay = ReplayServer(articles=ARTICLES).start()
    seed = tmp_path / "seed"
    seed.mkdir()
    write_settings(seed, replay.templates(), site={"base_url": ""})
    assert finews("init", cwd=seed).returncode == 0
    git("init", "-q", "--bare", "-b", "main", str(tmp_path / "remote.git"), cwd=tmp_path)
    git("init", "-q", "-b", "main", cwd=seed)
    (seed / ".gitignore").write_text("*.db\n*.db-*\n*.lock\n.finews*.lock\n_site/\n.venv\n", encoding="utf-8")
    git("add", "-A", cwd=seed)
    git("commit", "-q", "-m", "a site", cwd=seed)
    git("push", "-q", str(tmp_path / "remote.git"), "main", cwd=seed)
    yield Runner(tmp_path), replay
    replay.stop()


def posts(work: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((work / "site" / "_posts").glob("*.md"))}


def test_two_runs_with_the_cache_lost_between_them_refetch_nothing_and_commit_no_database(
    site_repository: tuple[Runner, ReplayServer],
) -> None:
    runner, replay = site_repository
    first, _ = runner.run()
    assert len(posts(first)) == ARTICLES
    assert len(git("log", "--format=%H", cwd=first).split()) == 2  # the site, then one commit of posts
    fetched = replay.count("api") + replay.count("page")

    runner.forget_cache()
    second, output = runner.run()
    assert replay.count("api") + replay.count("page") == fetched  # the posts stood in for the lost database
    assert any(line == "nothing new" for step in output for line in step.splitlines()), git("show", "--stat", "HEAD", cwd=second)
    assert posts(second) == posts(first)
    assert len(git("log", "--format=%H", cwd=second).split()) == 2  # no commit for a run with nothing new
    tracked = git("ls-files", cwd=second).split()
    assert not [name for name in tracked if name.endswith(".db") or "/." in name]  # no database, no run lock
    assert (second / "_site" / "feed.xml").is_file()


def test_a_run_with_new_articles_makes_one_commit_of_exactly_those_posts(site_repository: tuple[Runner, ReplayServer]) -> None:
    runner, replay = site_repository
    first, _ = runner.run()
    added = replay.add_articles(5)
    second, _ = runner.run()
    log = git("log", "--format=%H", cwd=second).split()
    assert len(log) == 3
    changed = git("show", "--name-only", "--format=", log[0], cwd=second).split()
    new_posts = sorted(name for name in changed if name.startswith("site/_posts/"))
    assert len(new_posts) == len(added) and all(any(a.code in name for a in added) for name in new_posts)
    assert not [name for name in changed if name.endswith(".db")]
    assert set(posts(first)) < set(posts(second))
