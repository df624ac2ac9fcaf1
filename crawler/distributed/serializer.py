"""Requests as JSON for the Redis queue: scrapy-redis's ``SCHEDULER_SERIALIZER``.

scrapy-redis stores each request as whatever this module's ``dumps`` makes of
Scrapy's ``Request.to_dict()``, and rebuilds it from ``loads``.  Its default is
pickle, which runs code named by whoever can write to Redis; here a payload is
JSON text and nothing else.  JSON lacks some of what a request holds, so a few
values travel tagged:

* ``{"$bytes": base64}`` for bytes (the body, headers);
* ``{"$tuple": [...]}`` and ``{"$datetime": iso}``;
* ``{"$pairs": [[k, v], ...]}`` for a dict whose keys are not all plain
  strings (headers are keyed by bytes), or that would read as a tag;
* ``{"$type": name, "fields": {...}}`` for a dataclass a fetch step's state
  holds, rebuilt only when *name* is registered with
  :func:`crawler.sources.fetching.wire_type`; any other name is refused.

``loads`` raises :class:`RejectedPayload` for anything else (not UTF-8, not
JSON, an unknown tag or type): the queue (crawler/distributed/queue.py) keeps the
payload aside and never turns it into a request.  ``dumps`` raises ``TypeError``
for a value it cannot represent: a bug, found on the first request.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import datetime
from typing import Any

from crawler.sources.fetching import WIRE_TYPES

TAGS = ("$bytes", "$tuple", "$datetime", "$pairs", "$type")


class RejectedPayload(ValueError):
    """A queue entry that is not a request this module wrote."""


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v) for v in value]}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and not any(k in TAGS for k in value):
            return {k: _encode(v) for k, v in value.items()}
        return {"$pairs": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = f"{type(value).__module__}.{type(value).__qualname__}"
        if WIRE_TYPES.get(name) is not type(value):
            raise TypeError(f"{name} is not registered with wire_type: it cannot cross the queue")
        fields = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$type": name, "fields": fields}
    raise TypeError(f"a {type(value).__name__} cannot cross the queue as JSON")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    tag = next((t for t in TAGS if t in value), None)
    if tag is None:
        return {k: _decode(v) for k, v in value.items()}
    try:
        if tag == "$bytes":
            return base64.b64decode(value["$bytes"], validate=True)
        if tag == "$tuple":
            return tuple(_decode(v) for v in value["$tuple"])
        if tag == "$datetime":
            return datetime.fromisoformat(value["$datetime"])
        if tag == "$pairs":
            return {_decode(k): _decode(v) for k, v in value["$pairs"]}
        cls = WIRE_TYPES.get(value["$type"])
        if cls is None:
            raise RejectedPayload(f"unknown type {value['$type']!r}")
        return cls(**{k: _decode(v) for k, v in value["fields"].items()})
    except RejectedPayload:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise RejectedPayload(f"malformed {tag} value: {exc}") from None


def dumps(obj: dict[str, Any]) -> str:
    """The JSON text of a request's ``to_dict()``."""
    return json.dumps(_encode(obj), ensure_ascii=False, separators=(",", ":"))


def loads(payload: bytes | str) -> dict[str, Any]:
    """The request dict *payload* holds; RejectedPayload when it is not one this module wrote."""
    try:
        text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
        data = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RejectedPayload(f"not JSON ({exc.__class__.__name__})") from None
    decoded = _decode(data)
    if not isinstance(decoded, dict) or not isinstance(decoded.get("url"), str):
        raise RejectedPayload("not a request: no url")
    return decoded
