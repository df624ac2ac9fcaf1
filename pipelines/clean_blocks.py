"""Structure helpers for :mod:`pipelines.clean` (SPEC §7.4): turn an lxml body into a flat
list of block elements, each holding all of its text, with no empty elements, no ``<p>``
inside a ``<p>`` and no layout whitespace.

Why so strict: nh3 re-parses each block with html5ever, which splits a ``<p>`` at any
block-level tag (and foster-parents stray text out of a table); what falls out would be
loose text, which kramdown turns into Markdown (RELIABILITY §3.2).

Text pieces.  These rules reproduce, byte for byte, the output of the BeautifulSoup
implementation they were written for, whose text nodes lxml does not have: lxml keeps an
element's text in slots, ``text`` before its first child and ``tail`` after each child.

* Until the texts are smoothed, pieces that meet are merged at once (``apart=False``).
  After that, two pieces that an element's removal leaves side by side stay two pieces
  (:func:`trim` drops a white-space piece beside a block, not the white space that
  starts a longer piece): a *seam*, a processing instruction whose tail is the second
  piece, keeps them apart.
* Text inside ``<rt>``/``<rp>``, and all of a body the parser put inside ``<template>``,
  is *set apart*: it counts as text only for that element, until smoothing merges it with
  a neighbour or a rewrite replaces it (then it is ordinary text).  :func:`mark_apart`
  moves each such piece into the tail of a processing instruction named after the
  element, and the text functions take ``apart=True`` for such a body.

The input has no processing instructions (the parser makes ``<?…>`` a comment), and the
element functions (``iterdescendants`` with names) and :func:`serialize` do not see them.
The comments went before this stage, but for the empty ones in ``<pre>`` (and doctypes
without name there, see :func:`pipelines.clean._parse`), which stay as empty text that is
no text: they keep the texts around them apart, and go at a holder's edge.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Any, TypeAlias

from lxml import etree

from pipelines import clean_rules as R  # noqa: N812 - R. marks each rule table at its many uses

Element: TypeAlias = Any  # an lxml element; lxml ships no type information
Slot: TypeAlias = tuple[Element, bool]  # a text piece: (owner, True) is owner.text, (owner, False) owner.tail
Node: TypeAlias = Element | Slot

# What html5ever accepts as a direct child, per table part; anything else is foster-parented.
_TABLE_CHILDREN = {
    "table": {"caption", "colgroup", "thead", "tbody", "tfoot", "tr"},
    "thead": {"tr"}, "tbody": {"tr"}, "tfoot": {"tr"}, "tr": {"td", "th"}, "colgroup": {"col"},
}
_P_LIKE_OR_GENERIC = R.P_LIKE | R.GENERIC_CONTAINERS
_PI = etree.PI
_SEAM = "seam"
_APART = ("rt", "rp", "template")
_STRING_CONTAINERS = frozenset({*_APART, "script", "style"})  # the innermost one around a text types it
# What BeautifulSoup wrote as <x/> when empty: html5ever keeps a non-void one of these open.
_VOID = frozenset({
    "area", "base", "basefont", "bgsound", "br", "col", "command", "embed", "frame", "hr", "image", "img",
    "input", "isindex", "keygen", "link", "menuitem", "meta", "nextid", "param", "source", "spacer",
    "track", "wbr",
})
# Only these attributes survive nh3, so only these are written (sorted, as nh3 keeps their order).
_WRITTEN_ATTRIBUTES = {tag: tuple(sorted(names)) for tag, names in R.ALLOWED_ATTRIBUTES.items() if tag != "*" and names}

_NODE_COUNT = etree.XPath("count(descendant::node())")
_TOO_DEEP = etree.XPath("boolean(" + "/".join(["*"] * (R.MAX_DEPTH + 1)) + ")")
_TOO_WIDE = etree.XPath(f"boolean(descendant-or-self::*[count(node()) > {R.MAX_CHILDREN}])")
_HAS_RUBY = etree.XPath("boolean(descendant::rt | descendant::rp)")
_KEEPS_SPACE = ("pre", "textarea")
# the elements holding a white-space piece, once the texts are normalized (white space is one space)
_HOLDS_BLANK = etree.XPath("descendant-or-self::*[text() = ' ']")
_AFTER_APART = "preceding-sibling::node()[1][" + " or ".join(f"self::processing-instruction('{k}')" for k in _APART) + "]"
_MAIN_TEXT = etree.XPath(f"descendant::text()[not({_AFTER_APART})]")
_APART_TEXT = {
    kind: etree.XPath(f"descendant::text()[preceding-sibling::node()[1][self::processing-instruction('{kind}')]]")
    for kind in _APART
}


class BodyTooComplex(ValueError):
    """The body exceeds the work budget of ``clean_rules`` (depth, fan-out or size)."""


def check_budget(root: Element) -> None:
    """Raise :class:`BodyTooComplex` when *root* nests, fans out or weighs too much.

    Nodes are the elements, texts and comments below *root*; depth counts elements only.
    """
    nodes = _NODE_COUNT(root)
    # a rule needs that many nodes to be broken at all, which spares the common body two queries
    if nodes > R.MAX_NODES or (nodes > R.MAX_CHILDREN and _TOO_WIDE(root)) or (nodes > R.MAX_DEPTH and _TOO_DEEP(root)):
        raise BodyTooComplex(
            f"body exceeds the cleaning budget (depth {R.MAX_DEPTH}, "
            f"{R.MAX_CHILDREN} children, {R.MAX_NODES} nodes)"
        )


# --- text pieces ---------------------------------------------------------------------


def _get(slot: Slot) -> str | None:
    owner, is_text = slot
    return owner.text if is_text else owner.tail


def _set(slot: Slot, value: str | None) -> None:
    owner, is_text = slot
    if is_text:
        owner.text = value
    else:
        owner.tail = value


def _before(node: Element) -> Slot:
    """The slot just before *node*: its previous sibling's tail, or its parent's text."""
    prev = node.getprevious()
    return (prev, False) if prev is not None else (node.getparent(), True)


def _marker(target: str, text: str | None) -> Element:
    marker = _PI(target)
    marker.tail = text
    return marker


def _is_seam(node: Element | None) -> bool:
    return node is not None and node.tag is _PI and node.target == _SEAM


def _append(slot: Slot, text: str) -> None:
    """Add *text* to the end of *slot* (before smoothing): a set-apart piece met there becomes ordinary text."""
    owner = slot[0]
    if owner.tag is _PI:
        _dissolve(owner, text)
    else:
        _set(slot, (_get(slot) or "") + text)


def _dissolve(marker: Element, more: str = "") -> None:
    """Merge a marker's piece (and *more*) into the slot before it, and drop the marker."""
    before = _before(marker)
    text, marker.tail = (marker.tail or "") + more, None
    marker.getparent().remove(marker)
    if text:
        _append(before, text)


