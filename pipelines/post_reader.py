"""Read one post file in the post format (SPEC §6) back into what a fetch would have delivered.

``read_post(text, name, sources, overrides)`` is a pure function of a post's text and
file name: it returns a :class:`PostFile` (the article's source and code, title,
Beijing-time date, outlet, list-level category and tag, raw body, share link) or
raises :class:`PostError` with the one-line reason the post cannot be imported.
``finews import`` (crawler/cli/importer.py, pipelines/importer.py) turns a
``PostFile`` into an ``ArticleItem`` that goes through the same stages as a fetched
article, so its body is cleaned as a fetched body is.

It reads finews's own posts and the original system's:

- **Code**: from the file name ``<YYYY-MM-DD>-<code>.md`` in any spelling a source
  accepts (the original named rolling news by the bare 18-digit id, the others by the
  infoCode), else from the share link in the footer (``Source.code_for``).
- **Front matter**: YAML, read with the base loader so every value stays the text it
  is (``1,000`` or ``yes`` as a title is that string).  ``date`` is ``YYYY-MM-DD
  HH:MM[:SS] [±HHMM]``; another offset than +0800 is converted to Beijing time.
- **Outlet, category, tag**: a tag ``<outlet>新闻`` whose outlet's category rule
  (``post.outlet_slug``) gives the post's category is the outlet's own category: the
  outlet is the tag without ``新闻`` and the category is left to the rule, as for a
  fetched article.  Any other tag (the rolling news' ``东财滚动新闻`` with category
  ``emnews``) is a list-level category and tag, kept as they are; the outlet then comes
  from the body's ``（文章来源：X）`` line, else from the digest's closing ``（X）``.
- **Body**: everything between the front matter and the footer (the ``<share link>``
  line and the ``[返回…]`` back-links line, which the post stage writes afresh).  The
  digest the original put at the top of its rolling-news posts (``> …`` lines, Markdown)
  becomes a ``<blockquote>`` of its text, HTML-escaped, before the body.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

import yaml

from crawler.items import BEIJING
from crawler.sources import TargetError
from pipelines.post import clean_text, outlet_slug

if TYPE_CHECKING:
    from crawler.sources import Source

_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)  # libyaml when built with it: ~10x faster
_NAME = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})-(.+)\.(?:md|markdown|html)$")
_FRONT = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.DOTALL)
_DATE = re.compile(
    r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?)?"
    r"\s*(?P<z>Z|[+-]\d{2}:?\d{2})?"
)
_SHARE_LINE = re.compile(r"^<(https?://[^\s<>]+)>$")
_TAGS = re.compile(r"<[^>]*>")
_SOURCE_LINE = re.compile(r"文章来源\s*[:：]\s*([^）)]+?)\s*[）)]")
_DIGEST_OUTLET = re.compile(r"[（(]([^（）()]{1,30})[）)]\s*$")
OUTLET_TAG = "新闻"  # the tag the post stage writes for an outlet: "<outlet>新闻"


class PostError(ValueError):
    """A post that cannot be imported; ``source`` and ``code`` are set when the file named them."""

    def __init__(self, reason: str, *, source: str | None = None, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.source = source
        self.code = code


@dataclass(frozen=True)
class PostFile:
    """What one post file says, as the fields of a fetched article."""

    source: str
    code: str  # the source's normalised code
    named_code: str | None  # the code as the file name spells it (a bare id, say); None when it names none
    title: str
    date: str  # "YYYY-MM-DD HH:MM:SS", Beijing time
    outlet: str | None
    category: str | None  # a list-level category, used as is; None: the outlet's category rule decides
    tag: str | None  # a list-level tag; None: "<outlet>新闻"
    body: str  # the body HTML as the post holds it, the digest as a leading <blockquote>
    share_link: str | None

    def list_meta(self) -> dict[str, str]:
        """The list fields a crawl compares (crawler/spiders/crawl.py ``list_meta``), as the post gives them."""
        meta = {"title": self.title, "showtime": self.date, "outlet": self.outlet or ""}
        return {k: v for k, v in meta.items() if v}


def code_in_name(name: str, sources: Mapping[str, Source]) -> tuple[str, str, str] | None:
    """(source, code, code as spelled) of a post file name ``<date>-<code>.md``, or None when it names no code."""
    match = _NAME.match(name)
    if match is None:
        return None
    spelled = match.group(2)
    for source_name, source in sources.items():
        code = source.normalize_code(spelled)
        if code is not None:
            return source_name, code, spelled
    return None


def read_post(text: str, name: str, sources: Mapping[str, Source], overrides: Mapping[str, str]) -> PostFile:
    """The post *text* of the file called *name*; raises :class:`PostError` with the reason it cannot be imported.

    *sources* are the configured sources (codes and share links), *overrides* the
    settings' ``categories`` (which category an outlet's tag stands for).
    """
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    named = code_in_name(name, sources)
    source, code = (named[0], named[1]) if named else (None, None)
    front = _FRONT.match(text)
    if front is None:
        raise PostError("no front matter (the file must start with a --- line and close it with another)", source=source, code=code)
    try:
        meta = yaml.load(front.group(1) or "", Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise PostError(f"unparsable front matter: {_one_line(exc)}", source=source, code=code) from None
    if not isinstance(meta, dict):
        raise PostError("unparsable front matter: not a mapping of keys to values", source=source, code=code)
    body, share_link = split_footer(text[front.end():])
    if named is None and share_link is not None:
        found = code_in_link(share_link, sources)
        if found is not None:
            source, code = found
    if source is None or code is None:
        raise PostError("no article code in the file name (<YYYY-MM-DD>-<code>.md) or the share link")
    title = clean_text(_scalar(meta.get("title"), "title", source, code))
    if not title:
        raise PostError("no title", source=source, code=code)
    date = beijing_date(_scalar(meta.get("date"), "date", source, code), source, code)
    slug = _scalar(meta.get("categories"), "categories", source, code).strip()
    tag = clean_text(_scalar(meta.get("tags"), "tags", source, code))
    body, digest = split_digest(body)
    outlet: str | None
    category: str | None
    if tag.endswith(OUTLET_TAG) and len(tag) > len(OUTLET_TAG) and (
        not slug or outlet_slug(tag[: -len(OUTLET_TAG)], overrides) == slug
    ):
        outlet, category, list_tag = tag[: -len(OUTLET_TAG)], None, None
    else:
        outlet, category, list_tag = outlet_of(body, digest), slug or None, tag or None
    if digest:
        body = f"<blockquote>{html.escape(digest, quote=False)}</blockquote>\n{body}"
    return PostFile(
        source=source, code=code, named_code=named[2] if named else None, title=title, date=date, outlet=outlet,
        category=category, tag=list_tag, body=body, share_link=share_link,
    )


def split_footer(rest: str) -> tuple[str, str | None]:
    """(body, share link) of the text after the front matter: the back-links and share-link lines go."""
    lines = rest.rstrip().split("\n")
    if lines and lines[-1].startswith("[返回"):
        lines.pop()
        while lines and not lines[-1].strip():
            lines.pop()
    share_link = None
    if lines:
        match = _SHARE_LINE.match(lines[-1].strip())
        if match:
            share_link = match.group(1)
            lines.pop()
    return "\n".join(lines).strip(), share_link


def split_digest(body: str) -> tuple[str, str]:
    """(body, digest): the leading Markdown blockquote (``> …`` lines) as one line of text, and the rest."""
    lines = body.split("\n")
    quoted: list[str] = []
    while lines and lines[0].startswith(">"):
        quoted.append(lines.pop(0)[1:].strip())
    if not quoted:
        return body, ""
    return "\n".join(lines).strip(), " ".join(q for q in quoted if q)


def outlet_of(body: str, digest: str) -> str | None:
    """The outlet a body names in its ``（文章来源：X）`` line, else the one closing the digest ``…（X）``."""
    found = _SOURCE_LINE.findall(_TAGS.sub("", body))
    if found:
        return clean_text(html.unescape(found[-1])) or None
    match = _DIGEST_OUTLET.search(digest)
    return clean_text(match.group(1)) or None if match else None


def code_in_link(link: str, sources: Mapping[str, Source]) -> tuple[str, str] | None:
    """(source, code) a share link or article URL names, by the sources' target forms."""
    for source_name, source in sources.items():
        try:
            return source_name, source.code_for(link)
        except TargetError:
            continue
    return None


