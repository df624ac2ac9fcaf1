"""What a user pastes for an Eastmoney article (share link, article URL, infoCode, id) → its infoCode.

A share link is resolved by reading ``infoCode`` from its query; an article URL by
the ``/a/<id>.html`` (or ``<id>_<n>.html``) path; the host of a pasted URL is
never fetched, so a pasted link cannot steer the crawler to another server.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from crawler.sources.base import TargetError
from crawler.sources.eastmoney.codes import INFOCODE, normalize_code

ARTICLE_PATH_RE = re.compile(r"/a/(\d{18})(?:_\d+)?\.html?$")


def code_for(target: str) -> str:
    """The ``NW`` + 18-digit infoCode that *target* names; raise TargetError otherwise."""
    text = target.strip()
    code = normalize_code(text)
    if code is not None:
        return code
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise TargetError("not a share link, article URL, infoCode (NW + 18 digits) or 18-digit id")
    query = {k.lower(): v for k, v in parse_qs(parts.query).items()}
    for value in query.get("infocode", []):
        if INFOCODE.fullmatch(value.strip().upper()):
            return value.strip().upper()
    match = ARTICLE_PATH_RE.search(parts.path)
    if match:
        return f"NW{match.group(1)}"
    raise TargetError("URL names no article: expected ?infoCode=NW… or /a/<18-digit id>.html")
