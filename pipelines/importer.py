"""``finews import``: post files back into the database, through the same stages as a fetched article.

``PostImport.prepare(path, name)`` reads one file (``pipelines.post_reader``) and
runs the result through the stages a crawl runs before the store (validate, clean,
dates, post: the *stages* given, configured as for a crawl); it returns an
:class:`Entry`.  ``PostImport.store(entries)`` stores a batch of them: the articles
through ``StorePipeline.store_batch`` (one transaction, the writer deciding
new / updated / unchanged / duplicate, writing rows, post files, category and archive
pages exactly as for a crawl), then the batch's aliases and quarantine rows in one
more transaction.  Each entry gets one :class:`Result`.

Rules a crawl does not need:

- **One article, several files.** The first file of a code in this import is the
  article (the caller orders files so that a canonically named one, ``<date>-<code>.md``,
  comes first); every later file naming the same code is an ``alias`` entry, reported
  ``duplicate``.  A file whose name spells the code otherwise than the article's code
  (the original's bare 18-digit id) is recorded as an ``aliases`` row of kind ``file``
  keyed by that spelling, with the file's path in ``post_path``: that is how the URL the
  file had is kept on record.  finews never removes or rewrites such a file (it is not
  named like a finews post), so a site that keeps it keeps its URL.
- **List metadata.** The post's title, date and outlet are stored as the article's
  list metadata under the key ``import`` (``IMPORT_LIST``).  A crawl compares an
  article's metadata per list URL and treats a list it has no metadata from as
  unchanged, so after an import the next crawl fetches none of the imported articles,
  as if they had been fetched from another list.
- **Failures** are quarantined with the raw file text (payload ``{"file", "post"}``)
  and the reason.  The quarantine row is keyed by the article's code when the file
  named one and no article holds it; otherwise (no code, or a broken second file of a
  stored article) by ``file:`` + a hash of the file name (``file_key``), so a broken
  copy never hides a published article.  A quarantine row is written only when its
  reason or payload changed: a second import of the same files changes no row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from scrapy.exceptions import DropItem
from sqlalchemy import Connection, select

from crawler.items import ArticleItem
from pipelines.models import aliases, articles, quarantine
from pipelines.post_reader import PostError, PostFile, read_post
from pipelines.records import insert_ignore
from pipelines.store import StorePipeline
from pipelines.writer import utcnow

if TYPE_CHECKING:
    from crawler.sources import Source

IMPORT_LIST = "import"  # the list_meta key of an imported article's metadata
ALIAS_KIND = "file"

Status = Literal["new", "updated", "unchanged", "duplicate", "failed", "quarantined", "ok"]


class Stage(Protocol):
    def process_item(self, item: ArticleItem) -> ArticleItem: ...


@dataclass
class Entry:
    """One prepared file: an article to store, an alias of one, or a failure to quarantine."""

    kind: Literal["article", "alias", "failed"]
    path: Path
    location: str  # the file's path as recorded: relative to the site folder when inside it
    text: str  # the raw file text (for the quarantine payload)
    source: str | None = None
    code: str | None = None
    named_code: str | None = None  # the code as the file name spells it
    item: ArticleItem | None = None  # kind "article": the item as the post stage leaves it
    title: str = ""
    list_meta: dict[str, Any] | None = None
    reason: str = ""  # kind "failed"


@dataclass(frozen=True)
class Result:
    path: Path
    status: Status
    detail: str  # the post path, or the reason


def file_key(name: str) -> str:
    """The quarantine code of a file that names no article of its own: ``file:`` + 16 hex digits."""
    return "file:" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]


def to_item(post: PostFile, text: str, location: str, fetched_at: datetime) -> ArticleItem:
    """The item a fetch of *post*'s article would have delivered (source fields only)."""
    return ArticleItem(
        source=post.source,
        code=post.code,
        fetched_at=fetched_at,
        targets=[location],
        title=post.title,
        date_raw=post.date,
        outlet=post.outlet,
        body_html=post.body,
        raw={"file": location, "post": text},
        category=post.category,
        tag=post.tag,
        # Keyed by list as a crawl's are ({url: fields}); ArticleItem.list_meta's annotation says one level less.
        list_meta={IMPORT_LIST: post.list_meta()},  # type: ignore[dict-item]
    )


