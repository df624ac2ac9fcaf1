"""Deterministic articles for the replay: the truth (:class:`GeneratedArticle`) and its blocks.

Article ``i`` depends only on ``(seed, i)`` (its date also on the dates before it), so
``ReplayServer(20)`` and ``ReplayServer(10)`` followed by ``add_articles(10)`` serve the same
articles.  Text: one of seven topics by ``(i + i // 7 + seed) % 7``, sentences from
:mod:`crawler.replay.topics`, fictional companies, numbers drawn from ``random.Random``
seeded with ``"finews-replay:{seed}:{i}"``.  Variants by generation index ``i`` (0 = oldest):

* style ``content`` for odd ``i``, else ``text``; layout ``legacy`` when ``i % 3 == 1``;
* api ``partial`` when ``i % 7 == 2``, ``missing`` when ``i % 7 == 6``, else ``full``
  (``empty`` only through the fault ``api:<code>=empty``);
* pages 2 when ``i % 8 == 2``, 3 when ``i % 8 == 6``, else 1;
* authors: one when ``i % 3 == 0``, two when ``i % 5 == 1`` (and not the former), else none;
* API keys in lower case (``title``, ``date``, ``MediaName``…) when ``i % 5 == 4``; content
  style repeats the body in ``text`` too when ``i % 6 == 5``;
* current layout shows the outlet bare (no "来源：") when ``i % 4 == 3``; ``div.zwothers``
  (原标题) when ``i % 4 == 2``;
* body shapes (SPEC 5.1, like the real bodies): one line, with no hidden spacer or K-line
  block when ``i % 5 == 3`` (content style then joins its paragraphs with ``"\\n "`` when
  ``i % 10 == 3``), two K-line blocks (the second company's too, when it is an A or H share)
  when ``i % 5 == 1``, else one, each after a spacer and all before the text; text style in
  the seed's shape (stray ``<p><p align="center"></p>``, one ``<p>`` per line, no K-line)
  when ``i % 6 == 0``; the lead paragraph ends in ``<br />`` when ``i % 3 == 0``;
* content style: images when ``i % 3 != 2`` (two when ``i % 8 == 7``), each with a caption
  crediting its 图片来源; article pages load them lazily (``data-src`` only) when
  ``i % 4 == 3``, the content API never does; outlet 证券时报 when ``i % 10 == 1`` and
  中国证券报 when ``i % 10 == 5``, whose 证券 the linker links as a board in the outlet line;
* every article names a data keyword, a board and five to eight companies (two of them
  twice); Hong Kong stocks link as ``Info.116.…`` without a quote span;
* lists show an empty showtime when ``i % 40`` is 11 or 23 and an empty title when it is 17
  or 23 (``blank_in_lists``); the article keeps its own in the content API and page;
* dates from 2024-01-02 07:05:13 onwards, 4–12 h apart for the first 1000 articles and
  1–3 min apart after (100 000 articles end in 2025); article 4 at 23:30:00 and article 9
  at 00:05:41 Beijing time; seconds are zero when ``i % 13 == 7``, otherwise 1–59.
* ids: ``YYYYMMDD`` (Beijing date) + ``2200000000 + (7919213·i + 104729·seed) mod 10⁹``.

``paragraphs`` are the texts a reader sees, in order: paragraphs, headings, image captions
and the closing outlet line ``（文章来源：X）``; never noise, never the editor line.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from crawler.replay import corpus, topics

DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
IMAGE_HOST = "https://np-newspic.dfcfw.com"  # Eastmoney's image CDN, as in real bodies
FIRST_DATE = datetime(2024, 1, 2, 7, 5, 13)
MEDIA_LINE = re.compile(r"（文章来源：(.+)）")
_CHOICE = re.compile(r"\[([^\[\]]*)\]")  # [a|b|c]: one wording per use


# Template slots that draw a number (or a market move) from the article's random stream.
NUMBER_SLOTS: dict[str, Callable[[random.Random], str]] = {
    "pct": lambda rng: f"{rng.uniform(0.6, 48):.2f}",
    "chg": lambda rng: f"{rng.uniform(0.1, 9.9):.2f}",
    "ipct": lambda rng: f"{rng.uniform(0.02, 2.4):.2f}",
    "few": lambda rng: str(rng.randint(5, 30)),
    "pe": lambda rng: str(rng.randint(8, 35)),
    "turnover": lambda rng: f"{rng.uniform(0.62, 1.95):.2f}",
    "amt": lambda rng: f"{rng.uniform(1.2, 880):.2f}",
    "small": lambda rng: f"{rng.uniform(0.3, 9.5):.1f}",
    "int": lambda rng: str(rng.randint(12, 3600)),
    "price": lambda rng: f"{rng.uniform(4, 260):.2f}",
    "index": lambda rng: f"{rng.uniform(2850, 3450):.2f}",
    "move": lambda rng: rng.choice(corpus.MOVES),
    "move_title": lambda rng: rng.choice(("集体收涨", "集体收跌", "涨跌不一", "震荡整理")),
    "credit": lambda rng: rng.choice(corpus.IMAGE_CREDITS),
}


@dataclass(frozen=True)
class GeneratedArticle:
    """What the replay serves for one article: the truth that tests compare against."""

    code: str  # "NW" + id
    id: str  # 18 digits, starting with the Beijing date YYYYMMDD
    title: str
    date: str  # "YYYY-MM-DD HH:MM:SS", Beijing time
    outlet: str
    authors: tuple[str, ...]
    paragraphs: tuple[str, ...]  # plain text a reader sees, in order (captions and the outlet line too)
    api: str  # "full" | "partial" | "missing" | "empty"
    style: str  # "text" | "content"
    layout: str  # "current" | "legacy"
    pages: int
    blank_in_lists: tuple[str, ...] = ()  # list fields shown empty: "title", "showtime"


@dataclass(frozen=True)
class Mention:
    """A name the source's linker wraps: a stock, a board or a data keyword."""

    kind: str  # "stock" | "board" | "info"
    name: str
    ref: str  # "0.301286", "90.BK1036", "400"
    href: str


