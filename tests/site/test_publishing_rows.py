"""RELIABILITY 4 group F, the rows the hostile build does not cover by itself.

* F2: generated HTML (hypothesis) through ``clean_body``: idempotent, allow-list only, one block
  per line, no Liquid braces.
* F5: front-matter values read back by Jekyll's own YAML (Ruby Psych, as Jekyll 4.3.1 on Debian
  calls it) exactly as PyYAML reads them.
* F7: targets and redirects that name other hosts or schemes are never contacted: a canary
  server on 127.0.0.2 counts what reaches it.
* F10: the production settings of a real run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup, NavigableString, Tag
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.replay import ReplayServer
from pipelines.clean_rules import ALLOWED_ATTRIBUTES, ALLOWED_TAGS
from pipelines.dates import BEIJING
from pipelines.post import Post, render_category_page, render_post
from tests.conftest import service_missing
from tests.crawler.cli_helpers import ROOT, finews, write_settings
from tests.eastmoney import clean_body
from tests.site.harness import Recorder

BASE_URL = "https://finance.eastmoney.com/a/202202092271461775.html"
TOP_LEVEL = {"p", "h2", "h3", "h4", "blockquote", "ul", "ol", "table", "figure"}

# --- F2: generated HTML ---------------------------------------------------------------------------

TAGS = sorted(ALLOWED_TAGS | {
    "div", "span", "font", "section", "center", "pre", "h1", "h5", "dl", "dt", "dd", "tfoot", "caption",
    "script", "style", "svg", "math", "mi", "mtext", "mglyph", "desc", "foreignobject", "iframe", "noscript",
    "template", "textarea", "title", "xmp", "noembed", "noframes", "plaintext", "listing", "form", "button",
    "input", "select", "option", "object", "embed", "base", "meta", "link", "frameset", "image", "hr", "details",
})
ATTRIBUTES = ["href", "src", "title", "alt", "width", "colspan", "style", "onclick", "onerror", "class", "id",
              "srcdoc", "formaction", "xlink:href", "markdown", "data-src", "hidden", "srcset", "action"]
VALUES = [
    "https://x.example/a?b=1&c=2", "//cdn.example/i.png", "/rel/a.html", "x.png", "#frag", "",
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "jav&#x09;ascript:alert(1)", " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "vbscript:x", "{{ site.x }}", "{% include x %}",
    '"><img src=x onerror=alert(1)>', "</title><script>alert(1)</script>", "1", "display:none",
    "&#106;avascript:alert(1)", "http://quote.eastmoney.com/sh600000.html", "ad_context", "a\u3000b",
]
TEXTS = [
    "正文", "text", " ", "\u3000\u3000缩进", "\xa0", "{{ site.title }}", "{% raw %}", "{% endraw %}", "}}", "{",
    "[x](javascript:alert(1))", "*a*", "# h", "> q", "| a |", "&amp;", "&lt;script&gt;", "&#123;", "<", ">",
    "<!-- c -->", "-->", "]]>", "<![CDATA[x]]>", "（文章来源：测试）", "郑重声明：x", "\n", "a\u2028b", "'\"",
]


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    attrs = st.lists(st.tuples(st.sampled_from(ATTRIBUTES), st.sampled_from(VALUES)), max_size=3)

    def build(tag: str, pairs: list[tuple[str, str]], inner: list[str], closed: bool) -> str:
        rendered = "".join(f' {k}="{v.replace(chr(34), "&quot;")}"' for k, v in pairs)
        return f"<{tag}{rendered}>{''.join(inner)}" + (f"</{tag}>" if closed else "")

    return st.builds(build, st.sampled_from(TAGS), attrs, st.lists(children, max_size=4), st.booleans())


HTML = st.recursive(st.sampled_from(TEXTS), _element, max_leaves=25).map(str)
FRAGMENTS = st.lists(HTML, min_size=1, max_size=6).map("".join)


def _assert_clean(out: str) -> None:
    assert "{" not in out and "}" not in out, out
    assert out == out.strip() and "\n\n" not in out, out
    for line in filter(None, out.split("\n")):
        nodes = list(BeautifulSoup(line, "html.parser").contents)
        assert len(nodes) == 1 and isinstance(nodes[0], Tag) and nodes[0].name in TOP_LEVEL, line
    for tag in BeautifulSoup(out, "html.parser").find_all(True):
        assert tag.name in ALLOWED_TAGS, (tag.name, out)
        assert set(tag.attrs) <= ALLOWED_ATTRIBUTES.get(tag.name, set()), (tag.name, tag.attrs, out)
        for attr in ("href", "src"):
            if tag.has_attr(attr):
                assert str(tag[attr]).startswith(("http://", "https://")), (attr, tag[attr])
    for text in BeautifulSoup(out, "html.parser").find_all(string=True):
        assert isinstance(text, NavigableString)


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(FRAGMENTS)
def test_cleaning_generated_html_is_idempotent_and_allow_listed(html: str) -> None:
    once = clean_body(html, base_url=BASE_URL)
    assert clean_body(once, base_url=BASE_URL) == once
    _assert_clean(once)


@pytest.mark.parametrize(("html", "expected"), [
    ("<figure><table>正文", "<figure><p>正文</p></figure>"),
    ("<ol><table>正文", "<ol><p>正文</p></ol>"),
    ("<blockquote><table><tr><td>甲</td></tr>乙</table>", "<blockquote><p>甲</p><p>乙</p></blockquote>"),
])
def test_tables_html5ever_would_rearrange_inside_lists_quotes_and_figures(html: str, expected: str) -> None:
    """As at the top level, such a table is unwrapped (its cells become paragraphs), not left for
    html5ever to empty, so a second pass changes nothing and no text is lost."""
    once = clean_body(html, base_url=BASE_URL)
    assert once == expected
    assert clean_body(once, base_url=BASE_URL) == once


# --- F5: what Jekyll's YAML makes of the front matter ------------------------------------------------

ODD_SCALARS = [
    "kejiribao", "科技日报", "21世纪经济报道", "Reuters 路透", "yEs", "oN", "Off", "NULL", "Null", "~", "y", "n",
    "1,000", "1_000", "0x1A", "0b11", "0o17", "017", "12", "+1", "-1", ".5", "1.", "1e3", "1.0e+3", ".inf", "-.Inf",
    ".NaN", "nan", "12:30", "1:20:30", "2024-1-2", "2024-01-02", "2024-01-02 10:11:12", ":sym", ":财经", "::",
    "a: b", "a:b", "# x", "x #y", "- x", "? x", "[x]", "{x}", "&a", "*a", "!x", "!!str x", "|", ">", "@x", "`x",
    "'x'", '"x"', "%x", "yeſ", "ｙｅｓ", "a\\b", "=", "<<", "—x", "·x", "_x", "1新闻", "yes新闻", ":x新闻",
]
PSYCH = """
require "json"; require "psych"; require "date"
out = JSON.parse(STDIN.read).map do |doc|
  begin
    data = Psych.safe_load(doc, permitted_classes: [Date, Time], aliases: true)
    data.transform_values { |v| [v.class.name, v.to_s] }
  rescue => e
    {"error" => [e.class.name, e.message]}
  end
