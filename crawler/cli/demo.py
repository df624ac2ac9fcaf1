"""``finews demo``: the whole product offline, in one folder.

Starts the bundled replay on 127.0.0.1:8765 (``finews replay``'s port; a free
port when that one is taken), writes ``<dir>/settings.yaml`` pointing every source
template and the five lists at it (rewritten each time), creates the Jekyll
skeleton in ``<dir>/site`` and runs one ``crawl`` into ``<dir>/site`` and
``<dir>/finews.db``.  A second demo in the same folder is an incremental run
against a fresh replay: nothing new.

The replay serves the articles' images itself (``local_images``), so the demo's
pages name no host but 127.0.0.1.  Their share links and images point at the
replay, which is deterministic: ``finews replay --port P --articles N`` with the
demo's port and article count serves them again after the demo has ended.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from crawler.config import load_config

DEMO_NOTE = "# Written by `finews demo` for the replay on this port; rewritten on every demo run.\n"
DEMO_PORT = 8765  # finews replay's default, so its plain form revives the demo's links
DEMO_ARTICLES = 20  # and its default article count


def demo_settings(sources: dict[str, Any]) -> dict[str, Any]:
    """settings.yaml content for a demo against a replay with this ``sources`` block."""
    return {
        "site": {"dir": "site", "base_url": ""},
        "database": {"url": "sqlite:///finews.db"},
        "sources": sources,
        "crawl": {"delay": 0, "concurrency": 16, "per_host": 16, "retries": 1, "timeout": 10, "max_pages": 100},
    }


def demo(folder: Path, *, articles: int, verbose: bool) -> int:
    from crawler.cli import EXIT_FAILED, EXIT_OK, display
    from crawler.cli.run import locked_run
    from crawler.replay import ReplayServer
    from crawler.skeleton import theme_of, write_skeleton

    folder.mkdir(parents=True, exist_ok=True)
    replay = ReplayServer(articles=articles, port=DEMO_PORT, local_images=True)
    try:
        replay.start()
    except OSError:  # the port is taken (a replay already runs there): any free one, same articles
        replay.port = 0
        replay.start()
    with replay:
        settings_file = folder / "settings.yaml"
        settings_file.write_text(
            DEMO_NOTE + yaml.safe_dump(demo_settings(replay.sources()), allow_unicode=True, sort_keys=False),
            encoding="utf-8",
        )
        config = load_config(settings_file)
        write_skeleton(config.site_dir, theme_of(config))
        overrides = {"LOG_LEVEL": "INFO" if verbose else "ERROR"}
        outcome = locked_run("crawl", "crawl", config, overrides)
    report, counts = outcome.report, outcome.counts()
    for result in report.results.values():
        if result.status in ("failed", "quarantined"):
            print(f"failed {result.code} {result.detail}")
    print(
        f"demo: {counts['new']} new, {counts['updated']} updated, {counts['unchanged']} unchanged, "
        f"{counts['duplicate']} duplicate, {counts['failed']} failed, {counts['quarantined']} quarantined; "
        f"{outcome.requests} requests"
    )
    print(f"posts:    {display(config.site_dir / '_posts')}")
    print(f"database: {display(folder / 'finews.db')}")
    print(f"see the site: cd {display(config.site_dir)} && jekyll serve")
    revive = "" if replay.port == DEMO_PORT else f" --port {replay.port}"
    revive += "" if articles == DEMO_ARTICLES else f" --articles {articles}"
    print(f"share links and images in these posts point at the replay ({replay.url}); "
          f"`finews replay{revive}` serves them again")
    return EXIT_OK if outcome.status == "ok" else EXIT_FAILED
