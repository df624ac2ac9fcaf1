"""Tests for pipelines.files: atomic replacement, crash safety, and file modes from the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from crawler.replay import ReplayServer
from pipelines.files import TMP_PREFIX, remove_stale_temporaries, write_atomic
from tests.crawler.cli_helpers import finews, write_settings
from tests.pipelines.store_helpers import CODE, make_item, open_store


@contextmanager
def umask(value: int) -> Iterator[None]:
    """Run the block under *value* as the process umask (the test process is single-threaded)."""
    previous = os.umask(value)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- atomic replacement ------------------------------------------------------------------------


def test_write_creates_the_folder_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "post.md"
    write_atomic(target, "新内容\n")
    assert target.read_bytes() == "新内容\n".encode()
    assert os.listdir(target.parent) == ["post.md"]


def test_the_target_is_replaced_not_rewritten_in_place(tmp_path: Path) -> None:
    target = tmp_path / "post.md"
    target.write_bytes(b"old bytes\n")
    before = target.stat().st_ino
    with target.open("rb") as reader:  # a reader (say jekyll serve) that opened the old file
        write_atomic(target, b"new bytes, longer than the old ones\n")
        assert reader.read() == b"old bytes\n"  # still the whole old file, never a mix
    assert target.stat().st_ino != before
    assert target.read_bytes() == b"new bytes, longer than the old ones\n"


@pytest.mark.parametrize("crash_at", ["fsync", "replace"])
def test_a_crash_before_the_rename_leaves_the_old_file_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crash_at: str) -> None:
    target = tmp_path / "post.md"
    target.write_bytes(b"old bytes\n")

    def crash(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, crash_at, crash)
    with pytest.raises(OSError, match="No space left"):
        write_atomic(target, b"new bytes\n" * 1000)
    monkeypatch.undo()
    assert target.read_bytes() == b"old bytes\n"
    assert os.listdir(tmp_path) == ["post.md"]  # the temporary went with the failed write


def test_stale_temporaries_are_removed(tmp_path: Path) -> None:
    (tmp_path / f"{TMP_PREFIX}post.md.abcd1234").write_bytes(b"half")
    (tmp_path / "post.md").write_bytes(b"whole")
    assert remove_stale_temporaries(tmp_path) == 1
    assert os.listdir(tmp_path) == ["post.md"]


# --- modes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mask", "expected"), [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664), (0o077, 0o600)], ids=["022", "027", "002", "077"],
)
def test_a_new_file_follows_the_umask(tmp_path: Path, mask: int, expected: int) -> None:
    with umask(mask):
        write_atomic(tmp_path / "new.md", "x")
        existing = tmp_path / "existing.md"
        existing.write_bytes(b"old")
        existing.chmod(0o600)
        write_atomic(existing, "y")  # a replacement is a new file too
    assert mode(tmp_path / "new.md") == expected
    assert mode(existing) == expected


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o027, 0o640)], ids=["022", "027"])
def test_posts_and_category_pages_follow_the_umask(tmp_path: Path, mask: int, expected: int) -> None:
    site = tmp_path / "site"
    with umask(mask):
        store = open_store(f"sqlite:///{tmp_path}/finews.db", site)
        try:
            item = store.process_item(make_item())
        finally:
            store.close_spider()
    post = site / item.post_path
    category = site / "category" / f"{item.post.slug}.html"  # type: ignore[attr-defined]
    assert post.name.endswith(f"{CODE}.md")
    assert (mode(post), mode(category)) == (expected, expected)


def test_finews_fetch_writes_posts_0644_under_umask_022(tmp_path: Path) -> None:
    with ReplayServer(articles=1) as replay, umask(0o022):  # the child process inherits the umask
        settings = write_settings(tmp_path, replay.templates())
        run = finews("-c", str(settings), "fetch", replay.articles[0].code, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    written = [tmp_path / run.stdout.split()[2], *(tmp_path / "site" / "category").iterdir()]
    assert [oct(mode(path)) for path in written] == [oct(0o644)] * len(written)


@pytest.mark.parametrize(("mode", "file_syncs"), [("batch", 0), ("file", 1)])
def test_site_fsync_decides_whether_each_post_file_is_flushed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str, file_syncs: int
) -> None:
    from crawler.config import load_config
    from crawler.settings import scrapy_settings

    config = load_config(write_settings(tmp_path, {}, site={"fsync": mode}))
    assert config.fsync_files is (mode == "file")
    synced: list[str] = []
    real_fsync = os.fsync

    def counting(fd: int) -> None:
        synced.append("folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting)
    store = open_store(f"sqlite:///{tmp_path}/finews.db", tmp_path / "site",
                       FINEWS_FSYNC_FILES=scrapy_settings(config)["FINEWS_FSYNC_FILES"])
    synced.clear()
    store.process_item(make_item())
    store.close_spider()
    # the post, its new category page and its month's archive pages (category, month, page 1)
    assert synced.count("file") == 5 * file_syncs
    # _posts/, category/, archive/<slug>/ and archive/<slug>/<month>/, once each at the commit
    assert synced.count("folder") == 4
