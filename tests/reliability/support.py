"""Helpers of the reliability tests: a programmable loopback HTTP(S) server and small probes.

``Site`` serves whatever the test routes to a path (status, headers, body, or a raw
writer for protocol-level faults) on 127.0.0.1 or another loopback address, and records
every request server-side: path, arrival and end time, and whether the client hung up
before the body was sent whole.  ``templates(site)`` points every ``sources.eastmoney``
template at it; ``api_body(code)`` is a minimal content-API answer.  ``certificates``
makes a test CA, a server certificate for 127.0.0.1 signed by it, and a self-signed one.
``run_measured`` runs ``finews`` in a subprocess and returns its peak RSS too.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer
from twisted.internet.error import DNSLookupError

from tests.crawler.cli_helpers import ROOT
from tests.loopback import LoopbackHTTPServer, Serving


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/html; charset=utf-8"
    delay: float = 0.0  # seconds before the answer


Route = Reply | Callable[["Handler", dict[str, str]], Reply | None]  # a callable may write itself and return None


@dataclass
class Hit:
    path: str
    query: dict[str, str]
    at: float  # time.monotonic() on arrival
    done: float = 0.0  # time.monotonic() when the answer was written (or the client left)
    cut: bool = False  # the client closed the connection before the whole body was sent


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "reliability-site/1.0"
    timeout = 10

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        site: Site = self.server.site  # type: ignore[attr-defined]
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        hit = Hit(split.path, query, time.monotonic())
        site._record(hit)
        route = site.routes.get(split.path, site.default)
        try:
            reply = route(self, query) if callable(route) else route
            if reply is not None:
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                if "Content-Length" not in reply.headers and "Transfer-Encoding" not in reply.headers:
                    self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)
                self.wfile.flush()
        except (ConnectionError, ssl.SSLError, TimeoutError):
            hit.cut = True
            self.close_connection = True
        finally:
            hit.done = time.monotonic()


class Site(Serving):
    """A loopback HTTP server for one test; use as a context manager."""

    def __init__(self, routes: dict[str, Route] | None = None, *, host: str = "127.0.0.1",
                 tls: ssl.SSLContext | None = None, default: Route | None = None) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.default: Route = default or Reply(404, b"<html><body>404 not found</body></html>")
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        server = LoopbackHTTPServer((host, 0), Handler)
        server.site = self  # type: ignore[attr-defined]
        if tls is not None:
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        super().__init__(server)
        scheme = "https" if tls is not None else "http"
        self.host, self.port = host, server.server_port
        self.url = f"{scheme}://{host}:{self.port}"

    def _record(self, hit: Hit) -> None:
        with self._lock:
            self.hits.append(hit)

    def count(self, path: str | None = None) -> int:
        with self._lock:
            return sum(1 for h in self.hits if path is None or h.path == path)


def templates(site: Site, api_path: str = "/api") -> dict[str, Any]:
    """``sources.eastmoney`` templates that all point at *site* (one list, never fetched by ``fetch``)."""
    return {
        "content_api": site.url + api_path + "?id={code}",
        "article_page": site.url + "/a/{id}.html",
        "lists": [{"kind": "columns", "url": site.url + "/list?client=web&page_index=1&page_size=10"}],
    }


def api_body(code: str, title: str = "国家统计局发布最新数据", date: str = "2024-01-02 10:00:00", outlet: str = "新华社") -> bytes:
    return json.dumps(
        {
            "Id": code,
            "Title": title,
            "Date": date,
            "medianame": outlet,
            "text": f"<p>\u3000\u3000{title}，相关部门表示将继续推进各项工作。</p>"
            f'<p class="em_media">（文章来源：{outlet}）</p>',
        },
        ensure_ascii=False,
    ).encode("utf-8")


def api_reply(code: str, **kwargs: str) -> Reply:
    return Reply(200, api_body(code, **kwargs), content_type="application/json; charset=utf-8")


# --- certificates -------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificates:
    ca: Path  # PEM of the test CA (what a client must trust)
    chain: Path  # server certificate for 127.0.0.1 signed by the CA
    key: Path
    self_signed: Path  # a server certificate for 127.0.0.1 that no CA signed
    self_signed_key: Path

    def server_context(self, *, self_signed: bool = False) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if self_signed:
            ctx.load_cert_chain(self.self_signed, self.self_signed_key)
        else:
            ctx.load_cert_chain(self.chain, self.key)
        return ctx


def certificates(folder: Path) -> Certificates:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> Path:
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        return path

    def write_cert(cert: x509.Certificate, path: Path) -> Path:
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return path

    def leaf(subject_key: ec.EllipticCurvePrivateKey, issuer: x509.Name, issuer_key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
        return (
            x509.CertificateBuilder()
            .subject_name(name("127.0.0.1"))
            .issuer_name(issuer)
            .public_key(subject_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(issuer_key, hashes.SHA256())
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(name("finews test CA"))
        .issuer_name(name("finews test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    lone_key = ec.generate_private_key(ec.SECP256R1())
    return Certificates(
        ca=write_cert(ca_cert, folder / "ca.pem"),
        chain=write_cert(leaf(server_key, ca_cert.subject, ca_key), folder / "server.pem"),
        key=write_key(server_key, folder / "server.key"),
        self_signed=write_cert(leaf(lone_key, name("127.0.0.1"), lone_key), folder / "self-signed.pem"),
        self_signed_key=write_key(lone_key, folder / "self-signed.key"),
    )


# --- processes ----------------------------------------------------------------------------


@dataclass
class Measured:
    returncode: int
    stdout: str
    stderr: str
    peak_rss_mb: float


def run_measured(*args: str, cwd: Path, timeout: float = 120, env: dict[str, str] | None = None) -> Measured:
    """``finews ARGS`` in a fresh process, with that process's own peak RSS (``wait4``)."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("FINEWS_CONFIG", None)
    full_env["PYTHONPATH"] = str(ROOT)
    out, err = cwd / ".measured.out", cwd / ".measured.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "crawler.cli", *args], cwd=cwd, env=full_env, stdout=stdout, stderr=stderr)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                raise TimeoutError(f"finews {' '.join(args)} ran longer than {timeout} s")
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
    return Measured(proc.returncode, out.read_text("utf-8"), err.read_text("utf-8"), usage.ru_maxrss / 1024)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])



