"""Data for :mod:`pipelines.clean`: the sanitizer allow-list, tag classes and the work budget
(SPEC §7).  No code lives here; each source's noise rules live in its own folder.
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
# Removed together with their content by nh3 as well as by the lxml stage before it.
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
# The passes are Python loops over the tree, and several look at each element's subtree,
# so a hostile body (50 000 siblings) would take seconds; lxml's parser drops what lies
# deeper than about 255 levels, so MAX_DEPTH must stay below that for such a body to be
# refused rather than cut.  Real bodies nest about a dozen levels and hold a few thousand nodes.
MAX_DEPTH = 100
MAX_CHILDREN = 5_000  # of any one element
MAX_NODES = 100_000  # tags and strings

# --- noise (SPEC §7) ----------------------------------------------------------------
# A source's own noise is its business (crawler/sources/<name>/, NoiseRules).  Text rules
# apply to "leaf" blocks (no block inside) only, and the marker rules only to short ones,
# so a normal paragraph that merely mentions a marker stays.
SHORT_BLOCK_CHARS = 80

# --- images (SPEC §7.5) --------------------------------------------------------------
LAZY_SRC_ATTRS = ("data-src", "data-original")  # win over src, which is a placeholder