def remove(node: Element, *, apart: bool) -> None:
    """Take *node* and its content out of the tree; the text after it stays where it was.

    With *apart* that text stays a piece of its own; without, it is merged with a piece
    before it, as smoothing would merge them anyway.
    """
    tail = node.tail
    if tail is not None:
        node.tail = None
        before = _before(node)
        if _get(before) is None:
            _set(before, tail)
        elif apart:
            node.addnext(_marker(_SEAM, tail))
        else:
            _append(before, tail)
    node.getparent().remove(node)


def unwrap(el: Element) -> None:
    """Replace *el* by its content (before smoothing), merging the texts that meet."""
    if el.text is not None:
        _append(_before(el), el.text)
    for child in list(el):
        el.addprevious(child)  # the child's tail travels with it
    remove(el, apart=False)


def splice(el: Element, text: str) -> None:
    """Replace *el* by the piece *text*; the pieces before and after it stay apart from it."""
    tail, el.tail = el.tail, None
    before = _before(el)
    if _get(before) is None:
        _set(before, text)
    else:
        el.addprevious(_marker(_SEAM, text))
    if tail is not None:
        el.addnext(_marker(_SEAM, tail))
    el.getparent().remove(el)


def _drop_piece(slot: Slot) -> None:
    """Remove one text piece; a seam left without a piece before it dissolves into that slot."""
    owner, is_text = slot
    if owner.tag is _PI:
        before, follower = _before(owner), owner.getnext()
        owner.getparent().remove(owner)
    else:
        _set(slot, None)
        before, follower = slot, (owner[0] if len(owner) else None) if is_text else owner.getnext()
    if _is_seam(follower) and _get(before) is None:
        _set(before, follower.tail)
        follower.tail = None
        follower.getparent().remove(follower)


