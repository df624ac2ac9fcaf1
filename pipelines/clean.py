"""The cleaning stage: raw body HTML → sanitized body, one block per line (SPEC §7).

``clean_body`` is a pure function of the body and its source's :class:`NoiseRules`;
``CleanPipeline`` applies it to ``ArticleItem.body_html`` with the rules of the item's
source and quarantines items whose body is empty afterwards.  Reads ``FINEWS_SOURCES``.

lxml does the structural work, on the tree of its HTML parser (libxml2).  The parser
closes an open ``<p>`` when another block starts, as browsers and nh3's html5ever do, so
the stray ``<p><p align="center"></p>`` of the text style parses as two empty paragraphs
instead of one paragraph holding the whole article.  The output is byte for byte that of
the BeautifulSoup implementation this one replaced (same parser, through bs4's tree);
where the two trees differ, the code says so.  The noise rules' CSS selectors are compiled
once each: a compound selector (``span[id^="quote_"]``, ``.editor``, the rules' usual kind)
is matched as soupsieve, BeautifulSoup's selector engine, matched it, any other is
translated to XPath by cssselect.  nh3 runs last; only the brace encoding of step 7 follows it.
"""

from __future__ import annotations

import functools
import logging
import re
import string
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias, overload
from urllib.parse import urljoin, urlsplit

import nh3
from cssselect import HTMLTranslator
from cssselect import parse as parse_css
from cssselect import parser as css_parser
from lxml import etree

from crawler.sources import configured_sources
from crawler.sources.noise import NoiseRules
from pipelines import clean_rules as R  # noqa: N812 - R. marks each rule table at its many uses
from pipelines.clean_blocks import (
    BodyTooComplex,
    Element,
    Slot,
    blockify,
    check_budget,
    contents,
    drop_empty,
    get_text,
    has_block,
    has_content,
    mark_apart,
    normalize_pieces,
    remove,
    serialize,
    smooth,
    tags,
    trim,
    unwrap,
)

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from crawler.items import ArticleItem
    from crawler.sources import Source

logger = logging.getLogger(__name__)

_CLEANER = nh3.Cleaner(
    tags=set(R.ALLOWED_TAGS),
    clean_content_tags=set(R.CLEAN_CONTENT_TAGS),
    attributes=R.ALLOWED_ATTRIBUTES,
    url_schemes=set(R.URL_SCHEMES),
    link_rel=None,  # rel is not in the allow-list; nh3 would add "noopener noreferrer"
    url_relative="deny",  # step 5 made URLs absolute; a relative one left is dropped
)
_WS = re.compile(r"\s+")  # Unicode-aware: also U+3000 and NBSP
_HIDDEN = re.compile(r"display:none|visibility:hidden")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
# What the tree keeps as a list of tokens (HTML's space-separated attributes), per element.
_TOKEN_LISTS = {
    "*": ("class", "accesskey", "dropzone"), "a": ("rel", "rev"), "link": ("rel", "rev"), "area": ("rel",),
    "td": ("headers",), "th": ("headers",), "form": ("accept-charset",), "object": ("archive",),
    "icon": ("sizes",), "iframe": ("sandbox",), "output": ("for",),
}
_ALL_TOKEN_LISTS = etree.XPath("descendant-or-self::*[" + " or ".join(
    " or ".join(f"@{a}" for a in names) if tag == "*" else f"(self::{tag} and ({' or '.join(f'@{a}' for a in names)}))"
    for tag, names in _TOKEN_LISTS.items()) + "]")

