"""Requests cross Redis as JSON and only as JSON (crawler/distributed/serializer.py)."""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from scrapy import Request
from scrapy.utils.request import request_from_dict

from crawler.distributed import serializer
from crawler.distributed.serializer import RejectedPayload
from crawler.sources.eastmoney.content_api import ApiArticle
from crawler.sources.eastmoney.fetch import Fetch
from crawler.sources.fetching import Step


class Spider:
    def article_reply(self) -> None: ...
    def article_error(self) -> None: ...


def a_step() -> Step:
    api = ApiArticle("NW202401010000000001", "标题", "2024-01-01 08:00:00", "证券时报", ("甲", "乙"), None, "<p>正文</p>", "text")
    fetch = Fetch("NW202401010000000001", ["NW202401010000000001"], datetime(2024, 1, 1, tzinfo=UTC),
                  hints={"title": "标题", "list_meta": {"https://list": {"title": "标题"}}}, api=api, raw={"api": "{}"})
    return Step("https://api.example/NW202401010000000001", "page", fetch, (404, 410))


def test_a_request_in_flight_comes_back_equal() -> None:
    spider = Spider()
    request = Request("https://api.example/x", callback=spider.article_reply, errback=spider.article_error,
                      cb_kwargs={"source": "eastmoney", "step": a_step()}, meta={"handle_httpstatus_list": [404]},
                      headers={"Accept": "application/json"}, body=b"\x00\xffbinary", priority=10)
    payload = serializer.dumps(request.to_dict(spider=spider))
    assert isinstance(payload, str) and "pickle" not in payload
    back = request_from_dict(serializer.loads(payload.encode("utf-8")), spider=spider)
    assert back.cb_kwargs == request.cb_kwargs
    assert back.cb_kwargs["step"].state.api.authors == ("甲", "乙")
    assert back.cb_kwargs["step"].state.fetched_at == datetime(2024, 1, 1, tzinfo=UTC)
    assert (back.url, back.body, back.priority, back.meta) == (request.url, request.body, request.priority, request.meta)
    assert back.headers == request.headers
    assert back.callback == spider.article_reply


class Boom:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("executed",))


@pytest.mark.parametrize("payload", [
    pickle.dumps({"url": "https://x", "callback": Boom()}),
    b"\x80\x04K\x01.",
    b"not json",
    b'"a string"',
    b'{"no": "url"}',
    b'{"url": "https://x", "cb_kwargs": {"$type": "os.system", "fields": {}}}',
    b'{"url": "https://x", "body": {"$bytes": "***"}}',
    b'{"url": "https://x", "body": {"$pairs": 3}}',
])
def test_anything_else_is_rejected(payload: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RejectedPayload):
        serializer.loads(payload)
    assert "executed" not in capsys.readouterr().out


def test_an_unregistered_dataclass_cannot_be_queued() -> None:
    @dataclass
    class Private:
        x: int

    with pytest.raises(TypeError, match="not registered"):
        serializer.dumps({"url": "https://x", "cb_kwargs": {"state": Private(1)}})
    with pytest.raises(TypeError, match="cannot cross"):
        serializer.dumps({"url": "https://x", "cb_kwargs": {"state": {1, 2}}})


def test_dicts_that_look_like_tags_survive() -> None:
    obj = {"url": "https://x", "meta": {"$bytes": "not a tag here", "k": (1, 2)}, "headers": {b"A": [b"b"]}}
    assert serializer.loads(serializer.dumps(obj)) == obj
