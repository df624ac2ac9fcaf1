"""The five list kinds of SPEC 5.4 over the replay's articles, newest first.

Every article (and every fixture) is in every list, ordered by date then generation
index, newest first.  Paging:

* ``nodelist`` (``/web/webapi?type=45``): one page, the newest ``count`` entries (all when
  ``count`` is absent);
* ``records`` (``type=102``) and ``record`` (``marketType=…``): ``pageindex`` (from 1) and
  ``pagesize`` (default: the server's page size);
* ``fastnews``: entries with ``realSort`` strictly below ``sortEnd`` (empty: from the top),
  ``pageSize`` a page; ``data`` is null past the end;
* ``columns``: ``page_index`` (from 1) and ``page_size``; past the end ``list`` is empty.

``realSort`` is the Beijing-time epoch second times 10**6 plus the generation index, so it
is unique and falls with the list order.  Codes: ``infocode``/``infoCode`` carry the
``NW`` infoCode, fastnews and columns ``code`` the bare 18-digit id (as the real APIs do).
A ``callback=NAME`` parameter wraps any list as JSONP ``NAME({…})``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

KINDS = ("nodelist", "records", "record", "fastnews", "columns")
BEIJING = timezone(timedelta(hours=8))
CALLBACK = re.compile(r"[A-Za-z_$][\w$.]{0,63}")


class BadQuery(ValueError):
    """A list query parameter the replay cannot honour (answered with 400)."""


@dataclass(frozen=True)
class Entry:
    """What the lists say about one article."""

    code: str
    title: str
    date: str
    outlet: str
    digest: str
    seq: int  # generation index; fixtures count down from -1
    showtime: str | None = None  # what the lists show as its time when not *date* (fixtures' ``replay_list``)
    url: str | None = None  # what the lists show as its page URL when not the replay's own

    @property
    def id(self) -> str:
        return self.code[2:]

    @property
    def shown(self) -> str:
        """The time the lists show: *showtime* when set, else *date*."""
        return self.date if self.showtime is None else self.showtime

    @property
    def real_sort(self) -> int:
        when = datetime.strptime(self.date, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
        return int(when.timestamp()) * 10**6 + self.seq % 10**6


def order(entries: Sequence[Entry]) -> list[Entry]:
    """Newest first."""
    return sorted(entries, key=lambda e: (e.date, e.seq), reverse=True)


def kind_of(path: str, query: Mapping[str, str]) -> str | None:
    """The list kind a request path and query address, or None."""
    if path == "/web/webapi":
        if query.get("type") == "45":
            return "nodelist"
        if query.get("type") == "102":
            return "records"
        if "marketType" in query or "markettype" in query:
            return "record"
        return None
    return {"/comm/web/getFastNewsList": "fastnews", "/comm/web/getNewsByColumns": "columns"}.get(path)


def _int(query: Mapping[str, str], names: tuple[str, ...], default: int, low: int = 1) -> int:
    for name in names:
        raw = query.get(name, "")
        if raw == "":
            continue
        try:
            value = int(raw)
        except ValueError:
            raise BadQuery(f"{name}={raw!r} is not an integer") from None
        if value < low:
            raise BadQuery(f"{name}={value} is below {low}")
        return value
    return default


def render(kind: str, entries: Sequence[Entry], query: Mapping[str, str], base_url: str, page_size: int) -> Any:
    """The JSON value of one list response; *entries* newest first."""
    page_url = f"{base_url}/a/{{}}.html"
    if kind == "nodelist":
        count = _int(query, ("count",), len(entries), low=0)
        return {"nodeList": [
            {"title": e.title, "showtime": e.shown, "infocode": e.code, "from": e.outlet,
             "simtitle": e.title, "simdigest": e.digest} for e in entries[:count]]}
    if kind in ("records", "record"):
        index = _int(query, ("pageindex", "page_index"), 1)
        size = _int(query, ("pagesize", "page_size"), page_size)
        chunk = entries[(index - 1) * size: index * size]
        if kind == "records":
            return {"records": [
                {"infoCode": e.code, "id": e.id, "title": e.title, "digest": f"【{e.title}】{e.digest}",
                 "showtime": e.shown, "url_w": e.url or page_url.format(e.id)} for e in chunk]}
        return {"record": [
            {"title": e.title, "datetime": e.shown, "infoCode": e.code, "medianame": e.outlet,
             "url": e.url or page_url.format(e.id)} for e in chunk]}
    if kind == "fastnews":
        size = _int(query, ("pageSize", "pagesize"), page_size)
        end = _int(query, ("sortEnd",), 0, low=0)
        chunk = [e for e in entries if not end or e.real_sort < end][:size]
        if not chunk:
            return {"code": "1", "message": "success", "data": None}
        return {"code": "1", "message": "success", "data": {
            "sortEnd": str(chunk[-1].real_sort),
            "fastNewsList": [
                {"code": e.id, "title": e.title, "summary": f"【{e.title}】{e.digest}", "showTime": e.shown,
                 "realSort": str(e.real_sort), "image": [], "stockList": [], "pinglun_Num": 0, "share": 0}
                for e in chunk]}}
    if kind == "columns":
        index = _int(query, ("page_index",), 1)
        size = _int(query, ("page_size",), page_size)
        chunk = entries[(index - 1) * size: index * size]
        return {"code": "1", "message": "success", "data": {
            "page_index": index, "page_size": size, "totle_hits": len(entries),
            "list": [{"code": e.id, "showTime": e.shown, "title": e.title, "mediaName": e.outlet,
                      "summary": e.digest, "uniqueUrl": e.url or page_url.format(e.id), "url": e.url or page_url.format(e.id),
                      "image": ""} for e in chunk]}}
    raise ValueError(f"unknown list kind {kind!r}; expected one of {', '.join(KINDS)}")


def empty(kind: str, query: Mapping[str, str], page_size: int) -> Any:
    """A well-formed list response with no items (the ``empty`` fault)."""
    if kind == "fastnews":
        return {"code": "1", "message": "success", "data": None}
    if kind == "columns":
        return {"code": "1", "message": "success", "data": {
            "page_index": _int(query, ("page_index",), 1), "page_size": _int(query, ("page_size",), page_size),
            "totle_hits": 0, "list": []}}
    return {{"nodelist": "nodeList"}.get(kind, kind): []}


def callback(query: Mapping[str, str]) -> str | None:
    """The JSONP callback name, None when absent; BadQuery when it is not a plain name."""
    name = query.get("callback")
    if not name:
        return None
    if not CALLBACK.fullmatch(name):
        raise BadQuery(f"callback={name!r} is not a JavaScript name")
    return name
