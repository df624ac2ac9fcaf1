"""``describe_failure``: every way a request fails reads as a sentence, never as a repr.

The failures are the real objects Scrapy hands an errback: Scrapy's exceptions with the
Twisted error they wrap as ``__cause__``, and twisted.web's ``ResponseFailed`` holding a
list of Failures.  The end-to-end test drops connections in the replay.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.defer import CancelledError
from twisted.internet.error import ConnectionDone, ConnectionLost, ConnectionRefusedError, DNSLookupError
from twisted.internet.error import TimeoutError as TxTimeoutError
from twisted.python.failure import Failure
from twisted.web._newclient import ParseError
from twisted.web.client import ResponseFailed, ResponseNeverReceived
from twisted.web.http import _DataLoss

from crawler.failure_reasons import describe_failure
from crawler.replay import ReplayServer
from tests.crawler.cli_helpers import finews, write_settings

URL = "http://127.0.0.1:8/a/202403051234567892.html"
REPR = re.compile(r"<twisted|Failure|\[|<[\w.]+[ >]")


def wrapped(outer: BaseException, cause: BaseException) -> BaseException:
    """*outer* raised ``from`` *cause*, as Scrapy's download handlers raise it."""
    outer.__cause__ = cause
    return outer


def failure(exc: BaseException, url: str | None = URL) -> Failure:
    """The Failure an errback receives (Scrapy sets ``failure.request``)."""
    f = Failure(exc)
    if url is not None:
        f.request = Request(url)  # type: ignore[attr-defined]
    return f


def never_received(*reasons: BaseException) -> ResponseNeverReceived:
    return ResponseNeverReceived([Failure(r) for r in reasons])


def decompression_limit() -> BaseException:
    from scrapy.downloadermiddlewares.httpcompression import _DecompressionMaxSizeExceeded

    message = (f"Ignored response <200 {URL}> because its body (3120 B compressed, 1114112 B decompressed so far) "
               "exceeded DOWNLOAD_MAXSIZE (1048576 B) during decompression.")
    return wrapped(IgnoreRequest(message), _DecompressionMaxSizeExceeded(1114112, 1048576))


CASES = {
    "HTTP error": (HttpError(Response(URL, status=503), "Ignoring non-200 response"), "HTTP 503"),
    "Twisted timeout": (TxTimeoutError(), "timed out"),
    "Scrapy timeout": (DownloadTimeoutError(f"Getting {URL} took longer than 1.0 seconds."), "timed out"),
    "refused": (ConnectionRefusedError("Connection refused"), "connection refused"),
    "refused, wrapped": (
        wrapped(DownloadConnectionRefusedError("Connection was refused by other side: 111"), ConnectionRefusedError()),
        "connection refused",
    ),
    "DNS": (DNSLookupError("no results for hostname lookup: 127.0.0.1"), "DNS lookup failed for 127.0.0.1"),
    "DNS, wrapped": (
        wrapped(CannotResolveHostError("DNS lookup failed: no results"), DNSLookupError("no results")),
        "DNS lookup failed for 127.0.0.1",
    ),
    "dropped before the response": (never_received(ConnectionDone()), "connection closed before a response arrived"),
    "dropped, wrapped": (
        wrapped(DownloadFailedError(str(never_received(ConnectionDone()))), never_received(ConnectionDone())),
        "connection closed before a response arrived",
    ),
    "lost before the response": (never_received(ConnectionLost()), "connection closed before a response arrived"),
    "lost mid-response": (ResponseFailed([Failure(ConnectionLost())]), "connection lost before the response was complete"),
    "body cut short": (
        wrapped(ResponseDataLossError(), ResponseFailed([Failure(ConnectionDone()), Failure(_DataLoss())])),
        "response body cut short (the connection closed before its end)",
    ),
    "body cut short, unwrapped": (
        ResponseFailed([Failure(ConnectionDone()), Failure(_DataLoss())]),
        "response body cut short (the connection closed before its end)",
    ),
    "connection lost": (ConnectionLost(), "connection lost"),
    "malformed response": (ResponseFailed([Failure(ParseError("wrong number of parts", b"garbage"))]), "malformed HTTP response"),
    "over the size limit": (
        DownloadCancelledError(
            f"Expected to receive 2097152 bytes which is larger than download max size (1048576) in request <GET {URL}>."
        ),
        "response larger than 1 MiB (crawl.max_size_mb)",
    ),
    "over the size limit, chunked": (
        wrapped(DownloadCancelledError(""), CancelledError()),
        "download cancelled (over crawl.max_size_mb, or the run was stopping)",
    ),
    "over the size limit once decompressed": (decompression_limit(), "response larger than 1 MiB once decompressed (crawl.max_size_mb)"),
    "prose of finews's own": (IgnoreRequest(f"truncated response from {URL}"), f"truncated response from {URL}"),
}


@pytest.mark.parametrize(("exc", "expected"), CASES.values(), ids=CASES.keys())
def test_each_failure_is_one_sentence(exc: BaseException, expected: str) -> None:
    reason = describe_failure(failure(exc))
    assert reason == expected
    assert "\n" not in reason
    assert not REPR.search(reason.replace(URL, "")), reason


def test_dns_without_a_request_names_no_host() -> None:
    assert describe_failure(failure(DNSLookupError("x"), url=None)) == "DNS lookup failed"


def test_a_tls_failure_before_the_response() -> None:
    ssl = pytest.importorskip("OpenSSL.SSL")
    exc = never_received(ssl.Error([("SSL routines", "", "certificate verify failed")]))
    assert describe_failure(failure(exc)) == "TLS handshake failed"


class StrangeThingError(Exception):
    pass


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (StrangeThingError("[<twisted.python.failure.Failure builtins.OSError: x>]"), "strange thing"),
        (StrangeThingError(""), "strange thing"),
        (StrangeThingError("the disk is on fire"), "the disk is on fire"),
        (Exception("<object object at 0x7f>"), "request failed"),
    ],
)
def test_unknown_failures_fall_back_to_a_sentence(exc: BaseException, expected: str) -> None:
    assert describe_failure(failure(exc)) == expected


@pytest.mark.parametrize("fault", ["drop", "truncate"])
def test_a_dropped_connection_prints_a_sentence(tmp_path: Path, fault: str) -> None:
    with ReplayServer(articles=1, faults=f"*:*={fault}") as replay:
        code = replay.articles[0].code
        settings = write_settings(tmp_path, replay.templates())
        run = finews("-c", str(settings), "fetch", code, cwd=tmp_path)
    assert run.returncode == 1
    (line,) = run.stdout.splitlines()
    reason = {
        "drop": "connection closed before a response arrived",
        "truncate": "response body cut short (the connection closed before its end)",
    }[fault]
    assert line == f"failed {code} content API: {reason}; article page: {reason}"
    assert not REPR.search(line), line
