"""The item that flows from the spiders through every pipeline stage, and the post it becomes.

Spiders fill the *source* fields (what was fetched); each pipeline stage fills
its own *derived* fields and never edits what an earlier stage produced.  An
item with ``quarantine`` set is skipped by every later stage and stored as a
quarantine row by the store stage.  ``Post`` and ``CategoryChoice`` are the post
stage's results (pipelines.post makes and renders them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Literal

Outcome = Literal["new", "updated", "unchanged", "duplicate"]
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")  # every post's date is shown in it


@dataclass(frozen=True)
class Post:
    """Exactly what a post file is made of (SPEC §6), so the file can be rewritten byte for byte."""

    code: str
    title: str
    published: datetime  # aware
    slug: str  # category slug
    tag: str  # "<outlet>新闻" or the list's tag
    body: str  # cleaned HTML, one block per line
    share_link: str
    base_url: str

    @property
    def path(self) -> str:
        """Path of the post file relative to the site folder."""
        return f"_posts/{self.published.astimezone(BEIJING):%Y-%m-%d}-{self.code}.md"


@dataclass(frozen=True)
class CategoryChoice:
    """The category the post stage chose; the store stage gives it a free slug (pipelines.writer)."""

    slug: str
    title: str  # the category page's title, when the store creates the category
    outlet: str  # the outlet a pinyin slug belongs to
    fixed: bool  # the list's category or a settings override: used as is, never suffixed


@dataclass
class ArticleItem:
    # --- source fields, set by the spider ---------------------------------
    source: str
    code: str  # the source's article code (Source.CODE_PATTERN)
    fetched_at: datetime  # aware, UTC; anchor for relative dates
    targets: list[str] = field(default_factory=list)  # what the user or list named
    title: str | None = None
    date_raw: str | None = None
    outlet: str | None = None
    authors: list[str] = field(default_factory=list)
    body_html: str | None = None  # raw body: API text/content or joined page bodies
    base_url: str | None = None  # URL the body came from, for absolute links
    raw: dict[str, str] = field(default_factory=dict)  # raw payloads by origin ("api", "page")
    category: str | None = None  # list-level category slug override
    tag: str | None = None  # list-level tag override
    list_meta: dict[str, str] = field(default_factory=dict)  # list fields used, for incremental runs

    # --- derived fields, set by the pipelines -----------------------------
    html: str | None = None  # cleaned, sanitized body, one block per line
    published: datetime | None = None  # aware (Beijing offset)
    category_choice: CategoryChoice | None = None  # set by the post stage with the post
    post: Post | None = None
    quarantine: str | None = None  # reason; the item is never published
    outcome: Outcome | None = None
    post_path: str | None = None  # path of the written (or existing) post

    def set_quarantine(self, reason: str) -> None:
        """Mark the item as unpublishable; the first reason wins."""
        if self.quarantine is None:
            self.quarantine = reason
