"""What readers get (SPEC §6), from a real crawl and a real ``jekyll build``: feeds, bounded pages, stable files.

The crawl puts every listed article of the replay in one category (``emnews``, as the
rolling news is), so its month pages fill up past ``page_size``; the golden seed comes
in by ``finews fetch``.  ``page_size`` 4 and ``feed_items`` 3 make every bound bite.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import feedparser
import pytest
import yaml

from crawler.replay import ReplayServer
from tests.conftest import GOLDEN_SEED, require_command
from tests.crawler.cli_helpers import finews, write_settings

ARTICLES = 40
PAGE_SIZE = 4
FEED_ITEMS = 3
URL = "https://news.example.org"
SEED = "NW202202092271461775"
POST_LINK = re.compile(r'href="(/[a-z0-9]+/\d{4}/\d{2}/\d{2}/NW\d{18}\.html)"')

pytestmark = pytest.mark.jekyll


@dataclass
class Crawled:
    root: Path
    site: Path
    out: Path
    settings: Path
    before: dict[str, tuple[bytes, int, int]]  # after the first crawl and the fetch
    after_noop: dict[str, tuple[bytes, int, int]]  # after a second crawl with nothing new


def snapshot(site: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file under *site*: bytes, mtime and inode (an atomic rewrite changes the inode)."""
    return {str(p.relative_to(site)): (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino)
            for p in sorted(site.rglob("*")) if p.is_file() and not p.name.startswith(".")}


def one_category(templates: dict[str, object]) -> dict[str, object]:
    lists = [{**lst, "category": "emnews", "tag": "东财滚动新闻"} for lst in templates["lists"]]  # type: ignore[attr-defined]
    return {**templates, "lists": lists}


def crawl_settings(root: Path, replay: ReplayServer) -> Path:
    return write_settings(root, one_category(replay.templates()), site={"base_url": "", "url": URL, "page_size": PAGE_SIZE,
                                                                      "feed_items": FEED_ITEMS}, crawl={"max_pages": 50})


def jekyll_build(site: Path, out: Path) -> None:
    build = subprocess.run(["jekyll", "build", "--source", str(site), "--destination", str(out)],
                           capture_output=True, text=True, timeout=600, check=False)
    assert build.returncode == 0, build.stdout + build.stderr
    assert "Error" not in build.stdout and "Liquid" not in build.stderr, build.stdout + build.stderr


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    require_command("jekyll", "jekyll")
    root = tmp_path_factory.mktemp("reader")
    with ReplayServer(articles=0, fixtures=[GOLDEN_SEED / "content-api.json"]) as seed:  # the seed keeps its outlet
        fetched = finews("-c", str(crawl_settings(root, seed)), "fetch", SEED, cwd=root)
        assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    with ReplayServer(articles=ARTICLES) as replay:
        settings = crawl_settings(root, replay)
        for args in (("init",), ("crawl",)):
            run = finews("-c", str(settings), *args, cwd=root, timeout=300)
            assert run.returncode == 0, (args, run.stdout + run.stderr)
        site = root / "site"
        before = snapshot(site)
        again = finews("-c", str(settings), "crawl", "--json", cwd=root, timeout=300)
        assert again.returncode == 0, again.stdout + again.stderr
        assert '"new": 0' in again.stdout, again.stdout
        after_noop = snapshot(site)
    jekyll_build(site, root / "_site")
    return Crawled(root, site, root / "_site", settings, before, after_noop)


def front(path: Path) -> dict[str, object]:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])


def built_posts(c: Crawled) -> dict[str, Path]:
    """Every built post page by its URL."""
    return {"/" + str(p.relative_to(c.out)): p for p in c.out.rglob("NW*.html")}


def listing_pages(c: Crawled) -> list[Path]:
    pages = [c.out / "index.html", *sorted((c.out / "category").glob("*.html")), *sorted((c.out / "archive").rglob("*.html"))]
    assert len(pages) > 5
    return pages


def posts_by_date(c: Crawled, slug: str | None = None) -> list[str]:
    """Post URLs, newest first (of category *slug*, or all)."""
    posts = []
    for path in (c.site / "_posts").glob("*.md"):
        head = front(path)
        if slug is None or head["categories"] == slug:
            date = str(head["date"])
            posts.append((date, f"/{head['categories']}/{date[:10].replace('-', '/')}/{path.stem[11:]}.html"))
    return [url for _, url in sorted(posts, reverse=True)]


# --- bounded pages, every post reachable, golden unchanged --------------------------------------


def test_no_listing_page_links_more_than_page_size_posts(crawled: Crawled) -> None:
    assert len(posts_by_date(crawled, "emnews")) > 3 * PAGE_SIZE  # the bound is tested, not trivially met
    for page in listing_pages(crawled):
        links = set(POST_LINK.findall(page.read_text(encoding="utf-8")))
        assert len(links) <= PAGE_SIZE, (page, len(links))


