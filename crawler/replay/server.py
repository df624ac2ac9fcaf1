"""ReplayServer: a deterministic, offline Eastmoney on loopback (SPEC 5.5).

Stdlib only, a ``ThreadingHTTPServer`` in a daemon thread, so it runs inside a test, a
benchmark or the same process as a Scrapy crawl.  Endpoints mirror the real paths, so only
the host part of each ``sources.eastmoney`` template changes (see :meth:`templates`):

* ``/NewsData/GetNewsText.do?id=NW…`` content API: 404 for ``missing`` articles and unknown
  codes; fixture files are served byte for byte for their ``Id`` (they have no page);
* ``/html_News/NewsShare.html?infoCode=NW…`` the static share shell;
* ``/a/<id>.html`` and ``/a/<id>_<n>.html`` article pages (:mod:`crawler.replay.pages`);
* the five lists (:mod:`crawler.replay.lists`);
* ``/download/<name>`` a placeholder SVG for each CDN image, named in bodies instead of the
  CDN when ``local_images`` is set (``finews demo``, ``finews replay``);
* ``/robots.txt`` (allow all) and ``/`` (an index of the above); anything else 404.

An unknown code answers 404; to make some codes answer ``200 null`` (the other "no body"
form of SPEC 5.1) configure the fault ``api:NW…=null_body``.  A permanent
``api:<code>=empty`` (or ``api:*=empty``) fault also marks the articles it hits with
``api == "empty"``.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import socketserver
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from crawler.replay import lists, markup, pages
from crawler.replay.faults import Fault, FaultBook, coerce_faults
from crawler.replay.fixtures import code_of, load_fixture
from crawler.replay.generator import DATE_FORMAT, IMAGE_HOST, ArticleFactory, GeneratedArticle, Story, blocks_from_paragraphs
from crawler.replay.handler import CT_HTML, CT_JS, CT_JSON, CT_SVG, CT_TEXT, ReplayHandler, Response, error_page

logger = logging.getLogger(__name__)

ENDPOINT_KINDS = ("api", "page", "share", "list", "other")
_PAGE = re.compile(r"/a/(\d{18})(?:_(\d+))?\.html")


SOURCE = "eastmoney"  # the source this replay stands in for


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    query: dict[str, str]
    status: int  # 0 when no status line was sent (timeout, drop)
    at: float  # time.monotonic() when the request arrived
    kind: str = "other"  # endpoint kind: api | page | share | list | other


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], replay: ReplayServer) -> None:
        self.replay = replay
        super().__init__(address, ReplayHandler)

    def server_bind(self) -> None:
        # skip HTTPServer's getfqdn(): a reverse lookup has no business on loopback
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return  # clients that vanish mid-response are part of the job
        logger.error("replay: error while serving %s", client_address, exc_info=True)  # noqa: LOG014 - runs inside socketserver's except


def _entry(story: Story) -> lists.Entry:
    """What the lists show of *story*: its own fields, the ones it lists blank left empty."""
    a = story.article
    entry = lists.Entry(a.code, a.title, a.date, a.outlet, pages.digest(story), story.seq)
    if "title" in a.blank_in_lists:
        entry = replace(entry, title="")
    if "showtime" in a.blank_in_lists:
        entry = replace(entry, showtime="")
    return entry


class ReplayServer:
    """The replay of Eastmoney for *articles* generated articles (see the module docstring)."""

    def __init__(self, articles: int = 20, *, fixtures: Sequence[str | Path] = (),
                 faults: str | Sequence[Fault] = (), host: str = "127.0.0.1", port: int = 0,
                 seed: int = 0, page_size: int = 10, local_images: bool = False) -> None:
        if articles < 0:
            raise ValueError(f"articles must be 0 or more, not {articles}")
        if page_size < 1:
            raise ValueError(f"page_size must be at least 1, not {page_size}")
        self.host, self.port, self.seed, self.page_size = host, port, seed, page_size
        # Bodies name the image CDN as real ones do; the demo serves them from here instead,
        # so a page of its site asks no third party for anything.
        self.local_images = local_images
        self._faults = FaultBook(coerce_faults(faults))
        self._lock = threading.RLock()
        self._factory = ArticleFactory(seed)
        self._stories: dict[str, Story] = {}
        self._next = 0
        self._fixtures = {f.code: f for f in (load_fixture(p, -1 - n) for n, p in enumerate(fixtures))}
        self._entries: list[lists.Entry] | None = None
        self.requests: list[RequestRecord] = []
        self._connections: set[socket.socket] = set()
        self._stopped = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None
        self._make(articles)

    # --- articles ------------------------------------------------------------
    def _make(self, n: int) -> list[GeneratedArticle]:
        empty = {f.target for f in self._faults.faults
                 if f.kind == "empty" and f.endpoint in ("api", "*") and f.times is None}
        made = []
        with self._lock:
            for _ in range(n):
                story = self._factory.make(self._next)
                self._next += 1
                if "*" in empty or story.article.code in empty:
                    story = story.with_article(replace(story.article, api="empty"))
                self._stories[story.article.code] = story
                made.append(story.article)
            self._changed()
        return made[::-1]

    def _changed(self) -> None:
        self._entries = None

    @property
    def articles(self) -> list[GeneratedArticle]:
        """The generated articles, newest first (a snapshot)."""
        with self._lock:
            stories = sorted(self._stories.values(), key=lambda s: (s.article.date, s.seq), reverse=True)
            return [s.article for s in stories]

    def add_articles(self, n: int) -> list[GeneratedArticle]:
        """Publish *n* new articles, newer than every generated one, so they top every list.

        Returned newest first.  An article whose date :meth:`edit_article` moved later keeps
        its place by date; the new ones continue the generated sequence.
        """
        if n < 0:
            raise ValueError(f"n must be 0 or more, not {n}")
        return self._make(n)

    def set_faults(self, faults: str | Sequence[Fault]) -> None:
        """Serve *faults* from now on instead of the current ones (hit counts start afresh).

        Faults are often aimed at codes, which are known only once the articles exist.
        """
        book = FaultBook(coerce_faults(faults))
        with self._lock:
            self._faults = book

    def edit_article(self, code: str, *, title: str | None = None, date: str | None = None,
                     paragraphs: Sequence[str] | None = None) -> GeneratedArticle:
        """Revise an article at the source; its code, id, style, layout and pages stay."""
        with self._lock:
            story = self._stories.get(code_of(code))
            if story is None:
                raise KeyError(f"no generated article {code!r}")
            if date is not None:
                datetime.strptime(date, DATE_FORMAT)  # ValueError names the format problem
            article = story.article
            blocks = None
            changes: dict[str, Any] = {}
            if title is not None:
                changes["title"] = title
            if date is not None:
                changes["date"] = date
            if paragraphs is not None:
                changes["paragraphs"] = tuple(paragraphs)
                blocks = blocks_from_paragraphs(tuple(paragraphs), article.outlet)
            story = story.with_article(replace(article, **changes), blocks)
            self._stories[story.article.code] = story
            self._changed()
            return story.article

    # --- lifecycle -------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the replay is not started: call start() or use it as a context manager")
        return self._url

    def start(self) -> ReplayServer:
        if self._httpd is not None:
            raise RuntimeError("the replay is already started")
        self._stopped.clear()
        self._httpd = _HTTPServer((self.host, self.port), self)
        self.port = self._httpd.server_port
        host = f"[{self.host}]" if ":" in self.host else self.host
        self._url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"finews-replay:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; hung (timeout) connections are released and every socket closed."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopped.set()
        httpd.shutdown()
        for conn in list(self._connections):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ReplayServer:
        return self if self._httpd is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what others read ------------------------------------------------------
    def sources(self) -> dict[str, Any]:
        """The settings.yaml ``sources`` block that points at this replay."""
        return {SOURCE: self.templates()}

    def templates(self) -> dict[str, Any]:
        """The ``sources.eastmoney`` settings that point at this replay."""
        u, size = self.url, self.page_size
        return {
            "share_link": u + "/html_News/NewsShare.html?infoCode={code}",
            "content_api": u + "/NewsData/GetNewsText.do?id={code}",
            "article_page": u + "/a/{id}.html",
            "lists": [
                {"kind": "nodelist", "url": u + "/web/webapi?type=45&count=100&newsid=1"},
                {"kind": "records", "url": u + f"/web/webapi?type=102&pageindex=1&pagesize={size}"},
                {"kind": "record", "url": u + f"/web/webapi?marketType=1&pageindex=1&pagesize={size}"},
                {"kind": "fastnews", "url": u + "/comm/web/getFastNewsList?client=web&biz=web_724"
                                                f"&fastColumn=102&sortEnd=&pageSize={size}&req_trace=finews"},
                {"kind": "columns", "url": u + "/comm/web/getNewsByColumns?client=web&biz=web_news_col"
                                               f"&column=350&order=1&needInteractData=0&page_index=1&page_size={size}"},
            ],
        }

    def count(self, kind: str) -> int:
        """Requests received by endpoint kind: api, page, share, list or other."""
        if kind not in ENDPOINT_KINDS:
            raise ValueError(f"unknown endpoint kind {kind!r}; expected one of {', '.join(ENDPOINT_KINDS)}")
        with self._lock:
            return sum(1 for r in self.requests if r.kind == kind)

    # --- serving (called from handler threads) -----------------------------------
    def _record(self, method: str, path: str, query: dict[str, str], status: int, at: float, kind: str) -> None:
        with self._lock:
            self.requests.append(RequestRecord(method, path, query, status, at, kind))

    def _classify(self, path: str, query: dict[str, str]) -> tuple[str, str]:
        """(endpoint kind, fault target) of a request."""
        if path == "/NewsData/GetNewsText.do":
            return "api", code_of(query.get("id", ""))
        if path == "/html_News/NewsShare.html":
            return "share", code_of(query.get("infoCode", ""))
        if match := _PAGE.fullmatch(path):
            return "page", f"NW{match.group(1)}"
        if kind := lists.kind_of(path, query):
            return "list", kind
        return "other", path

    def _list_entries(self) -> list[lists.Entry]:
        with self._lock:
            if self._entries is None:
                own = [_entry(s) for s in self._stories.values()]
                extra = [f.entry for f in self._fixtures.values() if f.entry is not None]
                self._entries = lists.order(own + extra)
            return self._entries

    def _respond(self, endpoint: str, target: str, path: str, query: dict[str, str], *, empty: bool) -> Response:
        try:
            if endpoint == "api":
                return self._own_images(self._api(target, empty))
            if endpoint == "page":
                return self._own_images(self._page(path, target, empty))
            if endpoint == "share":
                return Response(200, b"" if empty else markup.SHARE_SHELL.encode("utf-8"), CT_HTML)
            if endpoint == "list":
                return self._list(target, query, empty)
        except lists.BadQuery as exc:
            return error_page(400, str(exc))
        if path.startswith("/download/"):
            return Response(200, markup.placeholder_image(path), CT_SVG)
        if path == "/robots.txt":
            return Response(200, b"User-agent: *\nAllow: /\n", CT_TEXT)
        if path == "/":
            return Response(200, self._index().encode("utf-8"), CT_HTML)
        return error_page(404)

    def _own_images(self, response: Response) -> Response:
        if not self.local_images:
            return response
        return replace(response, body=response.body.replace(IMAGE_HOST.encode(), self.url.encode()))

    def _api(self, code: str, empty: bool) -> Response:
        fixture = self._fixtures.get(code)
        if fixture is not None:
            if not empty:
                return Response(200, fixture.raw, CT_JSON)
            blank = {k: ("" if k.lower() in ("text", "content") else v) for k, v in fixture.data.items()}
            return Response(200, markup.dump_json(blank), CT_JSON)
        story = self._stories.get(code)
        if story is None or story.article.api == "missing":
            return error_page(404)
        # rendering takes about 0.05 ms: nothing is cached, so memory stays flat at any N
        return Response(200, markup.api_json(story, self.url, empty=empty), CT_JSON)

    def _page(self, path: str, code: str, empty: bool) -> Response:
        story = self._stories.get(code)
        match = _PAGE.fullmatch(path)
        assert match is not None
        number = int(match.group(2) or 1)
        if story is None or match.group(2) == "1" or number > story.article.pages:
            return error_page(404)
        rendered = pages.render_pages(story.with_article(story.article, ()) if empty else story, self.url)
        return Response(200, rendered[number - 1].encode("utf-8"), CT_HTML)

    def _list(self, kind: str, query: dict[str, str], empty: bool) -> Response:
        callback = lists.callback(query)
        value = (lists.empty(kind, query, self.page_size) if empty
                 else lists.render(kind, self._list_entries(), query, self.url, self.page_size))
        body = markup.dump_json(value)
        if callback:
            return Response(200, callback.encode() + b"(" + body + b")", CT_JS)
        return Response(200, body, CT_JSON)

    def _index(self) -> str:
        t = self.templates()
        rows = [f'<li>{k}: <a href="{markup.attr(v)}">{markup.esc(v)}</a></li>'
                for k, v in t.items() if isinstance(v, str)]
        rows += [f'<li>list {x["kind"]}: <a href="{markup.attr(x["url"])}">{markup.esc(x["url"])}</a></li>'
                 for x in t["lists"]]
        newest = self.articles[:10]
        rows += [f'<li><a href="/a/{a.id}.html">{markup.esc(a.title)}</a> {a.date}</li>' for a in newest]
        return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>finews replay</title></head><body>"
                f"<h1>finews replay: {len(self._stories)} articles</h1><ul>{''.join(rows)}</ul></body></html>\n")

