"""Data for :mod:`pipelines.clean`: the sanitizer allow-list, tag classes, noise selectors
and text markers (SPEC §5.1, §5.3, §7).  No code lives here, so adding a marker or a
selector never touches the cleaning logic.
"""

from __future__ import annotations

# --- sanitizer allow-list (SPEC §7.6) ------------------------------------------------
ALLOWED_TAGS = frozenset({
    "p", "br", "strong", "b", "em", "i", "u", "h2", "h3", "h4", "blockquote",
    "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td",
    "img", "a", "figure", "figcaption",
})
# "*" is set explicitly: nh3 would otherwise allow its default generic `lang` and `title`.
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": set(),
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
URL_SCHEMES = frozenset({"http", "https"})
# Removed together with their content by nh3 as well as by the BeautifulSoup stage.
CLEAN_CONTENT_TAGS = frozenset({
    "script", "style", "noscript", "iframe", "object", "embed", "template", "svg", "math",
    "textarea", "select", "title", "xmp", "noembed", "noframes", "plaintext",
})

# --- tags removed with their content before anything else ----------------------------
# Beyond CLEAN_CONTENT_TAGS: form controls, media, head-only elements and raw-text
# elements.  plaintext/xmp/listing would make html5ever (inside nh3) reparse the rest of
# a block as loose text, so they must never reach it.
DROP_TAGS = CLEAN_CONTENT_TAGS | {
    "frame", "frameset", "applet", "form", "button", "input", "option", "canvas", "audio",
    "video", "source", "track", "map", "area", "head", "base", "meta", "link", "listing",
    "image", "hr", "dialog",
}
# MathML and SVG element names: nh3 (ammonia's namespace hardening) removes them with their
# content wherever they stand, even outside <math> and <svg>.  Dropped here first, so that a
# block they would empty is skipped, not published as an empty element: cleaning stays
# idempotent (found by tests/site/test_publishing_rows.py).
FOREIGN_TAGS = frozenset({
    "maction", "maligngroup", "malignmark", "menclose", "merror", "mfenced", "mfrac", "mglyph",
    "mi", "mlabeledtr", "mlongdiv", "mmultiscripts", "mn", "mo", "mover", "mpadded", "mphantom",
    "mprescripts", "mroot", "mrow", "ms", "mscarries", "mscarry", "msgroup", "msline", "mspace",
    "msqrt", "msrow", "mstack", "mstyle", "msub", "msubsup", "msup", "mtable", "mtd", "mtext",
    "mtr", "munder", "munderover", "none", "semantics", "annotation", "annotation-xml",
    "animate", "circle", "defs", "desc", "discard", "ellipse", "filter", "g",
    "line", "marker", "mask", "metadata", "mpath", "path", "pattern", "polygon", "polyline",
    "rect", "set", "stop", "switch", "symbol", "text", "tspan", "use", "view",
})
DROP_TAGS |= FOREIGN_TAGS

# --- tag classes used to build "one block per line" (SPEC §7.4) ----------------------
RENAME = {"h1": "h2", "h5": "h4", "h6": "h4"}  # headings the allow-list lacks
P_LIKE = frozenset({"p", "h2", "h3", "h4"})  # blocks whose content is inline only
STRUCTURAL = frozenset({"ul", "ol", "table", "blockquote", "figure"})  # kept whole
# Wrappers that are unwrapped with a block boundary on each side.  The HTML5 "closes a p"
# tags are all here, so none stays inside a <p> that nh3's html5ever would split.
GENERIC_CONTAINERS = frozenset({
    "div", "section", "center", "article", "main", "header", "footer", "aside", "nav",
    "address", "hgroup", "details", "summary", "fieldset", "dir", "menu", "search", "pre",
    "dl", "dt", "dd", "body", "html",
})
# Table and list parts found outside their table or list are unwrapped the same way.
STRAY_PARTS = frozenset({
    "li", "tr", "td", "th", "thead", "tbody", "tfoot", "caption", "colgroup", "figcaption",
})
CONTAINERS = GENERIC_CONTAINERS | STRAY_PARTS
BLOCKS = P_LIKE | STRUCTURAL | CONTAINERS
INLINE_WRAPPERS = ("span", "font")  # meaningless once class/style are gone
# Where whitespace-only text is layout only (SPEC §7.8: a table is one line).
NO_TEXT_PARENTS = frozenset({"table", "thead", "tbody", "tfoot", "tr", "ul", "ol"})
# Elements whose own text is trimmed at both ends.
TEXT_HOLDERS = P_LIKE | frozenset({"li", "td", "th", "figcaption", "blockquote"})
# Kept even without text: void elements and table cells (an empty cell is still a cell).
KEEP_EMPTY = frozenset({"br", "img", "td", "th", "tr", "thead", "tbody"})

