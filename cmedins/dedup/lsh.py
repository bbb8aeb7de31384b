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

import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np
from datasketch import LeanMinHash, MinHashLSH

_WEIGHTS = (0.1, 0.9)  # (false positive, false negative)
_PAIRWISE_LIMIT = 200  # bigger buckets (templated boilerplate) are checked against their first row only
_VERIFY_BATCH = 65_536  # candidate pairs compared per numpy step


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
    """(key a, key b, estimated Jaccard) for colliding rows at or above the threshold; each pair once, sorted.

    Keys are row indices into `signatures`. Candidate pairs from all bands are gathered first (a true
    duplicate collides in many bands), then verified in one vectorised pass.
    """
    candidates: set[tuple[int, int]] = set()
    for table in index.hashtables:
        for bucket, count in table.itemcounts().items():
            if count < 2:
                continue
            members = sorted(table.get(bucket))
            if count <= _PAIRWISE_LIMIT:
                candidates.update(itertools.combinations(members, 2))
            else:
                candidates.update((members[0], other) for other in members[1:])
    if not candidates:
        return
    pairs = np.array(sorted(candidates), dtype=np.int64)
    for start in range(0, len(pairs), _VERIFY_BATCH):
        chunk = pairs[start : start + _VERIFY_BATCH]
        similarity = (np.asarray(signatures[chunk[:, 0]]) == np.asarray(signatures[chunk[:, 1]])).mean(axis=1)
        for (a, b), value in zip(chunk[similarity >= threshold].tolist(), similarity[similarity >= threshold].tolist(),
                                 strict=True):
            yield a, b, value
