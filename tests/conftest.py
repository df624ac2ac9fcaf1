"""Shared test helpers: golden files, the shared contract folder, service gates."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = Path(os.environ.get("FINEWS_SHARED", ROOT.parent / "shared")).resolve()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite golden files from the current output (review the diff before committing)",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def assert_golden(path: Path, actual: str, update: bool) -> None:
    """Compare *actual* with the golden file at *path*, or rewrite it under --update-golden."""
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"missing golden file {path}; create it with pytest --update-golden and review it"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{path} differs; if the change is intended, run pytest --update-golden and review the diff"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "golden" / "seed").is_dir():
        pytest.skip(f"the shared contract folder is not at {SHARED} (set FINEWS_SHARED)")
    return SHARED
