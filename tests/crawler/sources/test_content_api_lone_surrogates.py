"""The content API parser on JSON whose escapes decode to lone surrogates (``"\\ud800"``).

The parser returns what the JSON says, lone surrogates included (the validate stage
quarantines the article); it never fails on them.
"""

from __future__ import annotations

from crawler.sources.eastmoney.content_api import parse_content_api


def test_fields_keep_the_lone_surrogate() -> None:
    api = parse_content_api(
        b'{"Title": "\\u6807\\u9898\\udc00", "Date": "2024-03-05 10:11:12", "medianame": "X", "text": "<p>a\\ud800</p>"}'
    )
    assert api is not None
    assert (api.title, api.body_html, api.style) == ("标题\udc00", "<p>a\ud800</p>", "text")


def test_the_outlet_line_is_still_read_when_the_body_holds_a_lone_surrogate() -> None:
    payload = '{"Title": "t", "content": "<p>正文\\ud800</p><p class=\\"em_media\\">（文章来源：测试日报）</p>"}'
    api = parse_content_api(payload.encode("utf-8"))
    assert api is not None
    assert api.outlet == "测试日报"
    assert api.body_html is not None and "\ud800" in api.body_html
