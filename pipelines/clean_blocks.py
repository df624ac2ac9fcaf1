"""Structure helpers for :mod:`pipelines.clean` (SPEC §7.4): turn a BeautifulSoup body into
a flat list of block elements, each holding all of its text, with no empty elements, no
``<p>`` inside a ``<p>`` and no layout whitespace.

Why so strict: nh3 re-parses each block with html5ever, which splits a ``<p>`` at any
block-level tag (and foster-parents stray text out of a table); what falls out would be
loose text, which kramdown turns into Markdown (RELIABILITY §3.2).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from bs4 import BeautifulSoup
from bs4.element import NavigableString, PageElement, Tag

from pipelines import clean_rules as R  # noqa: N812 - R. marks each rule table at its many uses

# What html5ever accepts as a direct child, per table part; anything else is foster-parented.
_TABLE_CHILDREN = {
    "table": {"caption", "colgroup", "thead", "tbody", "tfoot", "tr"},
    "thead": {"tr"}, "tbody": {"tr"}, "tfoot": {"tr"}, "tr": {"td", "th"}, "colgroup": {"col"},
}


class BodyTooComplex(ValueError):
    """The body exceeds the work budget of ``clean_rules`` (depth, fan-out or size)."""


def check_budget(root: Tag) -> None:
    """Raise :class:`BodyTooComplex` when *root* nests, fans out or weighs too much."""
    nodes, stack = 0, [(root, 0)]
    while stack:
        tag, depth = stack.pop()
        nodes += len(tag.contents)
        if depth > R.MAX_DEPTH or len(tag.contents) > R.MAX_CHILDREN or nodes > R.MAX_NODES:
            raise BodyTooComplex(
                f"body exceeds the cleaning budget (depth {R.MAX_DEPTH}, "
                f"{R.MAX_CHILDREN} children, {R.MAX_NODES} nodes)"
            )
        stack.extend((child, depth + 1) for child in tag.contents if isinstance(child, Tag))


def tags(node: Tag, names: Collection[str]) -> list[Tag]:
    """Descendant tags named in *names*, in document order (find_all with a list is slow)."""
    return [t for t in node.descendants if isinstance(t, Tag) and t.name in names]


def has_block(tag: Tag) -> bool:
    return any(isinstance(t, Tag) and t.name in R.BLOCKS for t in tag.descendants)


def has_content(node: PageElement, *, br_counts: bool = False) -> bool:
    """Whether *node* holds text or an image (or, with *br_counts*, a line break)."""
    if isinstance(node, NavigableString):
        return bool(node.strip())
    assert isinstance(node, Tag)
    names = ("img", "br") if br_counts else ("img",)
    return node.name in names or bool(node.get_text().strip()) or bool(tags(node, names))


def drop_empty(root: Tag) -> None:
    """Remove empty elements below *root*, innermost first.

    Inline elements holding only a ``<br>`` stay; blocks holding only a ``<br>`` go.  An
    inline element holding only white space leaves one space, as a reader saw one
    (``a<b> </b>b`` reads "a b").  Table cells and rows stay (an empty cell is still a
    cell).  *root*'s own block children are left to :func:`blockify`'s caller, which
    skips empty blocks; its inline ones go here too, since blockify would wrap an empty
    one (``正文<b>``) into a paragraph that a second pass would drop.
    """
    for tag in reversed(root.find_all(True)):
        inline = tag.name not in R.BLOCKS
        if (inline or tag.parent is not root) and tag.name not in R.KEEP_EMPTY and not has_content(tag, br_counts=inline):
            if inline and tag.get_text() and not tag.get_text().strip():
                tag.replace_with(" ")
            else:
                tag.decompose()


def blockify(soup: BeautifulSoup, nodes: Iterable[PageElement], wrap: str = "p") -> list[Tag]:
    """Turn *nodes* into a flat list of block elements.

    Containers are unwrapped with a block boundary on each side, a p-like element that
    holds blocks is split around them, and each run of loose text or inline elements is
    wrapped in a new *wrap* element.  An inline element holding a block
    (``<strong><p>…</p></strong>``) is unwrapped like a container: its formatting is lost,
    which beats a ``<p>`` that html5ever would split into loose text.  A table that
    html5ever would rearrange is unwrapped too, its cells becoming paragraphs.
    """
    blocks: list[Tag] = []
    run: list[PageElement] = []

    def flush() -> None:
        if any(has_content(n) for n in run):
            para = soup.new_tag(wrap)
            para.extend([n.extract() for n in run])
            blocks.append(para)
        run.clear()

    for node in list(nodes):
        if not isinstance(node, Tag):
            run.append(node)
            continue
        if node.name == "table" and node.find("caption", recursive=False) is not None:
            flush()  # the allow-list has no <caption>: it becomes a paragraph before the table
            captions = [c.extract() for c in node.find_all("caption", recursive=False)]
            blocks.extend(blockify(soup, captions, wrap))
        nested = has_block(node)
        if node.name in R.STRUCTURAL and (node.name != "table" or _table_ok(node)):
            flush()
            _fix_inside(soup, node)
            blocks.append(node)
        elif node.name in R.P_LIKE and not nested:
            flush()
            if node.name == "p" and wrap != "p":
                node.name = wrap  # a paragraph inside a heading stays heading text
            blocks.append(node)
        elif node.name in R.BLOCKS or nested:
            flush()
            blocks.extend(blockify(soup, node.contents, node.name if node.name in R.P_LIKE else wrap))
        else:
            run.append(node)
    flush()
    return blocks


def _table_ok(table: Tag) -> bool:
    """Whether html5ever keeps *table* as it is (no text or tag where it does not belong)."""
    stack = [table]
    while stack:
        part = stack.pop()
        for child in part.contents:
            if isinstance(child, Tag):
                if child.name not in _TABLE_CHILDREN[part.name]:
                    return False
                if child.name in _TABLE_CHILDREN:
                    stack.append(child)
            elif isinstance(child, NavigableString) and child.strip():
                return False
    return True


def _fix_inside(soup: BeautifulSoup, block: Tag) -> None:
    """Inside a table, list, quote or figure: no nested <p>, no generic wrappers, and no
    table that html5ever would rearrange (its cells become paragraphs, as at the top level)."""
    for table in reversed(tags(block, {"table"})):
        if not _table_ok(table):
            parts = blockify(soup, table.contents)
            if parts:
                table.replace_with(*parts)
            else:
                table.extract()
    for tag in reversed(tags(block, R.P_LIKE | R.GENERIC_CONTAINERS)):
        if tag.name in R.GENERIC_CONTAINERS or has_block(tag):
            parts = blockify(soup, tag.contents, tag.name if tag.name in R.P_LIKE else "p")
            if parts:
                tag.replace_with(*parts)
            else:
                tag.extract()


def trim(block: Tag) -> None:
    """Drop layout whitespace and edge <br>s; trim each text holder's text at both ends."""
    for node in list(block.find_all(string=True)):
        assert node.parent is not None  # found under block, and extracting a string detaches only that string
        if not node.strip() and (
            node.parent.name in R.NO_TEXT_PARENTS
            or _is_block(node.previous_sibling)
            or _is_block(node.next_sibling)
        ):
            node.extract()
    for holder in [block, *tags(block, R.TEXT_HOLDERS)]:
        for edge in (0, -1):
            while holder.contents and _is_edge_filler(holder.contents[edge]):
                holder.contents[edge].extract()
        strings = holder.find_all(string=True)
        if strings:
            first, last = strings[0], strings[-1]
            replace_text(first, first.strip() if first is last else first.lstrip())
            if first is not last:
                replace_text(last, last.rstrip())


def _is_block(node: PageElement | None) -> bool:
    return isinstance(node, Tag) and node.name in R.BLOCKS


def _is_edge_filler(node: PageElement) -> bool:
    if isinstance(node, Tag):
        return node.name == "br"
    return isinstance(node, NavigableString) and not node.strip()


def replace_text(node: NavigableString, text: str) -> None:
    if text != node:
        node.replace_with(text)
