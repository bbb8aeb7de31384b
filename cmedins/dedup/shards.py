"""Band-sharded dedup: the (bucket key, row) records of a scope go to S shard files by a hash of the key, and
each shard is resolved on its own, so memory holds one shard, not the whole index.

One record per (row, band) for the near pass (key = the band key of lsh.band_keys, space = partition x bands
+ band), one per row for the exact pass (key = the exact hash, space = partition). Records are 20 bytes:
key u64, space u32, rank u32 (the row's place under the keep rule), row u32 (its position in the input).
Every record of one bucket (equal space and key) lands in the same shard, so a shard sees whole buckets:

- map (`write_part`): rows, ascending (the signatures' memory map is read front to back), in batches; each
  batch's records are split by shard and appended to that shard's file of this part. One part per map task:
  the local executor has one, Ray one per task, so no two writers share a file.
- reduce (`resolve_shard`): a shard's parts are read and sorted by (bucket, rank): every bucket lines up in
  keep-rule order, exactly as the in-memory banding (tests/support/dedup_reference.py) lines it up. Exact pass: every row of a bucket
  but the first is removed in favour of the first. Near pass: each row is paired with up to MAX_VERIFIED rows
  before it in its bucket (the in-memory rule), the distinct pairs of the shard are verified and the verified
  ones come back as edges. Verification is two-step and exact: the shard's rows' 4-bit fingerprints of every
  signature value (`fingerprint`, 64 bytes a row at 128 permutations, read once per shard into memory) must
  agree in at least `threshold` of the positions (two equal values have equal fingerprints, so no pair that
  passes the full test fails this one); only the pairs that pass are compared on their full signatures, read by
  row from the memory map. Candidate pairs are mostly far below the threshold (2% verified on the synthetic
  records): this keeps the random row reads of the 512-byte signatures, page faults each, off the candidates
  that fail, and a candidate costs one cache line a row and a popcount.
- the driver joins the edges of all shards by connected components (`keepers_from_edges`) and applies the
  keep rule: the same edges as the in-memory banding, so the same clusters and the same rows removed.

A pair that collides in several bands is verified at most once per shard it lands in, and, as in memory, not
at all once its rows are already joined within the shard (that saves work, never changes a cluster). A shard
sends back one edge per joined row (to its shard cluster's smallest row), so the driver's edges are at most
rows x min(shards, bands), whatever the size of the clusters.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from cmedins.dedup import lsh
from cmedins.dedup.tasks import TaskMap, map_ordered
from cmedins.errors import CmedinsError

RECORD = np.dtype([("key", "<u8"), ("space", "<u4"), ("rank", "<u4"), ("row", "<u4")])  # packed: 20 bytes
# Memory of one shard while it is resolved: per record, the records, their sort keys and orders, the rows'
# numbering and window counts, plus a fixed part for one block of candidate pairs and one of verified
# signatures (PAIR_BLOCK, lsh.VERIFY_BLOCK). tracemalloc on 100k-300k QA rows: 55-70 bytes per record and
# ~20 MiB (37 MiB for 255k records, 107 MiB for 1.62M); 96 and 32 MiB leave room for the allocator.
BYTES_PER_RECORD = 96 + 64  # + one row of fingerprints (128 permutations): a shard holds at most a row per record
FIXED_BYTES = 32 << 20
PAIR_BLOCK = 1 << 18  # candidate pairs made, deduplicated and verified at a time
DEFAULT_BUDGET = 256 << 20  # bytes one shard may take while it is resolved
MAP_BATCH = 1 << 14  # rows whose records are made and split at a time (~25 MiB)
_MAX_ROWS = (1 << 32) - 1  # row and rank are u32
_SPACE_MIX = np.uint64(0xD6E8FEB86659FD93)
_ROUTE_MIX = np.uint64(0xFF51AFD7ED558CCD)


def shard_count(records: int, budget: int = DEFAULT_BUDGET) -> int:
    """How many shards keep one shard within `budget` bytes while it is resolved."""
    usable = max(budget - FIXED_BYTES, budget // 4, 1)
    return max(1, math.ceil(records * BYTES_PER_RECORD / usable))


def check_rows(rows: int) -> None:
    if rows > _MAX_ROWS:
        raise CmedinsError(f"dedup: at most {_MAX_ROWS} rows per dedup stage, got {rows}")


@dataclass(frozen=True)
class ShardJob:
    """What every map and reduce task of one pass shares (small, picklable: paths, not arrays)."""

    folder: str  # where this pass's shard files go
    shards: int
    signatures: str  # the (rows, num_perm) uint32 file
    fingerprints: str  # the (rows, fingerprint_words(num_perm)) uint64 file of their packed fingerprints
    rows: int
    num_perm: int
    bands: int
    rows_per_band: int
    threshold: float
    near: bool  # False: the exact pass (key = exact hash, no verification)

    def signature_map(self) -> np.ndarray:
        return np.memmap(self.signatures, dtype=np.uint32, mode="r", shape=(self.rows, self.num_perm))

    def fingerprint_map(self) -> np.ndarray:
        return np.memmap(self.fingerprints, dtype=np.uint64, mode="r",
                         shape=(self.rows, fingerprint_words(self.num_perm)))

    def part_path(self, shard: int, part: int) -> Path:
        return Path(self.folder) / f"shard{shard:05d}.part{part:05d}"


@dataclass(frozen=True)
class MapItem:
    """One map task's rows (ascending), their partition, their keep-rule rank and, for the exact pass, hash."""

    part: int
    rows: np.ndarray
    partition: np.ndarray
    rank: np.ndarray
    exact: np.ndarray | None = None


