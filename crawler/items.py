"""The item that flows from the spiders through every pipeline stage.

Spiders fill the *source* fields (what was fetched); each pipeline stage fills
its own *derived* fields and never edits what an earlier stage produced.  An
item with ``quarantine`` set is skipped by every later stage and stored as a
quarantine row by the store stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pipelines.post import CategoryChoice, Post

Outcome = Literal["new", "updated", "unchanged", "duplicate"]


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
