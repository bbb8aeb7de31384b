"""Normalisation before hashing: two texts that differ only in width, punctuation, spacing or case hash alike.

NFKC folds full-width letters/digits/punctuation to their ASCII forms (Ｈｂ１ -> Hb1, ？ -> ?); then every
punctuation mark, separator (spaces, U+3000) and control/format character (newlines, U+FEFF, zero-width
space) is removed. Symbols (℃, ↑, %, +) stay: in clinical text they carry meaning. No word splitting: Chinese
has no spaces, so a `\\W`-based tokenizer would see one giant token.

`normalise_batch` does the deletion for a whole batch at once: the batch is encoded once as UTF-32 and one
boolean lookup over a table of every code point drops the characters (the per-character dict lookups of
`str.translate` were a third of dedup's time); lower case and the NFKC check stay per text, in C.

Traditional -> simplified (`t2s=True`) is a hook: it needs the `opencc` package, which is not a dependency;
without it a clear error says so.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

from cmedins.errors import CmedinsError

_DROPPED_CATEGORIES = ("P", "Z", "Cc", "Cf")


@lru_cache(maxsize=1)
def _deletion_table() -> dict[int, None]:
    """str.translate table deleting punctuation, separators and control/format characters (built once)."""
    return {
        code: None
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)).startswith(_DROPPED_CATEGORIES)
    }


@lru_cache(maxsize=1)
def _dropped_mask() -> np.ndarray:
    """Boolean per code point (1.1 MB): True where normalisation deletes the character."""
    mask = np.zeros(sys.maxunicode + 1, dtype=bool)
    mask[np.fromiter(_deletion_table(), dtype=np.int64)] = True
    return mask


@lru_cache(maxsize=1)
def _traditional_to_simplified() -> Callable[[str], str]:
    try:
        import opencc
    except ImportError:
        raise CmedinsError(
            "dedup option t2s (traditional -> simplified) needs the 'opencc' package: pip install opencc"
        ) from None
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
    """`[normalise(text) for text in texts]`, with the deletion done for the whole batch in one array pass."""
    if not texts:
        return []
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    # surrogatepass: a lone surrogate (possible in JSON input) survives the round trip as in `normalise`
    codes = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    keep = ~_dropped_mask()[codes]
    kept_before = np.zeros(len(codes) + 1, dtype=np.int64)
    np.cumsum(keep, out=kept_before[1:])
    ends = kept_before[np.cumsum(lengths)].tolist()
    joined = codes[keep].tobytes().decode("utf-32-le", "surrogatepass")
    table, out, start = _deletion_table(), [], 0
    for end in ends:
        text = joined[start:end].lower()
        start = end
        if not text.isascii() and not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text).translate(table).lower()
        out.append(text)
    return [_traditional_to_simplified()(text) for text in out] if t2s else out
