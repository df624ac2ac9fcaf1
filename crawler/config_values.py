"""Checks for settings.yaml values, shared by the loader and the sources' own blocks.

Each check returns the value it accepts or raises :class:`ConfigError` with one
line that names the file (*where*) and the key.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SLUG_RE = re.compile(r"^[a-z0-9]+$")
# A list's name (`finews backfill --list NAME`): never all digits, which name a list by its position.
LIST_NAME_RE = re.compile(r"^(?![0-9]+$)[a-z0-9][a-z0-9_-]{0,63}$")
LIST_KEYS = frozenset({"kind", "url", "max_pages", "category", "tag", "name"})


class ConfigError(ValueError):
    """settings.yaml names an unknown key or holds a bad value."""


@dataclass(frozen=True)
class ListConfig:
    """One configured list of a source (``sources.<name>.lists[i]``)."""

    kind: str
    url: str
    max_pages: int
    category: str | None = None
    tag: str | None = None
    source: str = ""
    name: str | None = None  # optional; unique over every source's lists


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for another database or an in-memory one."""
    from sqlalchemy.engine import make_url  # only commands that open a database need SQLAlchemy

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def unknown_keys(block: Mapping[str, Any], known: Collection[str], key: str, where: str) -> None:
    unknown = sorted(str(name) for name in set(block) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown key {f'{key}.{unknown[0]}'!r} (known: {', '.join(sorted(known))})")


def check_str(value: Any, key: str, where: str, *, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise ConfigError(f"{where}: {key} must be a {'' if empty else 'non-empty '}string, got {value!r}")
    return value


def check_url(value: Any, key: str, where: str) -> str:
    url = check_str(value, key, where)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{where}: {key} must be an http(s) URL, got {url!r}")
    return url


def check_template(value: Any, key: str, placeholder: str, where: str) -> str:
    url = check_url(value, key, where)
    if placeholder not in url:
        raise ConfigError(f"{where}: {key} must contain {placeholder}, got {url!r}")
    return url


def check_slug(value: Any, key: str, where: str) -> str:
    if not isinstance(value, str) or not SLUG_RE.match(value):
        raise ConfigError(f"{where}: {key} must be a slug of a-z and 0-9, got {value!r}")
    return value


def check_lists(value: Any, key: str, source: str, kinds: Collection[str], max_pages: int, where: str) -> tuple[ListConfig, ...]:
    """The list entries of a source block; *max_pages* is ``crawl.max_pages``, the default of each."""
    if not isinstance(value, list):
        raise ConfigError(f"{where}: {key} must be a list")
    lists = tuple(_list(entry, f"{key}[{i}]", source, kinds, max_pages, where) for i, entry in enumerate(value))
    check_list_names(lists, key, where)
    return lists


def check_list_names(lists: Collection[ListConfig], key: str, where: str) -> None:
    """Two lists must not share a name: ``--list NAME`` would not know which one is meant."""
    seen: set[str] = set()
    for lst in lists:
        if lst.name is not None and lst.name in seen:
            raise ConfigError(f"{where}: {key}: two lists are named {lst.name!r}")
        if lst.name is not None:
            seen.add(lst.name)


def _list(entry: Any, key: str, source: str, kinds: Collection[str], max_pages: int, where: str) -> ListConfig:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: {key} must be a mapping with kind and url")
    unknown = set(entry) - LIST_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key {key}.{sorted(unknown)[0]} (known: {', '.join(sorted(LIST_KEYS))})")
    kind = entry.get("kind")
    if not isinstance(kind, str) or kind not in kinds:
        raise ConfigError(f"{where}: {key}.kind must be one of {', '.join(kinds)}, got {kind!r}")
    pages = entry.get("max_pages", max_pages)
    if isinstance(pages, bool) or not isinstance(pages, int) or pages < 1:
        raise ConfigError(f"{where}: {key}.max_pages must be a whole number >= 1, got {pages!r}")
    category = entry.get("category")
    if category is not None:
        check_slug(category, f"{key}.category", where)
    tag = entry.get("tag")
    if tag is not None and (not isinstance(tag, str) or not tag.strip()):
        raise ConfigError(f"{where}: {key}.tag must be a non-empty string, got {tag!r}")
    name = entry.get("name")
    if name is not None and (not isinstance(name, str) or not LIST_NAME_RE.match(name)):
        raise ConfigError(f"{where}: {key}.name must be a-z, 0-9, '-' and '_' (not only digits), got {name!r}")
    url = check_url(entry.get("url"), f"{key}.url", where)
    return ListConfig(kind=kind, url=url, max_pages=pages, category=category, tag=tag, source=source, name=name)
