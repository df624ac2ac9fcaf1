"""``finews fetch TARGET…``: one line per target, exit status from the results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from crawler.config import AppConfig
from crawler.report import RunReport
from crawler.sources import Source, report_key
from pipelines.post import render_post


def fetch(config: AppConfig, targets: Sequence[str], *, force: bool, dry_run: bool, verbose: bool) -> int:
    from crawler.cli import EXIT_FAILED, EXIT_OK
    from crawler.cli.run import locked_run, run_spider

    # Each target's line carries its reason; Scrapy's own error log would only repeat it.
    overrides = {"FINEWS_FORCE": force, "FINEWS_DRY_RUN": dry_run, "LOG_LEVEL": "INFO" if verbose else "CRITICAL"}
    if dry_run:  # writes nothing, so it needs no lock and leaves no run record
        report, _stats = run_spider("fetch", config, overrides, keep_items=True, targets=list(targets))
        failed = report.failed
    else:
        outcome = locked_run("fetch", "fetch", config, overrides, targets=list(targets))
        report, failed = outcome.report, outcome.status != "ok"
    print_results(report, targets, config.sources, dry_run=dry_run)
    return EXIT_FAILED if failed or missing(report, targets, config.sources) else EXIT_OK


def print_results(report: RunReport, targets: Sequence[str], sources: Mapping[str, Source], *, dry_run: bool) -> None:
    """One line per target, in the order given: ``<status> <code> <post path or reason>``."""
    from crawler.cli import display

    for target in targets:
        code = report_key(target, sources)
        result = report.results.get(code)
        if result is None:
            print(f"failed {code} no response (interrupted?)")
        elif dry_run and result.item is not None and result.item.post is not None:
            print(render_post(result.item.post), end="")
        elif result.status in ("failed", "quarantined"):
            print(f"failed {code} {result.detail}")
        else:
            print(f"{result.status} {code} {display(result.detail)}")


def missing(report: RunReport, targets: Sequence[str], sources: Mapping[str, Source]) -> bool:
    """True when a target got no result at all (the run was cut short)."""
    return any(report_key(target, sources) not in report.results for target in targets)
