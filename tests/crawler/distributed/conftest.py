"""The processes of a distributed test, reaped whatever happens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.crawler.distributed.support import Processes


@pytest.fixture
def processes() -> Iterator[Processes]:
    running = Processes()
    try:
        yield running
    finally:
        running.close()