def _replace_piece(slot: Slot, text: str) -> None:
    """Give a piece new text; the new text is ordinary text, and "" removes the piece."""
    if text == _get(slot):
        return
    if not text:
        _drop_piece(slot)
        return
    _set(slot, text)
    owner = slot[0]
    if owner.tag is _PI and owner.target != _SEAM:
        if _get(_before(owner)) is None:
            _dissolve(owner)
        else:
            owner.target = _SEAM


def contents(el: Element) -> list[Node]:
    """The child elements and text pieces of *el*, in document order (markers show as their piece)."""
    nodes: list[Node] = [(el, True)] if el.text is not None else []
    for child in el:
        if child.tag is not _PI:
            nodes.append(child)
        if child.tail is not None:
            nodes.append((child, False))
    return nodes


def texts(el: Element, *, apart: bool = False) -> Iterable[str]:
    """The text pieces that count as *el*'s text, in document order."""
    if not apart:
        if not len(el):
            return () if el.text is None else (el.text,)
        return el.itertext()
    return _APART_TEXT[el.tag](el) if el.tag in _APART_TEXT else _MAIN_TEXT(el)


def get_text(el: Element, *, apart: bool = False) -> str:
    return "".join(texts(el, apart=apart))


def has_block(el: Element) -> bool:
    return any(d.tag in R.BLOCKS for d in el.iterdescendants())


def has_content(el: Element, *, br_counts: bool = False, apart: bool = False) -> bool:
    """Whether *el* holds text or an image (or, with *br_counts*, a line break)."""
    names = ("img", "br") if br_counts else ("img",)
    return (el.tag in names or any(piece.strip() for piece in texts(el, apart=apart))
            or next(el.iterdescendants(*names), None) is not None)


def _has_content(node: Node, apart: bool) -> bool:
    if isinstance(node, tuple):
        return bool((_get(node) or "").strip())
    return isinstance(node.tag, str) and has_content(node, apart=apart)  # a kept comment has none


def mark_apart(root: Element) -> bool:
    """Mark the set-apart text pieces below *root* (see the module docstring).

    Returns whether there are any; then the text functions take ``apart=True``.
    """
    outer = next((a.tag for a in root.iterancestors() if a.tag in _STRING_CONTAINERS), None)
    if outer is None and not _HAS_RUBY(root):
        return False
    found = False

    def visit(el: Element, container: str | None, keep_space: bool) -> None:
        nonlocal found
        if el.tag in _STRING_CONTAINERS:
            container = el.tag
        keep_space = keep_space or el.tag in _KEEPS_SPACE
        kind = container if container in _APART else None
        children = list(el)
        if kind is not None and el.text is not None:
            el.insert(0, _marker(kind, _parsed(el.text, keep_space)))
            el.text, found = None, True
        for child in children:
            if isinstance(child.tag, str):
                visit(child, container, keep_space)
            if kind is not None and child.tail is not None:
                child.addnext(_marker(kind, _parsed(child.tail, keep_space)))
                child.tail, found = None, True

    visit(root, outer, any(a.tag in _KEEPS_SPACE for a in root.iterancestors()))
    return found