class PostImport:
    """Prepare and store post files; *stages* run in order before the store (validate, clean, dates, post)."""

    def __init__(
        self,
        stages: Sequence[Stage],
        store: StorePipeline | None,
        sources: Mapping[str, Source],
        overrides: Mapping[str, str],
        site_root: Path,
    ) -> None:
        self.stages = list(stages)
        self.store_pipeline = store  # None for a dry run: nothing is stored
        self.sources = sources
        self.overrides = dict(overrides)
        self.site_root = site_root.resolve()
        self.fetched_at = datetime.now(UTC)
        self.claimed: set[tuple[str, str]] = set()  # (source, code) of the articles of this import

    def location(self, path: Path) -> str:
        resolved = path.resolve()
        try:
            return str(resolved.relative_to(self.site_root))
        except ValueError:
            return str(resolved)

    # --- reading ----------------------------------------------------------------------
    def prepare(self, path: Path) -> Entry:
        """Read *path* and run it through the stages; never raises for a bad post."""
        location = self.location(path)
        try:
            data = path.read_bytes()
        except OSError as exc:  # unreadable (permissions, gone since it was listed): that file fails, the others import
            return Entry("failed", path, location, "", reason=f"cannot read the file: {exc.strerror or exc}")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return Entry("failed", path, location, data.decode("utf-8", "replace"), reason=f"not UTF-8 text (byte {exc.start})")
        try:
            post = read_post(text, path.name, self.sources, self.overrides)
        except PostError as exc:
            return Entry("failed", path, location, text, source=exc.source, code=exc.code, reason=exc.reason)
        key = (post.source, post.code)
        entry = Entry("article", path, location, text, source=post.source, code=post.code, named_code=post.named_code,
                      title=post.title, list_meta={IMPORT_LIST: post.list_meta()})
        if key in self.claimed:
            entry.kind = "alias"
            return entry
        item = to_item(post, text, location, self.fetched_at)
        try:
            for stage in self.stages:
                item = stage.process_item(item)
                if item.quarantine is not None:
                    break
        except DropItem as exc:  # a stage that drops instead of quarantining: the reason is the message
            item.set_quarantine(str(exc))
        if item.quarantine is not None:
            entry.kind, entry.reason = "failed", item.quarantine
            return entry
        self.claimed.add(key)
        entry.item = item
        return entry

    # --- storing ----------------------------------------------------------------------
    def store(self, entries: Sequence[Entry]) -> list[Result]:
        """Store a batch of prepared entries; one result each, in order."""
        store = self.store_pipeline
        if store is None:  # dry run: what would be stored
            return [self.dry_result(entry) for entry in entries]
        assert store.storage is not None
        items = [entry.item for entry in entries if entry.kind == "article" and entry.item is not None]
        errors = iter(store.store_batch(items))
        results: dict[int, Result] = {}
        stored: list[Entry] = []
        for n, entry in enumerate(entries):
            if entry.kind != "article":
                continue
            error = next(errors)
            assert entry.item is not None
            if error is not None:
                self.claimed.discard((entry.item.source, entry.item.code))
                results[n] = Result(entry.path, "failed", f"not stored: {error}")
            else:
                assert entry.item.outcome is not None and entry.item.post_path is not None
                results[n] = Result(entry.path, entry.item.outcome, entry.item.post_path)
                stored.append(entry)
        with store.storage.writing() as conn:
            for n, entry in enumerate(entries):
                if entry.kind == "alias":
                    results[n] = self.store_alias(conn, entry)
                elif entry.kind == "failed":
                    results[n] = self.store_failure(conn, entry)
            for entry in stored:
                if entry.named_code not in (None, entry.code):  # the article's own file spells its code otherwise
                    self.store_alias(conn, entry)
                self.unquarantine(conn, entry)
        return [results[n] for n in range(len(entries))]

    def dry_result(self, entry: Entry) -> Result:
        if entry.kind == "failed":
            return Result(entry.path, "failed", entry.reason)
        if entry.kind == "alias":
            return Result(entry.path, "duplicate", f"alias of {entry.code}")
        assert entry.item is not None and entry.item.post is not None
        return Result(entry.path, "ok", str(self.site_root / entry.item.post.path))

    def store_alias(self, conn: Connection, entry: Entry) -> Result:
        """Record *entry*'s file as naming the stored article of its code; ``duplicate`` and that article's post."""
        assert entry.source is not None and entry.code is not None
        row = conn.execute(
            select(articles.c.id, articles.c.post_path).where((articles.c.source == entry.source) & (articles.c.code == entry.code))
        ).first()
        if row is None:
            return Result(entry.path, "failed", f"its article {entry.code} is not stored")
        post = str(self.site_root / row.post_path)
        if entry.named_code is None or entry.named_code == entry.code:
            return Result(entry.path, "duplicate", post)  # the same name as the article's own post: no other URL
        values = {
            "article_id": row.id, "kind": ALIAS_KIND, "similarity": 1.0, "title": entry.title,
            "list_meta": json.dumps(entry.list_meta, ensure_ascii=False, sort_keys=True) if entry.list_meta else None,
            "post_path": entry.location,
        }
        key = (aliases.c.source == entry.source) & (aliases.c.code == entry.named_code)
        current = conn.execute(select(aliases).where(key)).first()
        now = utcnow()
        if current is None:
            insert_ignore(conn, aliases, {"source": entry.source, "code": entry.named_code, "created_at": now, "updated_at": now,
                                          **values}, ["source", "code"])
        elif any(getattr(current, name) != value for name, value in values.items()):
            conn.execute(aliases.update().where(key).values(updated_at=now, **values))
        return Result(entry.path, "duplicate", post)

    def store_failure(self, conn: Connection, entry: Entry) -> Result:
        """Quarantine *entry*'s file with its raw text and reason (no write when already so)."""
        source = entry.source or next(iter(self.sources))
        code = entry.code
        if code is None or (source, code) in self.claimed or conn.execute(
            select(articles.c.id).where((articles.c.source == source) & (articles.c.code == code))
        ).first() is not None:
            code = file_key(entry.path.name)
        payload = json.dumps({"file": entry.location, "post": entry.text}, ensure_ascii=False, sort_keys=True)
        reason = entry.reason
        key = (quarantine.c.source == source) & (quarantine.c.code == code)
        current = conn.execute(select(quarantine.c.reason, quarantine.c.payload).where(key)).first()
        now = utcnow()
        if current is None:
            insert_ignore(conn, quarantine, {"source": source, "code": code, "reason": reason, "payload": payload,
                                             "created_at": now, "updated_at": now}, ["source", "code"])
        elif (current.reason, current.payload) != (reason, payload):
            conn.execute(quarantine.update().where(key).values(reason=reason, payload=payload, updated_at=now))
        return Result(entry.path, "quarantined", reason)

    def unquarantine(self, conn: Connection, entry: Entry) -> None:
        """A file that imports now leaves no quarantine row of an earlier, broken version behind."""
        assert entry.source is not None
        conn.execute(quarantine.delete().where((quarantine.c.source == entry.source) & (quarantine.c.code == file_key(entry.path.name))))
