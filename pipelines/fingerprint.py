"""Content identity of an article: an exact key and a near-duplicate signature.

Pure functions, no settings.  ``text_hash(title, body)`` is the SHA-256 of the
cleaned title and body: two codes with equal hashes are the same article
published twice.  ``signature(title, body)`` is a MinHash of the article's
character 3-shingles (no word segmentation, so it works on unsegmented Chinese),
and ``similarity(a, b)`` estimates the Jaccard similarity of two articles'
shingle sets from their signatures.  Replacing a fraction f of an article's
text gives about (1-f)/(1+f): one sentence of five about 0.7, one of three about
0.6; unrelated stories score below 0.05, and the same recurring report on
another day (other figures) or two earnings reports of the same shape about
0.25 (tests/fixtures/pipelines/near_duplicates.json).  ``dedupe`` compares the
score with ``dedupe.near_similarity`` (default 0.5).

Why MinHash and not a 64-bit SimHash: on the replay's template-made articles
(400 articles, one sentence of each replaced; measured once while choosing),
SimHash at the largest distance with no false positive (10 bits) found 64 % of
the replacements, MinHash at 0.55 found all of them with none; on the realistic
pairs above SimHash puts near-duplicates 8–15 bits apart and different stories
20–26.  test_fingerprint.py keeps the MinHash figures honest.  The signature is
one-permutation hashing (one hash per shingle, 128 bins, empty bins filled from
the next full one) keeping 8 bits per bin: 128 bytes per article, one pass over
the shingles.

The text a signature sees drops tags, entities, the outlet line
``（文章来源：X）`` (a syndicated copy names another outlet), punctuation and
white space, and folds width and case (NFKC, lower case).  Changing any of this
changes every stored signature: add a migration that recomputes them.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata

BINS = 128  # bytes per signature; the estimate's standard error is about sqrt(J(1-J)/128) <= 0.045
BAND_ROWS = 4  # bins per LSH band: 32 bands; see band_keys
BANDS = BINS // BAND_ROWS
SHINGLE = 3  # characters: 2-grams make unrelated Chinese texts share too much, 4-grams make an edit cost more
_TAG = re.compile(r"<[^>]*>")
_OUTLET_LINE = re.compile(r"[（(]\s*文章来源\s*[：:][^）)]*[）)]")
_CHANCE = 1 / 256  # two unrelated 8-bit bin values are equal this often
# Exactly the characters of Unicode categories L* and N* (checked over every code point in
# test_fingerprint.py): one C pass instead of a unicodedata call per character.
_NOT_LETTER_OR_DIGIT = re.compile(r"[\W_]+")
# Shingle -> its 64-bit hash, filled once per process up to _HASHED_MAX shingles (about 5 MB):
# the common shingles of news text repeat across articles, and a hash costs more than a lookup.
_HASHED: dict[str, int] = {}
_HASHED_MAX = 1 << 15


def text_hash(title: str, body: str) -> str:
    """Hex SHA-256 of the cleaned *title* and *body* exactly as stored (the exact-duplicate key)."""
    return hashlib.sha256(f"{title}\x1f{body}".encode()).hexdigest()


def visible_text(title: str, body: str) -> str:
    """The letters and digits a reader sees, normalised: what the signature is made of."""
    text = _TAG.sub(" ", body)
    text = _OUTLET_LINE.sub(" ", html.unescape(text))
    text = unicodedata.normalize("NFKC", f"{title} {text}").lower()
    return _NOT_LETTER_OR_DIGIT.sub("", text)


def shingles(text: str, size: int = SHINGLE) -> set[str]:
    """The distinct *size*-character substrings of *text* (the whole text when shorter)."""
    if len(text) <= size:
        return {text} if text else set()
    return {text[i : i + size] for i in range(len(text) - size + 1)}


def signature(title: str, body: str) -> bytes:
    """The MinHash signature of an article (BINS bytes); empty for an article without text."""
    mins: list[int | None] = [None] * BINS
    hashed = _HASHED
    text = visible_text(title, body)
    if not text:
        return b""  # nothing to compare: an image-only article is near nothing
    # Every substring, repeats included: a repeat offers the same minimum again, which changes nothing.
    for start in range(max(1, len(text) - SHINGLE + 1)):
        feature = text[start : start + SHINGLE]
        value = hashed.get(feature)
        if value is None:
            value = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
            if len(hashed) < _HASHED_MAX:
                hashed[feature] = value
        slot, rest = value % BINS, value // BINS
        current = mins[slot]
        if current is None or rest < current:
            mins[slot] = rest
    out = bytearray(BINS)
    for i in range(BINS):
        # An empty bin borrows the next full bin's minimum, offset by the distance, so
        # that two texts agree on it exactly when they agree on the bin it borrows from.
        step = 0
        while mins[(i + step) % BINS] is None:
            step += 1
        out[i] = (mins[(i + step) % BINS] + step) & 0xFF  # type: ignore[operator]
    return bytes(out)


def band_keys(sig: bytes, day: int) -> list[int]:
    """The LSH band keys of a signature published on *day*: one integer per band of BAND_ROWS bins.

    A key packs the day (days since 1970-01-01, UTC), the band's number and its four
    bin values, so that two articles share a key when they were published the same
    day and agree on every bin of one band.  Agreeing on a band happens with
    probability about J**4 for shingle similarity J: over 32 bands 1-(1-J**4)**32,
    that is 0.87 at J = 0.5, 0.99 at 0.6, 0.23 at 0.3 and 0.003 at 0.1.  Sharing a
    key only makes an article a candidate; ``similarity`` decides.
    """
    if len(sig) != BINS:
        return []
    return [
        (day << 37) | (band << 32) | int.from_bytes(sig[band * BAND_ROWS : (band + 1) * BAND_ROWS], "big")
        for band in range(BANDS)
    ]


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity (0–1) of the two articles' shingle sets."""
    if len(a) != len(b) or not a:
        return 0.0
    same = (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big").count(0)
    return max(0.0, (same / len(a) - _CHANCE) / (1 - _CHANCE))
