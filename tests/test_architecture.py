"""The rooms of the code and what each may import (docs/architecture.md), checked on the source.

- ``crawler/items.py``: the item and the post it becomes; imports nothing of finews.
- ``crawler/sources/``: pure parsing and the source interface; no Scrapy, no storage, no stage.
- ``pipelines/``: the stages and the storage; of ``crawler`` only the item, the sources and
  the configuration defaults.
- the rest of ``crawler/`` (spiders, CLI, extensions): reaches the database only through
  ``pipelines.storage``; no table, no SQL.
- no module outside a source's folder (and its replay) names the source, except the default
  list of sources in ``crawler/config.py``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(p for package in ("crawler", "pipelines") for p in (ROOT / package).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[str]:
    """Every module *path* imports at run time (imports under ``if TYPE_CHECKING:`` are for types only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(node) for block in ast.walk(tree)
        if isinstance(block, ast.If) and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"
        for stmt in block.body for node in ast.walk(stmt)
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found += [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def offending(paths: list[Path], forbidden: re.Pattern[str], allowed: re.Pattern[str] | None = None) -> list[str]:
    return [
        f"{module_name(path)} imports {name}"
        for path in paths for name in imports(path)
        if forbidden.match(name) and not (allowed and allowed.match(name))
    ]


def in_room(prefix: str) -> list[Path]:
    return [p for p in MODULES if module_name(p).startswith(prefix)]


def test_the_rule_sees_imports() -> None:
    assert "pipelines.storage.Storage" in imports(ROOT / "crawler" / "spiders" / "crawl.py")
    assert "pipelines.post.Post" not in imports(ROOT / "crawler" / "items.py")  # a typing-only import


def test_the_item_imports_nothing_of_finews() -> None:
    assert offending(in_room("crawler.items"), re.compile(r"(crawler|pipelines)\b")) == []


def test_sources_are_pure() -> None:
    bad = offending(in_room("crawler.sources"), re.compile(r"(scrapy|twisted|sqlalchemy|pipelines|crawler)\b"),
                    re.compile(r"crawler\.(sources|items|config_values)\b"))
    assert bad == []


def test_pipelines_use_only_the_item_the_sources_and_the_defaults_of_crawler() -> None:
    bad = offending(in_room("pipelines"), re.compile(r"crawler\b"), re.compile(r"crawler\.(items|sources|config|config_values)\b"))
    assert bad == []


def test_spiders_and_commands_reach_the_database_only_through_the_storage() -> None:
    # The benchmarks seed databases of 50,000 rows directly: a tool that measures the rooms, not one of them.
    rest = [p for p in in_room("crawler") if not module_name(p).startswith(("crawler.sources", "crawler.replay", "crawler.bench"))]
    forbidden = re.compile(r"(sqlalchemy|pipelines\.(models|records|run_records|db|writer|dedupe|backlog|backfill_progress))\b")
    allowed = re.compile(r"sqlalchemy\.(exc|engine\.make_url)\b|pipelines\.backlog\.Retry$")
    assert offending(rest, forbidden, allowed) == []


@pytest.mark.parametrize("source", ["eastmoney"])
def test_no_module_outside_a_source_names_it(source: str) -> None:
    own = (f"crawler/sources/{source}/", "crawler/replay/")
    named = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in MODULES if not str(path.relative_to(ROOT)).startswith(own)
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if source in line.lower()
    ]
    assert named == [f'crawler/config.py:{default_line()}: DEFAULT_SOURCES = ("{source}",)']


def default_line() -> int:
    lines = (ROOT / "crawler" / "config.py").read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.startswith("DEFAULT_SOURCES"))