def _parsed(text: str, keep_space: bool) -> str:
    """A piece as BeautifulSoup's parser kept it: ASCII white space alone became one space or newline.

    That only shows for a set-apart piece, which stays apart when normalizing leaves it as it is.
    """
    if keep_space or text.strip(" \n\t\x0c\r"):
        return text
    return "\n" if "\n" in text else " "


def smooth(root: Element) -> None:
    """Merge the set-apart pieces that have a neighbour into it (they become ordinary text);
    the other pieces were merged as they met."""
    for marker in list(root.iter(_PI)):
        follower = marker.getnext()
        if _get(_before(marker)) is not None or (follower is not None and follower.tag is _PI):
            _dissolve(marker)


def normalize_pieces(root: Element, change: Callable[[str], str]) -> None:
    """Replace each text piece below *root* by ``change(piece)``; a changed set-apart piece becomes ordinary text."""
    for node in list(root.iter()):
        if node.tag is not _PI:
            text = node.text
            if text is not None:
                new = change(text)
                if new != text:
                    node.text = new
        tail = node.tail
        if tail is not None and node is not root:
            new = change(tail)
            if new != tail:
                _replace_piece((node, False), new)


def tags(el: Element, names: Collection[str]) -> list[Element]:
    """Descendant elements named in *names* (a set), in document order.

    Filtering here is faster than ``iterdescendants(*names)``, which compiles the names at each call.
    """
    return [d for d in el.iterdescendants() if d.tag in names]


# --- the passes ----------------------------------------------------------------------


def drop_empty(root: Element, *, apart: bool = False) -> None:
    """Remove empty elements below *root*, innermost first.

    Inline elements holding only a ``<br>`` stay; blocks holding only a ``<br>`` go.  An
    inline element holding only white space leaves one space, as a reader saw one
    (``a<b> </b>b`` reads "a b").  Table cells and rows stay (an empty cell is still a
    cell).  *root*'s own block children are left to :func:`blockify`'s caller, which
    skips empty blocks; its inline ones go here too, since blockify would wrap an empty
    one (``正文<b>``) into a paragraph that a second pass would drop.
    """
    for el in reversed(list(root.iterdescendants(tag=etree.Element))):
        name = el.tag
        inline = name not in R.BLOCKS
        if (inline or el.getparent() is not root) and name not in R.KEEP_EMPTY and not has_content(
            el, br_counts=inline, apart=apart
        ):
            if inline and any(texts(el, apart=apart)):
                splice(el, " ")
            else:
                remove(el, apart=True)


def blockify(nodes: Iterable[Node], wrap: str = "p", *, apart: bool = False) -> list[Element]:
    """Turn *nodes* (siblings, as :func:`contents` lists them) into a flat list of block elements.

    Containers are unwrapped with a block boundary on each side, a p-like element that
    holds blocks is split around them, and each run of loose text or inline elements is
    moved into a new *wrap* element.  An inline element holding a block
    (``<strong><p>…</p></strong>``) is unwrapped like a container: its formatting is lost,
    which beats a ``<p>`` that html5ever would split into loose text.  A table that
    html5ever would rearrange is unwrapped too, its cells becoming paragraphs.  Blocks
    that need no change are returned where they are; what is left of a container is garbage.
    """
    blocks: list[Element] = []
    run: list[Node] = []

    def flush() -> None:
        if any(_has_content(n, apart) for n in run):
            para = etree.Element(wrap)
            for n in run:
                if not isinstance(n, tuple):
                    para.append(n)  # with its tail, the next node of the run
                elif n[0].tag is _PI:
                    para.append(n[0])
                elif n is run[0]:
                    para.text = _get(n)  # the text before the run's first element
                    _set(n, None)
            blocks.append(para)
        run.clear()

    for node in list(nodes):
        if isinstance(node, tuple):
            run.append(node)
            continue
        name = node.tag
        if name == "table" and node.find("caption") is not None:
            flush()  # the allow-list has no <caption>: it becomes a paragraph before the table
            captions = [c for c in node if c.tag == "caption"]
            for caption in captions:
                remove(caption, apart=True)
            blocks.extend(blockify(captions, wrap, apart=apart))
        nested = has_block(node)
        if name in R.STRUCTURAL and (name != "table" or _table_ok(node)):
            flush()
            _fix_inside(node, apart)
            blocks.append(node)
        elif name in R.P_LIKE and not nested:
            flush()
            if name == "p" and wrap != "p":
                node.tag = wrap  # a paragraph inside a heading stays heading text
            blocks.append(node)
        elif name in R.BLOCKS or nested:
            flush()
            blocks.extend(blockify(contents(node), name if name in R.P_LIKE else wrap, apart=apart))
        else:
            run.append(node)
    flush()
    return blocks


