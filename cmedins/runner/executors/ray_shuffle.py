"""Dedup's shards through Ray's object store: no task opens the work folder, so a cluster whose nodes share no
storage runs the same passes (`RayTaskMap(shuffle="objects")`, chosen by the executor: ray_executor).

- map: the driver cuts a pass's rows into parts of at most `part_rows` rows and sends each part to a task with
  its rows' signatures (read here from the driver's signature file; the exact pass needs only its hashes).
  The task makes the part's records exactly as the file shuffle does (shards.split_part) and returns them as
  one object per shard (`num_returns` = shards + 1; the first is the record count). One object per shard,
  not one list of all shards: a reduce task fetches only its own shard's records, where a list would bring
  every shard's records to every reduce task (shards-fold traffic).
- reduce: shard s's task gets the s-th object of every part (Ray fetches them to its node; the driver drops
  its references as it submits, so each shard's records go once its task is done). Fingerprints, the shard's
  first test, travel as blocks of rows put once per pass by the driver (64 B a row; a node fetches a block
  once, whatever its number of tasks); a reduce task gathers its rows' fingerprints from the blocks it needs.
  The full-signature check of the pairs that pass the fingerprints (~2% of the candidates) is done where the
  signatures are: by one actor pinned to the driver's node, which reads them from the signature file as the
  file shuffle's reduce does; a pair travels as 16 bytes and comes back as a verdict. Every reduce task
  asks for its pairs at the same point of the same loop (shards.resolve_records), so the shards' results,
  figures included, equal the file shuffle's.

At most 2 x workers map or reduce tasks are in flight; results are taken back in shard order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from contextlib import suppress
from typing import Any

import numpy as np

from cmedins.dedup import lsh, shards

PART_ROWS = 1 << 17  # rows of one map task at most (64 MiB of signatures in its argument)
BLOCK_RECORDS = 8192  # records a (part, shard) object should hold on average: 160 KiB, over Ray's 100 KiB
# inline limit, so the objects go to the object store and not into the driver's memory
FINGERPRINT_BLOCK_ROWS = 1 << 18  # rows of one fingerprint block (16 MiB at 128 permutations)
# Bytes this process has sent through the object store, by kind (bench/bench_dedup.py reads them): the map
# tasks' rows and signatures, the records, the fingerprint blocks, and the pairs sent to the verifier.
VOLUME = {"map_input": 0, "records": 0, "fingerprints": 0, "verified_pairs": 0}
VERIFIER_CPU_S = [0.0]  # CPU seconds of the verifier actors, taken before they go (a bench figure)


def part_rows(job: shards.ShardJob, alive: int, workers: int) -> int:
    """Rows per map task: enough tasks for the workers, parts large enough that their per-shard objects are
    not inlined into the driver, at most PART_ROWS (the driver reads one part's signatures at a time)."""
    per_row = job.bands if job.near else 1
    wide = max(PART_ROWS, -(-job.shards * BLOCK_RECORDS // per_row))
    return max(1, min(wide, -(-alive // max(1, 2 * workers))))


def shuffle_through_objects(ray: Any, job: shards.ShardJob, items: list[shards.MapItem], workers: int,
                            in_flight: int) -> Iterator[shards.ShardResult]:
    """shards.shuffle's results for `job`, the records moved through the object store."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    job_ref = ray.put(job)
    alive = sum(len(item.rows) for item in items)
    mapper = ray.remote(num_cpus=1)(_map_task).options(num_returns=job.shards + 1)
    by_shard: list[list] = [[] for _ in range(job.shards)]
    pending: deque = deque()
    signatures = job.signature_map() if job.near else None
    for item in shards.split_items(items, part_rows(job, alive, workers)):
        own = lsh.read_rows(signatures, item.rows) if job.near else None
        refs = mapper.remote(job_ref, item, own)
        VOLUME["map_input"] += sum(array.nbytes for array in (item.rows, item.partition, item.rank, item.exact, own)
                                   if array is not None)
        del own
        for shard, ref in enumerate(refs[1:]):
            by_shard[shard].append(ref)
        pending.append(refs[0])
        while len(pending) >= in_flight:
            VOLUME["records"] += ray.get(pending.popleft()) * shards.RECORD.itemsize
    items.clear()
    VOLUME["records"] += sum(ray.get(list(pending))) * shards.RECORD.itemsize
    pending.clear()
    prints: list = []
    verifier = None
    if job.near:
        prints = _fingerprint_blocks(ray, job)
        here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
        verifier = ray.remote(num_cpus=0, scheduling_strategy=here)(_Verifier).remote(job)
    reducer = ray.remote(num_cpus=1)(_reduce_task)
    try:
        for shard in range(job.shards):
            pending.append(reducer.remote(job_ref, prints, FINGERPRINT_BLOCK_ROWS, verifier, *by_shard[shard]))
            by_shard[shard] = []  # the task holds them now; they go when it is done
            while len(pending) >= in_flight:
                yield _counted(ray.get(pending.popleft()))
        while pending:
            yield _counted(ray.get(pending.popleft()))
    finally:
        if verifier is not None:
            with suppress(Exception):  # a figure only: never in the way of the pass's own error
                VERIFIER_CPU_S[0] += ray.get(verifier.cpu_seconds.remote(), timeout=10)
            ray.kill(verifier)


def _counted(result: shards.ShardResult) -> shards.ShardResult:
    VOLUME["verified_pairs"] += result.extra.pop("verify_bytes", 0)
    return result


def _fingerprint_blocks(ray: Any, job: shards.ShardJob) -> list:
    """The fingerprint file in blocks of FINGERPRINT_BLOCK_ROWS rows, each put into the object store."""
    mapped = job.fingerprint_map()
    blocks = []
    for start in range(0, job.rows, FINGERPRINT_BLOCK_ROWS):
        block = np.array(mapped[start : start + FINGERPRINT_BLOCK_ROWS])
        VOLUME["fingerprints"] += block.nbytes
        blocks.append(ray.put(block))
        del block
        lsh.release_pages(mapped)
    return blocks


def _map_task(job: shards.ShardJob, item: shards.MapItem, signatures: np.ndarray | None) -> tuple:
    pieces = shards.split_part(job, item, signatures)
    return (sum(len(piece) for piece in pieces), *pieces)


def _reduce_task(job: shards.ShardJob, prints: list, block_rows: int, verifier: Any,
                 *pieces: np.ndarray) -> shards.ShardResult:
    import ray

    records = np.concatenate(pieces) if pieces else np.zeros(0, dtype=shards.RECORD)
    del pieces

    def prints_of(nodes: np.ndarray) -> np.ndarray:
        out = np.empty((len(nodes), shards.fingerprint_words(job.num_perm)), dtype=np.uint64)
        block = nodes // block_rows
        bounds = np.r_[0, np.flatnonzero(np.diff(block)) + 1, len(nodes)].tolist()  # nodes ascend
        for first, last in zip(bounds[:-1], bounds[1:], strict=True):
            if first < last:
                number = int(block[first])
                out[first:last] = ray.get(prints[number])[nodes[first:last] - number * block_rows]
        return out

    sent = [0]

    def verify(later: np.ndarray, earlier: np.ndarray) -> np.ndarray:
        sent[0] += 9 * len(later)  # two u32 rows there, a verdict back
        return ray.get(verifier.verify.remote(later.astype(np.uint32), earlier.astype(np.uint32)))

    result = shards.resolve_records(job, records, prints_of, verify)
    result.extra["verify_bytes"] = sent[0]
    return result


class _Verifier:
    """On the driver's node: whether pairs of rows' full signatures reach the threshold, from the signature file
    (as the file shuffle's reduce checks them)."""

    def __init__(self, job: shards.ShardJob):
        self.job = job
        self.signatures = job.signature_map()

    def cpu_seconds(self) -> float:
        import time

        return time.process_time()

    def verify(self, later: np.ndarray, earlier: np.ndarray) -> np.ndarray:
        return shards.signature_shares(self.signatures, later.astype(np.int64), earlier.astype(np.int64)) \
            >= self.job.threshold