# Characters lxml refuses to store (XML 1.0 forbids them) but its HTML parser passes through.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CSS = HTMLTranslator()
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
# Attributes whose values an HTML selector matches ignoring case (soupsieve's list)
_CASE_INSENSITIVE = frozenset({
    "accept", "accept-charset", "align", "alink", "axis", "bgcolor", "charset", "checked", "clear",
    "codetype", "color", "compact", "declare", "defer", "dir", "direction", "disabled", "enctype",
    "face", "frame", "hreflang", "http-equiv", "lang", "language", "link", "media", "method",
    "multiple", "nohref", "noresize", "noshade", "nowrap", "readonly", "rel", "rev", "rules", "scope",
    "scrolling", "selected", "shape", "target", "text", "type", "valign", "valuetype", "vlink",
})
_DOCTYPE = re.compile(r"<!(?=doctype)", re.IGNORECASE)
_NAMELESS_DOCTYPE = re.compile(r"doctype[\t\n\f ]*", re.IGNORECASE)  # such a comment's text, after "?" and the mark
# Characters a character reference never yields (HTML maps &#x80; to "€" and so on); no white space.
_UNREFERABLE = "\x80\x82\x83\x84\x86\x87\x88\x89\x8a\x8b\x8c\x8e\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9e\x9f"
_KEEPS_SPACE = ("pre", "textarea")
_LEADING = re.compile(r"(?:\s|<!--(?:>|->|.*?-->))*", re.DOTALL)  # what may precede the document's doctype


def clean_body(html: str, *, noise: NoiseRules, base_url: str | None = None) -> str:
    """Return the cleaned, sanitized body of one article, or "" when nothing is left.

    *noise* are the rules of the article's source (what of its markup is not the article).

    *html* is the raw body (content API ``text``/``content``, or the inner HTML of
    ``div#ContentBody``, pages joined), valid Unicode: lxml refuses a lone surrogate with
    UnicodeEncodeError, and the validate stage quarantines such bodies before this stage.
    The result holds one top-level block element per line, joined by "\\n", without
    leading or trailing blank lines or final newline.
    Every text node sits inside a block element, so kramdown leaves it alone, and only
    the tags and attributes of ``clean_rules.ALLOWED_*`` occur.  Relative and
    protocol-relative URLs are resolved against *base_url* (https when it is None).

    Each block is sanitized by nh3 on its own; afterwards only ``{`` and ``}`` are replaced
    by ``&#123;`` and ``&#125;`` so Jekyll never sees Liquid.  That is not an edit of the
    structure: sanitized HTML has no raw-text elements, so the entities decode to the
    same characters in the same DOM.  The function is idempotent, braces included: a
    second pass decodes the entities and encodes them again.

    Raises :class:`~pipelines.clean_blocks.BodyTooComplex` when the parsed body exceeds
    the work budget of ``clean_rules`` (``MAX_DEPTH``, ``MAX_CHILDREN``, ``MAX_NODES``).
    """
    first, mark = _parse(html)
    root = next((b for top in _tops(first) for b in top.iter("body")), None) if first is not None else None
    if root is None:
        return ""
    check_budget(root)
    doc = list(root.iterancestors())[-1]  # the root element holding the body, which need not be the first
    chars = _StandIns.install(doc) if _NOT_XML.search(html) or "&#" in html else _StandIns.NONE
    if mark:
        _restore_doctypes(doc, mark)
    apart = mark_apart(root)
    for start, end in noise.cut_between:
        _cut_between(first, start, end)
    for comment in list(root.iter(etree.Comment)):
        if not _kept_comment(comment, mark):
            remove(comment, apart=False)
    _drop_noise(doc, root, noise, chars)
    _unwrap_links(doc, root, base_url, noise, chars, apart)
    _fix_images(root, base_url, chars)
    for el in tags(root, R.RENAME):
        el.tag = R.RENAME[el.tag]
    if apart:
        smooth(root)
    normalize_pieces(root, _normalize_text)
    drop_empty(root, apart=apart)
    lines = []
    editor = re.compile(noise.editor_pattern) if noise.editor_pattern else None
    for block in blockify(contents(root), apart=apart):
        if _is_text_noise(block, noise, editor, apart):
            continue
        for leaf in tags(block, R.BLOCKS) if len(block) else ():
            if _is_text_noise(leaf, noise, editor, apart):
                remove(leaf, apart=True)  # it holds no block, so no later leaf
        trim(block)
        if has_content(block, apart=apart):
            sanitized = _CLEANER.clean(chars.restore(serialize(block)))
            if sanitized:
                lines.append(sanitized.replace("{", "&#123;").replace("}", "&#125;"))
    return "\n".join(lines)


