"""The project's copy of the shared golden files, checked against the shared contract folder.

The byte-for-byte golden tests read ``tests/fixtures/golden/``, so they run in any
clone.  That folder is a reviewed copy of files of the shared contract folder
(``../shared``, or ``$FINEWS_SHARED``); see ``tests/fixtures/golden/PROVENANCE.md``.

    python -m tests.golden_sync check   # exit 0 when the copy is identical (or ../shared is absent), 1 listing differences
    python -m tests.golden_sync copy    # copy the shared files over the project's copy; review the diff after

``--shared PATH`` names another shared folder.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL = Path(__file__).resolve().parent / "fixtures" / "golden"
SHARED = Path(os.environ.get("FINEWS_SHARED", ROOT.parent / "shared")).resolve()

#: The shared files the tests use, by their path under the shared folder; the
#: project's copy lives at the same path under ``tests/fixtures/`` (``golden/…``).
FILES = (
    "golden/seed/content-api.json",
    "golden/seed/expected-post.md",
    "golden/seed/expected-category.html",
)


def local_path(name: str, local: Path = LOCAL) -> Path:
    """Where the project keeps its copy of the shared file *name*."""
    return local / Path(name).relative_to("golden")


def differences(shared: Path, local: Path = LOCAL) -> list[str]:
    """One line per file of FILES whose copy is missing or differs from the shared one."""
    lines = []
    for name in FILES:
        source, copy = shared / name, local_path(name, local)
        if not source.is_file():
            lines.append(f"{name}: missing in {shared}")
        elif not copy.is_file():
            lines.append(f"{name}: missing in {local}")
        elif source.read_bytes() != copy.read_bytes():
            lines.append(f"{name}: differs")
    return lines


def copy(shared: Path, local: Path = LOCAL) -> list[str]:
    """Copy every file of FILES from *shared*; returns the names that changed."""
    changed = []
    for name in FILES:
        source, target = shared / name, local_path(name, local)
        if target.is_file() and target.read_bytes() == source.read_bytes():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        changed.append(name)
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m tests.golden_sync", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("check", "copy"))
    parser.add_argument("--shared", type=Path, default=SHARED, help=f"the shared folder (default {SHARED})")
    args = parser.parse_args(argv)
    shared: Path = args.shared.resolve()
    if not shared.is_dir():
        if args.command == "check":
            print(f"shared folder not found at {shared}, nothing to check")
            return 0
        print(f"shared folder not found at {shared}, nothing to copy", file=sys.stderr)
        return 1
    if args.command == "check":
        lines = differences(shared)
        for line in lines:
            print(line)
        if lines:
            print(f"{len(lines)} of {len(FILES)} golden files differ from {shared}; "
                  "run `python -m tests.golden_sync copy` and review the diff")
            return 1
        print(f"{len(FILES)} golden files identical to {shared}")
        return 0
    missing = [name for name in FILES if not (shared / name).is_file()]
    if missing:
        print(f"not in {shared}: {', '.join(missing)}; nothing copied", file=sys.stderr)
        return 1
    changed = copy(shared)
    for name in changed:
        print(f"copied {name}")
    print(f"{len(changed)} of {len(FILES)} golden files changed; review the diff before committing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
