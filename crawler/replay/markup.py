"""Eastmoney markup for the replay: body HTML in both API styles, the API JSON, the share shell.

Body shapes (SPEC 5.1; ``Story.shape``, chosen in :mod:`crawler.replay.generator`):

* ``line``: one line; K-line blocks, each after the hidden spacer, first (when the article
  has any), then one ``<p>`` per paragraph indented with U+3000 U+3000, headings
  ``<p><strong>…</strong></p>``, images ``<center><img … width="552" /></center>`` and their
  centred 图片来源 caption, and ``<p class="em_media">（文章来源：X）</p>`` last — the shape of
  the real ``content`` bodies and of the real ``text`` bodies of list type 45;
* ``joined``: the same without K-line blocks, paragraphs joined by ``"\\n "`` (a real
  ``content`` shape too);
* ``seed``: ``<p><p align="center"></p>`` first, then one ``<p>`` per line joined by
  ``"\\n "``, the outlet line glued to the last one — the seed's ``text`` body.

Content style runs the linker over the text (:mod:`crawler.replay.linker`; the outlet line
too, when a board name is part of the outlet); text style carries no links.  Article pages
(:mod:`crawler.replay.pages`) render the same blocks through :func:`block_html` with
``page=True``: there, lazy images carry only ``data-src``, which no API body does.
"""

from __future__ import annotations

import json
import re
from typing import Any

from crawler.replay.generator import Block, Part, Story
from crawler.replay.linker import attr, esc, kline, mention

INDENT = "\u3000\u3000"
IMAGE_STYLE = "border:#d1d1d1 1px solid;padding:3px;margin:5px 0;"

# attr and esc are the linker's, re-exported for the pages and the server's index
__all__ = ["SHARE_SHELL", "api_json", "api_payload", "attr", "block_html", "body", "dump_json", "esc", "media_line",
           "render_parts", "seed_body"]


def render_parts(parts: tuple[Part, ...], seen: set[str] | None) -> str:
    """Inline HTML of *parts*; with *seen* (refs already linked) mentions become links."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(esc(part))
        elif seen is None:
            out.append(esc(part.name))
        else:
            out.append(mention(part, seen))
    return "".join(out)


def media_line(story: Story, seen: set[str] | None) -> str:
    """The ``p.em_media`` outlet line; with *seen*, a board name in the outlet is linked
    at its first mention, splitting the name as the source's linker does."""
    outlet = story.article.outlet
    board = story.outlet_board
    text = esc(outlet)
    if seen is not None and board is not None and board.name in outlet and board.ref not in seen:
        text = esc(outlet).replace(esc(board.name), mention(board, seen), 1)
    return f'<p class="em_media">（文章来源：{text}）</p>'


def block_html(block: Block, story: Story, seen: set[str] | None, *, page: bool = False) -> str:
    """One block as HTML, linked when *seen* is given; *page*: as an article page shows it."""
    if block.kind == "p":
        return f"<p>{INDENT}{render_parts(block.parts, seen)}{'<br />' if block.br else ''}</p>"
    if block.kind == "h":
        return f"<p><strong>{esc(block.text)}</strong></p>"
    if block.kind == "caption":
        return f'<p style="text-align:center;">{esc(block.text)}</p>'
    if block.kind == "media":
        if block.text == f"（文章来源：{story.article.outlet}）":
            return media_line(story, seen)
        return f'<p class="em_media">{esc(block.text)}</p>'
    if block.kind == "img":
        if page and block.lazy:
            return f'<center><img data-src="{attr(block.src)}" class="lazyload" width="552" /></center>'
        return f'<center><img src="{attr(block.src)}" width="552" style="{IMAGE_STYLE}" /></center>'
    if block.kind == "kline":
        stock = block.parts[0]
        if isinstance(stock, str):
            raise ValueError("a kline block names its stock as a Mention")
        return kline(stock)
    raise ValueError(f"unknown block kind {block.kind!r}")


