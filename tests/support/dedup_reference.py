"""The in-memory dedup as it was before band sharding: the reference the sharded engine must equal.

`InMemoryDedupIndex` is cmedins' engine with its former exact and near passes: each partition's rows in
memory, exact runs by one lexsort, near clusters by lsh.cluster_keepers (every band sorted in memory). The
tests and bench/bench_dedup.py compare the sharded engine's removals with it, row for row.
"""

from __future__ import annotations

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
            banding = lsh.BandingStats()
            keeper = in_keep_order[lsh.cluster_keepers(block, self.params.threshold, lsh_stats["bands"],
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
