"""Eastmoney as the tests use it when they need a configured source: its defaults, no file read.

``SOURCES`` is what ``FINEWS_SOURCES`` holds in a real run; ``clean_body`` is the
clean stage's function with Eastmoney's noise rules; ``site`` a ``Site`` that knows
Eastmoney's post names.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from crawler.sources.eastmoney import EastmoneySource
from pipelines import clean
from pipelines.site import Site

# The share link the original system printed, which the golden seed post carries (SPEC §3:
# the golden tests name this host; the default is Eastmoney's own).
GOLDEN_SHARE_LINK = "http://finews.zning.xyz/html_News/NewsShare.html?infoCode={code}"


def sources(**block: Any) -> dict[str, EastmoneySource]:
    """``FINEWS_SOURCES`` with Eastmoney's defaults, the keys of *block* overridden."""
    return {"eastmoney": EastmoneySource.configure({**EastmoneySource.DEFAULTS, **block}, max_pages=5, where="tests")}  # type: ignore[dict-item]


SOURCES = sources()
NOISE = EastmoneySource.NOISE
clean_body = partial(clean.clean_body, noise=NOISE)


def settings(**extra: Any) -> dict[str, Any]:
    """Crawler settings for a pipeline stage under test: the configured sources plus *extra*."""
    return {"FINEWS_SOURCES": SOURCES, **extra}


def site(root: Path) -> Site:
    return Site.of(root, SOURCES)