def test_every_post_is_linked_from_a_listing_page_and_every_link_resolves(crawled: Crawled) -> None:
    linked: set[str] = set()
    for page in listing_pages(crawled):
        linked |= set(POST_LINK.findall(page.read_text(encoding="utf-8")))
    built = built_posts(crawled)
    assert len(built) == ARTICLES + 1
    assert set(built) == linked


def test_archive_pages_link_each_other_up_to_the_category(crawled: Crawled) -> None:
    html = (crawled.out / "category" / "emnews.html").read_text(encoding="utf-8")
    assert 'href="/archive/emnews/"' in html
    index = (crawled.out / "archive" / "emnews" / "index.html").read_text(encoding="utf-8")
    months = re.findall(r'href="/archive/emnews/(\d{4}-\d{2})/"', index)
    assert months and months == sorted(months, reverse=True)
    for month in months:
        text = (crawled.out / "archive" / "emnews" / month / "index.html").read_text(encoding="utf-8")
        pages = re.findall(rf'href="/archive/emnews/{month}/(\d+)\.html"', text)
        assert sorted(map(int, pages)) == list(range(1, len(pages) + 1))


def test_the_golden_category_page_and_the_seed_post_url_are_unchanged(crawled: Crawled) -> None:
    golden = (GOLDEN_SEED / "expected-category.html").read_bytes()
    assert (crawled.site / "category" / "kejiribao.html").read_bytes() == golden
    assert (crawled.out / "kejiribao" / "2022" / "02" / "09" / f"{SEED}.html").is_file()


# --- feeds ---------------------------------------------------------------------------------------


def entry_id(url: str) -> str:
    return URL + url.removesuffix(".html")  # jekyll-feed's id: the post's id under site.url; one per article


def check_feed(path: Path, newest: list[str]) -> None:
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, (path, parsed.get("bozo_exception"))
    assert parsed.version == "atom10", path
    expected = newest[:FEED_ITEMS]
    assert [e.link.removeprefix(URL) for e in parsed.entries] == expected, path
    assert [e.id for e in parsed.entries] == [entry_id(url) for url in expected], path
    assert all(e.title and e.published for e in parsed.entries), path


def test_the_site_feed_has_the_newest_entries(crawled: Crawled) -> None:
    check_feed(crawled.out / "feed.xml", posts_by_date(crawled))


def test_every_category_has_a_feed_with_its_newest_entries(crawled: Crawled) -> None:
    slugs = sorted(p.stem for p in (crawled.site / "category").glob("*.html"))
    assert slugs == ["emnews", "kejiribao"]
    for slug in slugs:
        check_feed(crawled.out / "feed" / f"{slug}.xml", posts_by_date(crawled, slug))


def test_pages_point_readers_at_the_feeds(crawled: Crawled) -> None:
    home = (crawled.out / "index.html").read_text(encoding="utf-8")
    assert f'href="{URL}/feed.xml"' in home and 'lang="zh-CN"' in home and 'name="viewport"' in home
    category = (crawled.out / "category" / "emnews.html").read_text(encoding="utf-8")
    assert 'href="/feed/emnews.xml"' in category


# --- files a run rewrites -------------------------------------------------------------------------


def test_a_crawl_with_nothing_new_rewrites_no_file(crawled: Crawled) -> None:
    assert crawled.after_noop == crawled.before


def test_a_crawl_with_k_new_posts_rewrites_o_k_files_and_no_earlier_month(tmp_path: Path) -> None:
    k = 2
    with ReplayServer(articles=ARTICLES) as replay:
        settings = crawl_settings(tmp_path, replay)
        for args in (("init",), ("crawl",)):
            assert finews("-c", str(settings), *args, cwd=tmp_path, timeout=300).returncode == 0
    site = tmp_path / "site"
    before = snapshot(site)
    with ReplayServer(articles=ARTICLES + k) as replay:  # article i depends only on i: the first ARTICLES are the same
        settings = crawl_settings(tmp_path, replay)
        run = finews("-c", str(settings), "crawl", "--json", cwd=tmp_path, timeout=300)
        assert run.returncode == 0 and f'"new": {k}' in run.stdout, run.stdout + run.stderr
    after = snapshot(site)
    changed = sorted(p for p in after if before.get(p) != after[p]) + sorted(set(before) - set(after))
    posts = [p for p in changed if p.startswith("_posts/")]
    assert len(posts) == k, changed
    # k posts, the page(s) they landed on, and the month and category indexes when a page or month is new.
    assert len(changed) <= 2 * k + 2, changed
    months = {p.split("/")[2] for p in changed if p.startswith("archive/emnews/") and p.count("/") == 3}
    new_months = {str(front(site / p)["date"])[:7] for p in posts}
    assert months <= new_months, (months, new_months)
