"""RELIABILITY.md section 4, group A (network and HTTP): rows A1, A2, A3, A4, A5, A6, A7, A8,
A9, A10, A11, A12 and A13.

Every test runs the real ``finews`` in a fresh process against a server on loopback, the
replay (``crawler.replay``, with its fault injection) or a small ``Site`` of the test's own
(redirects, content types, compression bombs, TLS, server-side timestamps), and checks
the outcome the row names: what the command prints and exits with, what is stored, what
the server saw.  Only the DNS case (A4) runs the crawl in a probe process, to put a
resolver in that fails every lookup without asking the network.
"""

from __future__ import annotations

import asyncio
import re
import time
import zlib
from itertools import pairwise
from pathlib import Path
from typing import Any

import brotli
import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Headers
from sqlalchemy import create_engine, func, select

from crawler.middlewares import HostConcurrencyMiddleware, refused_type
from crawler.replay import ReplayServer
from pipelines.models import articles
from tests.crawler.cli_helpers import finews, write_settings
from tests.reliability.support import Hit, Reply, Site, api_reply, certificates, free_port, probe, run_measured, templates

CODE = "NW202401022200000001"
PAGE = f"/a/{CODE[2:]}.html"
POST = f"site/_posts/2024-01-02-{CODE}.md"
RSS_SLACK_MB = 40  # a bomb or a huge body that were read whole would add at least 64 MB
TOO_BIG = re.compile(r"max_size_mb|max size|DOWNLOAD_MAXSIZE")  # the reason names the limit


def reasons(run: Any, code: str = CODE) -> tuple[str, str]:
    """The (content API, article page) reasons of a ``failed`` line; the wording is the spider's."""
    head = f"failed {code} content API: "
    assert run.stdout.startswith(head) and run.stdout.count("\n") == 1, run.stdout + run.stderr
    api, _, page = run.stdout[len(head):].rstrip("\n").partition("; article page: ")
    return api, page


def posts(folder: Path) -> list[Path]:
    return sorted(folder.glob("site/_posts/*.md"))


def stored(folder: Path) -> int:
    db = folder / "finews.db"
    if not db.exists():
        return 0
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(articles)).scalar_one()
    engine.dispose()
    return int(count)


def full_article(replay: ReplayServer) -> str:
    """An article whose content API answer is complete (no article page needed)."""
    return next(a.code for a in replay.articles if a.api == "full")


def fetch(folder: Path, templates_: dict[str, Any], *codes: str, **overrides: Any) -> Any:
    settings = write_settings(folder, templates_, **overrides)
    return finews("-c", str(settings), "fetch", *codes, cwd=folder)


def codes(n: int) -> list[str]:
    return [f"NW2024010222000000{i:02d}" for i in range(1, n + 1)]


def api_by_query(delay: float = 0.0) -> Any:
    """A content-API route answering every code of :func:`codes` after *delay* seconds."""
    def route(_handler: Any, query: dict[str, str]) -> Reply:
        reply = api_reply(query["id"])
        reply.delay = delay
        return reply
    return route


# --- A1, A2, A3: retries ---------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a1_a_server_error_then_success_is_retried_and_stored_once(tmp_path: Path, status: int) -> None:
    with ReplayServer(articles=4, faults=f"api:*=status:{status}x1") as replay:
        code = full_article(replay)
        run = fetch(tmp_path, replay.templates(), code)
        api = [r.status for r in replay.requests if r.kind == "api"]
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith(f"new {code} ")
    assert api == [status, 200]
    assert len(posts(tmp_path)) == 1 and stored(tmp_path) == 1


def test_a2_a_server_error_forever_gives_up_after_the_retries(tmp_path: Path) -> None:
    with ReplayServer(articles=4) as probe_replay:
        code = full_article(probe_replay)
    with ReplayServer(articles=4, faults=f"api:{code}=status:503;page:{code}=status:503") as replay:
        run = fetch(tmp_path, replay.templates(), code, crawl={"retries": 2})
        counts = replay.count("api"), replay.count("page")
    assert run.returncode == 1
    assert run.stdout == f"failed {code} content API: HTTP 503; article page: HTTP 503\n"
    assert counts == (3, 3)  # the first try and crawl.retries more, no more
    assert posts(tmp_path) == [] and stored(tmp_path) == 0


