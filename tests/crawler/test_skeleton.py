"""The skeleton ``finews init`` writes: never over a user's file, settings in ``_config.yml``, and its plugins.

The write-loop fix (``_plugins/each_site_file.rb``) must change no built byte: the same
generated site is built by the real Jekyll with and without it and the trees compared.
It must also switch itself on only on the Jekyll releases with the quadratic loop.
"""

from __future__ import annotations

import filecmp
import subprocess
from pathlib import Path

import pytest
import yaml

from crawler.bench.site import FIX, generate_site
from crawler.skeleton import FILES, Theme, write_skeleton
from tests.conftest import require_command
from tests.crawler.cli_helpers import finews, write_settings


def test_init_writes_the_site_settings_and_never_overwrites_a_file(tmp_path: Path) -> None:
    settings = write_settings(tmp_path, {}, site={"url": "https://news.example.org", "title": "财经快讯", "page_size": 20,
                                                   "feed_items": 30})
    (tmp_path / "site" / "_layouts").mkdir(parents=True)
    mine = tmp_path / "site" / "_layouts" / "post.html"
    mine.write_text("my own layout\n", encoding="utf-8")
    run = finews("-c", str(settings), "init", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert mine.read_text(encoding="utf-8") == "my own layout\n"
    assert "post.html" not in run.stdout and "_config.yml" in run.stdout
    config = yaml.safe_load((tmp_path / "site" / "_config.yml").read_text(encoding="utf-8"))
    wanted = ("财经快讯", "https://news.example.org", 20, 30)
    assert (config["title"], config["url"], config["page_size"], config["feed"]["posts_limit"]) == wanted
    assert config["lang"] == "zh-CN" and config["timezone"] == "Asia/Shanghai"
    assert {"jekyll-feed", "jekyll-seo-tag", "jekyll-sitemap"} <= set(config["plugins"])
    for path in FILES.rglob("*"):
        if path.is_file() and path.name != "post.html":
            assert (tmp_path / "site" / path.relative_to(FILES)).read_bytes() == path.read_bytes()
    again = finews("-c", str(settings), "init", cwd=tmp_path)
    assert again.returncode == 0 and again.stdout == "", again.stdout


@pytest.mark.parametrize(("key", "value"), [("page_size", 0), ("page_size", 251), ("feed_items", "10"), ("url", "news.example.org")])
def test_bad_site_values_stop_with_the_key(tmp_path: Path, key: str, value: object) -> None:
    settings = write_settings(tmp_path, {}, site={key: value})
    run = finews("-c", str(settings), "init", cwd=tmp_path)
    assert run.returncode == 2 and f"site.{key}" in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr


@pytest.mark.jekyll
def test_the_write_loop_fix_changes_no_built_byte(tmp_path: Path) -> None:
    require_command("jekyll", "jekyll")
    trees = {}
    for name in ("with", "without"):
        site = tmp_path / f"site-{name}"
        generate_site(site, 150, page_size=10)
        with (site / "_config.yml").open("a", encoding="utf-8") as config:
            config.write("time: 2024-07-01 08:00:00 +0800\n")  # site.time is printed in the feeds
        if name == "without":
            (site / FIX).unlink()
        out = tmp_path / f"out-{name}"
        command = ["jekyll", "build", "-s", str(site), "-d", str(out)]
        build = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        assert build.returncode == 0, build.stdout + build.stderr
        trees[name] = out
    files = {name: sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) for name, out in trees.items()}
    assert files["with"] == files["without"] and len(files["with"]) > 150
    _, mismatch, errors = filecmp.cmpfiles(trees["with"], trees["without"], files["with"], shallow=False)
    assert mismatch == [] and errors == []


@pytest.mark.jekyll
@pytest.mark.parametrize(("version", "patched"), [("4.3.0", True), ("4.3.1", True), ("4.3.2", False), ("4.4.1", False), ("3.10.0", False)])
def test_the_write_loop_fix_switches_on_only_where_jekyll_needs_it(version: str, patched: bool) -> None:
    require_command("ruby", "jekyll")
    require_command("jekyll", "jekyll")
    script = (
        'require "jekyll"; Jekyll.send(:remove_const, :VERSION); Jekyll.const_set(:VERSION, ARGV[0]); '
        "before = Jekyll::Site.instance_method(:each_site_file).source_location; load ARGV[1]; "
        "puts(Jekyll::Site.instance_method(:each_site_file).source_location == before ? 'unchanged' : 'patched')"
    )
    run = subprocess.run(["ruby", "-W0", "-e", script, version, str(FILES / FIX)], capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == ("patched" if patched else "unchanged")


def test_the_theme_defaults_match_the_settings_defaults() -> None:
    from crawler.config import load_config
    from crawler.skeleton import theme_of

    assert theme_of(load_config(None)) == Theme()


def test_write_skeleton_creates_the_post_and_category_folders(tmp_path: Path) -> None:
    written = write_skeleton(tmp_path / "s")
    assert (tmp_path / "s" / "_posts").is_dir() and (tmp_path / "s" / "category").is_dir()
    assert tmp_path / "s" / "_plugins" / "each_site_file.rb" in written
