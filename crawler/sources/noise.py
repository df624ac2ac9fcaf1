"""The shape of a source's cleaning noise rules (SPEC §7): what of its markup is not the article.

The clean stage (pipelines/clean.py) applies the rules of the item's source on top
of the rules every body gets (the allow-list, hidden elements, forms and scripts).
Every field may be empty: a source without noise cleans to its plain allow-listed text.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NoiseRules:
    drop_selector: str = ""  # CSS selector of elements removed with their content
    ad_class_prefixes: tuple[str, ...] = ()  # any class token starting so: removed with its content
    ad_close_images: str = ""  # CSS selector of ad images; the link around one goes too
    promo_hosts: tuple[str, ...] = ()  # links to these hosts (and subdomains) are removed
    cut_between: tuple[tuple[str, str], ...] = ()  # (start, end) comments: everything between goes
    unwrap_selector: str = ""  # CSS selector of markup unwrapped to its text (stock and keyword links)
    quote_hosts: tuple[str, ...] = ()  # links to these hosts (and subdomains) are unwrapped to text
    promo_phrases: tuple[str, ...] = ()  # a link holding one is removed; so is a short block
    short_block_markers: tuple[str, ...] = ()  # a short leaf block holding one is removed
    disclaimer_prefixes: tuple[str, ...] = ()  # a leaf block starting so is removed, whatever its length
    editor_pattern: str | None = None  # regular expression of a short editor line ("（责任编辑：…）")