def test_a3_retry_after_holds_every_request_to_the_host(tmp_path: Path) -> None:
    with ReplayServer(articles=3, faults="api:*=retry_after:1x1") as replay:
        run = fetch(tmp_path, replay.templates(), *(a.code for a in replay.articles), crawl={"per_host": 1, "concurrency": 1})
        hits = list(replay.requests)
    assert run.returncode == 0, run.stdout + run.stderr
    assert [line.split()[0] for line in run.stdout.splitlines()] == ["new"] * 3
    held = [i for i, h in enumerate(hits) if h.status == 429]
    assert len(held) == 3  # one 429 per article, each retried once: no retry storm
    for i in held:
        assert all(h.at - hits[i].at >= 0.95 for h in hits[i + 1 :]), "a request reached the host during its Retry-After"


# --- A4: refused connections, failed lookups -------------------------------------------------------


def test_a4_connection_refused_fails_the_target_without_a_crash(tmp_path: Path) -> None:
    port = free_port()
    dead = {
        "content_api": f"http://127.0.0.1:{port}/api?id={{code}}",
        "article_page": f"http://127.0.0.1:{port}/a/{{id}}.html",
        "lists": [{"kind": "columns", "url": f"http://127.0.0.1:{port}/list?page_index=1"}],
    }
    started = time.monotonic()
    run = fetch(tmp_path, dead, CODE)
    assert run.returncode == 1
    assert all(re.search(r"(?i)connection (was )?refused", r) for r in reasons(run)), run.stdout
    assert "Traceback" not in run.stderr
    assert time.monotonic() - started < 30
    assert posts(tmp_path) == []


def test_a4_a_failed_dns_lookup_is_retried_then_fails_the_target(tmp_path: Path) -> None:
    host = "finews-test.invalid"  # the probe's resolver answers no name: nothing is asked of the network
    settings = write_settings(tmp_path, {
        "content_api": f"http://{host}/api?id={{code}}",
        "article_page": f"http://{host}/a/{{id}}.html",
        "lists": [{"kind": "columns", "url": f"http://{host}/list?page_index=1"}],
    })
    result = probe("fetch", settings, {"TWISTED_DNS_RESOLVER": "tests.reliability.support.NoDNS", "LOG_LEVEL": "ERROR"},
                   cwd=tmp_path, targets=[CODE])
    status, reason = result["results"][CODE]
    assert status == "failed"
    assert reason.startswith("content API: DNS lookup failed") and "article page: DNS lookup failed" in reason
    assert result["stats"]["retry/count"] == 2 and result["stats"]["retry/max_reached"] == 2  # one retry per request
    assert posts(tmp_path) == []


# --- A5, A6: bodies cut short, servers that never answer ----------------------------------------


@pytest.mark.parametrize("kind", ["truncate", "truncate_nolength", "drop"])
def test_a5_a_cut_response_is_never_parsed_as_a_whole_one(tmp_path: Path, kind: str) -> None:
    with ReplayServer(articles=4) as probe_replay:
        code = full_article(probe_replay)
    with ReplayServer(articles=4, faults=f"api:{code}={kind};page:{code}={kind}") as replay:
        run = fetch(tmp_path, replay.templates(), code)
        counts = replay.count("api"), replay.count("page")
    assert run.returncode == 1
    assert run.stdout.startswith(f"failed {code} content API: ")
    assert counts == (2, 2)  # retried once each (crawl.retries: 1 in these settings)
    assert posts(tmp_path) == [] and stored(tmp_path) == 0


@pytest.mark.parametrize("kind", ["truncate", "truncate_nolength", "drop"])
def test_a5_a_cut_response_retried_whole_is_stored(tmp_path: Path, kind: str) -> None:
    with ReplayServer(articles=4, faults=f"api:*={kind}x1") as replay:
        code = full_article(replay)
        run = fetch(tmp_path, replay.templates(), code)
        counts = replay.count("api"), replay.count("page")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith(f"new {code} ")
    assert counts == (2, 0)  # the retry got the whole answer; the page was not needed
    assert stored(tmp_path) == 1


@pytest.mark.parametrize("kind", ["timeout", "hang_after_headers"])
def test_a6_a_server_that_never_answers_times_out_within_the_bound(tmp_path: Path, kind: str) -> None:
    with ReplayServer(articles=4) as probe_replay:
        code = full_article(probe_replay)
    with ReplayServer(articles=4, faults=f"api:{code}={kind};page:{code}={kind}") as replay:
        started = time.monotonic()
        run = fetch(tmp_path, replay.templates(), code, crawl={"timeout": 1})
        elapsed = time.monotonic() - started
        counts = replay.count("api"), replay.count("page")
    assert run.returncode == 1
    assert all("timed out" in r for r in reasons(run, code)), run.stdout
    assert counts == (2, 2)
    assert elapsed < 4 * 1 + 15  # four requests of crawl.timeout each, plus process start
    assert posts(tmp_path) == []


