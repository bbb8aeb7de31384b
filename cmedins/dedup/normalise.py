"""Normalisation before hashing: two texts that differ only in width, punctuation, spacing or case hash alike.

NFKC folds full-width letters/digits/punctuation to their ASCII forms (Ｈｂ１ -> Hb1, ？ -> ?); then every
punctuation mark, separator (spaces, U+3000) and control/format character (newlines, U+FEFF, zero-width
space) is removed. Symbols (℃, ↑, %, +) stay: in clinical text they carry meaning. No word splitting: Chinese
has no spaces, so a `\\W`-based tokenizer would see one giant token.

Traditional -> simplified (`t2s=True`) is a hook: it needs the `opencc` package, which is not a dependency;
without it a clear error says so.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Callable
from functools import lru_cache

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
