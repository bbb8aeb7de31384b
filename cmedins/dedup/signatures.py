"""MinHash signatures for a batch of texts as numpy array ops.

The result equals, value for value, a datasketch `MinHash(num_perm, seed, hashfunc=shingle_hash32)` updated
with the text's shingles (scheme "affine32": MurmurHash3 fmix32 pre-mix, then a*h + b mod 2^32 per
permutation, with datasketch's own permutation parameters). Only the loop is different: instead of one
`update` per shingle, a whole batch's shingles form a (shingles x num_perm) matrix and one `minimum.reduceat`
takes every text's minima. A test pins the equality, so signatures mix freely with datasketch's LSH.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from datasketch import MinHash
from datasketch.minhash import _fmix

from cmedins.dedup.shingles import fold32, hash_shingles

EMPTY = np.uint32(0xFFFFFFFF)  # datasketch's "no shingle seen" value
_MATRIX_CELLS = 1 << 22  # shingles x num_perm per step: 16 MiB of uint32, whatever the batch size


class Signer:
    """Computes (len(texts), num_perm) uint32 signatures; texts with no shingles get all-EMPTY rows."""

    def __init__(self, n: int = 5, num_perm: int = 128, seed: int = 1):
        self.n = n
        self.num_perm = num_perm
        self.seed = seed
        a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
        self._a = a.astype(np.uint32)
        self._b = b.astype(np.uint32)

    def sign(self, texts: Sequence[str]) -> np.ndarray:
        return self.sign_shingles(*hash_shingles(texts, self.n))

    def sign_shingles(self, hashes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Signatures of groups of shingle hashes: group i is hashes[offsets[i]:offsets[i+1]]."""
        mixed = _fmix(fold32(hashes), 32)
        out = np.full((len(offsets) - 1, self.num_perm), EMPTY, dtype=np.uint32)
        counts = np.diff(offsets)
        rows = np.flatnonzero(counts)
        step = max(1, _MATRIX_CELLS // self.num_perm)
        start = 0
        while start < len(rows):
            # Take whole texts until the shingle matrix would exceed the cell budget (at least one text).
            first = offsets[rows[start]]
            stop = int(np.searchsorted(offsets[rows + 1], first + step, side="right"))
            stop = max(stop, start + 1)
            chunk = rows[start:stop]
            lo, hi = offsets[chunk[0]], offsets[chunk[-1] + 1]
            # (num_perm x shingles): each text's shingles are contiguous along the fast axis, which makes
            # the reduceat ~10x faster than the (shingles x num_perm) layout. Wraps mod 2^32 like datasketch.
            permuted = np.multiply(self._a[:, None], mixed[None, lo:hi])
            permuted += self._b[:, None]
            out[chunk] = np.minimum.reduceat(permuted, offsets[chunk] - lo, axis=1).T
            start = stop
        return out