@dataclass
class ShardResult:
    """What one shard gives back: edges (near) or removed -> keeper pairs (exact), and its figures."""

    a: np.ndarray
    b: np.ndarray
    records: int = 0
    buckets_shared: int = 0  # buckets of more than one row
    candidate_pairs: int = 0
    verified_pairs: int = 0
    max_bucket: int = 0
    extra: dict[str, int] = field(default_factory=dict)


def _route(keys: np.ndarray, spaces: np.ndarray, shards: int) -> np.ndarray:
    mixed = (keys ^ (spaces.astype(np.uint64) * _SPACE_MIX)) * _ROUTE_MIX
    return ((mixed >> np.uint64(32)) % np.uint64(shards)).astype(np.int64)


def _part_records(job: ShardJob, item: MapItem, signatures_of) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """`item`'s records, MAP_BATCH rows at a time, each batch sorted by shard with where each shard starts
    (`signatures_of(start, stop)`: the signatures of item.rows[start:stop], near pass only)."""
    for start in range(0, len(item.rows), MAP_BATCH):
        rows = item.rows[start : start + MAP_BATCH]
        partition = item.partition[start : start + MAP_BATCH].astype(np.uint64)
        rank = item.rank[start : start + MAP_BATCH]
        if job.near:
            keys = lsh.band_keys(signatures_of(start, start + len(rows)), job.bands, job.rows_per_band)
            spaces = partition[:, None] * np.uint64(job.bands) + np.arange(job.bands, dtype=np.uint64)[None, :]
        else:
            keys = item.exact[start : start + MAP_BATCH][:, None]
            spaces = partition[:, None]
        records = np.empty(keys.size, dtype=RECORD)
        records["key"] = keys.ravel()
        records["space"] = spaces.ravel()
        records["rank"] = np.repeat(rank, keys.shape[1])
        records["row"] = np.repeat(rows, keys.shape[1])
        destination = _route(records["key"], records["space"], job.shards)
        order = np.argsort(destination, kind="stable")
        records, destination = records[order], destination[order]
        yield records, np.searchsorted(destination, np.arange(job.shards + 1))


def write_part(job: ShardJob, item: MapItem) -> int:
    """Map task: the records of `item`'s rows, appended to this part's file of each shard; returns records."""
    folder = Path(job.folder)
    folder.mkdir(parents=True, exist_ok=True)
    signatures = job.signature_map() if job.near else None
    handles: dict[int, object] = {}
    written = 0
    try:
        for records, bounds in _part_records(job, item, lambda start, stop: lsh.read_rows(signatures, item.rows[start:stop])):
            for shard in np.flatnonzero(np.diff(bounds)).tolist():
                if shard not in handles:
                    handles[shard] = job.part_path(shard, item.part).open("ab")
                handles[shard].write(records[bounds[shard] : bounds[shard + 1]].tobytes())
            written += len(records)
    finally:
        for handle in handles.values():
            handle.close()
    return written


def split_part(job: ShardJob, item: MapItem, signatures: np.ndarray | None) -> list[np.ndarray]:
    """Map task of the object-store shuffle: `item`'s records, one array per shard (the same records, in the
    same order, as `write_part` appends to that shard's part file). `signatures`: item.rows' own (near pass)."""
    pieces: list[list[np.ndarray]] = [[] for _ in range(job.shards)]
    for records, bounds in _part_records(job, item, lambda start, stop: signatures[start:stop]):
        for shard in np.flatnonzero(np.diff(bounds)).tolist():
            pieces[shard].append(records[bounds[shard] : bounds[shard + 1]])
    return [np.concatenate(piece) if piece else np.zeros(0, dtype=RECORD) for piece in pieces]


