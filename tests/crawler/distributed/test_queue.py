"""The hardened scrapy-redis queue against the real Redis: what it refuses, what it hands out."""

from __future__ import annotations

import json
from typing import Any

from scrapy import Request
from scrapy.settings import Settings
from scrapy.statscollectors import MemoryStatsCollector

from crawler.distributed import Keys, connect, serializer
from crawler.distributed.queue import JsonPriorityQueue

KEYS = Keys("finews-test")


class Crawler:
    def __init__(self) -> None:
        self.settings = Settings()
        self.stats = MemoryStatsCollector(self)  # type: ignore[arg-type]


class Spider:
    name = "worker"
    wire_callbacks = frozenset({"parse_list_page"})

    def __init__(self) -> None:
        self.settings = Settings({"FINEWS_REDIS_PREFIX": KEYS.prefix})
        self.crawler = Crawler()

    def parse_list_page(self, response: Any) -> None: ...
    def closed(self, reason: str) -> None: ...


def entry(**fields: Any) -> bytes:
    return json.dumps({"url": "http://127.0.0.1/list", "method": "GET", **fields}).encode()


def test_only_requests_to_the_spiders_queue_callbacks_come_out(redis_url: str) -> None:
    client, spider = connect(redis_url), Spider()
    queue = JsonPriorityQueue(client, spider, KEYS.queue, serializer)
    refused = [
        entry(callback="closed"),  # a spider method, but not one a queued request may name
        entry(callback="parse_list_page", errback="closed"),
        entry(callback="parse_list_page", _class="scrapy.http.FormRequest"),  # Scrapy would import the class
        b"\x80\x04\x95\x00",  # pickle
    ]
    for n, payload in enumerate(refused):
        client.zadd(KEYS.queue, {payload: -10 + n})
    queue.push(Request("http://127.0.0.1/list?page=2", callback=spider.parse_list_page, priority=1))
    request = queue.pop()
    assert request is not None and request.url.endswith("page=2") and request.callback == spider.parse_list_page
    assert queue.pop() is None
    assert client.lrange(KEYS.rejected, 0, -1) == refused[::-1]  # newest first, byte for byte
    assert spider.crawler.stats.get_value("redis/rejected") == len(refused)
