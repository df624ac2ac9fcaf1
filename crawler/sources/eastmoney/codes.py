"""Eastmoney article identifiers: the infoCode (``NW`` + 18 digits) and the bare 18-digit id.

Both name the same article; finews stores the infoCode.  ``normalize_code`` accepts
either form (a JSON number too) and returns the infoCode, or None when the value is
not an article identifier.
"""

from __future__ import annotations

import re

INFOCODE = re.compile(r"NW\d{18}")
_CODE = re.compile(r"(?:NW)?(\d{18})", re.IGNORECASE)


def normalize_code(value: object) -> str | None:
    """``"NW"`` + 18 digits for an infoCode or a bare id, else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    match = _CODE.fullmatch(value.strip())
    return f"NW{match.group(1)}" if match else None


def article_id(code: str) -> str:
    """The 18-digit id of an infoCode (the article page is ``/a/<id>.html``)."""
    normalized = normalize_code(code)
    if normalized is None:
        raise ValueError(f"not an Eastmoney article code: {code!r} (expected NW + 18 digits or 18 digits)")
    return normalized[2:]
