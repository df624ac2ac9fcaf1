"""ReplayServer as a whole: determinism, templates, lifecycle, HTTP details, ``finews replay``."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from crawler.replay import ReplayServer, settings_snippet

from .support import fetch

ROOT = Path(__file__).resolve().parents[3]


def every_url(server: ReplayServer) -> list[str]:
    urls = [server.url + "/", server.url + "/robots.txt"]
    for a in server.articles:
        urls.append(f"{server.url}/NewsData/GetNewsText.do?id={a.code}")
        urls.append(f"{server.url}/html_News/NewsShare.html?infoCode={a.code}")
        urls += [f"{server.url}/a/{a.id}{'' if n == 1 else f'_{n}'}.html" for n in range(1, a.pages + 1)]
    for item in server.templates()["lists"]:
        urls.append(item["url"])
        urls.append(item["url"] + "&callback=cb")
    return urls


def test_two_servers_with_the_same_n_serve_identical_bytes() -> None:
    with ReplayServer(12) as first:
        port = first.port
        served = {url[len(first.url):]: fetch(url) for url in every_url(first)}
    with ReplayServer(12, port=port) as second:
        again = {url[len(second.url):]: fetch(url) for url in every_url(second)}
    assert served.keys() == again.keys() and len(served) > 50
    for path, got in served.items():
        assert (got.status, got.headers["Content-Type"], got.body) == (
            again[path].status, again[path].headers["Content-Type"], again[path].body), path


def test_templates_point_at_the_replay() -> None:
    with ReplayServer(2) as server:
        t = server.templates()
        assert server.url.startswith("http://127.0.0.1:") and server.port > 0
        assert t["share_link"] == server.url + "/html_News/NewsShare.html?infoCode={code}"
        assert t["content_api"] == server.url + "/NewsData/GetNewsText.do?id={code}"
        assert t["article_page"] == server.url + "/a/{id}.html"
        assert [x["kind"] for x in t["lists"]] == ["nodelist", "records", "record", "fastnews", "columns"]
        a = server.articles[0]
        for template in (t["share_link"], t["content_api"], t["article_page"]):
            assert fetch(template.format(code=a.code, id=a.id)).status == 200
        for item in t["lists"]:
            assert item["url"].startswith(server.url) and fetch(item["url"]).status == 200
        assert yaml.safe_load(settings_snippet(server)) == {"sources": {"eastmoney": t}}


def test_lifecycle() -> None:
    server = ReplayServer(1)
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.url
    server.start()
    with pytest.raises(RuntimeError, match="already started"):
        server.start()
    url = server.url
    assert fetch(url + "/robots.txt").status == 200
    server.stop()
    server.stop()
    with pytest.raises(OSError):  # noqa: PT011 - connection refused, as the platform words it
        fetch(url + "/robots.txt", timeout=1)
    with pytest.raises(ValueError, match="articles must be 0 or more"):
        ReplayServer(-1)
    with pytest.raises(ValueError, match="page_size must be at least 1"):
        ReplayServer(1, page_size=0)


def test_head_and_keep_alive() -> None:
    with ReplayServer(2) as server:
        a = server.articles[0]
        conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
        try:
            conn.request("HEAD", f"/a/{a.id}.html")
            head = conn.getresponse()
            assert head.status == 200 and int(head.headers["Content-Length"]) > 1000 and head.read() == b""
            for path in (f"/NewsData/GetNewsText.do?id={a.code}", "/robots.txt", "/nothing"):
                conn.request("GET", path)
                response = conn.getresponse()
                body = response.read()
                assert int(response.headers["Content-Length"]) == len(body)
                assert response.headers["Content-Type"].endswith("charset=utf-8")
        finally:
            conn.close()
        assert [r.method for r in server.requests] == ["HEAD", "GET", "GET", "GET"]


def test_stop_closes_idle_keep_alive_connections() -> None:
    server = ReplayServer(1).start()
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    conn.request("GET", "/robots.txt")
    conn.getresponse().read()
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2
    assert conn.sock is not None and conn.sock.recv(1) == b"", "the server closed its end"
    conn.close()


def _spawn(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "crawler.replay", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_run_replay_serves_until_a_signal(signum: int) -> None:
    proc = _spawn("--port", "0", "--articles", "3", "--faults", "page:*=status:503x1")
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        assert " 3 articles at http://127.0.0.1:" in banner, banner
        url = banner.split(" at ", 1)[1].split()[0]
        lines = [proc.stdout.readline() for _ in range(2)]
        assert lines == ["finews replay: faults page:*=status:503x1\n", "# paste into settings.yaml:\n"]
        while "kind: columns" not in lines[-1]:
            lines.append(proc.stdout.readline())
        snippet = yaml.safe_load("".join(lines[2:]))
        assert snippet["sources"]["eastmoney"]["content_api"] == url + "/NewsData/GetNewsText.do?id={code}"
        assert fetch(url + "/robots.txt").status == 200
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=10)
        assert proc.returncode == 0 and "stopped" in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_run_replay_refuses_bad_faults() -> None:
    proc = _spawn("--port", "0", "--faults", "api:*=boom")
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 2 and "bad fault 'api:*=boom'" in err