def seed_body(story: Story) -> str:
    """The text-style body in the seed's shape: no links, no K-line, one line per block."""
    lines = ['<p><p align="center"></p>']
    media = ""
    for block in story.blocks:
        if block.kind == "media":
            media = block_html(block, story, None)
        elif block.kind == "h":
            lines.append(block_html(block, story, None))
        elif block.visible:
            lines.append(f"<p>{INDENT}{esc(block.text)}</p>")
    return "\n ".join(lines) + media


def body(story: Story) -> str:
    """The API body of *story* in its style and shape (see the module docstring)."""
    if story.shape == "seed":
        return seed_body(story)
    seen: set[str] | None = set() if story.article.style == "content" else None
    blocks = [block_html(block, story, seen) for block in story.blocks]
    if story.shape == "joined" and len(blocks) > 1:
        return "\n ".join(blocks[:-1]) + blocks[-1]  # the outlet line stays glued to the last paragraph
    return "".join(blocks)


def api_payload(story: Story, base_url: str, *, empty: bool = False) -> dict[str, Any]:
    """The content API object for *story*; *empty* blanks the body (the ``empty`` variant)."""
    a = story.article
    low = story.lower_keys
    payload: dict[str, Any] = {"id" if low else "Id": a.code}
    if a.api != "partial":
        payload["title" if low else "Title"] = a.title
        payload["date" if low else "Date"] = a.date
        payload["MediaName" if low else "medianame"] = a.outlet
        payload["from" if low else "From"] = a.outlet
    payload["author" if low else "Author"] = list(a.authors)
    payload["Url" if low else "url"] = f"{base_url}/a/{a.id}.html"
    html = "" if empty or a.api == "empty" else body(story)
    if a.style == "text" or story.both_keys:
        payload["text"] = html
    if a.style == "content":
        payload["content"] = html
    return payload


def api_json(story: Story, base_url: str, *, empty: bool = False) -> bytes:
    return dump_json(api_payload(story, base_url, empty=empty))


def dump_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def placeholder_image(name: str) -> bytes:
    """An SVG the size a CDN image name states (``…_w690h460.jpg``), served in place of the image."""
    size = re.search(r"_w(\d{2,4})h(\d{2,4})", name)
    width, height = (int(size.group(1)), int(size.group(2))) if size else (640, 427)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
            f'<rect width="100%" height="100%" fill="#e9ecef"/><text x="50%" y="50%" fill="#868e96" font-size="24" '
            'text-anchor="middle" dominant-baseline="middle" font-family="sans-serif">finews replay</text></svg>\n').encode()


SHARE_SHELL = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1,maximum-scale=1,user-scalable=no">
<title>东方财富网</title>
<style>body{margin:0;font:16px/1.8 sans-serif;color:#333}#app{padding:12px 16px}\
.title{font-size:20px;font-weight:bold}.infos{color:#999;font-size:12px}</style>
</head>
<body>
<div id="app"><div class="title"></div><div class="infos"><span class="time"></span> <span class="source"></span></div>\
<div class="content"></div></div>
<script>
(function () {
  var match = /[?&]infoCode=([^&#]+)/i.exec(location.search);
  if (!match) { return; }
  var xhr = new XMLHttpRequest();
  xhr.open("GET", "/NewsData/GetNewsText.do?id=" + encodeURIComponent(match[1]));
  xhr.onload = function () {
    if (xhr.status !== 200) { return; }
    var data = JSON.parse(xhr.responseText) || {};
    var app = document.getElementById("app");
    app.querySelector(".title").textContent = data.Title || data.title || "";
    app.querySelector(".time").textContent = data.Date || data.date || "";
    app.querySelector(".source").textContent = data.medianame || data.From || "";
    app.querySelector(".content").innerHTML = data.text || data.content || "";
    document.title = (data.Title || data.title || "") + "_东方财富网";
  };
  xhr.send();
})();
</script>
</body>
</html>
"""