# --- A7, A8: size limits and compression bombs -----------------------------------------------


@pytest.fixture(scope="module")
def baseline_rss(tmp_path_factory: pytest.TempPathFactory) -> float:
    """Peak RSS of an ordinary ``finews fetch`` of one article."""
    folder = tmp_path_factory.mktemp("baseline")
    with ReplayServer(articles=4) as replay:
        settings = write_settings(folder, replay.templates(), crawl={"max_size_mb": 1})
        run = run_measured("-c", str(settings), "fetch", full_article(replay), cwd=folder)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.peak_rss_mb


@pytest.mark.parametrize("kind", ["huge", "huge_chunked"])  # refused on its Content-Length; cut off while read
def test_a7_a_response_over_max_size_is_aborted(tmp_path: Path, baseline_rss: float, kind: str) -> None:
    with ReplayServer(articles=4) as probe_replay:
        code = full_article(probe_replay)
    with ReplayServer(articles=4, faults=f"api:{code}={kind}:64;page:{code}={kind}:64") as replay:
        settings = write_settings(tmp_path, replay.templates(), crawl={"max_size_mb": 1})
        run = run_measured("-c", str(settings), "fetch", code, cwd=tmp_path)
    assert run.returncode == 1
    assert all(TOO_BIG.search(r) for r in reasons(run, code)), run.stdout
    assert posts(tmp_path) == []
    assert run.peak_rss_mb < baseline_rss + RSS_SLACK_MB, (run.peak_rss_mb, baseline_rss)


def bomb(encoding: str, mebibytes: int = 64) -> bytes:
    zeros = b"\0" * (mebibytes * 2**20)
    if encoding == "deflate":
        return zlib.compress(zeros, 9)
    return brotli.compress(zeros, quality=5)


def test_a8_a_gzip_bomb_is_aborted_while_decompressing(tmp_path: Path, baseline_rss: float) -> None:
    with ReplayServer(articles=4) as probe_replay:
        code = full_article(probe_replay)
    with ReplayServer(articles=4, faults=f"api:{code}=gzip_bomb:64;page:{code}=gzip_bomb:64") as replay:
        settings = write_settings(tmp_path, replay.templates(), crawl={"max_size_mb": 1})
        run = run_measured("-c", str(settings), "fetch", code, cwd=tmp_path)
    assert run.returncode == 1
    assert all(TOO_BIG.search(r) and "decompress" in r for r in reasons(run, code)), run.stdout
    assert posts(tmp_path) == []
    assert run.peak_rss_mb < baseline_rss + RSS_SLACK_MB, (run.peak_rss_mb, baseline_rss)


@pytest.mark.parametrize("encoding", ["deflate", "br"])
def test_a8_deflate_and_brotli_bombs_are_aborted_while_decompressing(tmp_path: Path, baseline_rss: float, encoding: str) -> None:
    packed = bomb(encoding)
    assert len(packed) < 100_000
    headers = {"Content-Encoding": encoding}
    routes = {
        "/api": Reply(200, packed, headers, "application/json; charset=utf-8"),
        PAGE: Reply(200, packed, headers),
    }
    with Site(routes) as site:
        settings = write_settings(tmp_path, templates(site), crawl={"max_size_mb": 1})
        run = run_measured("-c", str(settings), "fetch", CODE, cwd=tmp_path)
    assert run.returncode == 1
    assert all(TOO_BIG.search(r) and "decompress" in r for r in reasons(run)), run.stdout
    assert posts(tmp_path) == []
    assert run.peak_rss_mb < baseline_rss + RSS_SLACK_MB, (run.peak_rss_mb, baseline_rss)


# --- A9: redirects -----------------------------------------------------------------------------


def test_a9_a_redirect_on_the_configured_host_is_followed(tmp_path: Path) -> None:
    with Site({"/api": Reply(302, headers={"Location": "/api/moved"}), "/api/moved": api_reply(CODE)}) as site:
        run = fetch(tmp_path, templates(site), CODE)
        paths = [h.path for h in site.hits]
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout == f"new {CODE} {POST}\n"
    assert paths == ["/api", "/api/moved"]


