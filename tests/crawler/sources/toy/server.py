"""The toy source's endpoints on loopback, served from ``fixtures/``."""

from __future__ import annotations

import re
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.loopback import LoopbackHTTPServer, Serving

FIXTURES = Path(__file__).parent / "fixtures"
_ARTICLE = re.compile(r"^/toy/api/(\d+)\.json$")


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        self.server.requests.append(parts.path)  # type: ignore[attr-defined]
        if parts.path == "/toy/list.json":
            page = parse_qs(parts.query).get("page", ["1"])[0]
            file = FIXTURES / f"list-{int(page)}.json"
        elif match := _ARTICLE.match(parts.path):
            file = FIXTURES / f"article-{int(match.group(1))}.json"
        else:
            file = FIXTURES / "missing"
        if not file.is_file():
            self.send_error(404)
            return
        body = file.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class ToyServer(Serving):
    """``with ToyServer() as toy:`` serves on ``toy.url``; ``toy.requests`` lists the paths asked for."""

    def __init__(self) -> None:
        server = LoopbackHTTPServer(("127.0.0.1", 0), _Handler)
        server.requests = []  # type: ignore[attr-defined]
        super().__init__(server)
        self.url = f"http://127.0.0.1:{server.server_port}"
        self.requests: list[str] = server.requests  # type: ignore[attr-defined]