def _parse(html: str) -> tuple[Element | None, str]:
    """The document's first root element (None when the parser found no element at all), and
    the mark of the doctypes turned into comments ("" when none was).

    A doctype after the first is a node where it stands in the tree these rules were
    written for (it counts for the budget and splits a text); lxml drops it, but keeps the
    bogus comment ``<?doctype …>``, which ends at the first ``>`` as a doctype does.  The
    mark after ``<?`` is a character that no character reference yields and the body
    lacks, so that :func:`_restore_doctypes` finds what the rewrite changed elsewhere.
    """
    html = html[1:] if html.startswith("\ufeff") else html  # an encoding mark
    mark, later = "", None
    if "<!" in html:
        start = _LEADING.match(html).end()  # type: ignore[union-attr]  # the pattern matches "" too
        later = _DOCTYPE.search(html, start + 2 if _DOCTYPE.match(html, start) else start)
    if later is not None:
        mark = next((c for c in _UNREFERABLE if c not in html), "")
        if mark:
            html = html[: later.start()] + _DOCTYPE.sub("<?" + mark, html[later.start() :])
    parser = etree.HTMLParser()
    parser.feed(html)  # the feed interface is what the rules were checked against
    return parser.close(), mark


def _restore_doctypes(doc: Element, mark: str) -> None:
    """Undo :func:`_parse`'s rewrite where it was no doctype: inside attribute values."""
    for el in doc.iter(tag=etree.Element):
        for name, value in el.attrib.items():
            if mark in value:
                el.set(name, value.replace("<?" + mark, "<!"))


def _kept_comment(comment: Element, mark: str) -> bool:
    """Whether a comment stays, as an empty text that is no text: an empty one (or a doctype
    without name) inside ``<pre>``, which the rules' first implementation did not find to remove."""
    text = comment.text or ""
    nameless = mark != "" and text[:2] == "?" + mark and _NAMELESS_DOCTYPE.fullmatch(text, 2) is not None
    return (not text or nameless) and next(comment.iterancestors(*_KEEPS_SPACE), None) is not None


def _tops(first: Element) -> list[Element]:
    """The document's top-level nodes, in order: what follows ``</html>`` goes into another root element."""
    return [*reversed(list(first.itersiblings(preceding=True))), first, *first.itersiblings()]


class _StandIns:
    """Stand-ins for the characters lxml will not store (XML forbids them), so that texts can be rewritten.

    In text a white-space one becomes other white space, since texts are normalized
    before they are written out; every other one, and every one in an attribute, becomes
    a private-use character the document lacks, turned back by :meth:`real` for the rules
    that read attributes, and by :meth:`restore` in the HTML for nh3.
    """

    NONE: _StandIns

    def __init__(self, text: dict[int, str], attribute: dict[int, str], back: dict[int, str]) -> None:
        self.text, self.attribute, self.back = text, attribute, back

    @classmethod
    def install(cls, doc: Element) -> _StandIns:
        nodes = list(doc.iter())
        values = [v for n in nodes for v in (n.tail, *((n.text, *n.attrib.values()) if isinstance(n.tag, str) else ()))
                  if v is not None]
        used = {c for v in values for c in _NOT_XML.findall(v)}
        if not used:
            return cls.NONE
        present = set("".join(values))
        base = next(b for b in range(0x10FF00, 0xF0000, -0x100) if not present & {chr(b + i) for i in range(0x100)})
        attribute = {ord(c): chr(base + ord(c) % 0x100) for c in used}
        # Only the white-space rules see white space in text, and one of them tells ASCII white
        # space (form feed, as a tab) from the rest (as NEL): clean_blocks._parsed.
        text = {k: ("\t" if k == 0x0C else "\x85" if chr(k).isspace() else v) for k, v in attribute.items()}
        stand_ins = cls(text, attribute, {ord(v): chr(k) for k, v in attribute.items()})
        for n in nodes:
            if isinstance(n.tag, str):
                if n.text is not None and _NOT_XML.search(n.text):
                    n.text = n.text.translate(text)
                for name, value in n.attrib.items():
                    if _NOT_XML.search(value):
                        n.set(name, value.translate(attribute))
            if n.tail is not None and _NOT_XML.search(n.tail):
                n.tail = n.tail.translate(text)
        return stand_ins

    @overload
    def real(self, value: str) -> str: ...
    @overload
    def real(self, value: str | None) -> str | None: ...
    def real(self, value: str | None) -> str | None:
        return value.translate(self.back) if value is not None and self.back else value

    def stored(self, value: str) -> str:
        return value.translate(self.attribute) if self.back else value

    def restore(self, html: str) -> str:
        return html.translate(self.back) if self.back else html


