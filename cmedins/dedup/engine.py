"""The dedup passes: exact (stable hash of the normalised text), then near (MinHash-LSH), per scope.

Rows are added one by one (streaming) and signed in batches (here, or on Ray workers through a task map);
the engine keeps per row only packed keep-rule facts (~32 bytes: exact hash, source, task, answer length, id
prefix). Signatures go to a file in the work folder and are read back through a memory map; row ids go to a
text file, read back only for the rows the report names.

Scopes run in order: "per_source" (each source against itself), then "global" (all survivors together),
as SF-Med does. Within a scope, exact duplicates go first, then near-duplicate clusters. Both passes are
band-sharded (cmedins.dedup.shards): the (bucket key, row) records of the scope's partitions are split by a
hash of the key into shard files, each shard is resolved on its own (memory: one shard, set by
`memory_budget`), and the near pass's verified edges from all shards are joined by connected components, so
a row matching two kept rows merges their clusters. The result equals banding each partition in memory
(tests/test_dedup_shards.py).

Keep rule (deterministic, independent of input order): in every cluster the kept row is the one with
  1. the best source priority (position in `source_priority`, if given; unlisted sources come last),
  2. the longest answer (characters of the `answer` field, else of all assistant turns),
  3. the smallest row id (its first 8 characters),
  4. the earliest position in the input.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from cmedins.dedup import lsh, shards
from cmedins.dedup.lines import LineSigner, exact_hash
from cmedins.dedup.normalise import normalise_batch
from cmedins.dedup.signatures import Signer
from cmedins.dedup.tasks import LOCAL, TaskMap
from cmedins.errors import CmedinsError

SCOPES = ("per_source", "global")
KEPT, EXACT, NEAR = 0, 1, 2
REASONS = {EXACT: "duplicate_exact", NEAR: "duplicate_near"}
_BATCH = 2048  # texts signed together
_PART_ROWS = 8192  # fewest rows of one shard map task


@dataclass(frozen=True)
class DedupParams:
    n: int = 5  # characters per shingle
    num_perm: int = 128
    threshold: float = 0.7  # estimated Jaccard at or above which two rows are near-duplicates
    scopes: tuple[str, ...] = SCOPES
    seed: int = 1
    t2s: bool = False
    source_priority: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= self.n <= 64:
            raise CmedinsError(f"dedup: n must be between 1 and 64 characters, got {self.n}")
        if not 16 <= self.num_perm <= 1024:
            raise CmedinsError(f"dedup: num_perm must be between 16 and 1024, got {self.num_perm}")
        if not 0.0 < self.threshold < 1.0:
            raise CmedinsError(f"dedup: threshold must be between 0 and 1 (exclusive), got {self.threshold}")
        unknown = [scope for scope in self.scopes if scope not in SCOPES]
        if unknown or not self.scopes:
            raise CmedinsError(f"dedup: scope must be a list of {', '.join(SCOPES)}; got {list(self.scopes)}")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "scopes": list(self.scopes), "source_priority": list(self.source_priority)}


@dataclass
class DedupResult:
    """Per row: status (KEPT/EXACT/NEAR), the kept row it duplicates, estimated similarity, scope index."""

    status: np.ndarray
    kept: np.ndarray
    similarity: np.ndarray
    scope: np.ndarray
    groups: list[str]
    group_of: np.ndarray
    stats: dict[str, Any] = field(default_factory=dict)

    def kept_ids(self, ids_path: Path) -> dict[int, str]:
        """Ids of the rows some removed row points at (read back from the ids file)."""
        return ids_at(ids_path, set(self.kept[self.status != KEPT].tolist()))


def ids_at(ids_path: Path, wanted: set[int]) -> dict[int, str]:
    """The ids file's lines at the `wanted` positions."""
    found: dict[int, str] = {}
    with ids_path.open(encoding="utf-8", newline="\n") as handle:
        for position, line in enumerate(handle):
            if position in wanted:
                found[position] = line.rstrip("\n")
    return found


