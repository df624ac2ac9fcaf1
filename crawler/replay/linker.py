"""The source's linker markup, as its real ``GetNewsText.do`` bodies carry it (SPEC 5.1).

What Eastmoney's keyword linker and chart embedder put around the text, attribute for
attribute as in the 2022 bodies kept under ``tests/fixtures/real/``:

* the hidden spacer ``<p style="display:none;height:1px;overflow:hidden;"><br /></p>``, one
  before each K-line block;
* a K-line block: ``<!-- EM_StockImg_Start -->`` … ``<!-- EM_StockImg_End -->`` around a centred
  link (``data-code`` ``code|market|type``, ``data-code2``) to a chart on
  ``webquoteklinepic.eastmoney.com`` sized by ``width``/``height`` attributes;
* a stock's first mention ``span#stock_<ref>`` with its link plus an empty ``span#quote_<ref>``;
  a Hong Kong stock ``span#Info.116.<code>`` with its link and no quote span; later mentions
  ``span.em_stock_key_common`` carrying ``web="1"`` and ``href``;
* a board's first mention ``span#bk_<ref>`` (link with ``data-code``) plus an empty
  ``span#bkquote_<ref>``; a data keyword's ``span#Info.<id>`` with an ``a.infokey`` link
  (no ``target``); later mentions of boards and keywords stay plain text.

Every function takes *seen*, the refs linked so far in the body, and adds to it.
"""

from __future__ import annotations

from html import escape

from crawler.replay.generator import Mention

SPACER = '<p style="display:none;height:1px;overflow:hidden;"><br /></p>'
KLINE_HOST = "https://webquoteklinepic.eastmoney.com"
KLINE_TOKEN = "44c9d251add88e27b65ed86506f6e5da"  # the replay's own; any token serves a chart
# market -> (type in data-code, type in data-code2): 0 Shenzhen, 1 Shanghai, 116 Hong Kong
KLINE_TYPES = {"0": ("2", "6"), "1": ("1", "6"), "116": ("5", "3")}


def esc(text: str) -> str:
    return escape(text, quote=False)


def attr(text: str) -> str:
    return escape(text, quote=True)


def mention(m: Mention, seen: set[str]) -> str:
    """*m* as the linker writes it: linked at its first mention, as a repeat or plain later."""
    first = m.ref not in seen
    seen.add(m.ref)
    name, href, data_code = esc(m.name), attr(m.href), m.ref.replace(".", ",", 1)
    if m.kind == "stock" and not first:
        return f'<span web="1" href="{href}" class="em_stock_key_common" data-code="{data_code}">{name}</span>'
    if not first:
        return name
    if m.kind == "stock":
        link = f'<a href="{href}" class="keytip" data-code="{data_code}">{name}</a>'
        if m.ref.startswith("116."):
            return f'<span id="Info.{m.ref}">{link}</span>'
        return f'<span id="stock_{m.ref}">{link}</span><span id="quote_{m.ref}"></span>'
    if m.kind == "board":
        return (f'<span id="bk_{m.ref}"><a href="{href}" class="keytip" data-code="{data_code}">{name}</a></span>'
                f'<span id="bkquote_{m.ref}"></span>')
    return f'<span id="Info.{m.ref}"><a href="{href}" class="infokey">{name}</a></span>'


def kline(stock: Mention) -> str:
    """The spacer and the K-line block of *stock* (an A or H share)."""
    market, code = stock.ref.split(".", 1)
    kind, kind2 = KLINE_TYPES[market]
    pic = f"{KLINE_HOST}/GetPic.aspx?nid={stock.ref}&imageType=k&token={KLINE_TOKEN}&at=1"
    return (f'{SPACER}<!-- EM_StockImg_Start --><p style="text-align:center;"><a href="{attr(stock.href)}" '
            f'data-code="{code}|{market}|{kind}" data-code2="{code}|{market}|{kind2}|" class="EmImageRemark" '
            f'target="_blank"><img src="{attr(pic)}" border="0" alt="K图 {code}_0" data-code="K {code}|{market}|{kind}" '
            f'data-code2="K {code}|{market}|{kind2}|" style="border:#d1d1d1 1px solid;" width="578" height="276" />'
            f"</a></p><!-- EM_StockImg_End -->")