_StandIns.NONE = _StandIns({}, {}, {})


def _cut_between(first: Element, start_marker: str, end_marker: str) -> None:
    """Remove everything between each *start_marker* comment and the next *end_marker* comment.

    Walks document order, so the two comments need not be siblings; an unmatched start
    removes nothing (a truncated body keeps its text).
    """
    removed: set[Element] = set()
    for start in _comments(first):
        if start in removed or (start.text or "").strip() != start_marker:
            continue
        between: list[Element | Slot] = []
        for node in _following(start):
            if not isinstance(node, tuple) and node.tag is etree.Comment and (node.text or "").strip() == end_marker:
                keep = set(node.iterancestors())
                for victim in between:
                    if isinstance(victim, tuple):
                        owner, is_text = victim
                        if is_text:
                            owner.text = None
                        else:
                            owner.tail = None
                    elif victim not in keep:
                        if victim.getparent() is not None:  # else a comment beside the root element
                            victim.getparent().remove(victim)  # its tail is a victim too
                        removed.add(victim)
                break
            between.append(node)


def _comments(first: Element) -> list[Element]:
    """Every comment, the ones beside the root elements included, in document order."""
    return [c for top in _tops(first) for c in top.iter(etree.Comment)]


def _following(node: Element) -> Iterator[Element | Slot]:
    """The nodes and text slots after *node* (which has no children), in document order."""
    while True:
        if node.tail is not None:
            yield (node, False)
        following = node.getnext()
        while following is None:
            node = node.getparent()
            if node is None:
                return
            if node.tail is not None:
                yield (node, False)
            following = node.getnext()
        yield from _subtree(following)
        node = following


def _subtree(el: Element) -> Iterator[Element | Slot]:
    yield el
    if not isinstance(el.tag, str):
        return
    if el.text is not None:
        yield (el, True)
    for child in el:
        yield from _subtree(child)
        if child.tail is not None:
            yield (child, False)


# --- the noise rules' selectors ---------------------------------------------------------

# One compound selector (no combinator, no pseudo-class): element name, ids, classes, attribute tests.
_AttributeTest: TypeAlias = tuple[str, "re.Pattern[str] | None", bool, bool]  # name, value pattern, inverse (!=), ignore case
_Compound: TypeAlias = tuple["str | None", tuple[str, ...], tuple[str, ...], tuple[_AttributeTest, ...]]


class _Selector(NamedTuple):
    """A selector group, compiled (see :func:`_selector`)."""

    by_tag: dict[str, tuple[_Compound, ...]]  # compounds naming an element
    by_class: frozenset[str]  # compounds that are one class and nothing else
    rest: tuple[_Compound, ...]  # the other compounds
    bare: bool  # whether a compound can match an element without attributes
    others: etree.XPath | None  # the selectors that are no compound


@functools.lru_cache(maxsize=64)
def _selector(css: str) -> _Selector:
    """*css* compiled: its compound selectors, which :func:`_hit` tests as soupsieve (the
    selector engine of the rules' first implementation) does, and an XPath (cssselect's
    translation) for the others, matched against the whole document since their ancestors
    may lie outside the body."""
    by_tag: dict[str, list[_Compound]] = {}
    by_class: set[str] = set()
    rest: list[_Compound] = []
    others: list[str] = []
    bare = False
    for selector in parse_css(css):
        compound = _compound(selector.parsed_tree) if selector.pseudo_element is None else None
        if compound is None:
            others.append(_CSS.selector_to_xpath(selector, prefix="descendant-or-self::"))
            continue
        tag, ids, classes, tests = compound
        bare = bare or not (ids or classes or any(not inverse for _, _, inverse, _ in tests))
        if tag is not None:
            by_tag.setdefault(tag, []).append(compound)
        elif len(classes) == 1 and not ids and not tests:
            by_class.add(classes[0])
        else:
            rest.append(compound)
    return _Selector(
        {k: tuple(v) for k, v in by_tag.items()}, frozenset(by_class), tuple(rest), bare,
        etree.XPath(f"({' | '.join(others)})[ancestor::body]") if others else None,
    )