def sign_batch(settings: tuple[int, int, int, bool], texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """A batch's exact hashes (0 = empty text, no candidate) and MinHash signatures: a task of the task map.
    Built from the texts' lines (cmedins.dedup.lines), except under t2s, whose conversion is not per line."""
    n, num_perm, seed, t2s = settings
    if not t2s:
        return _line_signer(n, num_perm, seed).sign(texts)
    normals = normalise_batch(texts, t2s=t2s)
    exact = np.fromiter((exact_hash(normal) if normal else 0 for normal in normals), dtype=np.uint64,
                        count=len(normals))
    return exact, _signer(n, num_perm, seed).sign(normals)


@lru_cache(maxsize=4)
def _signer(n: int, num_perm: int, seed: int) -> Signer:
    return Signer(n, num_perm, seed)  # once per process (a Ray worker signs many batches)


@lru_cache(maxsize=4)
def _line_signer(n: int, num_perm: int, seed: int) -> LineSigner:
    return LineSigner(n, num_perm, seed)  # its line cache lives as long as the process


class DedupIndex:
    """Add rows (streaming), then `resolve()` once.

    `task_map` runs the signing batches and the shards' map and reduce tasks (here, or on Ray workers);
    `memory_budget` is what one shard may take while it is resolved (it sets the number of shards)."""

    def __init__(self, params: DedupParams, work_dir: Path, *, task_map: TaskMap = LOCAL,
                 memory_budget: int = shards.DEFAULT_BUDGET):
        self.params = params
        self.task_map = task_map
        self.memory_budget = memory_budget
        self.work_dir = work_dir
        work_dir.mkdir(parents=True, exist_ok=True)
        self.signatures_path = work_dir / "signatures.u32"
        self.fingerprints_path = work_dir / "fingerprints.u64"  # 4 bits a value: the shards' cheap first test
        self.ids_path = work_dir / "ids.txt"
        self._signatures = self.signatures_path.open("wb")
        self._fingerprints = self.fingerprints_path.open("wb")
        self._ids = self.ids_path.open("w", encoding="utf-8", newline="\n")  # one row a line, "\r" kept
        self._signing = task_map.pipeline(sign_batch, (params.n, params.num_perm, params.seed, params.t2s))
        self._pending: list[str] = []
        # Per-row facts as packed arrays (~32 bytes a row), not Python lists of int objects.
        self._exact = array("Q")  # 64-bit hash of the normalised text; 0 = not a candidate
        self._group = array("i")
        self._answer_chars = array("q")
        self._id_prefix = array("Q")
        self._groups: dict[str, int] = {}
        self._task = array("i")
        self._tasks: dict[str, int] = {}
        self.rows = 0

    def add(self, text: str | None, *, group: str, answer_chars: int, row_id: str, label: str | None = None,
            task: str = "") -> None:
        """One row in input order. `text=None` marks a row that takes no part (e.g. another row kind).
        `group` is the source (the per-source scope); rows of different `task`s are never duplicates of each
        other (a record's diagnosis and treatment rows share its text). `row_id` breaks keep-rule ties ("" for
        none: the earliest row wins); `label` names the row in reports."""
        self._pending.append(text or "")
        self._group.append(self._groups.setdefault(group, len(self._groups)))
        self._task.append(self._tasks.setdefault(task, len(self._tasks)))
        self._answer_chars.append(answer_chars)
        self._id_prefix.append(int.from_bytes(row_id.encode("utf-8")[:8].ljust(8, b"\0"), "big"))
        self._ids.write((label or row_id).replace("\n", " ") + "\n")
        self.rows += 1
        if len(self._pending) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._take(self._signing.put(self._pending))
            self._pending = []

    def _take(self, signed: list[tuple[np.ndarray, np.ndarray]]) -> None:
        for exact, signatures in signed:  # in submission order: row order
            self._exact.frombytes(exact.tobytes())
            self._signatures.write(signatures.tobytes())
            self._fingerprints.write(shards.fingerprint(signatures).tobytes())

    def resolve(self) -> DedupResult:
        self._flush()
        self._take(self._signing.close())
        self._signatures.close()
        self._fingerprints.close()
        self._ids.close()
        n_rows = self.rows
        shards.check_rows(n_rows)
        signatures = (np.memmap(self.signatures_path, dtype=np.uint32, mode="r", shape=(n_rows, self.params.num_perm))
                      if n_rows else np.zeros((0, self.params.num_perm), dtype=np.uint32))
        exact = np.frombuffer(self._exact, dtype=np.uint64) if n_rows else np.zeros(0, dtype=np.uint64)
        group_of = np.frombuffer(self._group, dtype=np.int32).astype(np.int64) if n_rows else np.zeros(0, np.int64)
        task_of = np.frombuffer(self._task, dtype=np.int32).astype(np.int64) if n_rows else np.zeros(0, np.int64)
        rank = self._keep_rank(group_of)
        result = DedupResult(
            status=np.zeros(n_rows, dtype=np.int8), kept=np.full(n_rows, -1, dtype=np.int64),
            similarity=np.ones(n_rows, dtype=np.float32), scope=np.full(n_rows, -1, dtype=np.int8),
            groups=list(self._groups), group_of=group_of,
        )
        candidates = exact != 0
        stats: dict[str, Any] = {
            "params": self.params.as_dict(), "rows_in": n_rows, "candidates": int(candidates.sum()),
            "empty_text": int(n_rows - candidates.sum()), "scopes": {}, "lsh": {},
        }
        bands, rows_per_band = lsh.band_shape(self.params.threshold, self.params.num_perm)
        stats["lsh"] = {"bands": bands, "rows_per_band": rows_per_band, "max_keys": 0, "max_bucket": 0,
                        "candidate_pairs": 0, "verified_pairs": 0, "shards": 0, "edges": 0,
                        "shard_budget_mb": self.memory_budget >> 20}
        for scope_number, scope in enumerate(self.params.scopes):
            scope_stats = {"exact": 0, "near": 0, "clusters": 0}
            # A partition: one task within one source (per_source), or one task across sources (global).
            # Partitions never mix: each is a separate bucket space of the shards.
            partition = task_of * len(self._groups) + group_of if scope == "per_source" else task_of
            alive = np.flatnonzero(candidates & (result.status == KEPT))
            self._exact_pass(alive, partition, exact, rank, result, scope_number, scope_stats)
            alive = alive[result.status[alive] == KEPT]
            self._near_pass(alive, partition, signatures, rank, result, scope_number, scope_stats, stats["lsh"])
            stats["scopes"][scope] = scope_stats
        _point_at_final_keepers(result, signatures)
        stats["exact"] = int((result.status == EXACT).sum())
        stats["near"] = int((result.status == NEAR).sum())
        stats["clusters"] = sum(s["clusters"] for s in stats["scopes"].values())
        stats["rows_kept"] = int((result.status == KEPT).sum())
        result.stats = stats
        return result

    def _keep_rank(self, group_of: np.ndarray) -> np.ndarray:
        """Rank of every row under the keep rule (0 = most preferred)."""
        priority = {name: i for i, name in enumerate(self.params.source_priority)}
        group_priority = np.array([priority.get(name, len(priority)) for name in self._groups] or [0], dtype=np.int64)
        if not self.rows:
            return np.zeros(0, dtype=np.int64)
        order = np.lexsort((
            np.arange(self.rows),
            np.frombuffer(self._id_prefix, dtype=np.uint64),
            -np.frombuffer(self._answer_chars, dtype=np.int64),
            group_priority[group_of],
        ))
        rank = np.empty(self.rows, dtype=np.int64)
        rank[order] = np.arange(self.rows)
        return rank

    def _sharded(self, name: str, alive: np.ndarray, partition: np.ndarray, rank: np.ndarray, *, near: bool,
                 exact: np.ndarray | None = None) -> Iterator[shards.ShardResult]:
        """One pass over the shards: map the alive rows' records into shard files, resolve every shard (results
        stream back in shard order; the first item is the shard count)."""
        bands, rows_per_band = lsh.band_shape(self.params.threshold, self.params.num_perm)
        per_row = bands if near else 1
        job = shards.ShardJob(
            folder=str(self.work_dir / name), shards=shards.shard_count(len(alive) * per_row, self.memory_budget),
            signatures=str(self.signatures_path), fingerprints=str(self.fingerprints_path), rows=self.rows,
            num_perm=self.params.num_perm, bands=bands, rows_per_band=rows_per_band, threshold=self.params.threshold,
            near=near)
        # Parts: one per map task, at least _PART_ROWS rows each (locally one part, so one file per shard).
        parts = max(1, min(2 * self.task_map.workers, len(alive) // _PART_ROWS))
        items = [shards.MapItem(part, rows.astype(np.uint32), partition[rows].astype(np.uint32),
                                rank[rows].astype(np.uint32), None if exact is None else exact[rows])
                 for part, rows in enumerate(np.array_split(alive, parts))]
        yield job.shards
        yield from shards.shuffle(self.task_map, job, items)  # by shard files, or the task map's own shuffle

    def _exact_pass(self, alive: np.ndarray, partition: np.ndarray, exact: np.ndarray, rank: np.ndarray,
                    result: DedupResult, scope: int, stats: dict[str, int]) -> None:
        if len(alive) < 2:
            return
        results = self._sharded(f"exact{scope}", alive, partition, rank, near=False, exact=exact)
        next(results)  # the shard count
        for shard in results:
            result.status[shard.a] = EXACT
            result.kept[shard.a] = shard.b
            result.scope[shard.a] = scope
            stats["exact"] += len(shard.a)
            stats["clusters"] += shard.buckets_shared

    def _near_pass(self, alive: np.ndarray, partition: np.ndarray, signatures: np.ndarray, rank: np.ndarray,
                   result: DedupResult, scope: int, stats: dict[str, int], lsh_stats: dict[str, int]) -> None:
        if len(alive) < 2:
            return
        lsh_stats["max_keys"] = max(lsh_stats["max_keys"], int(np.bincount(partition[alive]).max()))
        results = self._sharded(f"near{scope}", alive, partition, rank, near=True)
        lsh_stats["shards"] = max(lsh_stats["shards"], next(results))
        edges = shards.EdgeForest()
        for shard in results:
            lsh_stats["max_bucket"] = max(lsh_stats["max_bucket"], shard.max_bucket)
            lsh_stats["candidate_pairs"] += shard.candidate_pairs
            lsh_stats["verified_pairs"] += shard.verified_pairs
            lsh_stats["edges"] += len(shard.a)  # edges the shards send the driver
            edges.add(shard.a, shard.b)
        rows, keeper = shards.keepers_from_edges(*edges.arrays(), rank)
        removed = keeper != rows
        self.mark_near(rows[removed], keeper[removed], signatures, result, scope, stats)

    @staticmethod
    def mark_near(gone: np.ndarray, kept: np.ndarray, signatures: np.ndarray, result: DedupResult, scope: int,
                  stats: dict[str, int]) -> None:
        """Record near-duplicate removals (row -> the row that keeps its cluster) and their similarity."""
        if not len(gone):
            return
        result.status[gone] = NEAR
        result.kept[gone] = kept
        result.scope[gone] = scope
        result.similarity[gone] = shards.signature_shares(signatures, gone, kept)
        stats["near"] += len(gone)
        stats["clusters"] += len(np.unique(kept))


def _point_at_final_keepers(result: DedupResult, signatures: np.ndarray) -> None:
    """A row removed early may point at a row a later pass removed (exact copy of a near-duplicate, per-source
    keeper that the global pass dropped): follow the chain to the row actually kept, and re-estimate."""
    removed = np.flatnonzero(result.status != KEPT)
    stale = removed[result.status[result.kept[removed]] != KEPT]
    if not len(stale):
        return
    while True:
        keeper = result.kept[stale]
        chained = result.status[keeper] != KEPT
        if not chained.any():
            break
        result.kept[stale[chained]] = result.kept[keeper[chained]]
    result.similarity[stale] = shards.signature_shares(signatures, stale, result.kept[stale])


