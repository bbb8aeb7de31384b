"""Candidate pairs from datasketch's MinHashLSH, verified against the signatures.

Bands and rows come from datasketch's own optimiser for the threshold (`MinHashLSH(threshold, num_perm)`),
never from the user. Its weights favour recall (false negatives cost 9x false positives): every candidate
pair is verified below, so an LSH false positive costs a comparison, while a false negative is a duplicate
kept. At threshold 0.7 / 128 permutations that gives 20 bands x 6 rows: a pair at Jaccard 0.76 collides with
probability 0.99 (0.71 with the default equal weights). Rows go in through an insertion session as LeanMinHash objects; then every bucket that
holds two or more rows yields its pairs, and a pair counts only when the signatures' estimated Jaccard
reaches the threshold (LSH buckets are a sieve, not a verdict).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from datasketch import LeanMinHash, MinHashLSH

_WEIGHTS = (0.1, 0.9)  # (false positive, false negative)
_PAIRWISE_LIMIT = 200  # bigger buckets (templated boilerplate) are checked against their first row only


def make_index(threshold: float, num_perm: int, storage_config: dict[str, Any] | None = None) -> MinHashLSH:
    return MinHashLSH(threshold=threshold, num_perm=num_perm, weights=_WEIGHTS, storage_config=storage_config)


def insert_rows(index: MinHashLSH, keys: np.ndarray, signatures: np.ndarray, seed: int) -> None:
    with index.insertion_session(buffer_size=50_000) as session:
        for key, values in zip(keys.tolist(), signatures, strict=True):
            session.insert(key, LeanMinHash(seed=seed, hashvalues=values, scheme="affine32"),
                           check_duplication=False)


def index_size(index: MinHashLSH) -> dict[str, int]:
    """Keys, bands and buckets held (what grows with the input)."""
    return {"keys": index.keys.size(), "bands": index.b, "rows_per_band": index.r,
            "buckets": sum(table.size() for table in index.hashtables)}


def similar_pairs(index: MinHashLSH, signatures: np.ndarray | np.memmap, threshold: float
                  ) -> Iterator[tuple[int, int, float]]:
    """(key a, key b, estimated Jaccard) for colliding rows at or above the threshold; each pair at most once.

    Keys are row indices into `signatures`.
    """
    seen: set[tuple[int, int]] = set()
    for table in index.hashtables:
        for bucket in table:
            members = table.get(bucket)
            if len(members) < 2:
                continue
            keys = np.array(sorted(members), dtype=np.int64)
            block = np.asarray(signatures[keys])
            if len(keys) <= _PAIRWISE_LIMIT:
                similarity = (block[:, None, :] == block[None, :, :]).mean(axis=2)
                left, right = np.nonzero(np.triu(similarity >= threshold, k=1))
            else:
                similarity = (block[:1] == block).mean(axis=1)[None, :]
                right = np.flatnonzero(similarity[0] >= threshold)
                right = right[right > 0]
                left = np.zeros_like(right)
            for i, j in zip(left.tolist(), right.tolist(), strict=True):
                pair = (int(keys[i]), int(keys[j]))
                if pair not in seen:
                    seen.add(pair)
                    yield pair[0], pair[1], float(similarity[i, j])
