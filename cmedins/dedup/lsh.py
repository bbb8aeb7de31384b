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
_MAX_VERIFIED = 256  # candidates verified per row


def make_index(threshold: float, num_perm: int, storage_config: dict[str, Any] | None = None) -> MinHashLSH:
    return MinHashLSH(threshold=threshold, num_perm=num_perm, weights=_WEIGHTS, storage_config=storage_config)


def index_size(index: MinHashLSH) -> dict[str, int]:
    """Keys, bands and buckets held (what grows with the input)."""
    return {"keys": index.keys.size(), "bands": index.b, "rows_per_band": index.r,
            "buckets": sum(table.size() for table in index.hashtables)}


def stream_pairs(index: MinHashLSH, keys: np.ndarray, signatures: np.ndarray | np.memmap, threshold: float,
                 seed: int) -> Iterator[tuple[int, int, float]]:
    """(row, matched row, estimated Jaccard) for every verified near-duplicate, streaming `keys` through `index`.

    Each row queries the index, every verified match (estimated Jaccard >= threshold) is yielded, then the
    row is inserted. Matched rows are inserted too: two independent edits of one question are each ~0.8
    from it but only ~0.65 from each other, so they meet through the original. (Inserting only unmatched
    rows keeps the index at one entry per distinct row, but lost 8 points of recall on the benchmark.)
    Keys are row indices into `signatures`.
    """
    for start in range(0, len(keys), _READ_BLOCK):
        block_keys = keys[start : start + _READ_BLOCK]
        block = np.asarray(signatures[block_keys])
        for key, values in zip(block_keys.tolist(), block, strict=True):
            minhash = LeanMinHash(seed=seed, hashvalues=values, scheme="affine32")
            found = index.query(minhash)
            if found:
                # A big templated cluster would make this quadratic; joining it needs one match, not all.
                found = np.array(sorted(found)[:_MAX_VERIFIED], dtype=np.int64)
                similarity = (np.asarray(signatures[found]) == values).mean(axis=1)
                hits = np.flatnonzero(similarity >= threshold)
                for hit in hits.tolist():
                    yield key, int(found[hit]), float(similarity[hit])
            index.insert(key, minhash, check_duplication=False)