def _compound(tree: Any) -> _Compound | None:
    tag, ids, classes, tests = None, [], [], []
    while not isinstance(tree, css_parser.Element):
        if isinstance(tree, css_parser.Hash):
            ids.append(tree.id)
        elif isinstance(tree, css_parser.Class):
            classes.append(tree.class_name)
        elif isinstance(tree, css_parser.Attrib) and tree.namespace is None:
            tests.append(_attribute_test(tree.attrib.translate(_ASCII_LOWER), tree.operator,
                                         None if tree.value is None else tree.value.value, tree.flag))
        else:
            return None
        tree = tree.selector
    if tree.namespace is not None:
        return None
    tag = tree.element.translate(_ASCII_LOWER) if tree.element else None
    return tag, tuple(ids), tuple(classes), tuple(tests)


def _attribute_test(name: str, operator: str, value: str | None, flag: str | None) -> _AttributeTest:
    ignore_case = flag.lower() == "i" if flag else name in _CASE_INSENSITIVE
    if value is None or operator == "exists":
        return name, None, False, ignore_case
    if ignore_case:
        value = value.translate(_ASCII_LOWER)
    literal = re.escape(value)
    source = {
        "^=": f"^{literal}", "$=": rf"{literal}\Z", "*=": literal, "|=": rf"^{literal}(?:-.*)?\Z", "!=": rf"^(?!{literal}\Z)",
        "~=": rf"(?:(?<=^)|(?<=[ \t\r\n\f])){literal}(?=(?:[ \t\r\n\f]|\Z))", "=": rf"^{literal}\Z",
    }[operator]
    if (not value and operator in ("^=", "$=", "*=", "~=")) or (operator == "~=" and re.search(r"[ \t\r\n\f]", value)):
        source = "(?!)"  # these match nothing
    return name, re.compile(source, re.DOTALL), operator == "!=", ignore_case


def _hit(el: Element, selector: _Selector, chars: _StandIns, attributes: bool) -> bool:
    """Whether a compound selector of *selector* matches *el* (which has *attributes* or none)."""
    if not (attributes or selector.bare):
        return False
    compounds = selector.by_tag.get(el.tag)
    if compounds:
        for compound in compounds:
            if _matches(el, compound, chars):
                return True
    if selector.by_class:
        classes = el.get("class")
        if classes is not None and not selector.by_class.isdisjoint(chars.real(classes).split()):
            return True
    return bool(selector.rest) and any(_matches(el, compound, chars) for compound in selector.rest)


def _with_others(doc: Element, root: Element, selector: _Selector, found: list[Element], chars: _StandIns) -> list[Element]:
    """*found*, the elements *selector*'s compounds match, with those its other selectors match, in document order."""
    if selector.others is None:
        return found
    _normalize_token_lists(doc, chars)
    known = set(found)
    more = [el for el in selector.others(doc) if el not in known]
    if not more:
        return found
    order = {el: n for n, el in enumerate(root.iterdescendants())}
    return sorted([*found, *more], key=order.__getitem__)


def _matches(el: Element, compound: _Compound, chars: _StandIns) -> bool:
    """Whether *compound* matches *el*, whose name it names or does not name (see :func:`_hit`)."""
    _, ids, classes, tests = compound
    if ids:
        value = chars.real(el.get("id")) or ""
        for i in ids:
            if value != i:
                return False
    if classes:
        value = el.get("class")
        if value is None:
            return False
        tokens = chars.real(value).split()
        for c in classes:
            if c not in tokens:
                return False
    for name, pattern, inverse, ignore_case in tests:
        value = el.get(name)
        if value is None:
            if inverse:
                continue
            return False
        if pattern is None:
            continue
        value = chars.real(value)
        if name in _TOKEN_LISTS["*"] or name in _TOKEN_LISTS.get(el.tag, ()):
            value = " ".join(value.split())
        if pattern.search(value.translate(_ASCII_LOWER) if ignore_case else value) is None:
            return False
    return True


