"""The site folder as the database's projection: where files go, and undoable changes to them.

``Site`` names the files: posts ``_posts/<YYYY-MM-DD>-<code>.md`` and category
pages ``category/<slug>.html``.  Only names whose code matches a configured
source's ``CODE_PATTERN`` (``Site.post_name``) are ever treated as finews's own
posts (a site owner's hand-written posts never are).

``FileChanges`` is the file half of a store transaction: every write or removal
remembers the bytes it replaced, so when the database half rolls back, ``undo``
puts the folder back as it was.  A crash instead of a rollback leaves at worst
a file that disagrees with the committed database, which ``finews rebuild``
repairs (it rewrites stale files, restores missing ones and removes orphans).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.files import fsync_dir, remove_stale_temporaries, write_atomic

if TYPE_CHECKING:
    from crawler.sources import Source

POSTS = "_posts"
CATEGORIES = "category"


class Site:
    """The site folder: where posts and category pages live; *codes* are the sources' code patterns."""

    def __init__(self, root: Path, codes: Iterable[str]) -> None:
        self.root = root
        alternatives = "|".join(f"(?:{pattern})" for pattern in codes) or "(?!)"
        self.post_name = re.compile(rf"^\d{{4}}-\d{{2}}-\d{{2}}-(?:{alternatives})\.md$")

    @classmethod
    def of(cls, root: Path, sources: Mapping[str, Source]) -> Site:
        """The site at *root* holding the posts of *sources*."""
        return cls(root, [source.CODE_PATTERN for source in sources.values()])

    def post_file(self, relative: str) -> Path:
        return self.root / relative

    def category_file(self, slug: str) -> Path:
        return self.root / CATEGORIES / f"{slug}.html"

    def own_posts(self) -> list[Path]:
        """Every file in ``_posts/`` named like a post finews writes, sorted."""
        folder = self.root / POSTS
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if self.post_name.match(p.name) and p.is_file())

    def clear_temporaries(self) -> int:
        return remove_stale_temporaries(self.root / POSTS) + remove_stale_temporaries(self.root / CATEGORIES)


class FileChanges:
    """Atomic file writes and removals that can be undone until ``forget`` is called.

    The folders it changed (``folders``) are left for the caller to fsync with
    ``sync_folders``, once per folder however many files changed in it: the
    store does so just before its commit, for the whole batch.  Each file's data
    is fsynced too only with *sync_files* (``site.fsync: file``).
    """

    def __init__(self, *, sync_files: bool = True) -> None:
        self._undo: list[tuple[Path, bytes | None]] = []
        self.folders: set[Path] = set()
        self.sync_files = sync_files

    def write(self, path: Path, text: str, *, always: bool = False) -> bool:
        """Write *text* unless *path* already holds exactly it (or *always*); True when written."""
        data = text.encode("utf-8")
        previous = _read(path)
        if previous == data and not always:
            return False
        self._undo.append((path, previous))
        write_atomic(path, data, sync_dir=False, sync_file=self.sync_files)
        self.folders.add(path.parent)
        return True

    def remove(self, path: Path) -> bool:
        """Remove *path* if it exists; True when removed."""
        previous = _read(path)
        if previous is None:
            return False
        self._undo.append((path, previous))
        path.unlink(missing_ok=True)
        self.folders.add(path.parent)
        return True

    def undo(self) -> None:
        """Put every changed file back as it was, newest change first."""
        while self._undo:
            path, previous = self._undo.pop()
            if previous is None:
                path.unlink(missing_ok=True)
            else:
                write_atomic(path, previous)

    def forget(self) -> None:
        """The database half committed: the changes are final."""
        self._undo.clear()

    def __bool__(self) -> bool:
        return bool(self._undo)


def sync_folders(folders: set[Path]) -> None:
    """fsync each folder that still exists."""
    for folder in sorted(folders):
        if folder.is_dir():
            fsync_dir(folder)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
