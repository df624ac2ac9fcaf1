"""What every source module shares: the format error, the parser contract, JSON field helpers.

A source module (``crawler.sources.<name>``) exposes pure parsing functions and a
``PARSERS`` table; see :class:`Source`.  Parsers never fetch, log or guess: they
return what the payload says, ``None`` for a documented "nothing here", and raise
:class:`SourceFormatError` for a payload that does not have the documented shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Protocol

#: Uniform adapter over a source's parsers: (raw payload, URL it was fetched from) -> result.
#: Results are dataclasses, strings or None; the golden tests serialise them to JSON.
Parser = Callable[[bytes, str], object]


class Source(Protocol):
    """A source module: its registry name and its parsers by fixture-folder name."""

    NAME: str
    PARSERS: Mapping[str, Parser]


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
