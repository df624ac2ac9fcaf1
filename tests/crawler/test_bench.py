"""``finews bench`` runs end to end and prints every SPEC §11 key (figures only: no speed is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.crawler.cli_helpers import ROOT

SPEC_KEYS = {
    "pipeline_articles_per_s", "lxml_parse_docs_per_s", "e2e_pages_per_s", "scrapy_fetch_pages_per_s",
    "peak_rss_mb_n", "peak_rss_mb_10n", "incremental_noop_s", "list_fetch_s", "near_dup_ms_1k", "near_dup_ms_50k",
    "rebuild_posts_per_s", "startup_s",
}


def test_bench_prints_every_figure_of_the_spec(tmp_path: Path) -> None:
    small = ["--articles", "3", "--near", "20", "40", "--rebuild-posts", "50", "--json"]
    done = subprocess.run([sys.executable, "-m", "crawler.bench", *small], cwd=tmp_path, capture_output=True, text=True,
                          timeout=240, check=False, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.splitlines()[-1])
    assert set(figures) >= SPEC_KEYS
    assert all(figures[key] > 0 for key in SPEC_KEYS)
    assert figures["articles"] == 3


def test_a_command_that_prints_more_than_a_pipe_holds_is_measured(tmp_path: Path) -> None:
    from crawler.bench.processes import measure

    seconds, peak, printed = measure([sys.executable, "-c", "print('x' * 1_000_000)"], tmp_path)
    assert printed == "x" * 1_000_000 + "\n"
    assert seconds > 0 and peak > 0  # a pipe would have blocked the child until the test timed out