def _table_ok(table: Element) -> bool:
    """Whether html5ever keeps *table* as it is (no text or tag where it does not belong)."""
    stack = [table]
    while stack:
        part = stack.pop()
        allowed = _TABLE_CHILDREN[part.tag]
        if part.text is not None and part.text.strip():
            return False
        for child in part:
            if isinstance(child.tag, str):
                if child.tag not in allowed:
                    return False
                if child.tag in _TABLE_CHILDREN:
                    stack.append(child)
            if child.tail is not None and child.tail.strip():
                return False
    return True


def _fix_inside(block: Element, apart: bool) -> None:
    """Inside a table, list, quote or figure: no nested <p>, no generic wrappers, and no
    table that html5ever would rearrange (its cells become paragraphs, as at the top level)."""
    for table in reversed(list(block.iterdescendants("table"))):
        if not _table_ok(table):
            _replace(table, blockify(contents(table), apart=apart))
    for el in reversed(tags(block, _P_LIKE_OR_GENERIC)):
        if el.tag in R.GENERIC_CONTAINERS or has_block(el):
            _replace(el, blockify(contents(el), el.tag if el.tag in R.P_LIKE else "p", apart=apart))


def _replace(el: Element, parts: list[Element]) -> None:
    """Put *parts* where *el* is, and drop *el* with what is left inside it."""
    if not parts:
        remove(el, apart=True)
        return
    tail, el.tail = el.tail, None
    for part in parts:
        part.tail = None  # the text after a part stays behind, in what is dropped
        el.addprevious(part)
    parts[-1].tail = tail
    el.getparent().remove(el)


def trim(block: Element) -> None:
    """Drop layout whitespace and edge <br>s; trim each text holder's text at both ends."""
    if not len(block):  # the common paragraph: text only
        _drop_layout_space(block)
        _drop_edge_fillers(block)
        if block.text is not None:
            _replace_piece((block, True), block.text.strip())
        return
    for parent in _HOLDS_BLANK(block):
        _drop_layout_space(parent)
    for holder in [block, *tags(block, R.TEXT_HOLDERS)]:
        _drop_edge_fillers(holder)
        first = _first_piece(holder)
        if first is None:
            continue
        last = _last_piece(holder)
        text = _get(first) or ""
        if last == first:
            _replace_piece(first, text.strip())
            continue
        start = text.lstrip()
        _replace_piece(first, start)
        if not start:
            last = _last_piece(holder)  # the same piece, but dropping the first may have moved it
        if last is not None:
            _replace_piece(last, (_get(last) or "").rstrip())


def _first_piece(el: Element) -> Slot | None:
    """The first text piece below *el*, in document order."""
    if el.text is not None:
        return (el, True)
    for child in el:
        if isinstance(child.tag, str) and (found := _first_piece(child)) is not None:
            return found
        if child.tail is not None:
            return (child, False)
    return None


