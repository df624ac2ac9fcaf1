"""The hostile corpus published through the real product path, built by Jekyll, browsed by Chromium.

``published`` (once per session): a beacon on loopback; every payload of
``tests/fixtures/hostile/payloads.json`` turned into a content-API fixture served by a
:class:`~crawler.replay.ReplayServer`; ``finews init``, then canaries in ``_config.yml``,
``_data`` and ``_includes``; ``finews fetch`` of every body, title and outlet payload and
``finews crawl`` for the list-field ones (the replay's lists show them, the content API does
not); a real ``jekyll build``.

``browsed`` (once per session): every built page, and the control pages the test writes
straight into ``_site``, opened as top-level documents in headless Chromium, from an
``http.server`` on 127.0.0.1, with the beacon counting what the pages call.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.replay import ReplayServer
from tests.conftest import service_missing
from tests.crawler.cli_helpers import finews, write_settings
from tests.site.harness import Browser, Hit, Payload, Recorder, Visit, chromium_binary, load_corpus, serve_directory

BEIJING = timezone(timedelta(hours=8))
BENIGN_OUTLET = "基准日报"
BENIGN_SLUG = "jizhunribao"
CONTROL_DIR = "__control__"
OUTLET_LISTS = ("nodelist", "record", "columns")
# Front matter and what Jekyll made of it, for the F5 round trip (layout none: no HTML around it).
ROUNDTRIP = """\
---
layout: null
permalink: /roundtrip.json
---
{"posts": [{% for p in site.posts %}{"path": {{ p.path | jsonify }}, "url": {{ p.url | jsonify }}, \
"title": {{ p.title | jsonify }}, "tags": {{ p.tags | jsonify }}, "categories": {{ p.categories | jsonify }}, \
"layout": {{ p.layout | jsonify }}, "date": {{ p.date | date: "%Y-%m-%d %H:%M:%S %z" | jsonify }}}\
{% unless forloop.last %},{% endunless %}{% endfor %}],
"pages": [{% for p in site.pages %}{"path": {{ p.path | jsonify }}, "title": {{ p.title | jsonify }}, \
"category": {{ p.category | jsonify }}, "layout": {{ p.layout | jsonify }}}{% unless forloop.last %},{% endunless %}{% endfor %}]}
"""


@dataclass
class Article:
    """One content-API fixture the test served, and what the post should say."""

    code: str
    title: str  # as the source gives it (list title when a list payload sets it)
    outlet: str
    date: str  # YYYY-MM-DD HH:MM:SS, Beijing time, as the list or the API gives it
    payload: Payload | None = None
    note: str = ""  # benign | midnight | now

    @property
    def id(self) -> str:
        return self.code[2:]


@dataclass
class Published:
    root: Path
    site: Path  # site.dir
    out: Path  # jekyll's _site
    beacon: Recorder
    payloads: list[Payload]
    articles: dict[str, Article]  # by code
    canaries: dict[str, str]  # where -> canary string
    fetch: subprocess.CompletedProcess[str]
    crawl: subprocess.CompletedProcess[str]
    build: subprocess.CompletedProcess[str]
    beacon_hits_while_crawling: list[Hit]
    seconds: dict[str, float] = field(default_factory=dict)

    def by_payload(self, payload_id: str) -> Article:
        return next(a for a in self.articles.values() if a.payload and a.payload.id == payload_id)

    def post_file(self, code: str) -> Path | None:
        found = sorted((self.site / "_posts").glob(f"*-{code}.md"))
        return found[0] if found else None

    def built_post(self, code: str) -> Path | None:
        found = sorted(self.out.rglob(f"{code}.html"))
        return found[0] if found else None

    def pages(self) -> list[Path]:
        """Every HTML page Jekyll built (the control pages are not built by Jekyll)."""
        return sorted(p for p in self.out.rglob("*.html") if CONTROL_DIR not in p.relative_to(self.out).parts)


@dataclass
class Browsed:
    visits: dict[str, Visit]  # by path relative to _site
    hits: dict[str, list[Hit]]  # beacon hits while each page was open
    control: list[str]  # relative paths of the control pages
    raw: dict[str, str]  # payload id -> relative path of the page holding it unsanitized
    sink: list[Hit]  # requests Chromium tried to send off the machine (all answered 403 on loopback)
    version: str
    seconds: float


def require(binary: str, package: str) -> str:
    path = shutil.which(binary)
    if path is None:
        service_missing(binary, f"no {binary} command (apt-get install {package})")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def beacon() -> Iterator[Recorder]:
    with Recorder() as server:
        yield server


def _articles(payloads: list[Payload]) -> list[tuple[Article, dict[str, object]]]:
    """Each payload, the benign baseline and the near-midnight dates as (article, fixture JSON)."""
    out = []

    def fixture(code: str, title: str, date: str, outlet: str, text: str, **extra: object) -> dict[str, object]:
        return {"Id": code, "Title": title, "Date": date, "medianame": outlet, "Author": [],
                "url": f"https://finance.eastmoney.com/a/{code[2:]}.html", "text": text, **extra}

    for n, p in enumerate(payloads, 1):
        code, date = f"NW2024030510{n:08d}", f"2024-03-05 {10 + n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}"
        title, outlet = f"载荷 {p.id}", "测试日报"
        text = f"<p>正文 {p.id} 开始</p>{p.text}<p>正文 {p.id} 结束</p>" if p.where == "body" else f"<p>正文 {p.id}</p>"
        extra: dict[str, object] = {}
        shown_title, shown_outlet, shown_date = title, outlet, date
        if p.where == "title":
            title = shown_title = p.text
        elif p.where == "outlet":
            outlet = shown_outlet = p.text
        elif p.where == "list":
            assert p.field is not None
            extra["replay_list"] = {p.field: p.text}
            shown_title = p.text if p.field == "title" else title
            shown_outlet = p.text if p.field == "outlet" else outlet
            shown_date = p.text if p.field == "showtime" else date
        out.append((Article(code, shown_title, shown_outlet, shown_date, p),
                    fixture(code, title, date, outlet, text, **extra)))
    now = datetime.now(BEIJING).replace(microsecond=0) - timedelta(minutes=5)
    specials = [
        ("NW202403053000000001", "基准文章", "2024-03-05 09:00:00", BENIGN_OUTLET, "benign"),
        ("NW202403052000000001", "同一天，同一标题", "2024-03-05 23:59:59", "测试日报", "midnight"),
        ("NW202403052000000002", "午夜", "2024-03-06 00:00:00", "测试日报", "midnight"),
        ("NW202403052000000003", "同一天，同一标题", "2024-03-05 23:30:00", "测试日报", "midnight"),  # F6: two files
        ("NW202403052000000004", "刚刚发布", f"{now:%Y-%m-%d %H:%M:%S}", "测试日报", "now"),
    ]
    for code, title, date, outlet, note in specials:
        out.append((Article(code, title, outlet, date, None, note),
                    fixture(code, title, date, outlet, f"<p>{title}的正文，{date}。</p><p>第二段。</p>")))
    return out


@pytest.fixture(scope="session")
def published(beacon: Recorder, tmp_path_factory: pytest.TempPathFactory) -> Published:
    jekyll = require("jekyll", "jekyll")
    root = tmp_path_factory.mktemp("hostile")
    payloads = load_corpus(beacon.origin)
    fixtures_dir = root / "fixtures"
    fixtures_dir.mkdir()
    articles: dict[str, Article] = {}
    paths = []
    for article, data in _articles(payloads):
        articles[article.code] = article
        path = fixtures_dir / f"{article.code}.json"
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        paths.append(path)
    seconds: dict[str, float] = {}
    tag = uuid.uuid4().hex[:12]
    canaries = {"config": f"FINEWS-CANARY-CONFIG-{tag}", "data": f"FINEWS-CANARY-DATA-{tag}",
                "include": f"FINEWS-CANARY-INCLUDE-{tag}"}
    with ReplayServer(articles=0, fixtures=paths, page_size=50) as replay:
        templates = replay.templates()
        # the list kinds that carry an outlet: whichever list a run reads first gives the metadata
        templates["lists"] = [lst for lst in templates["lists"] if lst["kind"] in OUTLET_LISTS]
        settings = write_settings(root, templates, site={"base_url": ""}, crawl={"max_pages": 10})
        started = time.monotonic()
        init = finews("-c", str(settings), "init", cwd=root)
        assert init.returncode == 0, init.stdout + init.stderr
        site = root / "site"
        with (site / "_config.yml").open("a", encoding="utf-8") as config:
            config.write(f"secret_canary: {canaries['config']}\n")
        (site / "_data").mkdir(exist_ok=True)
        (site / "_data" / "secret.yml").write_text(f"value: {canaries['data']}\n", encoding="utf-8")
        (site / "_includes").mkdir(exist_ok=True)
        (site / "_includes" / "secret.html").write_text(f"<b>{canaries['include']}</b>\n", encoding="utf-8")
        (site / "roundtrip.json").write_text(ROUNDTRIP, encoding="utf-8")
        direct = [a.code for a in articles.values() if a.payload is None or a.payload.where != "list"]
        fetched = finews("-c", str(settings), "fetch", *direct, cwd=root, timeout=300)
        seconds["finews fetch"] = time.monotonic() - started
        started = time.monotonic()
        crawled = finews("-c", str(settings), "crawl", "--json", cwd=root, timeout=300)
        seconds["finews crawl"] = time.monotonic() - started
    hits_while_crawling = beacon.snapshot()
    started = time.monotonic()
    out = root / "_site"
    build = subprocess.run([jekyll, "build", "--source", str(site), "--destination", str(out)],
                           cwd=root, capture_output=True, text=True, timeout=300, check=False)
    seconds["jekyll build"] = time.monotonic() - started
    return Published(root, site, out, beacon, payloads, articles, canaries, fetched, crawled, build,
                     hits_while_crawling, seconds)


def write_controls(out: Path, beacon: str) -> list[str]:
    """Pages written straight into _site (not through finews) that do call the beacon once each."""
    folder = out / CONTROL_DIR
    folder.mkdir(exist_ok=True)
    pages = {
        "script.html": f"<script>fetch('{beacon}/hit?id=control-script')</script>",
        "onerror.html": f"<img src=\"/nonexistent.png\" onerror=\"fetch('{beacon}/hit?id=control-onerror')\">",
        "refresh.html": f'<meta http-equiv="refresh" content="2;url={beacon}/hit?id=control-refresh">',
        "timer.html": f"<script>setTimeout(function () {{ new Image().src = '{beacon}/hit?id=control-timer' }}, 1500)</script>",
    }
    for name, body in pages.items():
        (folder / name).write_text(f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>control</title></head>"
                                   f"<body><p>control</p>{body}</body></html>\n", encoding="utf-8")
    return [f"{CONTROL_DIR}/{name}" for name in pages]


def write_raw_pages(out: Path, payloads: list[Payload]) -> dict[str, str]:
    """Each payload that tries to reach the beacon, as is, in a page of its own (not through finews):
    how many of them Chromium runs shows the corpus is live, so zero hits on the site mean something."""
    folder = out / CONTROL_DIR / "raw"
    folder.mkdir(parents=True, exist_ok=True)
    pages = {}
    for payload in payloads:
        if payload.where == "list" or "/hit?id=" not in payload.text:
            continue
        (folder / f"{payload.id}.html").write_text(
            f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>raw</title></head>"
            f"<body><p>before</p>{payload.text}<p>after</p></body></html>\n", encoding="utf-8")
        pages[payload.id] = f"{CONTROL_DIR}/raw/{payload.id}.html"
    return pages


@pytest.fixture(scope="session")
def browsed(published: Published, beacon: Recorder) -> Browsed:
    assert published.build.returncode == 0, published.build.stdout + published.build.stderr
    binary = chromium_binary() or require("chromium", "chromium")
    controls = write_controls(published.out, beacon.origin)
    raw = write_raw_pages(published.out, published.payloads)
    pages = [str(p.relative_to(published.out)) for p in published.pages()] + controls + list(raw.values())
    visits: dict[str, Visit] = {}
    hits: dict[str, list[Hit]] = {}
    started = time.monotonic()
    with (Recorder(status=403) as sink, serve_directory(published.out) as origin,
          tempfile.TemporaryDirectory(prefix="finews-chromium-") as profile,
          Browser(binary, Path(profile), sink.origin) as browser):
        for page in pages:
            before = len(beacon.snapshot())
            visits[page] = browser.open(f"{origin}/{page}")
            time.sleep(0.05)  # a request the page sent as it closed still reaches the beacon
            hits[page] = beacon.snapshot()[before:]
            assert time.monotonic() - started < 300, "browsing the pages takes too long"
        version = browser.version
    return Browsed(visits, hits, controls, raw, sink.snapshot(), version, time.monotonic() - started)
