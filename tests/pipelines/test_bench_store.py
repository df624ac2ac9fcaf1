"""The storage benchmark still runs (its figures are printed, never asserted)."""

from __future__ import annotations

import pytest

from tests.pipelines import bench_store


def test_the_benchmark_prints_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_store.main(["-n", "3", "--rounds", "1", "--window", "0", "5"]) == 0
    out = capsys.readouterr().out
    assert "sqlite, site on disk: new " in out and "in batches of 50" in out
    assert "sqlite: near-duplicate lookup with 5 articles in the window" in out
