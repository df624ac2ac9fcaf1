"""``finews fetch`` of content-API answers whose JSON holds an invalid ``\\ud800`` escape.

Such an escape decodes to a lone surrogate, which UTF-8 cannot encode: the article is
quarantined with its payload, never a crash, whichever field holds it.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import create_engine, select

from crawler.replay import ReplayServer
from pipelines.models import quarantine
from tests.crawler.cli_helpers import finews, write_settings

BODY_CODE = "NW202403051234567892"
TITLE_CODE = "NW202403051234567893"
NO_OUTLET_CODE = "NW202403051234567894"

# Written as the source would: UTF-8 text, the bad escape as six ASCII characters.
FIXTURES = {
    BODY_CODE: (
        '{"Id": "%s", "Title": "正文坏了", "Date": "2024-03-05 10:11:12", "medianame": "测试日报",'
        ' "url": "http://finance.eastmoney.com/a/%s.html", "text": "<p>　　正文\\ud800段落</p>"}'
    ),
    TITLE_CODE: (
        '{"Id": "%s", "Title": "标题\\udc00", "Date": "2024-03-05 10:11:12", "medianame": "测试日报",'
        ' "url": "http://finance.eastmoney.com/a/%s.html", "text": "<p>正文</p>"}'
    ),
    NO_OUTLET_CODE: (  # the outlet must be read from the body's em_media line, which holds the surrogate
        '{"Id": "%s", "Title": "无来源", "Date": "2024-03-05 10:11:12",'
        ' "url": "http://finance.eastmoney.com/a/%s.html",'
        ' "content": "<p>正文</p><p class=\\"em_media\\">（文章来源：测试\\ud83d日报）</p>"}'
    ),
}


def write_fixtures(folder: Path) -> list[Path]:
    paths = []
    for code, template in FIXTURES.items():
        path = folder / f"{code}.json"
        path.write_text(template % (code, code[2:]), encoding="utf-8")
        paths.append(path)
    return paths


def test_lone_surrogates_are_quarantined_with_their_payload(tmp_path: Path) -> None:
    with ReplayServer(articles=0, fixtures=write_fixtures(tmp_path)) as replay:
        settings = write_settings(tmp_path, replay.templates())
        run = finews("-c", str(settings), "fetch", *FIXTURES, cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.splitlines() == [
        f"failed {BODY_CODE} quarantined: body holds invalid characters (lone surrogate)",
        f"failed {TITLE_CODE} quarantined: title holds invalid characters (lone surrogate)",
        f"failed {NO_OUTLET_CODE} quarantined: body holds invalid characters (lone surrogate)",
    ]
    assert "Traceback" not in run.stderr and "UnicodeEncodeError" not in run.stderr
    assert not list(tmp_path.glob("site/_posts/*"))
    engine = create_engine(f"sqlite:///{tmp_path}/finews.db")
    with engine.connect() as conn:
        found = {row["code"]: row for row in conn.execute(select(quarantine)).mappings()}
    engine.dispose()
    assert sorted(found) == sorted(FIXTURES)
    for code, template in FIXTURES.items():
        payload = json.loads(found[code]["payload"])
        assert payload["api"] == template % (code, code[2:])  # the response as served, escape included
