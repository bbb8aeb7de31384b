"""The in-memory dedup as it was before band sharding: the reference the sharded engine must equal.

`InMemoryDedupIndex` is cmedins' engine with its former exact and near passes: each partition's rows in
memory, exact runs by one lexsort, near clusters by cluster_keepers below (every band sorted in memory; the package keeps only the
sharded mechanism, cmedins.dedup.shards). The
tests and bench/bench_dedup.py compare the sharded engine's removals with it, row for row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cmedins.dedup import lsh
from cmedins.dedup.engine import EXACT, DedupIndex, DedupResult


class InMemoryDedupIndex(DedupIndex):
    def _exact_pass(self, alive: np.ndarray, partition: np.ndarray, exact: np.ndarray, rank: np.ndarray,
                    result: DedupResult, scope: int, stats: dict[str, int]) -> None:
        for members in _partitions(alive, partition):
            if len(members) < 2:
                continue
            ordered = members[np.lexsort((rank[members], exact[members]))]
            hashes = exact[ordered]
            first_of_run = np.r_[True, hashes[1:] != hashes[:-1]]
            keeper = ordered[np.maximum.accumulate(np.where(first_of_run, np.arange(len(ordered)), 0))]
            removed = ~first_of_run
            result.status[ordered[removed]] = EXACT
            result.kept[ordered[removed]] = keeper[removed]
            result.scope[ordered[removed]] = scope
            stats["exact"] += int(removed.sum())
            stats["clusters"] += int(np.count_nonzero(first_of_run[:-1] & removed[1:]))

    def _near_pass(self, alive: np.ndarray, partition: np.ndarray, signatures: np.ndarray, rank: np.ndarray,
                   result: DedupResult, scope: int, stats: dict[str, int], lsh_stats: dict[str, int]) -> None:
        for members in _partitions(alive, partition):
            if len(members) < 2:
                continue
            in_keep_order = members[np.argsort(rank[members], kind="stable")]
            block = lsh.read_rows(signatures, in_keep_order)
            banding = BandingStats()
            keeper = in_keep_order[cluster_keepers(block, self.params.threshold, lsh_stats["bands"],
                                                       lsh_stats["rows_per_band"], banding)]
            lsh_stats["max_keys"] = max(lsh_stats["max_keys"], len(members))
            lsh_stats["max_bucket"] = max(lsh_stats["max_bucket"], banding.max_bucket)
            lsh_stats["candidate_pairs"] += banding.candidate_pairs
            lsh_stats["verified_pairs"] += banding.verified_pairs
            removed = keeper != in_keep_order
            self.mark_near(in_keep_order[removed], keeper[removed], signatures, result, scope, stats)


def _partitions(alive: np.ndarray, partition: np.ndarray) -> list[np.ndarray]:
    alive = alive[np.argsort(partition[alive], kind="stable")]
    return np.split(alive, np.flatnonzero(np.diff(partition[alive])) + 1)


@dataclass
class BandingStats:
    """What the banding did, for stats.json: candidates generated, verified, and the largest bucket."""

    candidate_pairs: int = 0
    verified_pairs: int = 0
    max_bucket: int = 0
    extra: dict[str, int] = field(default_factory=dict)


def cluster_keepers(signatures: np.ndarray, threshold: float, bands: int, rows: int,
                    stats: BandingStats | None = None) -> np.ndarray:
    """For rows given in keep-rule order (row 0 most preferred), the position of the row that keeps their
    cluster: the smallest position among the rows joined to it by verified pairs (itself if none)."""
    n_rows = len(signatures)
    stats = stats if stats is not None else BandingStats()
    labels = np.arange(n_rows, dtype=np.int64)  # current cluster of each row: its smallest member
    if n_rows < 2:
        return labels
    keys = lsh.band_keys(signatures, bands, rows)
    for band in range(bands):
        order = np.argsort(keys[:, band], kind="stable")  # stable: keep-rule order within a bucket
        sorted_keys = keys[order, band]
        new_bucket = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]
        bucket_start = np.maximum.accumulate(np.where(new_bucket, np.arange(n_rows), 0))
        before = np.minimum(np.arange(n_rows) - bucket_start, lsh.MAX_VERIFIED)  # earlier rows in the bucket
        if not before.any():
            continue
        starts = np.flatnonzero(new_bucket)
        stats.max_bucket = max(stats.max_bucket, int(np.diff(np.r_[starts, n_rows]).max()))
        labels = _join_band(signatures, order, before, labels, threshold, stats)
    return labels


def _join_band(signatures: np.ndarray, order: np.ndarray, before: np.ndarray, labels: np.ndarray,
               threshold: float, stats: BandingStats) -> np.ndarray:
    """Pair each row with the `before[p]` rows preceding it in its bucket, verify, merge clusters."""
    positions = np.flatnonzero(before)
    counts = before[positions]
    ends = np.cumsum(counts)
    first = 0
    while first < len(positions):
        last = max(first + 1, int(np.searchsorted(ends, (ends[first - 1] if first else 0) + lsh.PAIR_BLOCK, "right")))
        block, block_counts = positions[first:last], counts[first:last]
        total = int(block_counts.sum())
        # later row at sorted position p, earlier rows at p-1 ... p-before[p]
        later_pos = np.repeat(block, block_counts)
        step = np.arange(total) - np.repeat(np.cumsum(block_counts) - block_counts, block_counts) + 1
        later, earlier = order[later_pos], order[later_pos - step]
        open_pair = labels[later] != labels[earlier]  # already one cluster: nothing to learn
        later, earlier = later[open_pair], earlier[open_pair]
        stats.candidate_pairs += len(later)
        if len(later):
            similar = np.concatenate([
                (lsh.read_rows(signatures, later[start : start + lsh.VERIFY_BLOCK])
                 == lsh.read_rows(signatures, earlier[start : start + lsh.VERIFY_BLOCK])).mean(axis=1) >= threshold
                for start in range(0, len(later), lsh.VERIFY_BLOCK)])
            later, earlier = later[similar], earlier[similar]
            stats.verified_pairs += len(later)
            if len(later):
                labels = lsh.merge_clusters(labels, labels[later], labels[earlier])
        first = last
    return labels