def split_items(items: list[MapItem], rows: int) -> Iterator[MapItem]:
    """`items` cut into items of at most `rows` rows each, numbered anew (a shard's result does not depend on
    how its records were split into parts)."""
    number = 0
    for item in items:
        for start in range(0, len(item.rows), max(1, rows)):
            stop = start + rows
            yield MapItem(number, item.rows[start:stop], item.partition[start:stop], item.rank[start:stop],
                          None if item.exact is None else item.exact[start:stop])
            number += 1


def shuffle(task_map: TaskMap, job: ShardJob, items: list[MapItem]) -> Iterator[ShardResult]:
    """One pass's map and reduce tasks through `task_map`, the shards' results in shard order: by shard files
    in job.folder, or, for a task map whose `shuffle` is "objects" (the Ray executor without shared storage),
    through its own `shuffle_shards`. `items` is emptied once mapped (the rows' arrays are no longer needed)."""
    if getattr(task_map, "shuffle", "files") == "objects":
        yield from task_map.shuffle_shards(job, items)
        return
    for _ in map_ordered(task_map, write_part, job, items):
        pass
    items.clear()
    yield from map_ordered(task_map, resolve_shard, job, range(job.shards))
    shutil.rmtree(job.folder, ignore_errors=True)


def _read_shard(job: ShardJob, shard: int) -> np.ndarray:
    parts = sorted(Path(job.folder).glob(f"shard{shard:05d}.part*"))
    if not parts:
        return np.zeros(0, dtype=RECORD)
    return np.concatenate([np.fromfile(part, dtype=RECORD) for part in parts])


