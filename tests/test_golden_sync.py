"""``python -m tests.golden_sync``: the project's golden copy against the shared contract folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import GOLDEN_SEED, ROOT
from tests.golden_sync import FILES, LOCAL, SHARED, copy, differences, local_path


def golden_sync(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.golden_sync", *args], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )


def shared_like(folder: Path) -> Path:
    """A stand-in shared folder holding the project's own copy of every file of FILES."""
    for name in FILES:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(local_path(name), target)
    return folder


def test_the_copy_is_what_the_golden_tests_read() -> None:
    assert LOCAL / "seed" == GOLDEN_SEED
    for name in FILES:
        assert local_path(name).is_file(), f"{name} is not in {LOCAL}: run `python -m tests.golden_sync copy`"


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"the shared folder is not at {SHARED}: nothing to compare with")
def test_the_copy_is_identical_to_the_shared_folder() -> None:
    run = golden_sync("check")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout == f"{len(FILES)} golden files identical to {SHARED}\n"


def test_check_lists_each_file_that_differs(tmp_path: Path) -> None:
    shared = shared_like(tmp_path / "shared")
    (shared / FILES[1]).write_bytes(b"changed\n")
    (shared / FILES[2]).unlink()
    run = golden_sync("check", "--shared", str(shared))
    assert run.returncode == 1
    assert run.stdout.splitlines()[:2] == [f"{FILES[1]}: differs", f"{FILES[2]}: missing in {shared}"]
    assert "golden_sync copy" in run.stdout


def test_check_without_a_shared_folder_has_nothing_to_check(tmp_path: Path) -> None:
    run = golden_sync("check", "--shared", str(tmp_path / "absent"))
    assert run.returncode == 0
    assert run.stdout == f"shared folder not found at {tmp_path / 'absent'}, nothing to check\n"


def test_copy_without_a_shared_folder_fails(tmp_path: Path) -> None:
    run = golden_sync("copy", "--shared", str(tmp_path / "absent"))
    assert run.returncode == 1
    assert "nothing to copy" in run.stderr


def test_copy_takes_the_shared_bytes(tmp_path: Path) -> None:
    shared = shared_like(tmp_path / "shared")
    local = tmp_path / "local"
    assert differences(shared, local) == [f"{name}: missing in {local}" for name in FILES]
    assert copy(shared, local) == list(FILES)
    assert differences(shared, local) == []
    (shared / FILES[0]).write_bytes(b"{}\n")
    assert copy(shared, local) == [FILES[0]]
    assert local_path(FILES[0], local).read_bytes() == b"{}\n"
