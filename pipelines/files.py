"""Crash-safe file writes for the site folder.

``write_atomic`` writes a temporary dot-file in the target's folder, fsyncs it (unless
the caller opts out: ``site.fsync: batch``) and renames it over the target, so a
killed process leaves the old file or the new one, never a torn one; Jekyll ignores dot-files, so a leftover temporary is never published
and ``remove_stale_temporaries`` clears it at the next start.

Files get the mode any tool's new files get: 0666 less the process umask (0644
under the usual 022, 0664 under 002, 0600 under 077).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

TMP_PREFIX = ".tmp-"
# tempfile.mkstemp would create 0600 whatever the umask; open(2) with 0666 lets the
# kernel apply the umask (or the folder's default ACL), with no umask read and no race.
_NEW_FILE_MODE = 0o666
_TMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def write_atomic(path: Path, text: str | bytes, *, sync_dir: bool = True, sync_file: bool = True) -> None:
    """Replace *path* with *text* (str as UTF-8, or bytes) atomically; the folder is created if missing.

    With ``sync_dir=False`` the caller fsyncs the folder later (``fsync_dir``),
    once for many files: until then a crash may lose the rename, never tear the file.
    With ``sync_file=False`` the data is left to the kernel: a killed process still
    leaves a whole file, but a power cut may leave the new name with the content
    unwritten (``finews rebuild`` rewrites such a post from the database).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = create_temporary(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8") if isinstance(text, str) else text)
            handle.flush()
            if sync_file:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if sync_dir:
        fsync_dir(path.parent)


def create_temporary(path: Path) -> tuple[int, Path]:
    """Create and open (write-only) a new temporary dot-file beside *path*, mode 0666 less the umask."""
    for _ in range(100):
        tmp = path.parent / f"{TMP_PREFIX}{path.name}.{secrets.token_hex(4)}"
        try:
            return os.open(tmp, _TMP_FLAGS, _NEW_FILE_MODE), tmp
        except FileExistsError:  # another writer's temporary: draw another name
            continue
    raise FileExistsError(f"no free temporary name beside {path}")


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
