"""``describe_failure``: a failed request as one sentence, never a ``Failure`` or a repr.

Scrapy wraps Twisted's errors (``DownloadFailedError`` around
``ResponseNeverReceived``, ``ResponseDataLossError`` around a ``ResponseFailed``
that holds a list of Failures), so the whole chain of causes is matched, the most
specific reason first.  Classes are matched by qualified name: some are private
to Twisted or Scrapy, and pyOpenSSL's is optional.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import TimeoutError as TxTimeoutError

if TYPE_CHECKING:
    from twisted.python.failure import Failure

CUT_SHORT = "response body cut short (the connection closed before its end)"
DNS = "DNS lookup failed"
# (qualified class name, sentence), most specific first; DNS gets the host appended.
SENTENCES = (
    ("scrapy.exceptions.DownloadTimeoutError", "timed out"),
    ("scrapy.exceptions.DownloadConnectionRefusedError", "connection refused"),
    ("twisted.internet.error.ConnectionRefusedError", "connection refused"),
    ("scrapy.exceptions.CannotResolveHostError", DNS),
    ("twisted.internet.error.DNSLookupError", DNS),
    ("OpenSSL.SSL.Error", "TLS handshake failed"),
    ("twisted.internet.error.SSLError", "TLS handshake failed"),
    ("scrapy.exceptions.ResponseDataLossError", CUT_SHORT),
    ("twisted.web.http._DataLoss", CUT_SHORT),
    ("twisted.web._newclient.ParseError", "malformed HTTP response"),
    ("twisted.web._newclient.BadHeaders", "malformed HTTP response"),
    ("twisted.web._newclient.ResponseNeverReceived", "connection closed before a response arrived"),
    ("twisted.web._newclient.ResponseFailed", "connection lost before the response was complete"),
    ("twisted.internet.error.ConnectionClosed", "connection lost"),
    ("scrapy.exceptions.DownloadCancelledError", "download cancelled (over crawl.max_size_mb, or the run was stopping)"),
)
MAX_SIZE_RE = re.compile(r"larger than download max size \((\d+)\)")
REPR_RE = re.compile(r"<[\w.]+[ >]|\[<|Failure")


def causes(exc: BaseException | None) -> Iterator[BaseException]:
    """*exc*, the Failures twisted.web wraps in it, and its ``__cause__`` chain."""
    while exc is not None:
        yield exc
        for reason in getattr(exc, "reasons", None) or ():
            yield from causes(getattr(reason, "value", None))
        exc = exc.__cause__


def size(limit: int) -> str:
    return f"{limit // 2**20} MiB" if limit % 2**20 == 0 else f"{limit} bytes"


def describe_failure(failure: Failure) -> str:
    """A one-line reason for a failed request."""
    if isinstance(failure.value, HttpError):
        return f"HTTP {failure.value.response.status}"
    if failure.check(TxTimeoutError):
        return "timed out"
    chain = list(causes(failure.value))
    for exc in chain:  # Scrapy states the size limit only in prose, or on a private error
        limit = getattr(exc, "max_size", None)  # _DecompressionMaxSizeExceeded
        if isinstance(limit, int):
            return f"response larger than {size(limit)} once decompressed (crawl.max_size_mb)"
        if match := MAX_SIZE_RE.search(str(exc)):
            return f"response larger than {size(int(match.group(1)))} (crawl.max_size_mb)"
    names = {f"{c.__module__}.{c.__qualname__}" for exc in chain for c in type(exc).__mro__}
    for name, sentence in SENTENCES:
        if name in names:
            if sentence == DNS:
                request = getattr(failure, "request", None)
                host = urlsplit(request.url).hostname if request is not None else None
                return f"{DNS} for {host}" if host else DNS
            return sentence
    # Anything else: its own message when that is prose, else its class name in words.
    message = next(iter(str(failure.value).strip().splitlines()), "").strip()
    if message and not REPR_RE.search(message):
        return message
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", type(failure.value).__name__).lower()
    return words.removesuffix(" error") if words not in ("error", "exception") else "request failed"