Part = str | Mention


@dataclass(frozen=True)
class Block:
    """One body element: p (paragraph), h (heading), img, caption, kline, media (outlet line)."""

    kind: str
    parts: tuple[Part, ...] = ()
    src: str = ""
    lazy: bool = False  # article pages load the image lazily (data-src only)
    br: bool = False  # the paragraph ends in a stray <br />, as some of the source's do

    @property
    def text(self) -> str:
        return "".join(p if isinstance(p, str) else p.name for p in self.parts)

    @property
    def visible(self) -> bool:
        return self.kind in ("p", "h", "caption", "media")


@dataclass(frozen=True)
class Story:
    """An article with everything its renderers need beyond the truth."""

    article: GeneratedArticle
    blocks: tuple[Block, ...]
    seq: int  # generation index: breaks ties in list order
    lower_keys: bool  # the API spells title/date (and a few more) in lower case
    both_keys: bool  # the API repeats the body in `text` and `content`
    bare_outlet: bool  # the current layout shows the outlet without "来源："
    outlet_board: Mention | None  # board the linker links inside the outlet line (证券 in 证券时报)
    shape: str  # API body: "line" (one line, K-line blocks first) | "seed" (text style as the seed) | "joined"
    original_title: str | None  # shown as div.zwothers "原标题：…"
    editor: str
    board_name: str

    def with_article(self, article: GeneratedArticle, blocks: tuple[Block, ...] | None = None) -> Story:
        return replace(self, article=article, blocks=self.blocks if blocks is None else blocks)


def blocks_from_paragraphs(paragraphs: tuple[str, ...], outlet: str) -> tuple[Block, ...]:
    """Plain blocks for edited paragraphs; a trailing （文章来源：X） line becomes the outlet line."""
    blocks = [Block("p", (text,)) for text in paragraphs]
    if blocks and MEDIA_LINE.fullmatch(paragraphs[-1]):
        blocks[-1] = Block("media", (paragraphs[-1],))
    return tuple(blocks)


KLINE_MARKETS = ("0", "1", "116")  # A and H shares get K-line charts


def _mention_stock(index: int) -> Mention:
    name, market, code, _ = corpus.COMPANIES[index]
    return Mention("stock", name, f"{market}.{code}", f"http://quote.eastmoney.com/unify/r/{market}.{code}")


def _mention_board(index: int) -> Mention:
    name, ref, _ = corpus.BOARDS[index]
    return Mention("board", name, ref, f"http://quote.eastmoney.com/unify/r/{ref}")


