"""Crash-safe file writes for the site folder.

``write_atomic`` writes a temporary dot-file in the target's folder, fsyncs it and
renames it over the target, so a crash leaves the old file or the new one, never
a torn one; Jekyll ignores dot-files, so a leftover temporary is never published
and ``remove_stale_temporaries`` clears it at the next start.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TMP_PREFIX = ".tmp-"


def write_atomic(path: Path, text: str | bytes, *, sync_dir: bool = True) -> None:
    """Replace *path* with *text* (str as UTF-8, or bytes) atomically; the folder is created if missing.

    With ``sync_dir=False`` the caller fsyncs the folder later (``fsync_dir``),
    once for many files: until then a crash may lose the rename, never tear the file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX + path.name + ".", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8") if isinstance(text, str) else text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if sync_dir:
        fsync_dir(path.parent)


def remove_stale_temporaries(folder: Path) -> int:
    """Delete temporaries a killed writer left in *folder*; returns how many."""
    removed = 0
    if folder.is_dir():
        for tmp in folder.glob(TMP_PREFIX + "*"):
            tmp.unlink(missing_ok=True)
            removed += 1
    return removed


def fsync_dir(folder: Path) -> None:
    """Make the renames and removals in *folder* durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