# --- work budget ---------------------------------------------------------------------
# bs4 finds a node's index by scanning its siblings, and some of its steps recurse, so a
# hostile body (50 000 nested tags, 50 000 siblings) would take minutes or overflow the
# stack.  Real bodies nest about a dozen levels and hold a few thousand nodes.
MAX_DEPTH = 100
MAX_CHILDREN = 5_000  # of any one element
MAX_NODES = 100_000  # tags and strings

# --- noise (SPEC §5.1, §5.3) ---------------------------------------------------------
NOISE_SELECTOR = ", ".join([
    'span[id^="quote_"]', ".em_xuangu", ".statement", ".editor", "div.zwothers",
    "p.res-edit", ".b-review",
])
AD_CLASS_PREFIX = "ad_context"  # div.ad_context, ad_context_1, …: any class token
AD_CLOSE_IMG = "img.em_handle_adv_close"  # the ad image; its enclosing <a> goes too
PROMO_HOSTS = ("acttg.eastmoney.com",)  # account-opening / campaign landing pages
KLINE_START, KLINE_END = "EM_StockImg_Start", "EM_StockImg_End"

# Stock, board and data-keyword links/spans: unwrapped to their text.
UNWRAP_SELECTOR = ", ".join([
    'span[id^="stock_"]', "a.keytip", "span.em_stock_key_common", 'span[id^="bk_"]',
    'span[id^="Info."]', "a.infokey", "a[data-code]",
])
QUOTE_HOSTS = ("quote.eastmoney.com", "data.eastmoney.com")  # and their subdomains

# Text rules apply to "leaf" blocks (no block inside) only, and the marker rules only to
# short ones, so a normal paragraph that merely mentions 开户 or 扫一扫 stays.
SHORT_BLOCK_CHARS = 80
# Call-to-action phrases of the open-account / app / AI-assistant promos; a link whose text
# holds one is dropped whatever its length.  Deliberately not bare "开户", "手机开户",
# "AI助手" or "东方财富APP": "券商手机开户占比提升" or "某公司发布AI助手" are news.
PROMO_PHRASES = (
    "东方财富证券开户", "东方财富证券手机开户", "一站式开户", "免费开户", "立即开户",
    "极速开户", "一键开户", "点击开户", "开户福利", "在东方财富看资讯行情",
    "下载东方财富APP", "问问妙想", "立即免费体验",
)
# The WeChat share instructions, whole or split over two lines; not bare "扫一扫".
QR_MARKERS = (
    "打开微信", "点击底部的“发现”", '点击底部的"发现"', "使用“扫一扫”", '使用"扫一扫"',
    "分享至朋友圈",
)
NOISE_MARKERS = PROMO_PHRASES + QR_MARKERS
DISCLAIMER_PREFIXES = ("郑重声明", "风险提示及免责条款", "免责声明", "市场有风险，投资需谨慎")
EDITOR_PATTERN = r"^[（(]?\s*(责任编辑|编辑)[:：]"  # "（责任编辑：xx）", short blocks only

# --- images (SPEC §7.5) --------------------------------------------------------------
LAZY_SRC_ATTRS = ("data-src", "data-original")  # win over src, which is a placeholder
