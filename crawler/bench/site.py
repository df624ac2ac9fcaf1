"""``finews bench --site``: build generated sites of finews posts with the real Jekyll.

``generate_site(root, posts)`` writes a site as ``finews init`` and a crawl would:
the skeleton, *posts* posts in the post format (``render_post``), their category
pages and archive pages (``pipelines.archive``), over 12 outlets of uneven size
(the rolling news a third of all), about 300 posts a day back from 2024-06-30.
``build(root)`` runs ``jekyll build --profile`` on it and returns the seconds and
the profile's phases (READ, GENERATE, RENDER, CLEANUP, WRITE …) and busiest
files.  ``main`` prints seconds per post at each size, their ratio, and the
phases, with the skeleton's ``_plugins/each_site_file.rb`` and, with
``--without-fix``, also without it.  Figures only: nothing asserts a speed.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from crawler.items import BEIJING, Post
from crawler.skeleton import Theme, write_skeleton
from pipelines.archive import Entry, archive_files
from pipelines.files import write_atomic
from pipelines.post import render_category_page, render_post

FIX = "_plugins/each_site_file.rb"
OUTLETS = [  # (slug, outlet, share of the posts)
    ("emnews", "东财滚动新闻", 34), ("zhengquanshibao", "证券时报", 10), ("zhongguozhengquanbao", "中国证券报", 8),
    ("shanghaizhengquanbao", "上海证券报", 8), ("xinhuashe", "新华社", 7), ("zhongxinjingwei", "中新经纬", 6),
    ("diyicaijing", "第一财经", 6), ("jingjicankaobao", "经济参考报", 5), ("cailianshe", "财联社", 5),
    ("renminwang", "人民网", 4), ("kejiribao", "科技日报", 4), ("zhongguojijinbao", "中国基金报", 3),
]
PARAGRAPH = "<p>本报讯 记者从有关部门获悉，第{n}季度市场运行总体平稳，成交额较上月增长{m}%，多家机构认为后市仍有结构性机会。</p>"
PROFILE_ROW = re.compile(r"^\s*\|?\s*([A-Z]+)\s*\|\s*([\d.]+)\s*\|?\s*$")
FILE_ROW = re.compile(r"^\s*\|?\s*(\S[^|]*?)\s*\|\s*(\d+)\s*\|\s*([\d.]+K)\s*\|\s*([\d.]+)\s*\|?\s*$")


def generate_site(root: Path, posts: int, *, page_size: int = 50) -> None:
    """A site of *posts* generated finews posts under *root* (see the module docstring)."""
    write_skeleton(root, Theme(url="https://news.example.org", page_size=page_size))
    weights = [w for _, _, w in OUTLETS]
    entries: dict[str, list[Entry]] = defaultdict(list)
    start = datetime(2024, 6, 30, 23, 59, tzinfo=BEIJING)
    for n in range(posts):
        slug, outlet, _ = OUTLETS[_pick(n, weights)]
        code = f"NW{202400000000000000 + n:018d}"
        published = start - timedelta(seconds=288 * n)  # 300 a day
        body = "\n".join(PARAGRAPH.format(n=(n + k) % 4 + 1, m=(n * 7 + k) % 30) for k in range(8))
        post = Post(code=code, title=f"{outlet}：市场观察第{n}期", published=published, slug=slug, tag=f"{outlet}新闻",
                    body=body, share_link=f"https://share.example.org/a/{code[2:]}.html", base_url="")
        write_atomic(root / post.path, render_post(post), sync_dir=False, sync_file=False)
        entries[slug].append(Entry(code, post.title, published))
    for slug, outlet, _ in OUTLETS:
        write_atomic(root / "category" / f"{slug}.html", render_category_page(slug, outlet), sync_dir=False, sync_file=False)
        for path, text in archive_files(slug, outlet, entries[slug], page_size).items():
            write_atomic(root / path, text, sync_dir=False, sync_file=False)


def _pick(n: int, weights: list[int]) -> int:
    """A deterministic outlet for post *n*, in proportion to *weights*."""
    slot = (n * 37) % sum(weights)
    for index, weight in enumerate(weights):
        if slot < weight:
            return index
        slot -= weight
    raise AssertionError(slot)


@dataclass
class Build:
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)  # phase -> seconds, as --profile prints them
    files: list[tuple[str, float]] = field(default_factory=list)  # busiest files first


def build(root: Path, dest: Path, *, profile: bool = True, timeout: float = 3600) -> Build:
    """``jekyll build`` of *root* into *dest*; raises RuntimeError with Jekyll's last line on failure."""
    command = ["jekyll", "build", "--source", str(root), "--destination", str(dest)] + (["--profile"] if profile else [])
    began = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    seconds = time.monotonic() - began
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise RuntimeError(f"jekyll build failed: {lines[-1] if lines else done.returncode}")
    result = Build(seconds)
    for line in done.stdout.splitlines():
        if match := PROFILE_ROW.match(line):
            result.phases[match.group(1)] = float(match.group(2))
        elif (match := FILE_ROW.match(line)) and match.group(1) != "Filename":
            result.files.append((match.group(1), float(match.group(4))))
    result.files.sort(key=lambda f: -f[1])
    return result


def measure(sizes: list[int], *, with_fix: bool, keep: Path | None = None) -> dict[int, Build]:
    """Generate and build a site of each size; the builds by size."""
    out = {}
    with tempfile.TemporaryDirectory(prefix="finews-site-bench-") as tmp:
        for size in sizes:
            root = Path(tmp) / f"site-{size}"
            generate_site(root, size)
            if not with_fix:
                (root / FIX).unlink()
            out[size] = build(root, Path(tmp) / f"out-{size}")
            if keep is not None:
                shutil.copytree(root, keep / f"site-{size}", dirs_exist_ok=True)
            shutil.rmtree(root)
            shutil.rmtree(Path(tmp) / f"out-{size}")
    return out


def report(label: str, builds: dict[int, Build]) -> list[str]:
    lines = []
    for size, b in builds.items():
        phases = ", ".join(f"{k} {v:.1f}" for k, v in sorted(b.phases.items(), key=lambda kv: -kv[1])[:4])
        busiest = ", ".join(f"{name} {s:.1f}" for name, s in b.files[:3])
        lines.append(f"{label}: {size} posts: {b.seconds:.1f} s, {1000 * b.seconds / size:.2f} ms/post; phases: {phases}; files: {busiest}")
    small, large = min(builds), max(builds)
    if small != large:
        ratio = (builds[large].seconds / large) / (builds[small].seconds / small)
        lines.append(f"{label}: per-post time at {large} / at {small}: {ratio:.2f}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="finews bench --site", description="jekyll build of generated finews sites")
    parser.add_argument("--posts", type=int, nargs="+", default=[5000, 50_000], metavar="N", help="site sizes (default 5000 50000)")
    parser.add_argument("--without-fix", type=int, nargs="*", metavar="N",
                        help="also build these sizes without _plugins/each_site_file.rb (default: none)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if shutil.which("jekyll") is None:
        print("finews bench --site: jekyll is not installed (apt-get install jekyll)")
        return 2
    runs = {"with_fix": measure(args.posts, with_fix=True)}
    if args.without_fix:
        runs["without_fix"] = measure(args.without_fix, with_fix=False)
    if args.json:
        print(json.dumps({label: {size: vars(b) for size, b in builds.items()} for label, builds in runs.items()}))
    else:
        for label, builds in runs.items():
            print("\n".join(report(label.replace("_", " "), builds)))
    return 0
