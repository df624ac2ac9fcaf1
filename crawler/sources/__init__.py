"""News sources: one package ``crawler/sources/<name>/`` each, found by name.

A source package exposes ``SOURCE``, a :class:`~crawler.sources.base.Source`
subclass (see its docstring for what a source provides).  settings.yaml's
``sources.<name>`` block configures it; ``sources.<name>.module`` names a package
elsewhere (``mypackage.mysource``), so a source is added by a folder and its
settings, never by editing this package.

To add a source:

1. write ``crawler/sources/<name>/`` (small modules, one per wire format, each opening
   with its contract; raise ``SourceFormatError`` for payloads of the wrong shape) and
   its ``SOURCE`` class;
2. add fixtures ``tests/fixtures/sources/<name>/<parser>/<case>.json|.html`` for every
   key of ``SOURCE.PARSERS``, with a ``meta.json`` ({file: {url, note}}) per folder;
3. run ``pytest tests/crawler/sources --update-golden`` and review every
   ``<case>.expected.json`` by hand before committing.

``tests/crawler/sources`` runs over every package here (:func:`builtin_sources`) and
fails while a parser has no fixture.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from crawler.sources.base import ListEntry, ListPage, Source, SourceFormatError, TargetError

__all__ = [
    "ListEntry", "ListPage", "Source", "SourceFormatError", "TargetError",
    "builtin_sources", "configured_sources", "source_class",
]


@cache
def source_class(name: str, module: str | None = None) -> type[Source]:
    """The ``SOURCE`` class of package *module* (default ``crawler.sources.<name>``); LookupError if none."""
    path = module or f"{__name__}.{name}"
    try:
        package = importlib.import_module(path)
    except ModuleNotFoundError as exc:
        if exc.name is not None and path.startswith(exc.name):
            hint = "" if module else f" (set sources.{name}.module to the package that defines it)"
            raise LookupError(f"unknown source: no package {path}{hint}") from None
        raise
    cls = getattr(package, "SOURCE", None)
    if not (isinstance(cls, type) and issubclass(cls, Source)):
        raise LookupError(f"{path} has no SOURCE class (a crawler.sources.base.Source subclass)")
    if name != cls.NAME:
        raise LookupError(f"{path} defines source {cls.NAME!r}, not {name!r}")
    return cls


def builtin_sources() -> dict[str, type[Source]]:
    """Every source package in this folder, by name."""
    folder = Path(__file__).parent
    names = sorted(info.name for info in pkgutil.iter_modules([str(folder)]) if info.ispkg)
    return {name: source_class(name) for name in names}


def configured_sources(settings: Any) -> Mapping[str, Source]:
    """The configured sources a crawler's settings carry (``FINEWS_SOURCES``, set by crawler.settings)."""
    sources = settings.get("FINEWS_SOURCES")
    if not sources:
        raise ValueError("FINEWS_SOURCES is not set: run through `finews` or `scrapy` in the project (crawler.settings)")
    return sources


def resolve_target(target: str, sources: Mapping[str, Source]) -> tuple[str, str]:
    """(source name, code) of the first enabled source whose target forms *target* matches.

    TargetError otherwise, with the reason of each enabled source.
    """
    reasons: list[tuple[str, str]] = []
    for name, source in sources.items():
        if not source.enabled:
            continue
        try:
            return name, source.code_for(target)
        except TargetError as exc:
            reasons.append((name, str(exc)))
    if not reasons:
        raise TargetError("no source is enabled in settings.yaml")
    if len(reasons) == 1:
        raise TargetError(reasons[0][1])
    raise TargetError("; ".join(f"{name}: {reason}" for name, reason in reasons))


def report_key(target: str, sources: Mapping[str, Source]) -> str:
    """The key a target's result is reported under: its code, or the target itself when it names none."""
    try:
        return resolve_target(target, sources)[1]
    except TargetError:
        return target