def _normalize_token_lists(doc: Element, chars: _StandIns) -> None:
    """Write each token list with single spaces, so that cssselect's XPath matches tokens split at any white space."""
    for el in _ALL_TOKEN_LISTS(doc):
        for name in (*_TOKEN_LISTS["*"], *_TOKEN_LISTS.get(el.tag, ())):
            value = el.get(name)
            if value is not None:
                tokens = chars.stored(" ".join(chars.real(value).split()))
                if tokens != value:
                    el.set(name, tokens)


def _drop_noise(doc: Element, root: Element, noise: NoiseRules, chars: _StandIns) -> None:
    drop = _selector(noise.drop_selector) if noise.drop_selector else None
    close = _selector(noise.ad_close_images) if noise.ad_close_images else None
    dropped, closers = [], []
    for el in root.iterdescendants(tag=etree.Element):  # one walk for all the rules
        attributes = bool(el.attrib)
        if el.tag in R.DROP_TAGS or (drop is not None and _hit(el, drop, chars, attributes)) or (
            (attributes or el.tag == "a") and _is_hidden_or_ad(el, noise, chars)
        ):
            dropped.append(el)
        if close is not None and _hit(el, close, chars, attributes):
            closers.append(el)
    if drop is not None:
        dropped = _with_others(doc, root, drop, dropped, chars)
    if close is not None:
        dropped += [next(img.iterancestors("a"), img) for img in _with_others(doc, root, close, closers, chars)]
    for el in dropped:
        if el.getparent() is not None:  # not yet removed (inside a removed one, it goes again, harmlessly)
            remove(el, apart=False)


def _is_hidden_or_ad(el: Element, noise: NoiseRules, chars: _StandIns) -> bool:
    style = el.get("style")
    if style is not None and _HIDDEN.search("".join(chars.real(style).split()).lower()):
        return True
    if el.get("hidden") is not None:
        return True
    classes = el.get("class") if noise.ad_class_prefixes else None
    if classes is not None and any(c.startswith(noise.ad_class_prefixes) for c in chars.real(classes).split()):
        return True
    return bool(noise.promo_hosts) and el.tag == "a" and _host_in(chars.real(el.get("href")), noise.promo_hosts)


def _unwrap_links(doc: Element, root: Element, base_url: str | None, noise: NoiseRules, chars: _StandIns, apart: bool) -> None:
    """Unwrap the source's stock/keyword markup and links that cannot stay; drop promo links."""
    selector = _selector(noise.unwrap_selector) if noise.unwrap_selector else None
    marked, wrappers, links = [], [], []
    for el in root.iterdescendants(tag=etree.Element):  # unwrapping leaves the other elements as they are
        if selector is not None and _hit(el, selector, chars, bool(el.attrib)):
            marked.append(el)
        elif el.tag in R.INLINE_WRAPPERS:
            wrappers.append(el)
        elif el.tag == "a":
            links.append(el)
    if selector is not None and selector.others is not None:
        marked = _with_others(doc, root, selector, marked, chars)
        known = set(marked)
        wrappers, links = [el for el in wrappers if el not in known], [el for el in links if el not in known]
    for el in (*marked, *wrappers):
        unwrap(el)
    gone: set[Element] = set()
    for a in links:
        if a in gone:
            continue
        if _any_of(noise.promo_phrases).search(_WS.sub("", get_text(a, apart=apart))):
            gone.update(a.iterdescendants("a"))
            remove(a, apart=False)
            continue
        href = _absolute(chars.real(a.get("href")), base_url)
        if href is None or _host_in(href, noise.quote_hosts):
            unwrap(a)  # quote pages, anchors, javascript: etc.: the text is what matters
        else:
            a.set("href", chars.stored(href))
            title = chars.real(a.get("title"))
            if title is not None:
                a.set("title", chars.stored(_WS.sub(" ", title).strip()))