def beijing_date(value: str, source: str, code: str) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in Beijing time of a front-matter date; PostError when it names none."""
    text = value.strip()
    match = _DATE.fullmatch(text)
    if not text or (match is None and re.fullmatch(r"[+-]\d{2}:?\d{2}", text)):
        raise PostError("no date", source=source, code=code)  # the original wrote "date:  +0800" for a missing one
    if match is None:
        raise PostError(f"unparsable date {text!r}", source=source, code=code)
    g = match.groupdict()
    zone = g["z"] or "+0800"
    offset = BEIJING if zone == "+0800" else _zone(zone)
    try:
        when = datetime(int(g["y"]), int(g["m"]), int(g["d"]), int(g["H"] or 0), int(g["M"] or 0), int(g["S"] or 0), tzinfo=offset)
    except ValueError:
        raise PostError(f"unparsable date {text!r}", source=source, code=code) from None
    return f"{when.astimezone(BEIJING):%Y-%m-%d %H:%M:%S}"


def _zone(zone: str) -> timezone:
    if zone == "Z":
        return UTC
    digits = zone[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:])
    return timezone(timedelta(minutes=minutes if zone[0] == "+" else -minutes))


def _scalar(value: object, key: str, source: str, code: str) -> str:
    """A front-matter value as text: a one-item list (``[x]``) is its item, a missing key is ""."""
    if value is None:
        return ""
    if isinstance(value, list) and len(value) <= 1:
        value = value[0] if value else ""
    if not isinstance(value, str):
        raise PostError(f"front matter {key!r} must be one value, got {type(value).__name__}", source=source, code=code)
    return value


def _one_line(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{problem} at line {mark.line + 1}" if mark is not None else problem
