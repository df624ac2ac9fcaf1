"""The replay's content-API bodies against the source's real ones (``tests/fixtures/real/``).

Every element pattern of the real bodies (tag, parent, attributes and the shape of their
values: :mod:`tests.crawler.replay.structure`) appears in the replay's bodies, and the replay
writes none of the shapes the real bodies show the source does not use.
"""

from __future__ import annotations

from statistics import median

from crawler.replay import markup
from crawler.replay.generator import ArticleFactory
from tests.real_posts import real_posts

from .structure import patterns


def replay_bodies(n: int) -> list[str]:
    factory = ArticleFactory(0)
    return [markup.body(factory.make(i)) for i in range(n)]


def real_patterns() -> set[str]:
    found: set[str] = set()
    for post in real_posts():
        found |= patterns(post.body)
    return found


def test_every_real_pattern_appears_in_the_replay() -> None:
    real = real_patterns()
    assert len(real) > 20, "the real bodies were read: spacer, K-line blocks, links, outlet line"
    replay: set[str] = set()
    for body in replay_bodies(40):
        replay |= patterns(body)
    missing = sorted(real - replay)
    assert not missing, "the replay never writes these shapes of the real bodies:\n" + "\n".join(missing)


def test_the_replay_writes_no_shape_the_source_does_not() -> None:
    bodies = "".join(replay_bodies(40))
    for wrong in ("webquotepic.eastmoney.com", 'style="display:none;">&nbsp;', "data-src=",
                  'class="infokey" target=', "quote.eastmoney.com/hk/", "quote.eastmoney.com/us/",
                  'id="quote_116.', "width:578px"):
        assert wrong not in bodies, wrong
    # of all the links, only the K-line block's carries a target
    assert bodies.count('target="_blank"') == bodies.count('class="EmImageRemark" target="_blank"') > 0


def test_body_sizes_are_like_the_sources() -> None:
    sizes = [len(body.encode("utf-8")) for body in replay_bodies(400)]
    assert min(sizes) >= 1500 and max(sizes) <= 7 * 1024, (min(sizes), max(sizes))
    assert 2500 <= median(sizes) <= 4500, median(sizes)
