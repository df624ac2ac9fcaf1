"""Eastmoney list APIs (SPEC 5.4): one response of a list kind -> :class:`ListPage`.

Contract of :func:`parse_list`:

* *kind* is one of :data:`LIST_KINDS`; anything else is a ValueError naming it;
* keys are read case-insensitively; a JSONP wrapper ``cb(…)`` / ``cb(…);`` is removed;
* entries without a valid code (``NW`` + 18 digits, or the bare 18-digit id) are skipped,
  codes are normalised to ``NW`` + 18 digits, showtimes are kept exactly as given;
* ``next_cursor`` holds the query parameters of the next page (fastnews and columns
  only), None at the end; :func:`next_page_url` applies it to the list URL;
* an empty, malformed or wrongly shaped payload raises :class:`SourceFormatError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

from crawler.sources.base import ListEntry, ListPage, SourceFormatError, decode_utf8, expect_object, json_type, load_json, text_field
from crawler.sources.eastmoney.codes import normalize_code

LIST_KINDS = ("nodelist", "records", "record", "fastnews", "columns")

_JSONP_OPEN = re.compile(r"^\s*[A-Za-z_$][\w$.]*\s*\(")
_JSONP_CLOSE = re.compile(r"\)\s*;?\s*$")
# records digests and 7x24 summaries repeat the title in 【】 before the body
_DIGEST_TITLE = re.compile(r"^\s*【[^】]*】\s*")


@dataclass(frozen=True)
class Fields:
    """Where one list kind keeps its items and their fields (lower-case keys, first wins)."""

    items: tuple[str, ...]  # path from the top-level object to the item array
    code: tuple[str, ...]
    title: tuple[str, ...]
    showtime: tuple[str, ...]
    outlet: tuple[str, ...]
    summary: tuple[str, ...]
    url: tuple[str, ...]
    digest_repeats_title: bool = False  # summary reads "【title】body"; keep only the body


FIELDS: dict[str, Fields] = {
    "nodelist": Fields(
        items=("nodelist",), code=("infocode",), title=("title", "simtitle"), showtime=("showtime",),
        outlet=("from", "medianame"), summary=("simdigest", "digest"), url=("url", "url_w"),
    ),
    "records": Fields(
        items=("records",), code=("infocode", "id"), title=("title",), showtime=("showtime",),
        outlet=("from", "medianame"), summary=("digest",), url=("url_w", "url"),
        digest_repeats_title=True,
    ),
    "record": Fields(
        items=("record",), code=("infocode",), title=("title",), showtime=("datetime", "showtime"),
        outlet=("medianame", "from"), summary=("digest", "summary"), url=("url", "url_w"),
    ),
    "fastnews": Fields(
        items=("data", "fastnewslist"), code=("code",), title=("title",), showtime=("showtime",),
        outlet=(), summary=("summary",), url=(), digest_repeats_title=True,
    ),
    "columns": Fields(
        items=("data", "list"), code=("code",), title=("title",), showtime=("showtime",),
        outlet=("medianame", "from"), summary=("summary",), url=("uniqueurl", "url"),
    ),
}


def parse_list(kind: str, payload: str | bytes) -> ListPage:
    """Parse one page of a list of *kind* (see :data:`LIST_KINDS`)."""
    if kind not in FIELDS:
        raise ValueError(f"unknown list kind {kind!r}; expected one of {', '.join(LIST_KINDS)}")
    what = f"list {kind}"
    text = decode_utf8(payload, what)
    if not text.strip():
        raise SourceFormatError(f"{what}: empty response")
    top = expect_object(load_json(_strip_jsonp(text, what), what), what)

    fields = FIELDS[kind]
    raw_items = _item_array(top, fields.items, what)
    entries = tuple(entry for item in raw_items if (entry := _entry(item, fields, what)) is not None)
    cursor: dict[str, str] | None = None
    if kind == "fastnews":
        cursor = _fastnews_cursor(top, raw_items, what)
    elif kind == "columns":
        cursor = _columns_cursor(top, what)
    return ListPage(entries=entries, next_cursor=cursor)


def next_page_url(url: str, cursor: dict[str, str]) -> str:
    """*url* with the cursor's query parameters set; other parameters keep their order and bytes."""
    parts = urlsplit(url)
    pending = dict(cursor)
    query: list[str] = []
    for pair in parts.query.split("&") if parts.query else []:
        key = unquote_plus(pair.split("=", 1)[0])
        if key not in cursor:
            query.append(pair)
        elif key in pending:  # first occurrence is replaced, repeats are dropped
            query.append(_pair(key, pending.pop(key)))
    query.extend(_pair(key, value) for key, value in pending.items())
    return urlunsplit(parts._replace(query="&".join(query)))


