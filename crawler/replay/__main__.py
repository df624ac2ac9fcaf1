"""``python -m crawler.replay``: the same as ``finews replay``, without the rest of the CLI."""

from __future__ import annotations

import argparse

from crawler.replay.run import run_replay


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.replay", description=__doc__)
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--articles", type=int, default=20, help="number of generated articles")
    parser.add_argument("--faults", default="", help="e.g. 'page:*=status:503x2;api:*=retry_after:1x1'")
    parser.add_argument("--fixture", action="append", default=[], help="content API JSON file to serve verbatim")
    args = parser.parse_args(argv)
    return run_replay(port=args.port, articles=args.articles, faults=args.faults, fixtures=args.fixture)


if __name__ == "__main__":
    raise SystemExit(main())
