"""What every source shares: the :class:`Source` interface, list pages, the format error, JSON helpers.

A source is one package ``crawler/sources/<name>/`` whose ``SOURCE`` attribute is a
:class:`Source` subclass.  Everything the runtime knows about a source it asks that
class: its ``sources.<name>`` settings block, target forms, code format, share
link, hosts, list kinds and list parsing, fetch strategy (:mod:`crawler.sources.fetching`)
and cleaning noise rules.  Nothing outside the source's folder names it.

Parsers never fetch, log or guess: they return what the payload says, ``None`` for
a documented "nothing here", and raise :class:`SourceFormatError` for a payload
that does not have the documented shape.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from crawler.config_values import ConfigError, ListConfig, check_lists, check_template, unknown_keys

if TYPE_CHECKING:
    from crawler.sources.fetching import FetchStrategy
    from crawler.sources.noise import NoiseRules

#: Uniform adapter over a source's parsers: (raw payload, URL it was fetched from) -> result.
#: Results are dataclasses, strings or None; the golden tests serialise them to JSON.
Parser = Callable[[bytes, str], object]


class TargetError(ValueError):
    """A target that names no article of the source; the message says what was expected."""


@dataclass(frozen=True)
class ListEntry:
    """One article as a list shows it."""

    code: str  # the source's article code, normalised
    title: str | None
    showtime: str | None  # "YYYY-MM-DD HH:MM:SS" exactly as given
    outlet: str | None
    summary: str | None
    url: str | None


@dataclass(frozen=True)
class ListPage:
    entries: tuple[ListEntry, ...]
    next_cursor: dict[str, str] | None  # query parameters of the next page, None at the end


class Source(ABC):
    """One news source, configured from its ``sources.<name>`` block of settings.yaml.

    Class attributes describe the source; an instance holds its settings.  The
    block always has ``share_link`` (a template with ``{code}`` or ``{id}``),
    ``lists`` and ``enabled`` (false: neither crawled nor fetched, but its stored
    articles are still published); ``TEMPLATES`` names the source's own URL
    templates, each with the placeholder it must contain.
    """

    NAME: ClassVar[str]
    DEFAULTS: ClassVar[Mapping[str, Any]]  # the settings block; every key the block may name
    TEMPLATES: ClassVar[Mapping[str, str]]  # URL template keys of the block -> required placeholder
    LIST_KINDS: ClassVar[tuple[str, ...]]
    PARSERS: ClassVar[Mapping[str, Parser]]  # golden-fixture folder -> parser
    CODE_PATTERN: ClassVar[str]  # regular expression of a normalised code (post file names)
    NOISE: ClassVar[NoiseRules]

    def __init__(self, templates: Mapping[str, str], lists: tuple[ListConfig, ...], *, enabled: bool = True) -> None:
        self.templates = dict(templates)
        self.lists = lists
        self.enabled = enabled

    @classmethod
    def configure(cls, block: Mapping[str, Any], *, max_pages: int, where: str) -> Source:
        """The source configured by its merged settings *block*; ConfigError names a bad key."""
        key = f"sources.{cls.NAME}"
        unknown_keys(block, {*cls.DEFAULTS, "module", "enabled"}, key, where)
        templates = {name: check_template(block[name], f"{key}.{name}", placeholder, where) for name, placeholder in cls.TEMPLATES.items()}
        enabled = block.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(f"{where}: {key}.enabled must be true or false, got {enabled!r}")
        lists = check_lists(block["lists"], f"{key}.lists", cls.NAME, cls.LIST_KINDS, max_pages, where)
        return cls(templates, lists, enabled=enabled)

    # --- codes and targets ------------------------------------------------------
    @classmethod
    @abstractmethod
    def normalize_code(cls, value: object) -> str | None:
        """The normalised code of *value* (a code in any accepted spelling), else None."""

    @classmethod
    def is_code(cls, code: str) -> bool:
        """Whether *code* is a normalised code of this source."""
        return re.fullmatch(cls.CODE_PATTERN, code) is not None

    @classmethod
    @abstractmethod
    def article_id(cls, code: str) -> str:
        """The ``{id}`` form of *code* in URL templates."""

    @abstractmethod
    def code_for(self, target: str) -> str:
        """The code *target* (a URL or a code as a user pastes it) names; TargetError otherwise.

        Only the target's text is read: a pasted URL's host is never fetched.
        """

    # --- URLs -------------------------------------------------------------------
    def url(self, template: str, code: str) -> str:
        """The URL of template *template* (``share_link`` or a ``TEMPLATES`` key) for *code*."""
        return self.templates[template].format(code=code, id=self.article_id(code))

    def share_link(self, code: str) -> str:
        return self.url("share_link", code)

    def hosts(self) -> frozenset[str]:
        """Every host (with port) the source's requests go to: the only hosts the crawler fetches."""
        urls = [self.templates[name] for name in self.TEMPLATES if name != "share_link"] + [lst.url for lst in self.lists]
        return frozenset(urlsplit(u).netloc.lower() for u in urls)

    # --- lists and articles -----------------------------------------------------
    @abstractmethod
    def parse_list(self, kind: str, payload: bytes) -> ListPage:
        """One page of a list of *kind*; SourceFormatError for a payload of the wrong shape."""

    @abstractmethod
    def next_page_url(self, url: str, cursor: dict[str, str]) -> str:
        """The URL of the list page after *url*, from its ``next_cursor``."""

    @abstractmethod
    def fetching(self) -> FetchStrategy:
        """The fetch strategy: which requests get one article, in which order, what falls back to what."""


class SourceFormatError(ValueError):
    """A response that does not have the documented shape; the message is one line."""


def decode_utf8(payload: str | bytes, what: str) -> str:
    """Return *payload* as text; bytes must be strict UTF-8 (a leading BOM is dropped)."""
    if isinstance(payload, str):
        return payload
    try:
        return payload.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SourceFormatError(f"{what}: body is not valid UTF-8") from None


def load_json(text: str, what: str) -> Any:
    """Parse *text* as JSON, turning a decode error into a one-line SourceFormatError."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceFormatError(
            f"{what}: malformed JSON at line {exc.lineno} column {exc.colno} ({exc.msg})"
        ) from None


def lower_keys(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Copy a JSON object with lower-cased keys; on a case clash the first non-null value wins."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        low = key.lower()
        if out.get(low) is None:
            out[low] = value
    return out


def expect_object(value: Any, what: str) -> dict[str, Any]:
    """Return *value* with lower-cased keys, or raise if it is not a JSON object."""
    if not isinstance(value, dict):
        raise SourceFormatError(f"{what}: expected a JSON object, got {json_type(value)}")
    return lower_keys(value)


def text_field(obj: Mapping[str, Any], keys: tuple[str, ...], what: str) -> str | None:
    """First non-blank value among *keys* (lower-case) as stripped text; numbers become text."""
    for key in keys:
        value = obj.get(key)
        if value is None:
            continue
        # bool is an int subclass, and True is never a title or a date
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise SourceFormatError(f"{what}: field {key!r} is {json_type(value)}, expected a string")
        if value.strip():
            return value.strip()
    return None


def json_type(value: Any) -> str:
    """The JSON name of a decoded value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
