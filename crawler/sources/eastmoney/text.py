"""Small text helpers shared by the Eastmoney parsers: whitespace and name lists."""

from __future__ import annotations

import re

# Bylines list several people with any of these; Chinese names never contain them.
_NAME_SEPARATORS = re.compile(r"[\s,，、;；/]+")


def squash(text: str) -> str:
    """Collapse whitespace runs (U+3000 and NBSP included) to one space and strip."""
    return " ".join(text.split())


def split_names(text: str) -> tuple[str, ...]:
    """Names of a byline such as ``"张三 李四"`` or ``"张三、李四"``, in order, deduplicated."""
    return tuple(dict.fromkeys(name for name in _NAME_SEPARATORS.split(text) if name))