def _blank_in_lists(i: int) -> tuple[str, ...]:
    return {11: ("showtime",), 17: ("title",), 23: ("title", "showtime")}.get(i % 40, ())


class ArticleFactory:
    """Makes article ``i`` for one seed; call :meth:`make` with consecutive indexes."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._last: tuple[int, datetime] = (-1, FIRST_DATE)

    def make(self, i: int) -> Story:
        if i != self._last[0] + 1:
            raise ValueError(f"articles are made in order: expected index {self._last[0] + 1}, got {i}")
        rng = random.Random(f"finews-replay:{self.seed}:{i}")
        when = self._date(i, rng)
        self._last = (i, when)
        return _Writer(i, self.seed, when, rng).story()

    def _date(self, i: int, rng: random.Random) -> datetime:
        if i == 0:
            return FIRST_DATE
        previous = self._last[1]
        minutes = rng.randint(240, 720) if i < 1000 else rng.randint(1, 3)
        when = (previous + timedelta(minutes=minutes)).replace(second=0 if i % 13 == 7 else rng.randint(1, 59))
        pinned = {4: (23, 30, 0), 9: (0, 5, 41)}.get(i)
        if pinned:
            when = when.replace(hour=pinned[0], minute=pinned[1], second=pinned[2])
            if when <= previous:
                when += timedelta(days=1)
        return when


class _Writer:
    """Writes one article from its random stream."""

    def __init__(self, i: int, seed: int, when: datetime, rng: random.Random) -> None:
        self.i, self.seed, self.when, self.rng = i, seed, when, rng
        names = sorted(topics.TOPICS)
        self.topic = topics.TOPICS[names[(i + i // 7 + seed) % len(names)]]
        first = rng.randrange(len(corpus.COMPANIES))
        second = (first + 1 + rng.randrange(len(corpus.COMPANIES) - 1)) % len(corpus.COMPANIES)
        others = [n for n in range(len(corpus.COMPANIES)) if n not in (first, second)]
        peers = rng.sample(others, rng.randint(*corpus.PEER_COUNT))
        self.product = corpus.BOARDS[corpus.COMPANIES[first][3]][2]
        kw_name, kw_ref, kw_href = rng.choice(corpus.KEYWORDS)
        self.co, self.co2 = _mention_stock(first), _mention_stock(second)
        self.peers: tuple[Part, ...] = tuple(p for n in peers for p in ("、", _mention_stock(n)))[1:]
        self.board = _mention_board(corpus.COMPANIES[first][3])
        self.kw = Mention("info", kw_name, kw_ref, kw_href)
        self.city = rng.choice(corpus.CITIES)
        self.period = rng.choice(corpus.PERIODS)

    def fill(self, template: str) -> tuple[Part, ...]:
        """The template's parts: plain text, with mentions where it names them."""
        rng, when = self.rng, self.when
        values: dict[str, Part | tuple[Part, ...]] = {
            "co": self.co, "co2": self.co2, "board": self.board, "kw": self.kw, "peers": self.peers,
            "co_name": self.co.name, "co2_name": self.co2.name, "board_name": self.board.name,
            "kw_name": self.kw.name, "product": self.product, "city": self.city, "period": self.period,
            "year": str(when.year), "month": str((when.month - 2) % 12 + 1), "md": f"{when.month}月{when.day}日",
        }
        template = _CHOICE.sub(lambda m: rng.choice(m.group(1).split("|")), template)
        parts: list[Part] = []
        for n, piece in enumerate(re.split(r"\{(\w+)\}", template)):
            if n % 2 == 0:
                value: Part | tuple[Part, ...] = piece
            elif piece in values:
                value = values[piece]
            else:
                value = self._number(piece, rng)
            for part in value if isinstance(value, tuple) else (value,):
                if isinstance(part, str) and parts and isinstance(parts[-1], str):
                    parts[-1] += part
                elif part != "":
                    parts.append(part)
        return tuple(parts)

    @staticmethod
    def _number(slot: str, rng: random.Random) -> str:
        try:
            make = NUMBER_SLOTS[slot]
        except KeyError:
            raise KeyError(f"unknown template slot {{{slot}}}") from None
        return make(rng)

    def plain(self, template: str) -> str:
        return Block("p", self.fill(template)).text

    def story(self) -> Story:
        i, rng = self.i, self.rng
        titles, leads, bodies, headings = self.topic
        style = "content" if i % 2 else "text"
        outlet = {1: "证券时报", 5: "中国证券报"}.get(i % 10) or rng.choice(corpus.OUTLETS)
        title = self.plain(rng.choice(titles))
        original = self.plain(rng.choice([t for t in titles if t != title] or titles)) if i % 4 == 2 else None
        # text style runs longer: without links its bodies would be smaller than the source's
        count = rng.randint(5, len(bodies)) if style == "content" else len(bodies) - rng.randint(0, 1)
        picked = [bodies[n] for n in sorted(rng.sample(range(len(bodies)), count))]
        texts = [rng.choice(leads), *picked]
        extra = 1 if style == "content" else 2
        for where, sentence in zip((2, 4, 7, 9), rng.sample(topics.KEYWORD_SENTENCES, extra)
                                   + rng.sample(topics.PEER_SENTENCES, extra), strict=False):
            texts.insert(min(where, len(texts)), sentence)
        texts.append(topics.CLOSING)
        blocks = [Block("p", self.fill(t)) for t in texts]
        blocks[0] = replace(blocks[0], br=i % 3 == 0)
        for n, where in enumerate((2, 5)[: 1 + (len(blocks) >= 6)]):
            blocks.insert(where + n, Block("h", self.fill(headings[(i + n) % len(headings)])))
        if style == "content" and i % 3 != 2:
            for n in range(1 + (i % 8 == 7)):
                size = rng.choice(((1200, 800), (1080, 720), (690, 460), (640, 427)))
                src = (f"{IMAGE_HOST}/download/D{rng.randrange(10**22, 10**23)}"
                       f"_w{size[0]}h{size[1]}.jpg")
                at = min(len(blocks), 3 + 3 * n)
                blocks[at:at] = [Block("img", src=src, lazy=i % 4 == 3),
                                 Block("caption", self.fill(rng.choice(topics.CAPTIONS)))]
        shape = "seed" if style == "text" and i % 6 == 0 else "joined" if style == "content" and i % 10 == 3 else "line"
        if shape != "seed":
            blocks[0:0] = [Block("kline", (m,)) for m in self._kline_stocks()]
        blocks.append(Block("media", (f"（文章来源：{outlet}）",)))
        authors = self._authors()
        pages = {2: 2, 6: 3}.get(i % 8, 1)
        article = GeneratedArticle(
            code=f"NW{self._id()}", id=self._id(), title=title, date=self.when.strftime(DATE_FORMAT),
            outlet=outlet, authors=authors, paragraphs=tuple(b.text for b in blocks if b.visible),
            api={2: "partial", 6: "missing"}.get(i % 7, "full"), style=style,
            layout="legacy" if i % 3 == 1 else "current", pages=pages, blank_in_lists=_blank_in_lists(i),
        )
        board = corpus.OUTLET_BOARDS.get(outlet)
        return Story(
            article=article, blocks=tuple(blocks), seq=i, lower_keys=i % 5 == 4,
            both_keys=style == "content" and i % 6 == 5, bare_outlet=i % 4 == 3,
            outlet_board=_mention_board(board) if board is not None and style == "content" else None,
            shape=shape, original_title=original, editor=f"DF{rng.randint(100, 999)}", board_name=self.board.name,
        )

    def _kline_stocks(self) -> list[Mention]:
        """The stocks whose K-line blocks open the body: none, one or two (SPEC 5.1)."""
        wanted = 0 if self.i % 5 == 3 else 2 if self.i % 5 == 1 else 1
        charted = [m for m in (self.co, self.co2) if m.ref.split(".", 1)[0] in KLINE_MARKETS]
        return charted[:wanted]

    def _authors(self) -> tuple[str, ...]:
        wanted = 1 if self.i % 3 == 0 else 2 if self.i % 5 == 1 else 0
        names: list[str] = []
        while len(names) < wanted:
            name = self.rng.choice(corpus.SURNAMES) + self.rng.choice(corpus.GIVEN_NAMES)
            if name not in names:
                names.append(name)
        return tuple(names)

    def _id(self) -> str:
        # an affine map modulo 10**9 with a multiplier prime to 10 never repeats a tail
        tail = 2_200_000_000 + (self.i * 7_919_213 + self.seed * 104_729) % 10**9
        return f"{self.when:%Y%m%d}{tail}"
