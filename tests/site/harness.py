"""The publishing-security harness: the hostile corpus, loopback servers, HTML checks, Chromium.

* :func:`load_corpus` reads ``tests/fixtures/hostile/payloads.json`` and renders each payload for a
  beacon port (placeholders: see the README beside the file).
* :class:`Recorder` is a loopback HTTP server that counts every request it gets: the *beacon*
  payloads call, the *canary* on 127.0.0.2 the crawler must never reach, and the *sink* that
  Chromium uses as its proxy, so that no request of a browsed page leaves the machine.
* :func:`findings` lists what an executable page would need (scripts, event handlers, frames,
  ``javascript:``/``data:`` URLs, …) in one HTML document, by tokenizing it.
* :class:`Browser` opens pages as top-level documents in Debian's headless Chromium (DevTools
  protocol over a pipe) and reports the DOM Chromium built and the scripts it parsed.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.conftest import FIXTURES
from tests.loopback import LoopbackHTTPServer, Serving

CORPUS = FIXTURES / "hostile" / "payloads.json"
PLACES = ("body", "title", "outlet", "list")
LIST_FIELDS = ("title", "showtime", "outlet", "url")

# --- the corpus -------------------------------------------------------------------------------

_TRANSFORMS = {
    "b64": lambda s: base64.b64encode(s.encode("utf-8")).decode("ascii"),
    "ent": lambda s: "".join(f"&#{ord(c)};" for c in s),
    "entpad": lambda s: "".join(f"&#{ord(c):07d}" for c in s),
    "hex": lambda s: "".join(f"&#x{ord(c):X};" for c in s),
    "hexnosemi": lambda s: "".join(f"&#x{ord(c):X}" for c in s),
}
_TRANSFORM = re.compile(r"@@(" + "|".join(_TRANSFORMS) + r"):(.*?):\1@@", re.DOTALL)


@dataclass(frozen=True)
class Payload:
    id: str
    where: str  # body | title | outlet | list
    source: str
    text: str  # rendered for one beacon port
    field: str | None = None  # list only: title | showtime | outlet | url
    may_quarantine: bool = False  # a list showtime no date can be read from: the article is held back
    expect: str | None = None  # a special check of the test ("relative": F9)


def render(template: str, payload_id: str, beacon: str) -> str:
    """*template* with the placeholders filled in for the beacon origin ``http://127.0.0.1:PORT``."""
    hit = f"{beacon}/hit?id={payload_id}"
    text = (template.replace("@@HITREL@@", hit.removeprefix("http:"))
            .replace("@@HIT@@", hit).replace("@@BEACON@@", beacon))
    text = _TRANSFORM.sub(lambda m: _TRANSFORMS[m.group(1)](m.group(2)), text)
    assert "@@" not in text, f"{payload_id}: unknown placeholder in {text!r}"
    return text


def load_corpus(beacon: str) -> list[Payload]:
    data = json.loads(CORPUS.read_text(encoding="utf-8"))
    out = []
    for raw in data["payloads"]:
        assert raw["where"] in PLACES, raw
        assert (raw["where"] == "list") == ("field" in raw), raw
        assert raw.get("field") in (None, *LIST_FIELDS), raw
        out.append(Payload(raw["id"], raw["where"], raw["source"], render(raw["payload"], raw["id"], beacon),
                           raw.get("field"), bool(raw.get("may_quarantine")), raw.get("expect")))
    assert len({p.id for p in out}) == len(out), "payload ids must be unique"
    return out


def raw_templates() -> list[dict[str, Any]]:
    return json.loads(CORPUS.read_text(encoding="utf-8"))["payloads"]


# --- loopback servers that count ---------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    method: str
    target: str  # the request target as sent: a path, or an absolute URL / host:port through a proxy
    id: str | None  # the ?id= of a beacon URL
    referer: str | None


