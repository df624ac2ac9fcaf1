"""Eastmoney content API (SPEC 5.1): ``GetNewsText.do?id=NW…`` JSON -> :class:`ApiArticle`.

Contract of :func:`parse_content_api`:

* keys are read case-insensitively; blank strings become None;
* returns None when the API "has no body": an empty or whitespace payload, ``null``,
  ``{}``, or an object with neither a title nor a body;
* raises :class:`SourceFormatError` for bytes that are not UTF-8, malformed JSON, a
  top-level value that is not an object, or a field of the wrong JSON type;
* the body is ``text`` when it is non-blank, else ``content``, returned unchanged:
  cleaning is a later stage;
* strings are returned as JSON decodes them, so an invalid escape such as ``"\\ud800"``
  yields a lone surrogate; the validate stage quarantines such an article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from parsel import Selector

from crawler.sources.base import (
    SourceFormatError,
    decode_utf8,
    expect_object,
    json_type,
    load_json,
    text_field,
)
from crawler.sources.eastmoney.codes import normalize_code
from crawler.sources.eastmoney.text import split_names, squash
from crawler.sources.fetching import wire_type

WHAT = "content API"

# The outlet line's parentheses are full-width in practice; ASCII ones are tolerated.
_MEDIA_LINE = re.compile(r"[（(]?\s*文章来源\s*[：:]\s*([^\s（()）].*?)\s*[）)]?\s*$")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@wire_type
@dataclass(frozen=True)
class ApiArticle:
    code: str | None  # Id: NW + 18 digits (normalised; kept as given when it is not a code)
    title: str | None
    date: str | None  # "YYYY-MM-DD HH:MM:SS", Beijing time, as given
    outlet: str | None  # medianame, else From, else the body's （文章来源：X） line
    authors: tuple[str, ...]
    url: str | None  # article page URL
    body_html: str | None  # raw body HTML from `style`
    style: str | None  # "text" or "content": the field the body came from


def parse_content_api(payload: str | bytes) -> ApiArticle | None:
    """Parse one content API response; None when the API has no body for the code."""
    text = decode_utf8(payload, WHAT)
    if not text.strip():
        return None
    decoded = load_json(text, WHAT)
    if decoded is None:
        return None
    obj = expect_object(decoded, WHAT)

    style, body = _body(obj)
    title = text_field(obj, ("title",), WHAT)
    if title is None and body is None:
        return None

    raw_id = text_field(obj, ("id",), WHAT)
    return ApiArticle(
        code=normalize_code(raw_id) or raw_id,
        title=title,
        date=text_field(obj, ("date",), WHAT),
        outlet=text_field(obj, ("medianame", "from"), WHAT) or media_line_outlet(body),
        authors=_authors(obj.get("author")),
        url=text_field(obj, ("url",), WHAT),
        body_html=body,
        style=style,
    )


def media_line_outlet(body_html: str | None) -> str | None:
    """The X of the body's last ``p.em_media`` line ``（文章来源：X）``, read from its text."""
    if not body_html:
        return None
    # lxml takes UTF-8 only; a lone surrogate is read as U+FFFD here (the article is
    # quarantined for it later) instead of failing the whole response
    readable = _LONE_SURROGATE.sub("\ufffd", body_html)
    # the keyword linker wraps parts of X in spans and links, so the text is joined first
    lines = Selector(text=readable).css(".em_media")
    if not lines:
        return None
    joined = squash("".join(lines[-1].xpath(".//text()").getall()))
    match = _MEDIA_LINE.search(joined)
    return match.group(1) if match else None


def _body(obj: dict[str, Any]) -> tuple[str | None, str | None]:
    """(style, raw body): `text` when non-blank, else `content`; whitespace is kept."""
    for field in ("text", "content"):
        value = obj.get(field)
        if value is None:
            continue
        if not isinstance(value, str):
            raise SourceFormatError(f"{WHAT}: field {field!r} is {json_type(value)}, expected a string")
        if value.strip():
            return field, value
    return None, None


def _authors(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return split_names(value)
    if not isinstance(value, list):
        raise SourceFormatError(f"{WHAT}: field 'author' is {json_type(value)}, expected an array of strings")
    names: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise SourceFormatError(f"{WHAT}: field 'author' holds {json_type(item)}, expected strings")
        names.extend(split_names(item))
    return tuple(dict.fromkeys(names))