def _last_piece(el: Element) -> Slot | None:
    """The last text piece below *el*, in document order."""
    for child in reversed(el):
        if child.tail is not None:
            return (child, False)
        if isinstance(child.tag, str) and (found := _last_piece(child)) is not None:
            return found
    return (el, True) if el.text is not None else None


def _runs(parent: Element) -> Iterator[tuple[Element | None, list[Slot], Element | None]]:
    """Each row of neighbouring pieces in *parent*: (element before it, its pieces, element after it)."""
    left = None
    pieces: list[Slot] = [(parent, True)] if parent.text is not None else []
    for child in parent:
        if child.tag is _PI:
            pieces.append((child, False))
            continue
        yield left, pieces, child
        left, pieces = child, ([(child, False)] if child.tail is not None else [])
    yield left, pieces, None


def _drop_layout_space(parent: Element) -> None:
    """Drop the white-space pieces inside a table or list part, and those beside a block.

    Pieces are looked at in document order and a dropped one is gone for the next: in a
    row of pieces after a block, every leading white-space piece goes; the last piece
    goes when it is white space before a block.
    """
    layout = parent.tag in R.NO_TEXT_PARENTS
    for left, pieces, right in list(_runs(parent)):
        blank = [not (_get(p) or "").strip() for p in pieces]
        if not any(blank):
            continue
        if layout:
            drop = blank
        else:
            drop = [False] * len(pieces)
            n = 0
            if _is_block(left):
                while n < len(pieces) and blank[n]:
                    drop[n], n = True, n + 1
            if blank[-1] and _is_block(right):
                drop[-1] = True
        for slot, gone in reversed(list(zip(pieces, drop, strict=True))):  # from the end, so the slots before stay valid
            if gone:
                _drop_piece(slot)


def _is_block(el: Element | None) -> bool:
    return el is not None and el.tag in R.BLOCKS


def _drop_edge_fillers(holder: Element) -> None:
    """Drop white-space pieces, <br>s and kept comments at the start and the end of *holder*'s own content."""
    while True:
        first = (holder, True) if holder.text is not None else (holder[0], False) if len(holder) and holder[0].tag is _PI else None
        if first is not None:
            if (_get(first) or "").strip():
                break
            _drop_piece(first)
        elif len(holder) and (holder[0].tag == "br" or holder[0].tag is etree.Comment):
            filler = holder[0]
            holder.text, filler.tail = filler.tail, None
            holder.remove(filler)
        else:
            break
    while len(holder):
        last = holder[-1]
        if last.tail is not None:
            if last.tail.strip():
                return
            _drop_piece((last, False))
        elif last.tag == "br" or last.tag is etree.Comment:
            holder.remove(last)
        else:
            return
    if holder.text is not None and not holder.text.strip():
        holder.text = None


# --- output --------------------------------------------------------------------------


def serialize(el: Element) -> str:
    """*el* as HTML for nh3: once html5ever has parsed it, the tree BeautifulSoup wrote.

    Only the attributes nh3 keeps are written, in name order; lxml's own HTML writer would
    percent-encode non-ASCII URLs and keep the source order.
    """
    out: list[str] = []
    _write(el, out)
    return "".join(out)


def _write(el: Element, out: list[str]) -> None:
    tag = el.tag
    attrs = ""
    for name in _WRITTEN_ATTRIBUTES.get(tag, ()):
        value = el.get(name)
        if value is not None:
            attrs += f' {name}="{_escape_attribute(value)}"'
    if el.text is None and not len(el) and tag in _VOID:
        out.append(f"<{tag}{attrs}/>")
        return
    out.append(f"<{tag}{attrs}>")
    if el.text is not None:
        out.append(_escape(el.text))
    for child in el:
        if isinstance(child.tag, str):
            _write(child, out)
        elif child.tag is etree.Comment and child.text:
            out.append("\n")  # a doctype without name, which BeautifulSoup wrote with a newline after it
        if child.tail is not None:
            out.append(_escape(child.tail))
    out.append(f"</{tag}>")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attribute(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;")
