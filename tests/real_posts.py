"""The real posts of ``tests/fixtures/real/`` (see its PROVENANCE.md): their bodies and outlets.

A post is front matter, for list type 102 the list's digest as a ``> …`` blockquote, the
body (the source's HTML, on one line or a few), then the share link and the back-links.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.conftest import FIXTURES

REAL = FIXTURES / "real"
POSTS = sorted(REAL.glob("2022-*.md"))


@dataclass(frozen=True)
class RealPost:
    name: str
    body: str  # the body HTML exactly as the post holds it
    outlet: str  # the outlet named in SOURCES.md


def outlets() -> dict[str, str]:
    """File name -> outlet, from the table of SOURCES.md."""
    table = {}
    for line in (REAL / "SOURCES.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].endswith(".md"):
            table[cells[0]] = cells[4]
    return table


def read_post(path: Path) -> RealPost:
    """The body of one real post: the lines between the front matter (and digest) and the share link."""
    text = path.read_text(encoding="utf-8")
    rest = text.split("---\n", 2)[2]
    if rest.startswith("> "):
        rest = rest.split("\n\n", 1)[1]
    body = rest.split("\n\n<http", 1)[0]
    assert body.startswith("<p"), f"{path.name}: no body where one was expected"
    return RealPost(path.name, body, outlets()[path.name])


def real_posts() -> list[RealPost]:
    posts = [read_post(p) for p in POSTS]
    assert len(posts) == 4, f"expected the four real posts in {REAL}"
    return posts
