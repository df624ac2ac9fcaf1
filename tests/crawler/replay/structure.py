"""The markup patterns of an HTML body: what its elements are, without what they say.

One pattern per element: its parent's tag, its tag and every attribute with the shape of
its value.  Names and words keep only their form: in ids, links and codes a run of digits
becomes ``9`` and a run of ASCII letters ``a`` (``stock_0.002752`` and ``stock_1.601577``
are both ``stock_9.9``; ``Info.116.00700`` is ``Info.9.9``), while class, style, target,
width, height, border and web values are kept as they are, and links keep their scheme,
host and the names of their query parameters.  Comments give ``<!--name-->``.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

from lxml import etree
from lxml import html as lxml_html

LITERAL = frozenset({"class", "style", "target", "width", "height", "border", "web"})
_PREFIX = re.compile(r"^([A-Za-z]+[_.])(.*)$")  # "stock_", "Info.", "bkquote_"


def shape(text: str) -> str:
    """*text* with each run of digits replaced by 9 and each run of ASCII letters by a."""
    return re.sub(r"[A-Za-z]+", "a", re.sub(r"[0-9]+", "9", text))


def url_shape(url: str) -> str:
    parts = urlsplit(url)
    keys = "&".join(sorted(k for k, _ in parse_qsl(parts.query, keep_blank_values=True)))
    return f"{parts.scheme}://{parts.netloc}{shape(parts.path)}" + (f"?{keys}" if keys else "")


def value_shape(name: str, value: str) -> str:
    if name in LITERAL:
        return value
    if name in ("href", "src", "data-src"):
        return url_shape(value)
    if name == "id" and (match := _PREFIX.match(value)):
        return match.group(1) + shape(match.group(2))
    return shape(value)


def patterns(body: str) -> set[str]:
    """Every element pattern (and comment) of the HTML fragment *body*."""
    root = lxml_html.fragment_fromstring(body, create_parent="div")
    found = set()
    for node in root.iter():
        if node is root:
            continue
        parent = node.getparent()
        up = "" if parent is root or parent is None else str(parent.tag)
        if isinstance(node, etree._Comment):
            found.add(f"{up} > <!--{(node.text or '').strip()}-->")
            continue
        attrs = " ".join(f'{k}="{value_shape(k, v)}"' for k, v in sorted(node.attrib.items()))
        found.add(f"{up} > <{node.tag}{' ' + attrs if attrs else ''}>")
    return found