def _in_bucket_order(records: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The records' rows sorted by (bucket, rank), and where each bucket starts.

    Two quicksorts of 64-bit keys (2-3x a lexsort): by one mix of (space, key), then by (bucket number, rank),
    which is unique, so the order is one whatever order the parts came in. If two buckets ever shared a mix,
    the exact (space, key, rank) lexsort is used instead."""
    key, space, rank = records["key"], records["space"], records["rank"]
    mixed = key ^ (space.astype(np.uint64) * _SPACE_MIX)
    order = np.argsort(mixed)
    mixed = mixed[order]
    new_bucket = np.r_[True, mixed[1:] != mixed[:-1]]
    joined = np.flatnonzero(~new_bucket)  # positions whose record shares the previous one's mix
    if (key[order[joined]] != key[order[joined - 1]]).any() or (space[order[joined]] != space[order[joined - 1]]).any():
        order = np.lexsort((rank, key, space))
        same = (key[order][1:] == key[order][:-1]) & (space[order][1:] == space[order][:-1])
        return records["row"][order].astype(np.uint64), np.r_[True, ~same]
    bucket = np.cumsum(new_bucket, dtype=np.uint64)
    order = order[np.argsort((bucket << np.uint64(32)) | rank[order].astype(np.uint64))]
    return records["row"][order].astype(np.uint64), new_bucket


def resolve_shard(job: ShardJob, shard: int) -> ShardResult:
    """Reduce task: one shard's buckets -> exact removals (a = removed row, b = its keeper) or verified edges
    (a = later row, b = earlier row). Deletes the shard's files once read."""
    records = _read_shard(job, shard)
    for part in Path(job.folder).glob(f"shard{shard:05d}.part*"):
        part.unlink()
    signatures = job.signature_map() if job.near else None
    return resolve_records(job, records, lambda nodes: lsh.read_rows(job.fingerprint_map(), nodes),
                           lambda later, earlier: _verified(signatures, later, earlier, job.threshold))


def resolve_records(job: ShardJob, records: np.ndarray, prints_of, verify) -> ShardResult:
    """One shard's records (any order) -> its ShardResult. Near pass: `prints_of(rows)` gives the ascending
    rows' fingerprints, `verify(later, earlier)` whether each pair's full signatures reach the threshold (in
    this process from the memory maps, or, in the object-store shuffle, wherever the signatures live)."""
    empty = np.zeros(0, dtype=np.int64)
    if len(records) < 2:
        return ShardResult(empty, empty, records=len(records))
    rows, new_bucket = _in_bucket_order(records)
    del records
    count = len(rows)
    starts = np.flatnonzero(new_bucket)
    sizes = np.diff(np.r_[starts, count])
    bucket_start = np.repeat(starts, sizes)
    result = ShardResult(empty, empty, records=count, buckets_shared=int((sizes > 1).sum()),
                         max_bucket=int(sizes.max()))
    if not job.near:
        removed = ~new_bucket
        result.a, result.b = rows[removed].astype(np.int64), rows[bucket_start[removed]].astype(np.int64)
        return result
    before = np.minimum(np.arange(count) - bucket_start, lsh.MAX_VERIFIED)  # earlier rows in the bucket
    del bucket_start
    nodes, local = _numbered(rows, job.rows)  # the shard's rows, numbered 0..len(nodes)-1
    labels = np.arange(len(nodes), dtype=np.int64)  # each row's cluster within this shard: its smallest node
    prints = prints_of(nodes)  # ascending rows: one pass over the file
    for later, earlier in _window_pairs(local, before):
        open_pair = labels[later] != labels[earlier]  # already one cluster: nothing to learn
        later, earlier = later[open_pair], earlier[open_pair]
        result.candidate_pairs += len(later)
        similar = _agreeing(prints, later, earlier, job.threshold, job.num_perm)
        maybe = np.flatnonzero(similar)
        if len(maybe):
            similar[maybe] = verify(nodes[later[maybe]], nodes[earlier[maybe]])
        result.verified_pairs += int(similar.sum())
        if similar.any():
            labels = lsh.merge_clusters(labels, labels[later[similar]], labels[earlier[similar]])
    joined = np.flatnonzero(labels != np.arange(len(nodes)))
    # One edge per joined row, to its shard cluster's smallest row: the same components, at most a row each.
    result.a, result.b = nodes[joined].astype(np.int64), nodes[labels[joined]].astype(np.int64)
    return result


def _numbered(rows: np.ndarray, total: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows (ascending) and each record's number among them: np.unique(rows, return_inverse=True),
    by a lookup table over all `total` rows where that is smaller than the sort's copies (~20x faster on a
    shard of 1.2M records of 134k rows)."""
    if total > 4 * len(rows):
        nodes, local = np.unique(rows, return_inverse=True)
        return nodes, local.astype(np.uint64)
    seen = np.zeros(total, dtype=bool)
    seen[rows] = True
    nodes = np.flatnonzero(seen).astype(np.uint64)
    number = np.zeros(total, dtype=np.uint32)
    number[nodes] = np.arange(len(nodes), dtype=np.uint32)
    return nodes, number[rows].astype(np.uint64)


def _window_pairs(local: np.ndarray, before: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Blocks of distinct (later, earlier) pairs: sorted position p with positions p-1 .. p-before[p].

    Nearest neighbours in the bucket come first (steps 1, then 2-3, 4-7, ...): a bucket of copies is joined
    by its chain of adjacent pairs, and its farther pairs are then skipped as already joined, instead of
    verifying all of a bucket's pairs (the in-memory code gets the same from going band by band)."""
    active = np.flatnonzero(before)
    low = 1
    while len(active):
        high = 2 * low - 1
        counts = np.minimum(before[active], high) - low + 1
        ends = np.cumsum(counts)
        first = 0
        while first < len(active):  # in blocks of pairs: a giant bucket stays bounded
            done = ends[first - 1] if first else 0
            last = max(first + 1, int(np.searchsorted(ends, done + PAIR_BLOCK, "right")))
            block, block_counts = active[first:last], counts[first:last]
            later_pos = np.repeat(block, block_counts)
            step = (np.arange(len(later_pos)) - np.repeat(np.cumsum(block_counts) - block_counts, block_counts)
                    + low)
            code = np.unique((local[later_pos] << np.uint64(32)) | local[later_pos - step])
            yield (code >> np.uint64(32)).astype(np.int64), (code & np.uint64(0xFFFFFFFF)).astype(np.int64)
            first = last
        low = high + 1
        active = active[before[active] >= low]


def fingerprint_words(num_perm: int) -> int:
    return -(-num_perm // 16)  # 16 four-bit fingerprints a word


def fingerprint(signatures: np.ndarray) -> np.ndarray:
    """(rows, fingerprint_words) uint64: each signature value's top four bits after a multiplicative mix, 16 to a
    word (unused nibbles 0, equal in every row): equal values, equal nibbles."""
    rows, num_perm = signatures.shape
    nibbles = np.zeros((rows, fingerprint_words(num_perm) * 16), dtype=np.uint64)
    nibbles[:, :num_perm] = (signatures * np.uint32(0x9E3779B1)) >> np.uint32(28)
    packed = np.zeros((rows, fingerprint_words(num_perm)), dtype=np.uint64)
    for place in range(16):
        packed |= nibbles[:, place::16] << np.uint64(4 * place)
    return packed


_LOW_BITS = np.uint64(0x1111111111111111)


def _agreeing(prints: np.ndarray, later: np.ndarray, earlier: np.ndarray, threshold: float,
              num_perm: int) -> np.ndarray:
    """Whether each pair's fingerprints agree on at least `threshold` of the positions: a necessary condition
    of `_verified` (the same share, computed the same way, of at least as many positions), on rows in memory."""
    agree = np.zeros(len(later), dtype=bool)
    for start in range(0, len(later), lsh.VERIFY_BLOCK):
        stop = start + lsh.VERIFY_BLOCK
        differ = prints[later[start:stop]] ^ prints[earlier[start:stop]]
        differ |= differ >> np.uint64(1)
        differ |= differ >> np.uint64(2)  # a nibble's lowest bit: any of its four bits differ
        disagreeing = np.bitwise_count(differ & _LOW_BITS).sum(axis=1, dtype=np.int64)
        agree[start:stop] = (num_perm - disagreeing) / num_perm >= threshold
    return agree


def _verified(signatures: np.ndarray, later: np.ndarray, earlier: np.ndarray, threshold: float) -> np.ndarray:
    """Whether each pair's signatures agree on at least `threshold` of their positions (as lsh does)."""
    return signature_shares(signatures, later, earlier) >= threshold


def signature_shares(signatures: np.ndarray, rows: np.ndarray, others: np.ndarray) -> np.ndarray:
    """The estimated Jaccard of each row with its counterpart: the share of signature positions where they agree
    (count / positions, as a mean of booleans), in blocks of VERIFY_BLOCK pairs (two blocks of signatures in
    memory, not two per pair)."""
    shares = np.empty(len(rows), dtype=np.float64)
    for start in range(0, len(rows), lsh.VERIFY_BLOCK):
        stop = start + lsh.VERIFY_BLOCK
        shares[start:stop] = np.count_nonzero(lsh.read_rows(signatures, rows[start:stop])
                                              == lsh.read_rows(signatures, others[start:stop]), axis=1)
    return shares / signatures.shape[1]


class EdgeForest:
    """The edges of all shards on the driver, kept small: whenever they outgrow twice their last compacted
    size, they are replaced by one edge per joined row, to its component's smallest row (the same components).
    So the driver holds at most ~2 x 8 bytes per row in a cluster, not every shard's edges."""

    def __init__(self, compact_at: int = 1 << 20):
        self._a: list[np.ndarray] = []
        self._b: list[np.ndarray] = []
        self._size = 0
        self._compact_at = self._floor = compact_at

    def add(self, a: np.ndarray, b: np.ndarray) -> None:
        self._a.append(a.astype(np.uint32))
        self._b.append(b.astype(np.uint32))
        self._size += len(a)
        if self._size > self._compact_at:
            a, b = self.arrays()
            nodes, component = _components(a, b)
            smallest = np.full(component.max() + 1, len(nodes), dtype=np.int64)
            np.minimum.at(smallest, component, np.arange(len(nodes)))
            joined = smallest[component] != np.arange(len(nodes))
            self._a, self._b = [nodes[joined].astype(np.uint32)], [nodes[smallest[component]][joined].astype(np.uint32)]
            self._size = len(self._a[0])
            self._compact_at = max(self._floor, 2 * self._size)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if not self._a:
            return np.zeros(0, dtype=np.uint32), np.zeros(0, dtype=np.uint32)
        return np.concatenate(self._a), np.concatenate(self._b)


def _components(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows the edges touch (ascending) and each one's connected component."""
    nodes, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (inverse[: len(a)], inverse[len(a):])),
                       shape=(len(nodes), len(nodes)))
    return nodes, connected_components(graph, directed=True, connection="weak")[1]


def keepers_from_edges(a: np.ndarray, b: np.ndarray, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Clusters of the edges (connected components over the rows they touch) and the keep rule: for every row
    in a cluster, the cluster's row of smallest rank. Memory follows the edges, not the corpus."""
    if not len(a):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    nodes, component = _components(a, b)
    nodes = nodes.astype(np.int64)
    by_component = np.lexsort((rank[nodes], component))  # each component's best row first
    first = np.r_[True, component[by_component][1:] != component[by_component][:-1]]
    best = np.empty(component.max() + 1, dtype=np.int64)
    best[component[by_component][first]] = nodes[by_component][first]
    return nodes, best[component]