@pytest.mark.parametrize("target", ["canary", "file:///etc/passwd", "data:text/html,<p>x</p>", "ftp://127.0.0.1/x"])
def test_a9_off_site_and_non_http_redirects_are_not_followed(tmp_path: Path, target: str) -> None:
    with Site(host="127.0.0.2", default=Reply(200, b"canary")) as canary:  # loopback too, but never configured
        location = canary.url + "/stolen" if target == "canary" else target
        routes = {"/api": Reply(302, headers={"Location": location}), PAGE: Reply(301, headers={"Location": location})}
        with Site(routes) as site:
            run = fetch(tmp_path, templates(site), CODE)
        assert canary.count() == 0
    assert run.returncode == 1
    if target == "canary":
        refused = f"host '127.0.0.2:{canary.port}' is not named by settings.yaml"
        assert run.stdout == f"failed {CODE} content API: {refused}; article page: {refused}\n"
    else:  # Scrapy does not follow a redirect to a scheme other than http(s); the 3xx is the answer
        assert run.stdout == f"failed {CODE} content API: HTTP 302; article page: HTTP 301\n"
    assert posts(tmp_path) == []


def test_a9_redirect_loops_and_long_chains_stop(tmp_path: Path) -> None:
    chain: dict[str, Any] = {f"/hop{i}": Reply(302, headers={"Location": f"/hop{i + 1}"}) for i in range(10)}
    chain["/hop10"] = api_reply(CODE)
    chain["/api"] = Reply(302, headers={"Location": "/hop0"})  # 11 hops to the answer
    chain[PAGE] = Reply(302, headers={"Location": PAGE})  # a loop
    with Site(chain) as site:
        run = fetch(tmp_path, templates(site), CODE)
        paths = [h.path for h in site.hits]
    assert run.returncode == 1
    assert all("redirect" in r for r in reasons(run)), run.stdout
    assert paths.count(PAGE) == 4  # the request and REDIRECT_MAX_TIMES (3) redirects
    assert "/hop3" not in paths
    assert posts(tmp_path) == []


# --- A10: robots.txt ----------------------------------------------------------------------------


def test_a10_robots_txt_is_not_consulted(tmp_path: Path) -> None:
    """finews fetches only the endpoints its templates name (see README "Reliability", A10)."""
    routes = {"/robots.txt": Reply(200, b"User-agent: *\nDisallow: /\n", content_type="text/plain"), "/api": api_reply(CODE)}
    with Site(routes) as site:
        run = fetch(tmp_path, templates(site), CODE)
        assert site.count("/robots.txt") == 0
    assert run.returncode == 0, run.stdout + run.stderr
    folder = tmp_path / "crawl"
    folder.mkdir()
    with ReplayServer(articles=6) as replay:  # a whole run: lists, content API and article pages
        settings = write_settings(folder, replay.templates())
        crawl = finews("-c", str(settings), "crawl", cwd=folder)
        assert crawl.returncode == 0, crawl.stdout + crawl.stderr
        assert [r.path for r in replay.requests if r.path == "/robots.txt"] == []


# --- A11: politeness, measured by the server ---------------------------------------------------


def most_at_once(hits: list[Hit]) -> int:
    edges = sorted([(h.at, 1) for h in hits] + [(h.done, -1) for h in hits], key=lambda e: (e[0], e[1]))
    now = peak = 0
    for _, step in edges:
        now += step
        peak = max(peak, now)
    return peak


@pytest.mark.parametrize("per_host", [1, 2])
def test_a11_requests_in_flight_to_one_host_never_exceed_per_host(tmp_path: Path, per_host: int) -> None:
    with Site({"/api": api_by_query(delay=0.25)}) as site:
        run = fetch(tmp_path, templates(site), *codes(6), crawl={"concurrency": 8, "per_host": per_host, "delay": 0})
        hits = list(site.hits)
    assert run.returncode == 0, run.stdout + run.stderr
    assert len(hits) == 6
    assert most_at_once(hits) == per_host


def test_a11_a_place_is_given_back_once_and_only_when_taken() -> None:
    async def scenario() -> None:
        mw = HostConcurrencyMiddleware(1)
        first, second = Request("http://127.0.0.1:1/a"), Request("http://127.0.0.1:2/b")  # one host, two ports
        await mw.process_request(first)
        waiting = asyncio.ensure_future(mw.process_request(second))
        await asyncio.sleep(0.05)
        assert not waiting.done()  # the host's one place is taken
        mw.process_exception(first, IgnoreRequest())
        mw.process_exception(first, IgnoreRequest())  # a second call gives back nothing
        await asyncio.wait_for(waiting, 1)
        mw.process_response(Request("http://127.0.0.1:1/c"), None)  # never took a place: gives back nothing
        assert mw.places["127.0.0.1"].locked()  # still exactly one place, held by the second request
        mw.process_response(second, None)
        assert not mw.places["127.0.0.1"].locked()

    asyncio.run(scenario())


