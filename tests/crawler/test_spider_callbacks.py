"""The check Scrapy would make at every callback call, made once over every spider (crawler/settings.py
switches Scrapy's per-call check off: it re-parses the callback's source each time)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
import scrapy
from scrapy.utils.misc import is_generator_with_return_value

import crawler.spiders
from crawler import settings


def _spider_methods() -> list[tuple[str, object]]:
    """Every function of finews's own that a spider class has, inherited ones included."""
    found: dict[str, object] = {}
    for module in pkgutil.iter_modules(crawler.spiders.__path__):
        loaded = importlib.import_module(f"crawler.spiders.{module.name}")
        for _, cls in inspect.getmembers(loaded, inspect.isclass):
            if issubclass(cls, scrapy.Spider) and cls.__module__.startswith("crawler."):
                for _, fn in inspect.getmembers(cls, inspect.isfunction):
                    if fn.__module__.startswith("crawler."):
                        found[fn.__qualname__] = fn
    return sorted(found.items())


def test_the_spiders_have_generator_callbacks_to_check() -> None:
    generators = [name for name, fn in _spider_methods() if inspect.isgeneratorfunction(fn)]
    assert {"ArticleFetcher.article_reply", "ListCrawlSpider.parse_list_page"} <= set(generators), generators


@pytest.mark.parametrize(("name", "fn"), _spider_methods(), ids=[name for name, _ in _spider_methods()])
def test_no_spider_generator_returns_a_value(name: str, fn: object) -> None:
    assert not is_generator_with_return_value(fn), f"{name} is a generator with `return <value>`: Scrapy drops the value"


def test_scrapy_per_call_check_is_off() -> None:
    assert settings.WARN_ON_GENERATOR_RETURN_VALUE is False
