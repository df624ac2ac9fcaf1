"""RELIABILITY 4 group F end to end: the hostile corpus through finews, Jekyll and Chromium.

Rows: F1 (XSS corpus, static checks and a browser with a beacon), F3 (Markdown and kramdown
syntax), F4 (Liquid), F5 (front matter, PyYAML and Jekyll), F6 (file names), F8 (dates near
midnight), F9 (relative links).  The fixtures are in ``conftest.py``; the corpus and its
sources in ``tests/fixtures/hostile/``.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from crawler.skeleton import Theme, skeleton_files
from pipelines.post import clean_text
from tests import eastmoney
from tests.site.conftest import BENIGN_SLUG, CONTROL_DIR, Browsed, Published
from tests.site.harness import CORPUS, PLACES, excess, findings, load_corpus, raw_templates

pytestmark = pytest.mark.jekyll
FRONT_KEYS = ["layout", "title", "date", "categories", "tags"]
SKELETON = set(skeleton_files(Theme()))
TEST_FILES = {"_data/secret.yml", "_includes/secret.html", "roundtrip.json"}
TAG = re.compile(r"<[^>]*>")


def front(path: Path) -> dict[str, object]:
    head = path.read_text(encoding="utf-8")[4:].split("\n---\n", 1)[0]
    data = yaml.safe_load(head)
    assert isinstance(data, dict), path
    return data


def text_of(fragment: str) -> str:
    """What a reader sees of an HTML fragment (tags dropped, entities decoded)."""
    return html.unescape(TAG.sub("", fragment))


def article_of(page: str) -> str:
    start = page.index("<article>")
    return page[start : page.index("</article>", start)]


def published_codes(published: Published) -> set[str]:
    return {p.name[11:-3] for p in (published.site / "_posts").glob("*.md")}


def roundtrip(published: Published) -> dict[str, list[dict[str, object]]]:
    return json.loads((published.out / "roundtrip.json").read_text(encoding="utf-8"))


def allowance(published: Published) -> set[str]:
    """Findings the layouts themselves produce: those of a benign post and a benign category page."""
    benign = published.built_post("NW202403053000000001")
    assert benign is not None
    category = published.out / "category" / f"{BENIGN_SLUG}.html"
    return set(findings(benign.read_text(encoding="utf-8"))) | set(findings(category.read_text(encoding="utf-8")))


# --- the corpus ---------------------------------------------------------------------------------


def test_the_corpus_covers_every_placement_and_names_its_sources() -> None:
    templates = raw_templates()
    places = Counter(t["where"] for t in templates)
    assert len(templates) >= 60
    assert set(places) == set(PLACES) and min(places.values()) >= 5, places
    assert all(t["source"].strip() for t in templates)
    assert {t["field"] for t in templates if t["where"] == "list"} == {"title", "showtime", "outlet", "url"}
    readme = (CORPUS.parent / "README.md").read_text(encoding="utf-8")
    for source in ("OWASP", "DOMPurify", "ammonia", "PortSwigger", "kramdown", "Jekyll"):
        assert source in readme, source
    callers = [t for t in templates if "@@HIT" in t["payload"] or "@@BEACON@@" in t["payload"]]
    assert len(callers) >= 60, "most payloads must try to reach the beacon"


def test_the_static_checks_see_the_corpus_unsanitized() -> None:
    """The page checks are not vacuous: nearly every HTML payload, as sent, trips them."""
    quiet = [p.id for p in load_corpus("http://127.0.0.1:9") if p.where == "body" and p.id[:2] in ("b-", "m-")
             and not findings(f"<!DOCTYPE html><p>a</p>{p.text}")]
    # not executable in any current browser: a grave accent is no quote, a NUL splits the scheme
    assert sorted(quiet) == ["b-a-js-null", "b-img-js-grave"], quiet


# --- the product path -----------------------------------------------------------------------------


def test_every_payload_is_published_or_held_back(published: Published) -> None:
    fetched = published.fetch
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    assert all(line.startswith("new NW") for line in fetched.stdout.splitlines()), fetched.stdout
    assert "Traceback" not in fetched.stderr + published.crawl.stderr
    summary = json.loads(published.crawl.stdout.splitlines()[-1])
    assert summary["failed"] == 0, published.crawl.stdout
    codes = published_codes(published)
    held = {a.code for a in published.articles.values() if a.payload and a.payload.may_quarantine}
    missing = {a.payload.id if a.payload else a.code for a in published.articles.values()
               if a.code not in codes and a.code not in held}
    assert not missing, f"not published: {sorted(missing)}"
    assert summary["quarantined"] == len(held - codes), published.crawl.stdout
    list_titles = [a for a in published.articles.values() if a.payload and a.payload.field == "title"]
    for article in list_titles:  # the list's title won over the content API's
        post = published.post_file(article.code)
        assert post is not None and front(post)["title"] == clean_text(article.title)


def test_the_crawler_never_fetches_a_url_a_list_names(published: Published) -> None:
    assert published.beacon_hits_while_crawling == []


def test_jekyll_builds_without_errors_or_warnings(published: Published) -> None:
    build = published.build
    output = build.stdout + build.stderr
    assert build.returncode == 0, output
    for word in ("Liquid", "Error", "error", "Warning", "warning", "Deprecation"):
        assert word not in output, output


# --- F1, F3: nothing on a built page can run or load anything -------------------------------------


def test_no_built_page_holds_anything_that_could_run(published: Published) -> None:
    allowed = allowance(published)
    pages = published.pages()
    assert len(pages) >= len(published_codes(published)) + 2
    bad = {}
    for page in pages:
        found = excess(findings(page.read_text(encoding="utf-8")), allowed)
        if found:
            bad[str(page.relative_to(published.out))] = sorted(set(found))
    assert not bad, bad
    for feed in published.out.rglob("*.xml"):  # feeds, if the skeleton grows them
        text = feed.read_text(encoding="utf-8")
        assert not re.search(r"<\s*(script|svg|math|iframe|base)\b", text, re.IGNORECASE), feed


def test_markdown_in_bodies_stays_text(published: Published) -> None:
    for payload in published.payloads:
        if not payload.id.startswith("k-"):
            continue
        page = published.built_post(published.by_payload(payload.id).code)
        assert page is not None
        article = article_of(page.read_text(encoding="utf-8"))
        assert "javascript" not in " ".join(re.findall(r"<a\b[^>]*>", article)).lower(), payload.id
        assert not re.search(r"<img\b[^>]*127\.0\.0\.1", article), payload.id  # ![x](beacon) never became an image
        assert f"正文 {payload.id} 开始" in text_of(article), payload.id


# --- F4: Liquid -------------------------------------------------------------------------------------


def test_no_liquid_from_an_article_is_evaluated(published: Published) -> None:
    for path in published.out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for where, canary in published.canaries.items():
                assert canary.encode() not in data, f"the {where} canary leaked into {path}"
    for payload in published.payloads:
        if not (payload.id.startswith("l-") or payload.id in ("t-liquid", "o-liquid", "li-title-liquid")):
            continue
        page = published.built_post(published.by_payload(payload.id).code)
        assert page is not None, payload.id
        seen = html.unescape(page.read_text(encoding="utf-8"))  # text and attribute values
        assert "{{" in seen or "{%" in seen, payload.id  # the reader sees the Liquid, literally


# --- F5: front matter -------------------------------------------------------------------------------


def test_front_matter_round_trips_through_pyyaml_and_jekyll(published: Published) -> None:
    jekyll_posts = {p["path"]: p for p in roundtrip(published)["posts"]}
    posts = sorted((published.site / "_posts").glob("*.md"))
    assert len(jekyll_posts) == len(posts), "Jekyll skipped a post it could not read"
    for post in posts:
        head = front(post)
        assert list(head) == FRONT_KEYS and head["layout"] == "post", post
        code = post.name[11:-3]
        article = published.articles[code]
        assert head["title"] == clean_text(article.title), post
        assert head["tags"] == clean_text(article.outlet) + "新闻", post
        seen = jekyll_posts[f"_posts/{post.name}"]
        assert seen["layout"] == "post", post
        assert seen["title"] == head["title"], (post, seen["title"])
        assert seen["tags"] == str(head["tags"]).split(), (post, seen["tags"])  # Jekyll splits tags on spaces
        assert seen["categories"] == [head["categories"]], (post, seen["categories"])
        assert seen["date"] == head["date"], post  # "YYYY-MM-DD HH:MM:SS +0800" both ways
    jekyll_pages = {p["path"]: p for p in roundtrip(published)["pages"]}
    for page in sorted((published.site / "category").glob("*.html")):
        head = front(page)
        seen = jekyll_pages.get(f"category/{page.name}")
        assert seen is not None, f"Jekyll skipped {page}"
        assert (seen["title"], seen["category"], seen["layout"]) == (head["title"], head["category"], "category"), page


# --- F6: file names -----------------------------------------------------------------------------------


def test_every_file_stays_where_finews_puts_it(published: Published) -> None:
    written = {str(p.relative_to(published.site)) for p in published.site.rglob("*")
               if p.is_file() and not any(part.startswith(".") for part in p.relative_to(published.site).parts)}
    posts = {w for w in written if w.startswith("_posts/")}
    categories = {w for w in written if w.startswith("category/")}
    archives = {w for w in written if w.startswith("archive/")}
    assert all(re.fullmatch(r"archive/[a-z0-9]+/(\d{4}-\d{2}/(\d+|index)\.html|index\.html)", a) for a in archives), archives
    assert written == SKELETON | TEST_FILES | posts | categories | archives, written - SKELETON - TEST_FILES - posts - categories - archives
    assert all(eastmoney.site(Path()).post_name.match(p.split("/", 1)[1]) for p in posts), posts
    assert all(re.fullmatch(r"category/[a-z0-9]+\.html", c) for c in categories), categories
    assert len(posts) == len(published_codes(published))
    for layout in SKELETON - {"_config.yml"}:  # nothing was overwritten through a path-ish title
        assert "载荷" not in (published.site / layout).read_text(encoding="utf-8")
    built = list(published.out.rglob("NW*.html"))
    assert sorted(p.stem for p in built) == sorted(published_codes(published))
    assert not list(published.out.rglob("pwn*")) and not (published.root / "tmp").exists()


# --- F8: dates --------------------------------------------------------------------------------------------


def test_posts_near_midnight_land_on_the_beijing_day(published: Published) -> None:
    checked = 0
    for article in published.articles.values():
        if article.note not in ("midnight", "now"):
            continue
        day = article.date[:10]
        post = published.post_file(article.code)
        assert post is not None and post.name.startswith(f"{day}-"), (article.date, post)
        page = published.built_post(article.code)
        assert page is not None, f"{article.date}: not built (taken for a future post?)"
        assert f"/{day.replace('-', '/')}/" in "/" + str(page.relative_to(published.out)), (article.date, page)
        assert f'datetime="{day}T{article.date[11:]}+08:00"' in page.read_text(encoding="utf-8")
        checked += 1
    assert checked == 4


# --- F9: links ----------------------------------------------------------------------------------------------


def test_relative_links_and_images_become_absolute(published: Published) -> None:
    article = published.by_payload("r-relative-links")
    page = published.built_post(article.code)
    assert page is not None
    body = article_of(page.read_text(encoding="utf-8"))
    base = f"https://finance.eastmoney.com/a/{article.id}.html"
    assert 'href="https://finance.eastmoney.com/a/202403051111111111.html"' in body
    assert 'href="https://finance.eastmoney.com/news/1.html"' in body
    assert 'src="https://finance.eastmoney.com/a/img/x.png"' in body
    assert 'src="https://cdnimg.example/y.png"' in body
    for url in re.findall(r'(?:href|src)="([^"]*)"', body.split("infoCode=")[0]):
        assert url.startswith("https://"), (url, base)


# --- what readers read ----------------------------------------------------------------------------------------


def test_titles_and_outlets_reach_readers_as_text(published: Published) -> None:
    for article in published.articles.values():
        page = published.built_post(article.code)
        if page is None:
            continue
        text = page.read_text(encoding="utf-8")
        title = clean_text(article.title)
        (h1,) = re.findall(r"<h1>(.*?)</h1>", text, re.DOTALL)
        assert text_of(h1) == title, (article.code, h1)
        (head_title,) = re.findall(r"<title>(.*?)</title>", text, re.DOTALL)
        assert text_of(head_title).startswith(title), (article.code, head_title)
        tag = clean_text(article.outlet) + "新闻"
        links = re.findall(r'<a href="(/category/[a-z0-9]+\.html)">(.*?)</a>', text)
        assert links and text_of(links[-1][1]) == f"返回{tag}", (article.code, links)
        category = published.out / links[-1][0].lstrip("/")
        (heading,) = re.findall(r"<h1>(.*?)</h1>", category.read_text(encoding="utf-8"), re.DOTALL)
        assert text_of(heading) == clean_text(article.outlet), category


# --- the browser ------------------------------------------------------------------------------------------------


@pytest.mark.chromium
def test_each_control_page_calls_the_beacon_exactly_once(browsed: Browsed) -> None:
    assert len(browsed.control) == 4
    for page in browsed.control:
        name = Path(page).stem
        ids = [h.id for h in browsed.hits[page] if h.target.startswith("/hit")]
        assert ids == [f"control-{name}"], (page, browsed.hits[page], browsed.visits[page].problems)
        assert browsed.visits[page].scripts >= (0 if name == "refresh" else 1), page  # the second oracle sees them
    assert browsed.visits[f"{CONTROL_DIR}/refresh.html"].navigated


@pytest.mark.chromium
def test_the_corpus_runs_when_it_is_not_sanitized(browsed: Browsed) -> None:
    live = sorted(pid for pid, page in browsed.raw.items() if any(h.id == pid for h in browsed.hits[page]))
    stray = {pid: [h.id for h in browsed.hits[page] if h.id and not h.id.startswith(pid)] for pid, page in browsed.raw.items()}
    assert not any(stray.values()), stray
    assert len(live) >= 40, f"only {len(live)} of {len(browsed.raw)} payloads run unsanitized: {live}"
    print(f"\n{len(live)} of {len(browsed.raw)} beacon payloads call the beacon when served unsanitized")


@pytest.mark.chromium
def test_no_built_page_calls_the_beacon_or_runs_a_script(browsed: Browsed, published: Published) -> None:
    pages = [p for p in browsed.visits if not p.startswith(CONTROL_DIR)]
    assert len(pages) == len(published.pages())
    hits = {p: [h.id or h.target for h in browsed.hits[p]] for p in pages if browsed.hits[p]}
    assert not hits, f"beacon hits: {hits}"
    allowed = allowance(published)
    benign = next(p for p in pages if p.endswith("NW202403053000000001.html"))
    for page in pages:
        visit = browsed.visits[page]
        assert not visit.problems, (page, visit.problems)
        assert visit.dom, page
        assert visit.scripts <= browsed.visits[benign].scripts, f"{page}: {visit.scripts} scripts ran"
        assert not visit.navigated, f"{page} navigated itself away"
        found = excess(findings(visit.dom), allowed)
        assert not found, (page, found)
    print(f"\n{browsed.version}: {len(browsed.visits)} pages in {browsed.seconds:.1f} s; "
          f"beacon hits on built pages: 0; off-machine requests answered by the sink: {len(browsed.sink)}; "
          f"publishing: " + ", ".join(f"{k} {v:.1f} s" for k, v in published.seconds.items()))