def test_a11_requests_to_one_host_are_spaced_by_the_delay(tmp_path: Path) -> None:
    delay = 0.3
    with Site({"/api": api_by_query()}) as site:
        run = fetch(tmp_path, templates(site), *codes(6), crawl={"concurrency": 8, "per_host": 4, "delay": delay})
        arrivals = sorted(h.at for h in site.hits)
    assert run.returncode == 0, run.stdout + run.stderr
    gaps = [b - a for a, b in pairwise(arrivals)]
    assert len(gaps) == 5
    assert min(gaps) >= delay - 0.02, gaps  # never Scrapy's randomised 0.5 x delay


# --- A12: not an article at the article URL -----------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("application/pdf", b"%PDF-1.4\n" + b"\x00\xff" * (16 * 2**20)), ("image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 4096)],
)
def test_a12_a_non_text_article_page_is_refused_with_its_type(tmp_path: Path, content_type: str, body: bytes) -> None:
    with Site({PAGE: Reply(200, body, content_type=content_type)}) as site:
        run = fetch(tmp_path, templates(site), CODE, crawl={"max_size_mb": 64})
        time.sleep(0.2)  # the server notices the client left
        (page,) = [h for h in site.hits if h.path == PAGE]
    assert run.returncode == 1
    api, page_reason = reasons(run)
    assert api == "404 not found"
    assert page_reason == f"not text, HTML or JSON (Content-Type {content_type})"
    assert posts(tmp_path) == []
    if len(body) > 2**20:
        assert page.cut, "the body was downloaded whole; it should stop at the headers"


@pytest.mark.parametrize(
    ("value", "refused"),
    [
        (None, None), ("", None), ("text/html; charset=utf-8", None), ("TEXT/PLAIN", None), ("application/json", None),
        ("application/javascript; charset=UTF-8", None), ("application/x-javascript", None), ("application/ld+json", None),
        ("application/xhtml+xml", None), ("application/octet-stream", None),
        ("application/pdf", "application/pdf"), ("image/jpeg", "image/jpeg"), ("video/mp4", "video/mp4"),
        ("application/zip", "application/zip"), ("Application/PDF; name=x.pdf", "application/pdf"),
    ],
)
def test_a12_which_content_types_are_refused(value: str | None, refused: str | None) -> None:
    assert refused_type(Headers({} if value is None else {"Content-Type": value})) == refused


@pytest.mark.parametrize(
    "content_type", ["text/plain; charset=UTF-8", "text/html;charset=utf-8", "application/octet-stream", "application/javascript"],
)
def test_a12_text_answers_under_other_labels_still_parse(tmp_path: Path, content_type: str) -> None:
    answer = api_reply(CODE)
    answer.content_type = content_type
    with Site({"/api": answer}) as site:
        run = fetch(tmp_path, templates(site), CODE)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout == f"new {CODE} {POST}\n"


# --- A13: TLS ------------------------------------------------------------------------------------


@pytest.mark.parametrize("self_signed", [True, False], ids=["self-signed", "unknown-ca"])
def test_a13_an_untrusted_certificate_fails_the_fetch(tmp_path: Path, self_signed: bool) -> None:
    certs = certificates(tmp_path)
    with Site({"/api": api_reply(CODE)}, tls=certs.server_context(self_signed=self_signed)) as site:
        assert site.url.startswith("https://127.0.0.1:")
        run = fetch(tmp_path, templates(site), CODE)
        assert site.count() == 0  # no request was sent over the unverified connection
    assert run.returncode == 1
    assert all(re.search(r"TLS|certificate", r) for r in reasons(run)), run.stdout
    assert posts(tmp_path) == []


def test_a13_a_certificate_from_a_trusted_ca_is_accepted(tmp_path: Path) -> None:
    certs = certificates(tmp_path)
    with Site({"/api": api_reply(CODE)}, tls=certs.server_context()) as site:
        settings = write_settings(tmp_path, templates(site))
        run = finews("-c", str(settings), "fetch", CODE, cwd=tmp_path, env={"SSL_CERT_FILE": str(certs.ca)})
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout == f"new {CODE} {POST}\n"
