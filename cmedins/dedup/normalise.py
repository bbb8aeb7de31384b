"""Normalisation before hashing: two texts that differ only in width, punctuation, spacing or case hash alike.

NFKC folds full-width letters/digits/punctuation to their ASCII forms (Ｈｂ１ -> Hb1, ？ -> ?); then every
punctuation mark, separator (spaces, U+3000) and control/format character (newlines, U+FEFF, zero-width
space) is removed. Symbols (℃, ↑, %, +) stay: in clinical text they carry meaning. No word splitting: Chinese
has no spaces, so a `\\W`-based tokenizer would see one giant token.

`normalise_batch` does a whole batch in array passes: the batch is encoded once as UTF-32 and every character
is replaced by its own normal form, looked up in code-point tables learnt as characters are first seen (the
per-text `str.translate` and NFKC calls were a third of dedup's time, and most clinical texts need NFKC: ℃,
full-width digits). Texts with a character whose normal form depends on its neighbours take the per-text path.

Traditional -> simplified (`t2s=True`): OpenCC's phrase-aware `t2s` conversion (de-identification reads
traditional text through OpenCC's character table too: cmedins.deid.simplified).
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

_DROPPED_CATEGORIES = ("P", "Z", "Cc", "Cf")


class _Deletions(dict):
    """str.translate table deleting punctuation, separators and control/format characters, filled in as
    characters are first looked up: None deletes one, its own code point keeps it. A table of all 1.1M code
    points up front cost ~0.25 CPU-s a build, though texts hold a few thousand distinct characters."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.category(chr(code)).startswith(_DROPPED_CATEGORIES) else code
        self[code] = kept
        return kept


@lru_cache(maxsize=1)
def _deletion_table() -> dict[int, int | None]:
    return _Deletions()


@lru_cache(maxsize=1)
def _traditional_to_simplified() -> Callable[[str], str]:
    import opencc

    return opencc.OpenCC("t2s").convert


def normalise(text: str, *, t2s: bool = False) -> str:
    """The comparison form of `text`: NFKC, lower case, no punctuation/whitespace (optionally simplified)."""
    table = _deletion_table()
    # Deleting first leaves NFKC a shorter string, and most Chinese text is NFKC-stable once its full-width
    # punctuation is gone (the check is cheaper than the normalisation). Delete again: NFKC can make
    # punctuation out of compatibility characters (⑴ -> (1)).
    text = text.translate(table).lower()
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text).translate(table).lower()
    return _traditional_to_simplified()(text) if t2s else text


def normalise_batch(texts: Sequence[str], *, t2s: bool = False) -> list[str]:
    """`[normalise(text) for text in texts]` as array passes over the whole batch: every character is replaced
    by its own normal form (`_CharMap`), looked up in code-point tables; a text holding a character whose normal
    form depends on its neighbours (see `_CharMap`) goes through `normalise` instead."""
    out, unsafe_texts = char_forms(texts)
    for i in unsafe_texts:
        out[i] = normalise(texts[i])
    return [_traditional_to_simplified()(text) for text in out] if t2s else out


def char_forms(texts: Sequence[str]) -> tuple[list[str], list[int]]:
    """Each text with every character replaced by its own normal form, and the positions of the texts holding
    an unsafe character (see `_CharMap`), for which that is not `normalise(text)`. For the other texts it is,
    and it is also the concatenation of the forms of any split of the text (what cmedins.dedup.lines uses)."""
    if not texts:
        return [], []
    chars = _char_map()
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    # surrogatepass: a lone surrogate (possible in JSON input) survives the round trip as in `normalise`
    codes = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    chars.learn(codes)
    ends = np.cumsum(lengths)
    unsafe_before = np.zeros(len(codes) + 1, dtype=np.int64)
    np.cumsum(chars.unsafe[codes], out=unsafe_before[1:])
    unsafe_texts = np.flatnonzero(np.diff(unsafe_before[np.r_[0, ends]])).tolist()
    out_lengths = chars.length[codes].astype(np.int64)
    if (out_lengths <= 1).all():  # no character expands (e.g. 3 -> 3, A -> a, ， -> ''): one gather
        mapped = chars.single[codes[out_lengths == 1]]
    else:  # ragged: character i contributes out_lengths[i] code points from chars.flat, from chars.start[i]
        total = int(out_lengths.sum())
        first = np.cumsum(out_lengths) - out_lengths
        within = np.arange(total, dtype=np.int64) - np.repeat(first, out_lengths)
        mapped = chars.flat[np.repeat(chars.start[codes].astype(np.int64), out_lengths) + within]
    out_before = np.zeros(len(codes) + 1, dtype=np.int64)
    np.cumsum(out_lengths, out=out_before[1:])
    bounds = out_before[np.r_[0, ends]].tolist()
    joined = mapped.astype(np.uint32).tobytes().decode("utf-32-le", "surrogatepass")
    return [joined[bounds[i] : bounds[i + 1]] for i in range(len(texts))], unsafe_texts