def _strip_jsonp(text: str, what: str) -> str:
    """The JSON inside a ``callback(…)`` or ``callback(…);`` wrapper, or *text* unchanged."""
    opening = _JSONP_OPEN.match(text)
    if opening is None:
        return text
    closing = _JSONP_CLOSE.search(text, opening.end())
    if closing is None:
        raise SourceFormatError(f"{what}: JSONP callback is never closed (truncated body?)")
    return text[opening.end() : closing.start()]


def _pair(key: str, value: str) -> str:
    return f"{quote(key, safe='')}={quote(value, safe='')}"


def _item_array(top: dict[str, Any], path: tuple[str, ...], what: str) -> list[Any]:
    """The item array at *path*; a null anywhere on the way means an empty (final) page."""
    node: Any = top
    for depth, key in enumerate(path):
        if key not in node:
            raise SourceFormatError(f"{what}: no {'.'.join(path[: depth + 1])!r} in the response")
        node = node[key]
        if node is None:
            return []
        if depth < len(path) - 1:
            node = expect_object(node, f"{what}: {'.'.join(path[: depth + 1])}")
    if not isinstance(node, list):
        raise SourceFormatError(f"{what}: {'.'.join(path)!r} is {json_type(node)}, expected an array")
    return node


def _entry(item: Any, fields: Fields, what: str) -> ListEntry | None:
    obj = expect_object(item, f"{what} item")
    code = next((c for key in fields.code if (c := normalize_code(obj.get(key))) is not None), None)
    if code is None:
        return None
    summary = text_field(obj, fields.summary, what)
    if summary is not None and fields.digest_repeats_title:
        summary = _DIGEST_TITLE.sub("", summary) or None
    return ListEntry(
        code=code,
        title=text_field(obj, fields.title, what),
        showtime=text_field(obj, fields.showtime, what),
        outlet=text_field(obj, fields.outlet, what),
        summary=summary,
        url=text_field(obj, fields.url, what),
    )


def _fastnews_cursor(top: dict[str, Any], items: list[Any], what: str) -> dict[str, str] | None:
    if not items:
        return None
    last = expect_object(items[-1], f"{what} item")
    sort_end = text_field(last, ("realsort",), what)
    if sort_end is None and isinstance(top.get("data"), dict):
        sort_end = text_field(expect_object(top["data"], what), ("sortend",), what)
    return {"sortEnd": sort_end} if sort_end else None


def _columns_cursor(top: dict[str, Any], what: str) -> dict[str, str] | None:
    if top.get("data") is None:
        return None
    data = expect_object(top["data"], f"{what}: data")
    index = _int(data, "page_index", what)
    size = _int(data, "page_size", what)
    total = _int(data, "totle_hits", what)  # sic: the API's spelling
    if index is None or size is None or total is None or size <= 0:
        return None
    # an empty page ends paging even if the hit count says otherwise, so a lying count cannot loop
    if index * size < total and data.get("list"):
        return {"page_index": str(index + 1)}
    return None


def _int(obj: dict[str, Any], key: str, what: str) -> int | None:
    value = text_field(obj, (key,), what)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise SourceFormatError(f"{what}: {key!r} is {value!r}, expected an integer") from None
