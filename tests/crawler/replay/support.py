"""Helpers for the replay tests: a urllib fetch that checks Content-Length, paragraph extraction."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from lxml import html as lxml_html

FIXTURE_CODE = "NW202312312299999999"  # the content-API fixture file of conftest.api_fixture

# no proxy from the environment may stand between the tests and the loopback replay
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Fetched:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


def fetch(url: str, timeout: float = 5, method: str = "GET") -> Fetched:
    """GET *url*; HTTP errors are returned, not raised.  Checks Content-Length when declared."""
    request = urllib.request.Request(url, method=method)
    try:
        with OPENER.open(request, timeout=timeout) as response:
            fetched = Fetched(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as exc:
        fetched = Fetched(exc.code, dict(exc.headers), exc.read())
    length = fetched.headers.get("Content-Length")
    if length is not None and method == "GET":
        assert int(length) == len(fetched.body), f"Content-Length {length} but {len(fetched.body)} bytes for {url}"
    return fetched


def squash(text: str) -> str:
    return " ".join(text.split())


def paragraphs(fragment: str) -> list[str]:
    """Texts of the visible <p> elements of an HTML fragment, as a reader sees them."""
    root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    out = []
    for p in root.iter("p"):
        if "display:none" in (p.get("style") or ""):
            continue
        text = squash(p.text_content())
        if text:
            out.append(text)
    return out


def body_paragraphs(page: str) -> list[str]:
    """Texts of the <p> elements inside #ContentBody of an article page."""
    root = lxml_html.document_fromstring(page)
    (body,) = root.xpath('//*[@id="ContentBody"]')
    return [t for p in body.iter("p") if (t := squash(p.text_content()))]
