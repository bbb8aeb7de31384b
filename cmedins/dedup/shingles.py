"""Character n-gram shingles, hashed in bulk with numpy (no Python loop per shingle).

A text's shingles are its n-character substrings; a text shorter than n (but not empty) is one shingle,
padded with U+0000. Each shingle hashes to a 64-bit polynomial rolling hash of its code points
(`shingle_hash64` is the scalar reference). A batch of texts is encoded once as UTF-32 and the rolling hash
runs as n vectorised multiply-adds over the whole batch; windows that cross a text boundary are discarded.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_BASE = np.uint64(0x100000001B3)  # the 64-bit FNV prime, used as the polynomial base
_MASK64 = (1 << 64) - 1


def shingles(text: str, n: int) -> set[str]:
    """The shingle set of one (normalised) text: the reference definition the vectorised code follows."""
    if not text:
        return set()
    if len(text) < n:
        return {text.ljust(n, "\0")}
    return {text[i : i + n] for i in range(len(text) - n + 1)}


def shingle_hash64(shingle: str) -> int:
    """Scalar reference of the vectorised hash (used by tests and by datasketch's `hashfunc`)."""
    value = 0
    for char in shingle:
        value = (value * int(_BASE) + ord(char)) & _MASK64
    return value


def fold32(hashes: np.ndarray) -> np.ndarray:
    """64-bit shingle hashes -> 32-bit inputs for datasketch's affine32 MinHash scheme."""
    return ((hashes ^ (hashes >> np.uint64(32))) & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def shingle_hash32(shingle: str) -> int:
    return int(fold32(np.array([shingle_hash64(shingle)], dtype=np.uint64))[0])


def hash_shingles(texts: Sequence[str], n: int) -> tuple[np.ndarray, np.ndarray]:
    """All shingle hashes of a batch: (uint64 hashes, offsets) where text i owns hashes[offsets[i]:offsets[i+1]].

    Repeated shingles within a text are kept (a MinHash minimum does not care); empty texts own none.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    padded = [text.ljust(n, "\0") if text else "" for text in texts]
    lengths = np.fromiter((len(text) for text in padded), dtype=np.int64, count=len(padded))
    counts = np.where(lengths > 0, lengths - n + 1, 0)
    offsets = np.zeros(len(padded) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    total = int(offsets[-1])
    if total == 0:
        return np.zeros(0, dtype=np.uint64), offsets
    codes = np.frombuffer("".join(padded).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    windows = len(codes) - n + 1
    rolling = np.zeros(windows, dtype=np.uint64)
    for k in range(n):  # n array passes: rolling = rolling * BASE + code[i + k]  (wraps mod 2^64)
        rolling *= _BASE
        rolling += codes[k : k + windows]
    # Window starts of text i run from its first character to its length - n; map them into `rolling`.
    text_starts = np.zeros(len(padded), dtype=np.int64)
    np.cumsum(lengths[:-1], out=text_starts[1:])
    starts = np.repeat(text_starts - offsets[:-1], counts) + np.arange(total, dtype=np.int64)
    return rolling[starts], offsets
