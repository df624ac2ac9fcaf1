"""Faults the replay injects (SPEC 5.5, RELIABILITY section 4): what, where, how often.

Text syntax, entries separated by ``;`` or newlines::

    ENDPOINT:TARGET=KIND[:ARG][xTIMES]

* ENDPOINT: ``api``, ``page``, ``share``, ``list``, ``other`` or ``*`` (any);
* TARGET: ``*``, or for api/page/share an infoCode (``NW…``) or the 18-digit id, for
  ``list`` a list kind (``nodelist``, ``records``, ``record``, ``fastnews``, ``columns``),
  for ``other`` a path (``/robots.txt``);
* KIND and ARG: see :data:`KINDS`;
* ``xTIMES``: the fault hits only the first TIMES requests of each URL, then the URL
  answers normally; without it the fault is permanent.

Example: ``api:NW202401022200000000=malformed_json;page:*=status:503x2;api:*=retry_after:1x1``.
The first fault (in the order given) that matches a request and still has hits left wins.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

ENDPOINTS = ("api", "page", "share", "list", "other", "*")
LIST_KINDS = ("nodelist", "records", "record", "fastnews", "columns")

# kind -> (argument: "required" | "optional" | "none", type, lowest, highest, meaning)
KINDS: dict[str, tuple[str, type, float, float, str]] = {
    "status": ("required", int, 200, 599, "answer with this HTTP status"),
    "retry_after": ("required", int, 0, 86400, "answer 429 with Retry-After: ARG seconds"),
    "timeout": ("optional", float, 0.001, 3600, "never answer; close after ARG s or when the server stops"),
    "hang_after_headers": ("optional", float, 0.001, 3600, "send the headers, then hang like timeout"),
    "slow": ("required", float, 0.001, 3600, "answer normally after ARG seconds"),
    "truncate": ("optional", int, 0, 2**31, "declare the full Content-Length, send ARG bytes (default half; never all), close"),
    "truncate_nolength": ("optional", int, 0, 2**31, "no Content-Length, send ARG bytes (default half; never all), close"),
    "drop": ("none", int, 0, 0, "close the connection without answering"),
    "malformed_json": ("none", int, 0, 0, "200 with the body cut after two thirds of its characters"),
    "wrong_charset": ("none", int, 0, 0, "GBK bytes declared charset=utf-8"),
    "gbk_undeclared": ("none", int, 0, 0, "GBK bytes with no charset in header or page"),
    "empty": ("none", int, 0, 0, "well-formed but empty: API text/content '', page without body, list without items"),
    "empty_body": ("none", int, 0, 0, "200 with a zero-length body"),
    "null_body": ("none", int, 0, 0, "200 with the JSON body null"),
    "huge": ("required", int, 1, 4096, "the normal body padded with spaces to ARG MiB"),
    "huge_chunked": ("required", int, 1, 4096, "like huge, chunked, without Content-Length"),
    "gzip_bomb": ("required", int, 1, 4096, "Content-Encoding: gzip, ARG MiB once decompressed"),
}
_BY_LENGTH = sorted(KINDS, key=len, reverse=True)
_ENTRY = re.compile(r"(?P<endpoint>[^:=\s]+):(?P<target>[^=\s]+)=(?P<spec>\S+)")
_REST = re.compile(r"(?::(?P<arg>\d+(?:\.\d+)?))?(?:x(?P<times>\d+))?")
_CODE = re.compile(r"(?:NW)?(\d{18})")
SYNTAX = "ENDPOINT:TARGET=KIND[:ARG][xTIMES]"


@dataclass(frozen=True)
class Fault:
    """One injected fault; ``times=None`` means every request, else the first *times* per URL."""

    endpoint: str  # api | page | share | list | other | *
    target: str  # "*", an infoCode (bare ids are normalised to NW…), a list kind or a path
    kind: str
    arg: float | None = None
    times: int | None = None

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem:
            raise ValueError(f"bad fault {self}: {problem}")
        if self.endpoint in ("api", "page", "share") and (m := _CODE.fullmatch(self.target)):
            object.__setattr__(self, "target", f"NW{m.group(1)}")

    def _problem(self) -> str | None:
        if self.endpoint not in ENDPOINTS:
            return f"unknown endpoint {self.endpoint!r} (expected one of {', '.join(ENDPOINTS)})"
        if self.kind not in KINDS:
            return f"unknown kind {self.kind!r} (expected one of {', '.join(KINDS)})"
        if self.target != "*":
            if self.endpoint == "*":
                return "endpoint * takes only target *"
            if self.endpoint == "list" and self.target not in LIST_KINDS:
                return f"unknown list kind {self.target!r} (expected * or one of {', '.join(LIST_KINDS)})"
            if self.endpoint == "other" and not self.target.startswith("/"):
                return f"target {self.target!r} of endpoint other must be a path starting with /"
            if self.endpoint in ("api", "page", "share") and not re.fullmatch(r"[\w.-]+", self.target):
                return f"target {self.target!r} is not an infoCode, an id or *"
        need, kind_type, low, high, _ = KINDS[self.kind]
        if self.arg is None and need == "required":
            return f"{self.kind} needs an argument, e.g. {self.kind}:{int(max(low, 1) if kind_type is int else 1)}"
        if self.arg is not None:
            if need == "none":
                return f"{self.kind} takes no argument"
            if kind_type is int and self.arg != int(self.arg):
                return f"{self.kind} needs a whole number, not {self.arg}"
            if not low <= self.arg <= high:
                return f"{self.kind} argument {self.arg:g} is outside {low:g}..{high:g}"
        if self.times is not None and self.times < 1:
            return f"times must be at least 1, not {self.times}"
        return None

    def matches(self, endpoint: str, target: str) -> bool:
        return self.endpoint in ("*", endpoint) and self.target in ("*", target)

    def __str__(self) -> str:
        arg = "" if self.arg is None else f":{self.arg:g}"
        times = "" if self.times is None else f"x{self.times}"
        return f"{self.endpoint}:{self.target}={self.kind}{arg}{times}"


def parse_faults(text: str) -> tuple[Fault, ...]:
    """Parse the text syntax; ValueError with a one-line message naming the bad entry."""
    faults = []
    for entry in (e.strip() for e in re.split(r"[;\n]", text)):
        if entry:
            faults.append(_parse_entry(entry))
    return tuple(faults)


def _parse_entry(entry: str) -> Fault:
    match = _ENTRY.fullmatch(entry)
    if match is None:
        raise ValueError(f"bad fault {entry!r}: expected {SYNTAX}, e.g. page:*=status:503x2")
    spec = match["spec"]
    kind = next((k for k in _BY_LENGTH if spec.startswith(k)), None)
    if kind is None:
        raise ValueError(f"bad fault {entry!r}: unknown kind in {spec!r} (expected one of {', '.join(KINDS)})")
    rest = _REST.fullmatch(spec[len(kind):])
    if rest is None:
        raise ValueError(f"bad fault {entry!r}: cannot read {spec[len(kind):]!r} after {kind}; expected [:ARG][xTIMES]")
    try:
        return Fault(
            endpoint=match["endpoint"], target=match["target"], kind=kind,
            arg=float(rest["arg"]) if rest["arg"] else None,
            times=int(rest["times"]) if rest["times"] else None,
        )
    except ValueError as exc:
        raise ValueError(f"bad fault {entry!r}: {str(exc).split(': ', 1)[-1]}") from None


def coerce_faults(faults: str | Sequence[Fault]) -> tuple[Fault, ...]:
    """Faults from the text syntax or a sequence of :class:`Fault`."""
    if isinstance(faults, str):
        return parse_faults(faults)
    for fault in faults:
        if not isinstance(fault, Fault):
            raise TypeError(f"faults must be a string or Fault objects, got {fault!r}")
    return tuple(faults)


class FaultBook:
    """Thread-safe choice of the fault for a request, counting hits per fault and URL."""

    def __init__(self, faults: Sequence[Fault]) -> None:
        self.faults = tuple(faults)
        self._hits: dict[tuple[int, str], int] = {}
        self._lock = threading.Lock()

    def pick(self, endpoint: str, target: str, url: str) -> Fault | None:
        with self._lock:
            for n, fault in enumerate(self.faults):
                if not fault.matches(endpoint, target):
                    continue
                if fault.times is None:
                    return fault
                hits = self._hits.get((n, url), 0)
                if hits < fault.times:
                    self._hits[(n, url)] = hits + 1
                    return fault
        return None
