"""What the database already says about listed articles, for the spiders.

``stored_meta`` is the incremental check of ``crawl``: the list fields each code
was stored with.  ``list_hints`` gives ``fetch`` what the crawl used: an article
fetched by hand that a list named keeps that list's title, time, outlet, category
and tag (the list wins over the API and the page, SPEC §5.4), so fetching a
crawled article that did not change reports ``unchanged``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, select

from pipelines.models import aliases, articles, quarantine


def stored_meta(conn: Connection, source: str, codes: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Stored list metadata, by list URL, of those *codes* that are in the database.

    Aliases (codes stored as duplicates of another article) count with their own
    list metadata.  Quarantined codes count as stored with unchanged metadata:
    refetching an unpublishable article every few minutes would fail every run;
    ``finews fetch CODE`` retries one by hand.
    """
    if not codes:
        return {}
    codes = list(codes)
    stored = select(articles.c.code, articles.c.list_meta).where((articles.c.source == source) & articles.c.code.in_(codes))
    alias = select(aliases.c.code, aliases.c.list_meta).where((aliases.c.source == source) & aliases.c.code.in_(codes))
    held = select(quarantine.c.code).where((quarantine.c.source == source) & quarantine.c.code.in_(codes))
    found = {row.code: json.loads(row.list_meta or "{}") for row in conn.execute(stored)}
    found.update({row.code: json.loads(row.list_meta or "{}") for row in conn.execute(alias)})
    found.update({row.code: {} for row in conn.execute(held)})
    return found


def list_hints(
    conn: Connection, source: str, codes: Sequence[str], lists: Sequence[Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The hints a crawl gave each stored code of *codes*, from the list that named it.

    *lists* are the configured lists (``FINEWS_LISTS``); a list no longer
    configured still gives its fields, without a category or tag.
    """
    by_url = {lst["url"]: lst for lst in lists}
    hints = {}
    for code, meta_by_url in stored_meta(conn, source, codes).items():
        if not meta_by_url:
            continue
        url, meta = next(iter(meta_by_url.items()))
        lst = by_url.get(url, {})
        hints[code] = {
            "title": meta.get("title"),
            "date": meta.get("showtime"),
            "outlet": meta.get("outlet"),
            "category": lst.get("category"),
            "tag": lst.get("tag"),
            "list_meta": {url: meta},
        }
    return hints
