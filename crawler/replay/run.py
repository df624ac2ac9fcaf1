"""``finews replay``: serve the replay until SIGINT/SIGTERM, with a settings snippet to paste."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from crawler.replay.server import ReplayServer


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def settings_snippet(server: ReplayServer) -> str:
    """A ``sources.eastmoney`` block for settings.yaml that points at *server*."""
    t = server.templates()
    lines = ["sources:", "  eastmoney:"]
    lines += [f"    {key}: {_quote(t[key])}" for key in ("share_link", "content_api", "article_page")]
    lines.append("    lists:")
    lines += [f"      - {{kind: {item['kind']}, url: {_quote(item['url'])}}}" for item in t["lists"]]
    return "\n".join(lines) + "\n"


def run_replay(*, port: int, articles: int, faults: str, fixtures: Sequence[str]) -> int:
    """Serve on 127.0.0.1:*port* until SIGINT/SIGTERM; 0 on a clean stop, 2 on bad arguments."""
    try:
        server = ReplayServer(articles, fixtures=fixtures, faults=faults, port=port, local_images=True)
    except (ValueError, OSError) as exc:
        print(f"finews replay: {exc}", file=sys.stderr)
        return 2
    try:
        server.start()
    except OSError as exc:
        print(f"finews replay: cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    try:
        count = len(server.articles)
        print(f"finews replay: {count} articles at {server.url} (Ctrl-C to stop)", flush=True)
        if faults.strip():
            print(f"finews replay: faults {faults.strip()}", flush=True)
        print("# paste into settings.yaml:", flush=True)
        print(settings_snippet(server), end="", flush=True)
        while not stop.wait(0.2):
            pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        server.stop()
    print("finews replay: stopped", file=sys.stderr, flush=True)
    return 0
