"""``finews import`` figures: ``python -m tests.crawler.bench_import [-n N] [--dir DIR]``.

Writes N posts into a fresh site's ``_posts/`` (the four real posts of
tests/fixtures/real and the seed post in turn, half of them named by the bare id as
the original did, each with its own date, title and text: every Chinese character
of the body before the outlet line is drawn at random, so the near-duplicate index
finds as few candidates as among real articles, while the markup the cleaner works
on stays the real one), and the seed post itself, then, in fresh processes on SQLite: ``finews import``
(files per second), ``finews rebuild`` after deleting the seed post (which must
restore it byte for byte as the golden post and rewrite no other file), and
``finews import`` again (which must change nothing).  The second import reads the
N + 1 posts plus the N/2 finews-named posts the first wrote for the id-named ones.
Prints the figures and whether each check held; exit 1 when one did not.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from tests.conftest import FIXTURES, GOLDEN_SEED
from tests.eastmoney import GOLDEN_SHARE_LINK

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")
SEED_NAME = "2022-02-09-NW202202092271461775.md"


def write_posts(site: Path, n: int) -> None:
    templates = [p.read_text(encoding="utf-8") for p in sorted((FIXTURES / "real").glob("2022-*.md"))]
    templates.append((GOLDEN_SEED / "expected-post.md").read_text(encoding="utf-8"))
    pool = sorted(set(CJK.findall("".join(templates))))
    rng = random.Random(1)
    posts = site / "_posts"
    posts.mkdir(parents=True)
    start = datetime(2021, 1, 1)
    for i in range(n):
        head, body = templates[i % len(templates)].split("---\n", 2)[1:]
        when = start + timedelta(minutes=17 * i)
        lines = [
            f'title: "第{i}号 ' + line.split('"', 1)[1] if line.startswith("title:")
            else f"date: {when:%Y-%m-%d %H:%M:%S} +0800" if line.startswith("date:") else line
            for line in head.splitlines()
        ]
        text, mark, rest = body.partition("（文章来源")
        body = CJK.sub(lambda _: rng.choice(pool), text) + mark + rest
        name = f"{when:%Y-%m-%d}-{'NW' if i % 2 else ''}{when:%Y%m%d}{i:010d}.md"
        (posts / name).write_text("---\n" + "\n".join(lines) + "\n---\n" + body, encoding="utf-8")


def finews(work: Path, *args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "crawler.cli", *args], cwd=work, capture_output=True, text=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, check=False)
    return time.perf_counter() - started, run


def last_line(run: subprocess.CompletedProcess[str]) -> str:
    return run.stdout.splitlines()[-1] if run.stdout else run.stderr.strip()


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("-n", type=int, default=2000, help="generated posts to import besides the seed post (default 2000)")
    args.add_argument("--dir", type=Path, help="work folder (default: a temporary one, removed after)")
    options = args.parse_args(argv)
    work = options.dir or Path(tempfile.mkdtemp(prefix="finews-import-bench-"))
    golden = (GOLDEN_SEED / "expected-post.md").read_bytes()
    checks: dict[str, bool] = {}
    try:
        (work / "settings.yaml").write_text(
            'site: {dir: site}\ndatabase: {url: "sqlite:///finews.db"}\ncategories: {科技日报: kejiribao}\n'
            f'sources: {{eastmoney: {{share_link: "{GOLDEN_SHARE_LINK}"}}}}\n', encoding="utf-8")
        write_posts(work / "site", options.n)
        seed = work / "site" / "_posts" / SEED_NAME
        seed.write_bytes(golden)
        files = sum(1 for _ in (work / "site" / "_posts").glob("*.md"))
        seconds, run = finews(work, "import")
        print(f"first import: {files} files in {seconds:.1f} s, {files / seconds:.0f} files/s (exit {run.returncode}; {last_line(run)})")
        checks["all imported"] = run.returncode == 0 and last_line(run).startswith(f"ok: {options.n + 1} new, 0 updated")
        seed.unlink()
        seconds, run = finews(work, "rebuild")
        print(f"rebuild without the seed post: {seconds:.1f} s (exit {run.returncode}; {last_line(run)})")
        checks["the seed post rebuilt as the golden post"] = seed.exists() and seed.read_bytes() == golden
        checks["rebuild changed no other file"] = last_line(run).startswith("restored 1, rewritten 0, removed orphans 0")
        files = sum(1 for _ in (work / "site" / "_posts").glob("*.md"))
        seconds, run = finews(work, "import")
        print(f"second import: {files} files in {seconds:.1f} s, {files / seconds:.0f} files/s (exit {run.returncode}; {last_line(run)})")
        checks["the second import changed nothing"] = run.returncode == 0 and last_line(run).startswith("ok: 0 new, 0 updated")
    finally:
        if options.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    for name, held in checks.items():
        print(f"{'ok' if held else 'FAILED'}: {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
