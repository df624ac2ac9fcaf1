"""Eastmoney markup for the replay: body HTML in both API styles, the API JSON, the share shell.

Conventions (SPEC 5.1):

* *text style*: ``<p><p align="center"></p>`` first, then one ``<p>`` per line joined by
  ``"\\n "``, paragraphs indented with U+3000 U+3000, headings ``<p><strong>…</strong></p>``,
  and ``<p class="em_media">（文章来源：X）</p>`` glued to the last line — the seed's shape.
* *content style*: one line; a hidden spacer ``<p style="display:none;">&nbsp;</p>`` first;
  a K-line block after the first paragraph naming the main stock; a stock's first mention
  is a ``span#stock_<ref>`` link plus an empty ``span#quote_<ref>``, later ones
  ``span.em_stock_key_common``; the first mention of a board is ``span#bk_<ref>``, of a data
  keyword ``span#Info.<id>`` (later mentions plain); images ``<center><img …></center>``
  (lazy ones carry only ``data-src``) followed by a centred caption paragraph; for some
  outlets the keyword linker splits the outlet name in the ``em_media`` line.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from crawler.replay.generator import Block, Mention, Part, Story

INDENT = "\u3000\u3000"
SPACER = '<p style="display:none;">&nbsp;</p>'
KLINE_TOKEN = "44c9d251add88e27b65ed86506f6e5da"


def esc(text: str) -> str:
    return escape(text, quote=False)


def attr(text: str) -> str:
    return escape(text, quote=True)


def render_parts(parts: tuple[Part, ...], seen: set[str] | None) -> str:
    """Inline HTML of *parts*; with *seen* (refs already linked) mentions become links."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(esc(part))
        elif seen is None:
            out.append(esc(part.name))
        else:
            out.append(_mention(part, seen))
    return "".join(out)


def _mention(m: Mention, seen: set[str]) -> str:
    first = m.ref not in seen
    seen.add(m.ref)
    name, data_code = esc(m.name), m.ref.replace(".", ",", 1)
    if m.kind == "stock" and first:
        return (f'<span id="stock_{m.ref}"><a href="{attr(m.href)}" class="keytip" data-code="{data_code}">'
                f'{name}</a></span><span id="quote_{m.ref}"></span>')
    if m.kind == "stock":
        return f'<span class="em_stock_key_common" data-code="{data_code}">{name}</span>'
    if not first:
        return name
    if m.kind == "board":
        return f'<span id="bk_{m.ref}"><a class="keytip" href="{attr(m.href)}">{name}</a></span>'
    return f'<span id="Info.{m.ref}"><a class="infokey" href="{attr(m.href)}" target="_blank">{name}</a></span>'


def media_line(story: Story, *, linked: bool) -> str:
    """The ``p.em_media`` outlet line, the outlet split by the keyword linker when *linked*."""
    outlet = story.article.outlet
    text = esc(outlet)
    if linked and story.outlet_keyword and story.outlet_keyword[0] in outlet:
        word, info = story.outlet_keyword
        link = (f'<span id="Info.{info}"><a class="infokey" href="http://data.eastmoney.com/" '
                f'target="_blank">{esc(word)}</a></span>')
        text = esc(outlet).replace(esc(word), link, 1)
    return f'<p class="em_media">（文章来源：{text}）</p>'


def block_html(block: Block, story: Story, seen: set[str] | None) -> str:
    """One block as rich HTML (links when *seen* is given) — used by content style and pages."""
    if block.kind == "p":
        return f"<p>{INDENT}{render_parts(block.parts, seen)}</p>"
    if block.kind == "h":
        return f"<p><strong>{esc(block.text)}</strong></p>"
    if block.kind == "caption":
        return f'<p style="text-align:center;">{esc(block.text)}</p>'
    if block.kind == "media":
        if block.text == f"（文章来源：{story.article.outlet}）":
            return media_line(story, linked=seen is not None)
        return f'<p class="em_media">{esc(block.text)}</p>'
    if block.kind == "img":
        where = "data-src" if block.lazy else "src"
        lazy = ' class="lazyload"' if block.lazy else ""
        return f'<center><img {where}="{attr(block.src)}"{lazy} style="max-width:100%"></center>'
    if block.kind == "kline":
        stock = block.parts[0]
        assert isinstance(stock, Mention)
        market, code = stock.ref.split(".", 1)
        pic = f"https://webquotepic.eastmoney.com/GetPic.aspx?nid={stock.ref}&imageType=k&token={KLINE_TOKEN}"
        return (f'<!-- EM_StockImg_Start --><p style="text-align:center;"><a href="{attr(stock.href)}" '
                f'data-code="{market},{code}" class="EmImageRemark" target="_blank"><img src="{attr(pic)}" '
                f'border="0" alt="K图 {code}_0" data-code="{market},{code}" '
                f'style="border:#d1d1d1 1px solid;width:578px;height:276px;"></a></p><!-- EM_StockImg_End -->')
    raise ValueError(f"unknown block kind {block.kind!r}")


def text_body(story: Story) -> str:
    """The API body in text style (SPEC 5.1), shaped like the seed."""
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


def content_body(story: Story) -> str:
    """The API body in content style (SPEC 5.1): one line of linked markup."""
    seen: set[str] = set()
    return SPACER + "".join(block_html(block, story, seen) for block in story.blocks)


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
    body = "" if empty or a.api == "empty" else text_body(story) if a.style == "text" else content_body(story)
    if a.style == "text" or story.both_keys:
        payload["text"] = body
    if a.style == "content":
        payload["content"] = body
    return payload


def api_json(story: Story, base_url: str, *, empty: bool = False) -> bytes:
    return dump_json(api_payload(story, base_url, empty=empty))


def dump_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


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