class _CharMap:
    """Each code point's normal form on its own (`normalise(chr(c))`), learnt as code points are first seen.

    `normalise` of a whole text is the concatenation of its characters' normal forms whenever every character
    is "safe": its normal form cannot depend on a neighbour. Deleting, lower-casing and NFKC act per character
    except where (a) NFKC composes a character with the one before it (combining marks, Hangul vowel/final
    jamo, and any other second half of a canonical composition: `_composing_seconds`), or reorders marks, or
    (b) lower-casing looks at the context (Greek capital sigma, final form). A character whose lower-cased form
    or whose decomposition starts with such a character, or whose normal form differs with or without the
    text-level NFKC step, is unsafe too; texts holding an unsafe character are normalised one by one."""

    def __init__(self) -> None:
        size = sys.maxunicode + 1
        self.seen = np.zeros(size, dtype=bool)
        self.unsafe = np.zeros(size, dtype=bool)
        self.length = np.zeros(size, dtype=np.uint8)  # code points of the normal form (NFKC: at most 18)
        self.single = np.zeros(size, dtype=np.uint32)  # the normal form when it is one code point
        self.start = np.zeros(size, dtype=np.uint32)  # where the normal form starts in `flat`
        self.flat = np.zeros(0, dtype=np.uint32)

    def learn(self, codes: np.ndarray) -> None:
        new = np.unique(codes[~self.seen[codes]])
        if not len(new):
            return
        table, seconds, extra = _deletion_table(), _composing_seconds(), []
        offset = len(self.flat)
        for code in new.tolist():
            form = _char_form(chr(code), table, seconds)
            self.seen[code] = True
            if form is None:
                self.unsafe[code] = True
                form = ""
            points = [ord(char) for char in form]
            self.length[code] = len(points)
            self.single[code] = points[0] if len(points) == 1 else 0
            self.start[code] = offset
            extra.extend(points)
            offset += len(points)
        self.flat = np.concatenate([self.flat, np.array(extra, dtype=np.uint32)])


def _char_form(char: str, table: dict[int, None], seconds: frozenset[int]) -> str | None:
    """`normalise(char)` if the character is safe (see _CharMap), else None."""
    if char == "\u03a3":  # capital sigma: lower() picks the final form from the context
        return None
    lowered = char.translate(table).lower()

    def starts_cleanly(text: str) -> bool:  # cannot compose with, or be reordered against, what precedes it
        return not text or (unicodedata.combining(text[0]) == 0 and ord(text[0]) not in seconds)

    if not all(unicodedata.combining(c) == 0 and ord(c) not in seconds for c in lowered):
        return None
    if not starts_cleanly(unicodedata.normalize("NFKD", lowered)):
        return None
    composed = unicodedata.normalize("NFKC", lowered).translate(table)
    if "\u03a3" in composed:
        return None
    composed = composed.lower()
    if unicodedata.is_normalized("NFKC", lowered) and composed != lowered:
        return None  # the text-level NFKC step would change this character only in a text that needs it
    return composed if composed == normalise(char) else None


@lru_cache(maxsize=1)
def _composing_seconds() -> frozenset[int]:
    """Code points that NFKC can compose with the character before them: the second half of every two-character
    canonical decomposition, and the Hangul medial vowel and final consonant jamo (composed by rule)."""
    seconds = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))
    for code in range(0x30000):  # no canonical decomposition lies beyond
        parts = unicodedata.decomposition(chr(code)).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            seconds.add(int(parts[1], 16))
    return frozenset(seconds)


@lru_cache(maxsize=1)
def _char_map() -> _CharMap:
    return _CharMap()