# --- in-process crawl probes (Scrapy settings a settings.yaml cannot reach) -----------------

PROBE = """
import json, sys
from crawler.cli.run import run_spider, run_status
from crawler.config import load_config
report, stats = run_spider(sys.argv[1], load_config(sys.argv[2]), json.loads(sys.argv[3]), **json.loads(sys.argv[4]))
print(json.dumps({
    "status": run_status(report, stats),
    "results": {code: [r.status, r.detail] for code, r in report.results.items()},
    "stats": {k: v for k, v in stats.items() if isinstance(v, (int, float, str))},
}))
"""


def probe(spider: str, settings: Path, overrides: dict[str, Any], *, cwd: Path, timeout: float = 120, **spider_args: Any) -> dict[str, Any]:
    """Run *spider* in a fresh process with Scrapy *overrides*; its results and final stats."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("FINEWS_CONFIG", None)
    run = subprocess.run(
        [sys.executable, "-c", PROBE, spider, str(settings), json.dumps(overrides), json.dumps(spider_args)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.splitlines()[-1])  # type: ignore[no-any-return]


class NoDNS(CachingThreadedResolver):
    """A resolver that knows no host: every lookup fails at once, and nothing leaves the machine."""

    def getHostByName(self, name: str, timeout: Any = ()) -> defer.Deferred[str]:  # noqa: N802 - Twisted's IResolverSimple method
        return defer.fail(DNSLookupError(f"{name}: no such host (test resolver)"))