end
puts JSON.generate(out)
"""


def psych_load(documents: list[str]) -> list[dict[str, list[str]]]:
    ruby = shutil.which("ruby")
    if ruby is None:
        service_missing("ruby", "no ruby command (it comes with the jekyll package)")
    run = subprocess.run([str(ruby), "-e", PSYCH], input=json.dumps(documents), capture_output=True, text=True,
                         timeout=60, check=True)
    return json.loads(run.stdout)


def front(text: str) -> str:
    return text[4:].split("\n---\n", 1)[0]


@pytest.mark.jekyll
def test_jekyll_reads_every_front_matter_value_as_pyyaml_does() -> None:
    documents, expected = [], []
    for value in ODD_SCALARS:
        post = Post(code="NW202202092271461775", title=value, published=datetime(2022, 2, 9, 20, 13, 37, tzinfo=BEIJING),
                    slug="kejiribao", tag=value, body="<p>x</p>", share_link="http://x.example/s", base_url="")
        documents.append(front(render_post(post)))
        expected.append({"title": value, "tags": value})
        documents.append(front(render_category_page("kejiribao", value)))
        expected.append({"title": value})
    for data, want, document in zip(psych_load(documents), expected, documents, strict=False):
        assert "error" not in data, (document, data)
        parsed = yaml.safe_load(document)
        for key, value in want.items():
            assert parsed[key] == value, (document, parsed[key])
            assert data[key] == ["String", value], (document, data[key])


# --- F7: other hosts and schemes are never contacted -----------------------------------------------


@pytest.fixture
def canary() -> Recorder:
    try:
        server = Recorder(host="127.0.0.2")
    except OSError as exc:  # a loopback without 127.0.0.2 (not Linux)
        pytest.skip(f"cannot listen on 127.0.0.2: {exc}")
    with server:
        yield server


def test_pasted_urls_never_reach_their_host(canary: Recorder, tmp_path: Path) -> None:
    port = canary.port
    with ReplayServer(articles=1) as replay:
        settings = write_settings(tmp_path, replay.templates())
        code = replay.articles[0].code
        id_ = code[2:]
        named = [  # each names the code; only the configured replay may be asked for it
            f"http://127.0.0.2:{port}/a/{id_}.html",
            f"https://127.0.0.2:{port}/html_News/NewsShare.html?infoCode={code}",
            f"http://2130706434:{port}/a/{id_}.html",  # 127.0.0.2 as one decimal number
            f"http://0x7f000002:{port}/a/{id_}.html",
            f"http://[::ffff:127.0.0.2]:{port}/a/{id_}.html",
            f"http://localhost.:{port}/a/{id_}.html",
            f"http://user@127.0.0.2:{port}/a/{id_}.html?x=http://127.0.0.1/",
        ]
        refused = [
            "file:///etc/passwd", f"file:///a/{id_}.html", f"data:text/html,<a href=/a/{id_}.html>",
            f"ftp://127.0.0.2:{port}/a/{id_}.html", f"gopher://127.0.0.2:{port}/a/{id_}.html",
            "javascript:alert(1)", f"//127.0.0.2:{port}/a/{id_}.html",
        ]
        run = finews("-c", str(settings), "fetch", *named, *refused, cwd=tmp_path)
        asked = {r.path for r in replay.requests}
    lines = run.stdout.splitlines()
    assert run.returncode == 1, run.stdout + run.stderr
    assert all(line.startswith(f"new {code} ") for line in lines[: len(named)]), run.stdout  # one article, reported per target
    assert all(f" {code} " in line for line in lines[: len(named)])
    for line, target in zip(lines[len(named):], refused, strict=False):
        assert line.startswith(f"failed {target} not a share link"), line
    assert "/NewsData/GetNewsText.do" in asked
    assert canary.snapshot() == [], "a pasted URL's host was contacted"
    assert "root:x:0:0" not in "".join(p.read_text(encoding="utf-8") for p in tmp_path.rglob("*.md"))


@pytest.mark.parametrize("where", ["127.0.0.2", "file", "data"])
def test_redirects_off_the_configured_hosts_are_refused(where: str, canary: Recorder, tmp_path: Path) -> None:
    location = {"127.0.0.2": f"{canary.origin}/NewsData/GetNewsText.do?id=x", "file": "file:///etc/passwd",
                "data": 'data:application/json,{"Title":"pwned","Date":"2024-03-05 10:00:00","text":"<p>x</p>"}'}[where]
    with Recorder(location=location) as redirector:
        templates = {"content_api": redirector.origin + "/NewsData/GetNewsText.do?id={code}",
                     "article_page": redirector.origin + "/a/{id}.html", "lists": []}
        settings = write_settings(tmp_path, templates)
        run = finews("-c", str(settings), "fetch", "NW202403051234567890", cwd=tmp_path)
        asked = redirector.snapshot()
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.startswith("failed NW202403051234567890 content API: "), run.stdout
    assert len(run.stdout.splitlines()) == 1
    assert {h.target.split("?")[0] for h in asked} == {"/NewsData/GetNewsText.do", "/a/202403051234567890.html"}
    assert canary.snapshot() == []
    assert not list(tmp_path.glob("site/_posts/*"))


# --- the replay hook the list-field payloads use ------------------------------------------------------


def test_replay_lists_show_a_fixtures_list_fields_and_the_api_stays(tmp_path: Path) -> None:
    import urllib.request

    fixture = tmp_path / "f.json"
    body = {"Id": "NW202403051234567890", "Title": "接口标题", "Date": "2024-03-05 10:11:12", "medianame": "接口日报",
            "text": "<p>x</p>", "replay_list": {"title": "列表标题", "showtime": "garbage", "outlet": "列表日报",
                                                "url": "http://127.0.0.2:9/a/1.html"}}
    fixture.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with ReplayServer(articles=2, fixtures=[fixture]) as replay:
        lists = {lst["kind"]: json.loads(opener.open(lst["url"], timeout=5).read()) for lst in replay.templates()["lists"]}
        api = json.loads(opener.open(replay.url + "/NewsData/GetNewsText.do?id=NW202403051234567890", timeout=5).read())
    assert api == body  # served byte for byte
    (node,) = [e for e in lists["nodelist"]["nodeList"] if e["infocode"] == "NW202403051234567890"]
    assert (node["title"], node["showtime"], node["from"]) == ("列表标题", "garbage", "列表日报")
    (record,) = [e for e in lists["record"]["record"] if e["infoCode"] == "NW202403051234567890"]
    assert (record["datetime"], record["medianame"], record["url"]) == ("garbage", "列表日报", "http://127.0.0.2:9/a/1.html")
    (column,) = [e for e in lists["columns"]["data"]["list"] if e["code"] == "202403051234567890"]
    assert (column["showTime"], column["mediaName"], column["uniqueUrl"]) == ("garbage", "列表日报", "http://127.0.0.2:9/a/1.html")
    fixture.write_text(json.dumps({**body, "replay_list": {"colour": "x"}}), encoding="utf-8")
    with pytest.raises(ValueError, match="replay_list must map title, showtime, outlet, url to strings"):
        ReplayServer(articles=0, fixtures=[fixture])


# --- F10: production settings -----------------------------------------------------------------------

SETTINGS_PROBE = """
import json, scrapy
from scrapy.crawler import Crawler
from scrapy.utils.project import get_project_settings
from crawler.spiders.fetch import FetchSpider
s = Crawler(FetchSpider, get_project_settings()).settings  # settings.yaml is read as a crawler is made
print(json.dumps({
    "scrapy": scrapy.__version__,
    "telnet": s.getbool("TELNETCONSOLE_ENABLED"),
    "handlers": {k: v for k, v in s.getwithbase("DOWNLOAD_HANDLERS").items()},
    "redirects": s.getint("REDIRECT_MAX_TIMES"),
    "maxsize": s.getint("DOWNLOAD_MAXSIZE"),
    "cache": s.getbool("HTTPCACHE_ENABLED"),
    "jobdir": s.get("JOBDIR"),
    "cookies": s.getbool("COOKIES_ENABLED"),
    "dataloss": s.getbool("DOWNLOAD_FAIL_ON_DATALOSS"),
}))
"""


def test_production_settings(tmp_path: Path) -> None:
    settings = write_settings(tmp_path, {})
    env = {**os.environ, "FINEWS_CONFIG": str(settings), "PYTHONPATH": str(ROOT)}
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    run = subprocess.run([sys.executable, "-c", SETTINGS_PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    assert tuple(int(x) for x in got["scrapy"].split(".")[:3]) >= (2, 13, 4)
    assert got["telnet"] is False
    for scheme in ("file", "data", "ftp", "s3"):
        assert got["handlers"].get(scheme) is None, scheme
    assert {h for h, v in got["handlers"].items() if v} == {"http", "https"}
    assert 0 < got["redirects"] <= 5
    assert 0 < got["maxsize"] <= 64 * 1024 * 1024
    assert got["cache"] is False and got["jobdir"] is None and got["cookies"] is False and got["dataloss"] is True


def test_a_real_run_starts_no_telnet_console(tmp_path: Path) -> None:
    with ReplayServer(articles=1) as replay:
        settings = write_settings(tmp_path, replay.templates())
        run = finews("-v", "-c", str(settings), "fetch", replay.articles[0].code, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Enabled extensions" in run.stderr  # the log is there, so its silence below means something
    assert "TelnetConsole" not in run.stderr and "Telnet console listening" not in run.stderr
