"""Faults (SPEC 5.5, RELIABILITY 4 A1–A8, E1, E2, E5): the syntax and every kind on the wire."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from crawler.replay import FAULT_KINDS, Fault, ReplayServer, parse_faults
from crawler.replay.faults import FaultBook, coerce_faults

from .support import fetch

CODE = "NW202401022200000000"  # the oldest article of seed 0


@contextmanager
def serving(faults: str, articles: int = 3) -> Iterator[ReplayServer]:
    with ReplayServer(articles, faults=faults) as server:
        yield server


def api_url(server: ReplayServer, code: str = CODE) -> str:
    return f"{server.url}/NewsData/GetNewsText.do?id={code}"


def raw_get(server: ReplayServer, path: str, timeout: float = 2.0) -> bytes:
    """Everything the server sends for one request until it closes or *timeout* passes."""
    with socket.create_connection((server.host, server.port), timeout=timeout) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            pass
        return b"".join(chunks)


# --- syntax -------------------------------------------------------------------------

def test_the_documented_example_parses() -> None:
    faults = parse_faults(f"api:{CODE}=malformed_json;page:*=status:503x2;\napi:*=retry_after:1x1;")
    assert faults == (
        Fault("api", CODE, "malformed_json"),
        Fault("page", "*", "status", 503, 2),
        Fault("api", "*", "retry_after", 1, 1),
    )
    assert ";".join(map(str, faults)) == f"api:{CODE}=malformed_json;page:*=status:503x2;api:*=retry_after:1x1"
    assert parse_faults("") == () and parse_faults(" ; ") == ()


def test_every_kind_round_trips_through_the_syntax() -> None:
    for kind, (need, _kind_type, low, _high, meaning) in FAULT_KINDS.items():
        arg = "" if need == "none" else f":{max(low, 1):g}"
        (fault,) = parse_faults(f"*:*={kind}{arg}x3")
        assert (fault.kind, fault.times) == (kind, 3) and meaning
        assert parse_faults(str(fault)) == (fault,)


def test_bare_ids_are_normalised_to_codes() -> None:
    assert parse_faults(f"page:{CODE[2:]}=drop")[0].target == CODE


@pytest.mark.parametrize(("entry", "message"), [
    ("api", "expected ENDPOINT:TARGET=KIND"),
    ("api:*", "expected ENDPOINT:TARGET=KIND"),
    ("web:*=drop", "unknown endpoint 'web'"),
    ("api:*=explode", "unknown kind"),
    ("api:*=status", "status needs an argument"),
    ("api:*=status:99", "outside 200..599"),
    ("api:*=status:503.5", "whole number"),
    ("api:*=drop:3", "drop takes no argument"),
    ("api:*=status:503x0", "times must be at least 1"),
    ("api:*=status:503y2", "cannot read"),
    ("list:frontpage=drop", "unknown list kind 'frontpage'"),
    ("other:robots.txt=drop", "must be a path"),
    ("*:NW1=drop", "endpoint * takes only target *"),
    ("api:NW/../x=drop", "not an infoCode"),
])
def test_syntax_errors_name_the_bad_entry(entry: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as raised:
        parse_faults(f"page:{CODE}=slow:1;{entry}")
    text = str(raised.value)
    assert f"'{entry}'" in text and "\n" not in text and CODE not in text, "names only the bad entry"


def test_faults_are_text_or_fault_objects() -> None:
    assert coerce_faults([Fault("api", "*", "drop")]) == (Fault("api", "*", "drop"),)
    with pytest.raises(TypeError):
        coerce_faults([("api", "*", "drop")])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="bad fault"):
        ReplayServer(1, faults="api:*=nope")


def test_counts_are_per_url_and_first_match_wins() -> None:
    book = FaultBook(parse_faults("api:*=status:503x1;api:*=retry_after:1x1"))
    picks = [book.pick("api", CODE, "/a") for _ in range(3)]
    assert [p.kind if p else None for p in picks] == ["status", "retry_after", None]
    assert book.pick("api", CODE, "/b").kind == "status"  # type: ignore[union-attr]
    assert book.pick("page", CODE, "/a") is None


# --- behaviour ------------------------------------------------------------------------

def test_status_for_the_first_hits_then_normal() -> None:
    with serving("api:*=status:503x2") as server:
        assert [fetch(api_url(server)).status for _ in range(3)] == [503, 503, 200]
        other = server.articles[0].code
        assert fetch(api_url(server, other)).status == 503, "counted per URL"
        assert [r.status for r in server.requests] == [503, 503, 200, 503]


def test_permanent_status_and_targets() -> None:
    with serving(f"page:{CODE}=status:500;list:columns=status:502;other:/robots.txt=status:503") as server:
        assert [fetch(f"{server.url}/a/{CODE[2:]}.html").status for _ in range(3)] == [500] * 3
        assert fetch(f"{server.url}/a/{server.articles[0].id}.html").status == 200
        urls = {x["kind"]: x["url"] for x in server.templates()["lists"]}
        assert fetch(urls["columns"]).status == 502 and fetch(urls["nodelist"]).status == 200
        assert fetch(server.url + "/robots.txt").status == 503


def test_retry_after() -> None:
    with serving("api:*=retry_after:7x1") as server:
        first = fetch(api_url(server))
        assert first.status == 429 and first.headers["Retry-After"] == "7"
        assert fetch(api_url(server)).status == 200


def test_timeout_holds_until_the_client_gives_up_and_stop_releases_it() -> None:
    server = ReplayServer(3, faults="api:*=timeout").start()
    try:
        started = time.monotonic()
        with pytest.raises(OSError):  # noqa: PT011 - a timeout, or URLError around one; the text varies by platform
            fetch(api_url(server), timeout=0.3)
        assert time.monotonic() - started < 2
        assert server.requests[-1].status == 0 and server.count("api") == 1
    finally:
        started = time.monotonic()
        server.stop()
    assert time.monotonic() - started < 3


def test_bounded_timeout_closes_without_a_response() -> None:
    with serving("api:*=timeout:0.2") as server:
        started = time.monotonic()
        assert raw_get(server, f"/NewsData/GetNewsText.do?id={CODE}") == b""
        assert 0.2 <= time.monotonic() - started < 2


def test_hang_after_headers() -> None:
    with serving("api:*=hang_after_headers:0.3") as server:
        got = raw_get(server, f"/NewsData/GetNewsText.do?id={CODE}")
        head, _, body = got.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and b"Content-Length: " in head and body == b""


def test_slow() -> None:
    with serving("api:*=slow:0.3") as server:
        started = time.monotonic()
        got = fetch(api_url(server))
        assert got.status == 200 and time.monotonic() - started >= 0.3
        assert got.json()["Id"] == CODE


def test_truncate_declares_more_than_it_sends() -> None:
    with serving("api:*=truncate;page:*=truncate:10") as server:
        with pytest.raises(http.client.IncompleteRead):
            fetch(api_url(server))
        head, _, body = raw_get(server, f"/a/{CODE[2:]}.html").partition(b"\r\n\r\n")
        declared = int(next(line for line in head.split(b"\r\n") if line.startswith(b"Content-Length")).split()[1])
        assert len(body) == 10 < declared


def test_truncate_without_length_ends_early_unnoticed() -> None:
    with ReplayServer(3).start() as plain, serving("api:*=truncate_nolength") as server:
        whole = fetch(api_url(plain)).body.replace(plain.url.encode(), server.url.encode())
        got = fetch(api_url(server))
        assert got.status == 200 and "Content-Length" not in got.headers
        assert got.body == whole[: len(whole) // 2]


def test_drop() -> None:
    with serving("api:*=drop") as server:
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            fetch(api_url(server))
        assert server.requests[-1].status == 0


def test_malformed_json() -> None:
    with serving("api:*=malformed_json;list:*=malformed_json") as server:
        got = fetch(api_url(server))
        assert got.status == 200
        with pytest.raises(json.JSONDecodeError):
            got.json()
        with pytest.raises(json.JSONDecodeError):
            fetch(server.templates()["lists"][0]["url"]).json()


def test_wrong_charset_sends_gbk_labelled_utf8() -> None:
    with ReplayServer(3).start() as plain, serving("api:*=wrong_charset;page:*=wrong_charset") as server:
        for path in (f"/NewsData/GetNewsText.do?id={CODE}", f"/a/{CODE[2:]}.html"):
            good, bad = fetch(plain.url + path).body, fetch(server.url + path)
            assert bad.headers["Content-Type"].endswith("charset=utf-8")
            with pytest.raises(UnicodeDecodeError):
                bad.body.decode("utf-8")
            assert bad.body.decode("gbk") == good.decode("utf-8").replace(plain.url, server.url)


def test_gbk_undeclared_has_no_charset_anywhere() -> None:
    with serving("page:*=gbk_undeclared") as server:
        got = fetch(f"{server.url}/a/{CODE[2:]}.html")
        assert got.headers["Content-Type"] == "text/html"
        text = got.body.decode("gb18030")
        assert "charset" not in text and server.articles[-1].title in text


def test_empty_variants() -> None:
    with serving(f"api:{CODE}=empty;page:*=empty;list:*=empty;share:*=empty") as server:
        (article,) = [a for a in server.articles if a.code == CODE]
        assert article.api == "empty"
        assert all(a.api != "empty" for a in server.articles if a.code != CODE)
        obj = fetch(api_url(server)).json()
        assert obj["Title"] == article.title and obj["text"] == ""
        body = fetch(f"{server.url}/a/{CODE[2:]}.html").body.decode("utf-8")
        assert article.title in body and article.paragraphs[0] not in body
        for item in server.templates()["lists"]:
            value = fetch(item["url"]).json()
            assert json.dumps(value).count(CODE[2:]) == 0, item["kind"]
        assert fetch(f"{server.url}/html_News/NewsShare.html?infoCode={CODE}").body == b""


def test_empty_and_null_bodies_even_for_unknown_codes() -> None:
    unknown = "NW209901012200000000"
    with serving(f"api:{CODE}=empty_body;api:{unknown}=null_body") as server:
        empty = fetch(api_url(server))
        assert (empty.status, empty.body, empty.headers["Content-Length"]) == (200, b"", "0")
        null = fetch(api_url(server, unknown))
        assert (null.status, null.body) == (200, b"null")
        assert fetch(api_url(server, "NW209901012200000001")).status == 404


def test_huge_bodies_with_and_without_length() -> None:
    with serving("api:*=huge:1;list:*=huge_chunked:1") as server:
        got = fetch(api_url(server))
        assert len(got.body) == 2**20 and got.json()["Id"] == CODE
        chunked = fetch(server.templates()["lists"][0]["url"])
        assert chunked.headers.get("Transfer-Encoding") == "chunked" and "Content-Length" not in chunked.headers
        assert len(chunked.body) == 2**20 and chunked.json()["nodeList"]


def test_gzip_bomb() -> None:
    with serving("api:*=gzip_bomb:4") as server:
        got = fetch(api_url(server))
        assert got.headers["Content-Encoding"] == "gzip" and len(got.body) < 2**16
        unpacked = gzip.decompress(got.body)
        assert len(unpacked) == 4 * 2**20 and json.loads(unpacked)["Id"] == CODE


def test_requests_are_logged_and_counted() -> None:
    with serving("") as server:
        a = server.articles[0]
        fetch(api_url(server, a.code))
        fetch(f"{server.url}/a/{a.id}.html")
        fetch(f"{server.url}/html_News/NewsShare.html?infoCode={a.code}")
        fetch(server.templates()["lists"][4]["url"])
        fetch(server.url + "/favicon.ico")
        assert [server.count(k) for k in ("api", "page", "share", "list", "other")] == [1, 1, 1, 1, 1]
        first = server.requests[0]
        assert (first.method, first.path, first.query, first.status, first.kind) == (
            "GET", "/NewsData/GetNewsText.do", {"id": a.code}, 200, "api")
        assert [r.at for r in server.requests] == sorted(r.at for r in server.requests)
        assert server.requests[-1].status == 404
        with pytest.raises(ValueError, match="unknown endpoint kind"):
            server.count("pages")