class _RecordingHandler(BaseHTTPRequestHandler):
    server: _RecordingServer

    def _record(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        self.server.recorder.add(Hit(self.command, self.path, (query.get("id") or [None])[0], self.headers.get("Referer")))
        recorder = self.server.recorder
        body = recorder.body
        self.send_response(302 if recorder.location else recorder.status)
        if recorder.location:
            self.send_header("Location", recorder.location)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_HEAD = do_PUT = do_OPTIONS = do_CONNECT = _record  # noqa: N815 - the names http.server dispatches to

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


class _RecordingServer(LoopbackHTTPServer):
    def __init__(self, address: tuple[str, int], recorder: Recorder) -> None:
        self.recorder = recorder
        super().__init__(address, _RecordingHandler)


class Recorder(Serving):
    """A loopback HTTP server that records every request and answers *status* with an empty body
    (or a 302 to *location*)."""

    def __init__(self, host: str = "127.0.0.1", status: int = 200, location: str | None = None) -> None:
        self.host, self.status, self.location, self.body = host, status, location, b""
        self._lock = threading.Lock()
        self.hits: list[Hit] = []
        server = _RecordingServer((host, 0), self)
        super().__init__(server)
        self.port = server.server_port

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def add(self, hit: Hit) -> None:
        with self._lock:
            self.hits.append(hit)

    def snapshot(self) -> list[Hit]:
        with self._lock:
            return list(self.hits)


@contextmanager
def serve_directory(root: Path) -> Iterator[str]:
    """Serve *root* over HTTP on 127.0.0.1; yields the origin."""
    server = LoopbackHTTPServer(("127.0.0.1", 0), partial(_QuietFiles, directory=str(root)))
    with Serving(server):
        yield f"http://127.0.0.1:{server.server_port}"


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


# --- static checks ------------------------------------------------------------------------------

# Elements that run code, load a document or a resource the article never needs, or change how
# the page's URLs resolve.  Sanitized bodies have none; a layout may (see the allowance).
FORBIDDEN_ELEMENTS = frozenset({
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math", "base",
    "form", "button", "input", "select", "textarea", "style", "link", "template", "video", "audio",
    "source", "track", "picture", "portal", "marquee", "details", "dialog", "noscript", "xmp",
    "plaintext", "noembed", "noframes", "image", "xml", "bgsound", "layer", "ilayer", "isindex",
})
URL_ATTRIBUTES = frozenset({
    "href", "src", "action", "formaction", "poster", "background", "data", "codebase", "cite",
    "xlink:href", "lowsrc", "dynsrc", "longdesc", "usemap", "ping", "manifest", "icon", "profile",
})
FORBIDDEN_ATTRIBUTES = frozenset({"srcdoc", "formaction", "style", "srcset", "imagesrcset", "dynsrc", "lowsrc", "background", "ping"})
BAD_SCHEMES = ("javascript:", "data:", "vbscript:", "livescript:", "mocha:", "file:", "filesystem:", "blob:")
RAW_TAGS = re.compile(r"<\s*/?\s*(script|svg|math|base|iframe|frame|object|embed|style|form|xmp|plaintext|noscript)\b", re.IGNORECASE)
RAW_META_EQUIV = re.compile(r"<meta\b[^>]*\bhttp-equiv", re.IGNORECASE)
# Comments, CDATA, bogus comments and processing instructions: sanitized text has none, and they are
# where html.parser and a browser disagree (``<!-->`` ends a comment in a browser, not in html.parser).
RAW_DECLARATIONS = re.compile(r"<!(?!doctype\b)|<\?", re.IGNORECASE)


def url_scheme(value: str) -> str:
    """The scheme a browser reads from an attribute value: controls and spaces trimmed, tabs and newlines dropped."""
    text = re.sub(r"[\t\n\r]", "", value).strip("".join(map(chr, range(0x21)))).lower()
    match = re.match(r"([a-z][a-z0-9+.\-]*):", text)
    return match.group(1) + ":" if match else ""


class _Findings(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._script: str | None = None  # type of the script whose text is being read
        self._script_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs)

    def _tag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "script":
            kind = values.get("type", "").strip().lower()
            self._script, self._script_text = kind, []
            self.found.append(f"<script type={kind!r}>" if kind == "application/ld+json" else "<script>")
        elif tag == "meta" and "http-equiv" in values:
            self.found.append(f"<meta http-equiv={values['http-equiv'].lower()!r}>")
        elif tag in FORBIDDEN_ELEMENTS:
            rel = f" rel={values.get('rel', '').lower()!r}" if tag == "link" else ""
            self.found.append(f"<{tag}{rel}>")
        for name, value in values.items():
            if name.startswith("on") or name in FORBIDDEN_ATTRIBUTES:
                self.found.append(f"<{tag} {name}=>")
            if name in URL_ATTRIBUTES or name.endswith(":href"):
                scheme = url_scheme(value)
                if scheme in BAD_SCHEMES:
                    self.found.append(f"<{tag} {name}={scheme}>")
            if name == "content" and tag == "meta" and re.search(r"url\s*=", value, re.IGNORECASE):
                self.found.append("<meta content=url>")

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script_text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            text = "".join(self._script_text)
            if self._script == "application/ld+json":
                try:
                    json.loads(text)
                except ValueError:
                    self.found.append("<script type='application/ld+json'> that is not JSON")
                if "<" in text:
                    self.found.append("<script type='application/ld+json'> holding '<'")
            self._script = None


def findings(document: str) -> list[str]:
    """What in *document* could run code or fetch something on load; [] for a safe page."""
    parser = _Findings()
    parser.feed(document)
    parser.close()
    found = parser.found
    found += [f"raw <{m.group(1).lower()}" for m in RAW_TAGS.finditer(document)]
    found += ["raw <meta http-equiv" for _ in RAW_META_EQUIV.finditer(document)]
    found += [f"raw {m.group(0)}" for m in RAW_DECLARATIONS.finditer(document)]
    return found


def excess(found: Iterable[str], allowance: Iterable[str]) -> list[str]:
    """The findings beyond those a benign page of the same site has (layout chrome)."""
    allowed = set(allowance)
    return [f for f in found if f not in allowed]


# --- Chromium -------------------------------------------------------------------------------------


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Visit:
    url: str
    dom: str  # document.documentElement.outerHTML once the page settled ("" if it could not be read)
    seconds: float
    scripts: int  # scripts V8 parsed for the page: inline, handlers, javascript: URLs, external
    navigated: bool  # the page navigated itself away (meta refresh, location = …)
    problems: list[str] = field(default_factory=list)  # timeouts and protocol errors


class BrowserError(RuntimeError):
    pass


class Browser:
    """Debian's headless Chromium driven over the DevTools protocol on a pipe, no network port.

    One browser process; each page is opened as the top-level document of a fresh tab in a
    fresh browser context (no cookies or cache shared between pages).  After the load event
    virtual time runs for *budget_ms* (timers, delayed meta refreshes, autofocus and media
    error events fire) and stops early when the page navigates away.

    Requests to loopback (the site and the beacon) go direct; any other goes to *proxy*, a
    :class:`Recorder` answering 403, and host names resolve to nothing: neither a page that names
    ``https://img.example/x.png`` nor Chromium's own update and sign-in pings leave the machine.
    """

    def __init__(self, binary: str, profile: Path, proxy: str, *, budget_ms: int = 3000, step_timeout: float = 10) -> None:
        self.budget_ms, self.step_timeout = budget_ms, step_timeout
        to_browser_r, self._w = os.pipe()
        self._r, from_browser_w = os.pipe()
        # above 9, so that the shell's 3<&N 4>&M below never reads a descriptor it just replaced
        to_browser_r, from_browser_w = _above_nine(to_browser_r), _above_nine(from_browser_w)
        args = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--remote-debugging-pipe",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", "--disable-default-apps", "--disable-domain-reliability",
            "--disable-client-side-phishing-detection", "--disable-breakpad", "--no-first-run",
            "--no-default-browser-check", "--no-pings", "--dns-prefetch-disable", "--mute-audio",
            "--disable-features=MediaRouter,DialMediaRouteProvider,OptimizationHints,Translate,AutofillServerCommunication",
            f"--user-data-dir={profile}", f"--proxy-server={proxy}",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "about:blank",
        ]
        # --remote-debugging-pipe reads commands on fd 3 and writes on fd 4: bash puts the pipes
        # there (dash takes single-digit descriptors only).
        script = f'exec "$0" "$@" 3<&{to_browser_r} 4>&{from_browser_w} {to_browser_r}<&- {from_browser_w}>&-'
        self.process = subprocess.Popen(
            [shutil.which("bash") or "/bin/bash", "-c", script, binary, *args], pass_fds=(to_browser_r, from_browser_w),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        try:
            self.version = self.call("Browser.getVersion", timeout=60)["product"]
        except BaseException:
            self.close()
            raise

    # --- protocol ---------------------------------------------------------------------
    def _send(self, method: str, params: dict[str, Any] | None, session: str | None) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._w, json.dumps(message).encode("utf-8") + b"\0")
        return self._next_id

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self._r], [], [], left)
            if ready:
                chunk = os.read(self._r, 1 << 16)
                if not chunk:
                    raise BrowserError(f"chromium exited (status {self.process.poll()})")
                self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float | None = None) -> dict[str, Any]:
        wanted = self._send(method, params, session)
        deadline = time.monotonic() + (timeout or self.step_timeout)
        while True:
            message = self._read(deadline)
            if message.get("id") == wanted:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self._events.append(message)

    def wait_for(self, names: set[str], session: str, timeout: float) -> str | None:
        """The first of the events *names* of *session* (queued or new), None after *timeout*."""
        deadline = time.monotonic() + timeout
        while True:
            for n, message in enumerate(self._events):
                if message.get("sessionId") == session and message.get("method") in names:
                    del self._events[: n + 1]
                    return str(message["method"])
            self._events.clear()
            try:
                message = self._read(deadline)
            except TimeoutError:
                return None
            if "method" in message:
                self._events.append(message)

    # --- pages -------------------------------------------------------------------------
    def open(self, url: str) -> Visit:
        started = time.monotonic()
        problems: list[str] = []
        context = self.call("Target.createBrowserContext")["browserContextId"]
        target = self.call("Target.createTarget", {"url": "about:blank", "browserContextId": context})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        scripts, navigated, dom = 0, False, ""
        try:
            self.call("Page.enable", session=session)
            self.call("Debugger.enable", session=session)
            self._events.clear()
            self.call("Page.navigate", {"url": url}, session=session)
            watched = {"Page.loadEventFired", "Debugger.scriptParsed"}
            while (event := self.wait_for(watched, session, self.step_timeout)) == "Debugger.scriptParsed":
                scripts += 1
            if event is None:
                problems.append("no load event")
            self.call("Emulation.setVirtualTimePolicy", {"policy": "pauseIfNetworkFetchesPending", "budget": self.budget_ms},
                      session=session)
            watched = {
                "Emulation.virtualTimeBudgetExpired", "Page.frameRequestedNavigation", "Page.frameStartedLoading", "Debugger.scriptParsed",
            }
            while (event := self.wait_for(watched, session, self.step_timeout)) == "Debugger.scriptParsed":
                scripts += 1
            if event is None:
                problems.append("virtual time budget never expired")
            elif event != "Emulation.virtualTimeBudgetExpired":
                navigated = True
                if self.wait_for({"Page.frameStoppedLoading"}, session, self.step_timeout) is None:
                    problems.append("navigation never finished")
            self.call("Debugger.disable", session=session)
            result = self.call("Runtime.evaluate", {"expression": "document.documentElement ? document.documentElement.outerHTML : ''",
                                                    "returnByValue": True}, session=session)
            dom = str(result.get("result", {}).get("value") or "")
        except (BrowserError, TimeoutError) as exc:
            problems.append(f"{type(exc).__name__}: {exc}")
        finally:
            self.call("Target.closeTarget", {"targetId": target})
            self.call("Target.disposeBrowserContext", {"browserContextId": context})
            self._events.clear()
        return Visit(url, dom, time.monotonic() - started, scripts, navigated, problems)

    def close(self) -> None:
        with suppress(BrowserError, TimeoutError, OSError):
            self.call("Browser.close", timeout=10)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        for fd in (self._r, self._w):
            with suppress(OSError):
                os.close(fd)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _above_nine(fd: int) -> int:
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high
