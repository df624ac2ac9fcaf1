"""The replay's HTTP handler: routes a request, applies its fault, writes the bytes.

Normal responses always carry a correct Content-Type and Content-Length (HTTP/1.1 with
keep-alive).  Faults that break the protocol on purpose (truncate, hang, drop, chunked)
close the connection afterwards.  Every request is logged in ``ReplayServer.requests``
before any delay, with status 0 when no status line is ever sent.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import time
import zlib
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:
    from crawler.replay.faults import Fault
    from crawler.replay.server import ReplayServer

logger = logging.getLogger(__name__)

CT_JSON = "application/json; charset=utf-8"
CT_HTML = "text/html; charset=utf-8"
CT_JS = "application/javascript; charset=utf-8"
CT_TEXT = "text/plain; charset=utf-8"
CT_SVG = "image/svg+xml"
HOLD_LIMIT = 3600.0  # a timeout fault without argument holds at most this long (or until stop)
CHUNK = 64 * 1024
REASONS = {429: "Too Many Requests"}


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str
    headers: list[tuple[str, str]] = field(default_factory=list)


def error_page(status: int, reason: str = "") -> Response:
    phrase = REASONS.get(status) or BaseHTTPRequestHandler.responses.get(status, ("Error",))[0]
    text = f"{status} {phrase}" + (f": {reason}" if reason else "")
    body = f"<html><head><title>{status} {phrase}</title></head><body><h1>{text}</h1></body></html>\n"
    return Response(status, body.encode("utf-8"), CT_HTML)


def _recode(response: Response, *, declared: bool) -> Response:
    """The body as GBK (GB18030) bytes; without *declared* every charset label goes too."""
    text = response.body.decode("utf-8")
    content_type = response.content_type
    if not declared:
        text = re.sub(r'<meta charset="utf-8">\n?', "", text)
        text = text.replace("text/html; charset=utf-8", "text/html")
        content_type = content_type.split(";")[0]
    return replace(response, body=text.encode("gb18030"), content_type=content_type)


def transform(response: Response, fault: Fault | None) -> Response:
    """Apply the faults that change the response itself rather than how it is sent."""
    kind = fault.kind if fault else None
    if kind == "status":
        return error_page(int(fault.arg or 500), "injected fault")  # type: ignore[union-attr]
    if kind == "retry_after":
        page = error_page(429, "slow down")
        page.headers.append(("Retry-After", f"{int(fault.arg or 0)}"))  # type: ignore[union-attr]
        return page
    if kind == "null_body":
        return Response(200, b"null", CT_JSON)
    if kind == "empty_body":
        return Response(200, b"", response.content_type)
    if kind == "malformed_json":
        text = response.body.decode("utf-8")
        return replace(response, status=200, body=text[: max(1, len(text) * 2 // 3)].encode("utf-8"))
    if kind in ("wrong_charset", "gbk_undeclared"):
        return _recode(response, declared=kind == "wrong_charset")
    return response


class ReplayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "finews-replay/1.0"
    timeout = 30  # idle keep-alive connections end after this many seconds
    disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK stalls

    @property
    def replay(self) -> ReplayServer:
        return self.server.replay  # type: ignore[attr-defined]

    def setup(self) -> None:
        super().setup()
        self.replay._connections.add(self.connection)

    def finish(self) -> None:
        self.replay._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s " + format, self.address_string(), *args)  # noqa: G003 - http.server hands over a %-format for *args

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, *, head: bool) -> None:
        at = time.monotonic()
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        replay = self.replay
        endpoint, target = replay._classify(split.path, query)
        fault = replay._faults.pick(endpoint, target, self.path)
        kind = fault.kind if fault else None
        if kind in ("timeout", "drop"):
            replay._record(self.command, split.path, query, 0, at, endpoint)
            if kind == "timeout":
                replay._stopped.wait(fault.arg or HOLD_LIMIT)  # type: ignore[union-attr]
            self._abort()
            return
        response = transform(replay._respond(endpoint, target, split.path, query, empty=kind == "empty"), fault)
        replay._record(self.command, split.path, query, response.status, at, endpoint)
        if kind == "slow" and replay._stopped.wait(fault.arg):  # type: ignore[union-attr]
            self._abort()
            return
        try:
            self._send(response, fault, head=head)
        except ConnectionError:
            self.close_connection = True

    def _abort(self) -> None:
        """Close without another byte: the client sees the connection end."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _head(self, response: Response, length: int | None, *extra: tuple[str, str], close: bool = False) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        for name, value in (*response.headers, *extra):
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()

    def _send(self, response: Response, fault: Fault | None, *, head: bool) -> None:
        body, kind = response.body, fault.kind if fault else None
        arg = fault.arg if fault else None
        if head or kind not in ("truncate", "truncate_nolength", "hang_after_headers", "huge", "huge_chunked",
                                "gzip_bomb"):
            self._head(response, len(body))
            if not head:
                self.wfile.write(body)
            return
        if kind in ("truncate", "truncate_nolength"):
            # never the whole body: the point is a response that ends early
            sent = body[: min(int(arg) if arg is not None else len(body) // 2, max(0, len(body) - 1))]
            self._head(response, len(body) if kind == "truncate" else None, close=True)
            self.wfile.write(sent)
            self.wfile.flush()
            self._abort()
        elif kind == "hang_after_headers":
            self._head(response, len(body))
            self.wfile.flush()
            self.replay._stopped.wait(arg or HOLD_LIMIT)
            self._abort()
        elif kind == "huge":
            total = max(len(body), int(arg or 1) * 2**20)
            self._head(response, total)
            self.wfile.write(body)
            self._pad(total - len(body), chunked=False)
        elif kind == "huge_chunked":
            self._head(response, None, ("Transfer-Encoding", "chunked"), close=True)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(body), body) if body else b"")
            self._pad(max(0, int(arg or 1) * 2**20 - len(body)), chunked=True)
            self.wfile.write(b"0\r\n\r\n")
        else:  # gzip_bomb
            packed = gzip_bomb(body, int(arg or 1))
            self._head(response, len(packed), ("Content-Encoding", "gzip"))
            self.wfile.write(packed)

    def _pad(self, size: int, *, chunked: bool) -> None:
        block = b" " * CHUNK
        while size > 0:
            piece = block[: min(size, CHUNK)]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            size -= len(piece)


def gzip_bomb(body: bytes, mebibytes: int) -> bytes:
    """*body* padded with spaces to *mebibytes* MiB, gzip-compressed as one member."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [packer.compress(body)]
    block = b" " * 2**20
    left = max(0, mebibytes * 2**20 - len(body))
    while left > 0:
        out.append(packer.compress(block[: min(left, len(block))]))
        left -= min(left, len(block))
    out.append(packer.flush())
    return b"".join(out)
