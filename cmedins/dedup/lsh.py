"""Candidate pairs from datasketch's MinHashLSH, verified against the signatures.

Bands and rows come from datasketch's own optimiser for the threshold (`MinHashLSH(threshold, num_perm)`),
never from the user. Its weights favour recall (false negatives cost 9x false positives): every candidate
pair is verified below, so an LSH false positive costs a comparison, while a false negative is a duplicate
kept. At threshold 0.7 / 128 permutations that gives 20 bands x 6 rows: a pair at Jaccard 0.76 collides with
probability 0.99 (0.71 with the default equal weights). Rows stream through the index as LeanMinHash objects (query, then insert only
if nothing matched), and a candidate counts only when the signatures' estimated Jaccard reaches the
threshold (LSH buckets are a sieve, not a verdict).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from datasketch import LeanMinHash, MinHashLSH

_WEIGHTS = (0.1, 0.9)  # (false positive, false negative)
_READ_BLOCK = 4096  # signature rows read from the memory map at a time


def make_index(threshold: float, num_perm: int, storage_config: dict[str, Any] | None = None) -> MinHashLSH:
    return MinHashLSH(threshold=threshold, num_perm=num_perm, weights=_WEIGHTS, storage_config=storage_config)


def index_size(index: MinHashLSH) -> dict[str, int]:
    """Keys, bands and buckets held (what grows with the input)."""
    return {"keys": index.keys.size(), "bands": index.b, "rows_per_band": index.r,
            "buckets": sum(table.size() for table in index.hashtables)}


def stream_pairs(index: MinHashLSH, keys: np.ndarray, signatures: np.ndarray | np.memmap, threshold: float,
                 seed: int) -> Iterator[tuple[int, int, float]]:
    """(row, matched row, estimated Jaccard) for every verified near-duplicate, streaming `keys` through `index`.

    Each row queries the index first. A row with a verified match (estimated Jaccard >= threshold) joins it
    and is not inserted: its cluster is already represented. Any other row is inserted. So the index holds
    one entry per distinct row, not one per row, and a cluster grows around its first row rather than by
    chains of ever-drifting copies. Keys are row indices into `signatures`; pass them in keep-rule order so
    the representatives are the rows that will be kept.
    """
    for start in range(0, len(keys), _READ_BLOCK):
        block_keys = keys[start : start + _READ_BLOCK]
        block = np.asarray(signatures[block_keys])
        for key, values in zip(block_keys.tolist(), block, strict=True):
            minhash = LeanMinHash(seed=seed, hashvalues=values, scheme="affine32")
            found = index.query(minhash)
            if found:
                found = np.array(sorted(found), dtype=np.int64)
                similarity = (np.asarray(signatures[found]) == values).mean(axis=1)
                hits = np.flatnonzero(similarity >= threshold)
                if len(hits):
                    for hit in hits.tolist():
                        yield key, int(found[hit]), float(similarity[hit])
                    continue
            index.insert(key, minhash, check_duplication=False)
