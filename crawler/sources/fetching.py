"""The fetch-strategy contract: how a source turns one article code into requests and an item.

A strategy never touches Scrapy.  ``start`` names the first request as a
:class:`Step`; the spider fetches it and hands the response (any object with the
:class:`Reply` attributes, such as a Scrapy response) back to ``on_reply``, or the
reason it failed to ``on_error``.  Each returns what to do next: more steps, the
finished :class:`~crawler.items.ArticleItem`, or :class:`NoArticle` when no request
gave the article.  The strategy's own *state* travels with each step.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from crawler.items import ArticleItem

T = TypeVar("T", bound=type)

# The dataclasses a step's state may hold, by name: the only classes the JSON form of a
# request (crawler/distributed/serializer.py) rebuilds when it crosses Redis.
WIRE_TYPES: dict[str, type] = {}


def wire_type(cls: T) -> T:
    """Register the dataclass *cls* as one a step's state may carry between processes."""
    WIRE_TYPES[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return cls


class Reply(Protocol):
    """What a strategy reads of a response."""

    @property
    def url(self) -> str: ...
    @property
    def status(self) -> int: ...
    @property
    def body(self) -> bytes: ...
    @property
    def headers(self) -> Mapping[Any, Any]: ...
    @property
    def text(self) -> str: ...


@wire_type
@dataclass
class Step:
    """One request a strategy wants: its URL, the strategy's name for it, its state."""

    url: str
    name: str
    state: Any
    statuses: tuple[int, ...] = (404,)  # non-2xx statuses the strategy reads itself


@dataclass
class NoArticle:
    """No request gave the article; *reason* says what each tried request answered."""

    code: str
    targets: list[str]
    reason: str


Outcome = Step | ArticleItem | NoArticle


class FetchStrategy(ABC):
    @abstractmethod
    def start(self, code: str, targets: list[str], hints: dict[str, Any]) -> Step:
        """The first request for *code*; *hints* are a list's fields (title, date, outlet, category, tag, list_meta)."""

    @abstractmethod
    def on_reply(self, step: Step, reply: Reply) -> Iterator[Outcome]:
        """What follows the response to *step*."""

    @abstractmethod
    def on_error(self, step: Step, reason: str) -> Iterator[Outcome]:
        """What follows when *step*'s request failed (after the downloader's retries) for *reason*."""

