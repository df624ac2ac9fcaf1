"""Turn what a user pastes (share link, article URL, infoCode, id) into an infoCode.

A share link is resolved by reading ``infoCode`` from its query; an article URL by
the ``/a/<id>.html`` (or ``<id>_<n>.html``) path; the host of a pasted URL is
never fetched, so a pasted link cannot steer the crawler to another server.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

CODE_RE = re.compile(r"^NW\d{18}$")
ID_RE = re.compile(r"^\d{18}$")
ARTICLE_PATH_RE = re.compile(r"/a/(\d{18})(?:_\d+)?\.html?$")


class TargetError(ValueError):
    """The target is neither a share link, an article URL, an infoCode nor an id."""


def code_for(target: str) -> str:
    """The ``NW`` + 18-digit infoCode that *target* names; raise TargetError otherwise."""
    text = target.strip()
    if CODE_RE.match(text.upper()):
        return text.upper()
    if ID_RE.match(text):
        return "NW" + text
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise TargetError("not a share link, article URL, infoCode (NW + 18 digits) or 18-digit id")
    query = {k.lower(): v for k, v in parse_qs(parts.query).items()}
    for value in query.get("infocode", []):
        if CODE_RE.match(value.strip().upper()):
            return value.strip().upper()
    match = ARTICLE_PATH_RE.search(parts.path)
    if match:
        return "NW" + match.group(1)
    raise TargetError("URL names no article: expected ?infoCode=NW… or /a/<18-digit id>.html")


def report_key(target: str) -> str:
    """The key a target's result is reported under: its code, or the target itself when it names none."""
    try:
        return code_for(target)
    except TargetError:
        return target