def _fix_images(root: Element, base_url: str | None, chars: _StandIns) -> None:
    """Make lazy images real and URLs absolute; drop images without a usable http(s) src."""
    for img in list(root.iterdescendants("img")):
        raw = next((img.get(attr) for attr in R.LAZY_SRC_ATTRS if img.get(attr)), img.get("src"))
        src = _absolute(chars.real(raw), base_url)
        if src is None:
            remove(img, apart=False)  # data: URIs, placeholders without a real source, etc.
            continue
        img.set("src", chars.stored(src))
        alt = chars.real(img.get("alt"))
        if alt is not None:
            img.set("alt", chars.stored(unicodedata.normalize("NFC", _WS.sub(" ", alt).strip())))


def _absolute(url: str | None, base_url: str | None) -> str | None:
    """Return *url* as an absolute http(s) URL, or None when it cannot be one."""
    if url is None:
        return None
    # What browsers do: trim C0 controls and spaces, drop tabs and newlines inside.
    url = re.sub(r"[\t\n\r]", "", url.strip(_C0_AND_SPACE))
    url = url.replace(" ", "%20")
    try:
        if url.startswith("//"):
            scheme = urlsplit(base_url).scheme if base_url else "https"
            url = ("http:" if scheme == "http" else "https:") + url
        elif base_url:
            url = urljoin(base_url, url)
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in R.URL_SCHEMES and parts.hostname else None


def _host_in(url: str | None, hosts: Iterable[str]) -> bool:
    try:
        host = (urlsplit(url).hostname or "") if url is not None else ""
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return False
    return any(host == h or host.endswith("." + h) for h in hosts)


def _is_text_noise(el: Element, noise: NoiseRules, editor: re.Pattern[str] | None, apart: bool) -> bool:
    """A leaf block that is a disclaimer, or a short marker (promo, share) or editor line."""
    if has_block(el):
        return False  # a wrapper's text is its children's business
    text = _WS.sub("", get_text(el, apart=apart))
    if noise.disclaimer_prefixes and text.startswith(noise.disclaimer_prefixes):
        return True
    if len(text) > R.SHORT_BLOCK_CHARS:
        return False
    return _any_of(noise.short_block_markers).search(text) is not None or (editor is not None and editor.match(text) is not None)


@functools.lru_cache(maxsize=64)
def _any_of(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """A pattern found in a text that holds any of *phrases* (one search instead of one per phrase)."""
    return re.compile("|".join(map(re.escape, phrases)) if phrases else "(?!)")


def _normalize_text(text: str) -> str:
    """NFC and collapse every whitespace run (U+3000 and NBSP included) to one space."""
    return _WS.sub(" ", unicodedata.normalize("NFC", text))


class CleanPipeline:
    """Fill ``item.html`` from ``item.body_html``; quarantine items left without a body.

    Stats: ``clean/items`` (items cleaned), ``clean/empty`` (quarantined as empty),
    ``clean/too_complex`` (quarantined as over the work budget).  Items already
    quarantined by an earlier stage pass through untouched.
    """

    def __init__(self, sources: Mapping[str, Source], stats: StatsCollector | None = None) -> None:
        self.sources = sources
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CleanPipeline:
        return cls(configured_sources(crawler.settings), crawler.stats)

    def process_item(self, item: ArticleItem) -> ArticleItem:
        if item.quarantine is not None:
            return item
        self._inc("clean/items")
        try:
            item.html = clean_body(item.body_html or "", noise=self.sources[item.source].NOISE, base_url=item.base_url)
        except BodyTooComplex as exc:
            logger.warning("article %s: %s", item.code, exc)
            item.set_quarantine(str(exc))
            self._inc("clean/too_complex")
            return item
        if not item.html:
            logger.info("article %s: empty body after cleaning", item.code)
            item.set_quarantine("empty body after cleaning")
            self._inc("clean/empty")
        return item

    def _inc(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(key)
