"""Fixtures of the storage tests (helpers in store_helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.store import StorePipeline
from tests.pipelines.store_helpers import open_store


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return tmp_path / "site"


@pytest.fixture
def store(database_url: str, site: Path) -> Iterator[StorePipeline]:
    """A store on the real SQLite file or the real PostgreSQL (see tests/conftest.py)."""
    pipeline = open_store(database_url, site)
    yield pipeline
    pipeline.close_spider()
