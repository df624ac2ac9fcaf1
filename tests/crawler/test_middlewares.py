from __future__ import annotations

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from crawler.middlewares import AllowedHostsMiddleware, PartialResponseMiddleware


def allowed(*hosts: str) -> AllowedHostsMiddleware:
    return AllowedHostsMiddleware.from_crawler(get_crawler(settings_dict={"FINEWS_ALLOWED_HOSTS": list(hosts)}))


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/a/1.html", "https://127.0.0.1:8080/x?y=1", "http://EXAMPLE.org/x"])
def test_configured_hosts_pass(url: str) -> None:
    assert allowed("127.0.0.1:8080", "example.org").process_request(Request(url)) is None


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.2:8080/", "http://127.0.0.1:8081/", "http://2130706434:8080/", "http://[::ffff:127.0.0.1]:8080/", "http://evil.example.org/"],
)
def test_other_hosts_are_refused_and_counted(url: str) -> None:
    mw = allowed("127.0.0.1:8080", "example.org")
    with pytest.raises(IgnoreRequest):
        mw.process_request(Request(url))
    assert mw.stats.get_value("offsite/refused") == 1


def test_no_hosts_is_a_configuration_error() -> None:
    with pytest.raises(NotConfigured):
        allowed()


def test_partial_responses_are_retried_then_refused() -> None:
    crawler = get_crawler(Spider, settings_dict={"RETRY_TIMES": 1})
    crawler.spider = Spider.from_crawler(crawler, name="t")
    mw = PartialResponseMiddleware.from_crawler(crawler)
    request = Request("http://127.0.0.1/a")
    whole = Response(request.url, request=request)
    assert mw.process_response(request, whole) is whole
    retry = mw.process_response(request, Response(request.url, request=request, flags=["partial"]))
    assert isinstance(retry, Request) and retry.meta["retry_times"] == 1
    with pytest.raises(IgnoreRequest, match="truncated response"):
        mw.process_response(retry, Response(request.url, request=retry, flags=["partial"]))
    assert crawler.stats.get_value("partial/retried") == 1 and crawler.stats.get_value("partial/given_up") == 1


def test_retry_after_values() -> None:
    from crawler.middlewares import retry_after_seconds

    assert retry_after_seconds(b"5") == 5.0
    assert retry_after_seconds(None) is None and retry_after_seconds(b"soon") is None
    assert retry_after_seconds(b"Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past: no wait
