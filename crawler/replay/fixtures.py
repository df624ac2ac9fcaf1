"""Content-API fixture files the replay serves byte for byte (``ReplayServer(fixtures=…)``).

A fixture is a JSON object with an ``Id`` (keys read case-insensitively).  It is served for
that code only by the content API (it has no article page); when it also has a
``YYYY-MM-DD HH:MM:SS`` ``Date`` and its ``Id`` is an ``NW`` code, it is listed in every list
too, by date, with the first line of its body as digest.

An optional ``replay_list`` object (``title``, ``showtime``, ``outlet``, ``url``, strings)
sets what the lists show for the fixture instead of its own fields, so a test can give a
list entry metadata the content API does not have (a hostile list title, say); the order
of the lists still follows ``Date``.  The content API serves the file unchanged.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypedDict

from crawler.replay import lists

_CODE = re.compile(r"(?:NW)?(\d{18})")


@dataclass(frozen=True)
class Fixture:
    code: str
    raw: bytes
    data: dict[str, Any] = field(repr=False)
    entry: lists.Entry | None  # None: not listed (no usable Date or no NW code)


def code_of(value: str) -> str:
    """``NW`` + 18 digits for an infoCode or a bare id; anything else stripped, unchanged."""
    match = _CODE.fullmatch(value.strip())
    return f"NW{match.group(1)}" if match else value.strip()


def load_fixture(path: str | Path, seq: int) -> Fixture:
    """Read one fixture file; ValueError naming the file when it is not a usable response."""
    raw = Path(path).read_bytes()
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"fixture {path}: not a JSON content API response ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"fixture {path}: expected a JSON object")
    low = {k.lower(): v for k, v in data.items()}
    if not isinstance(low.get("id"), str) or not low["id"].strip():
        raise ValueError(f"fixture {path}: no Id")
    code = code_of(low["id"])
    entry = None
    date = low.get("date")
    if isinstance(date, str) and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", date) and _CODE.fullmatch(code):
        body = low.get("text") or low.get("content") or ""
        lines = (line.strip(" \u3000\t") for line in re.sub(r"<[^>]*>", "\n", body).splitlines())
        digest = next((line for line in lines if line), "")
        outlet = low.get("medianame") or low.get("from") or ""
        entry = lists.Entry(code, str(low.get("title") or ""), date, str(outlet), digest, seq)
        shown = _list_fields(path, low.get("replay_list"))
        if shown:
            entry = replace(entry, **shown)
    return Fixture(code, raw, data, entry)


_LIST_FIELDS = ("title", "showtime", "outlet", "url")


class _ListFields(TypedDict, total=False):
    title: str
    showtime: str
    outlet: str
    url: str


def _list_fields(path: str | Path, value: Any) -> _ListFields:
    """The ``replay_list`` overrides of a fixture; ValueError naming the file when malformed."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(k in _LIST_FIELDS and isinstance(v, str) for k, v in value.items()):
        raise ValueError(f"fixture {path}: replay_list must map {', '.join(_LIST_FIELDS)} to strings")
    return _ListFields(**value)
