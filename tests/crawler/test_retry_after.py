"""``Retry-After`` holds a host for the time it names, never longer than five minutes."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from scrapy import Request
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from crawler.middlewares import RetryAfterMiddleware

URL = "http://127.0.0.1:8080/NewsData/GetNewsText.do?id=NW202403051234567890"
FIVE_MINUTES = 300.0


def in_days(days: int) -> bytes:
    when = datetime.now(UTC) + timedelta(days=days)
    return format_datetime(when, usegmt=True).encode("ascii")


def hold_after(status: int, retry_after: bytes) -> tuple[RetryAfterMiddleware, float]:
    """The middleware after one answer, and the seconds it now holds the host."""
    crawler = get_crawler()
    mw = RetryAfterMiddleware.from_crawler(crawler)
    request = Request(URL)
    mw.process_response(request, Response(URL, status=status, headers={"Retry-After": retry_after}, request=request))
    return mw, mw.not_before["127.0.0.1:8080"] - time.monotonic()


@pytest.mark.parametrize(
    "value",
    [b"86400", b"301", b"31536000", in_days(10), in_days(365 * 50)],
    ids=["a day", "just over", "a year", "a date in ten days", "a date in fifty years"],
)
@pytest.mark.parametrize("status", [429, 503])
def test_a_long_retry_after_is_capped_at_five_minutes(status: int, value: bytes) -> None:
    mw, hold = hold_after(status, value)
    assert FIVE_MINUTES - 5 < hold <= FIVE_MINUTES
    assert mw.crawler.stats.get_value("retry_after/received") == 1


def test_a_short_retry_after_is_kept() -> None:
    _, hold = hold_after(429, b"7")
    assert 6 < hold <= 7


def test_the_next_request_waits_at_most_five_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    mw, _ = hold_after(429, b"86400")
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    asyncio.run(mw.process_request(Request(URL)))
    (wait,) = waits
    assert FIVE_MINUTES - 5 < wait <= FIVE_MINUTES
