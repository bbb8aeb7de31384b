"""The dedup passes: exact (stable hash of the normalised text), then near (MinHash-LSH), per scope.

Rows are added one by one (streaming); the engine keeps per row only an 8-byte exact hash, its group
(source), its keep-rule key and its position. Signatures go to a file in the work folder and are read back
through a memory map; row ids go to a text file, read back only for the rows the report names. So memory is
O(rows x ~30 bytes) + one LSH index at a time, not O(rows x text).

Scopes run in order: "per_source" (each source against itself), then "global" (all survivors together),
as SF-Med does. Within a scope, exact duplicates go first, then near-duplicate clusters: the partition's
signatures, in keep-rule order, are banded as arrays (lsh.cluster_keepers: sort by band key, verify candidate
pairs, connected components), so a row matching two kept rows merges their clusters.

Keep rule (deterministic, independent of input order): in every cluster the kept row is the one with
  1. the best source priority (position in `source_priority`, if given; unlisted sources come last),
  2. the longest answer (characters of the `answer` field, else of all assistant turns),
  3. the smallest row id (its first 8 characters),
  4. the earliest position in the input.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cmedins.dedup import lsh
from cmedins.dedup.normalise import normalise_batch
from cmedins.dedup.signatures import Signer
from cmedins.errors import CmedinsError

SCOPES = ("per_source", "global")
KEPT, EXACT, NEAR = 0, 1, 2
REASONS = {EXACT: "duplicate_exact", NEAR: "duplicate_near"}
_BATCH = 2048  # texts signed together


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
        wanted = set(self.kept[self.status != KEPT].tolist())
        found: dict[int, str] = {}
        with ids_path.open(encoding="utf-8") as handle:
            for position, line in enumerate(handle):
                if position in wanted:
                    found[position] = line.rstrip("\n")
        return found


class DedupIndex:
    """Add rows (streaming), then `resolve()` once."""

    def __init__(self, params: DedupParams, work_dir: Path):
        self.params = params
        self.signer = Signer(params.n, params.num_perm, params.seed)
        work_dir.mkdir(parents=True, exist_ok=True)
        self.signatures_path = work_dir / "signatures.u32"
        self.ids_path = work_dir / "ids.txt"
        self._signatures = self.signatures_path.open("wb")
        self._ids = self.ids_path.open("w", encoding="utf-8")
        self._pending: list[str] = []
        self._exact: list[int] = []  # 64-bit hash of the normalised text; 0 = not a candidate
        self._group: list[int] = []
        self._answer_chars: list[int] = []
        self._id_prefix: list[int] = []
        self._groups: dict[str, int] = {}
        self._task: list[int] = []
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
            normals = normalise_batch(self._pending, t2s=self.params.t2s)
            self._exact.extend(_exact_hash(normal) if normal else 0 for normal in normals)
            self._signatures.write(self.signer.sign(normals).tobytes())
            self._pending = []

    def resolve(self) -> DedupResult:
        self._flush()
        self._signatures.close()
        self._ids.close()
        n_rows = self.rows
        signatures = (np.memmap(self.signatures_path, dtype=np.uint32, mode="r", shape=(n_rows, self.params.num_perm))
                      if n_rows else np.zeros((0, self.params.num_perm), dtype=np.uint32))
        exact = np.array(self._exact, dtype=np.uint64)
        group_of = np.array(self._group, dtype=np.int64)
        task_of = np.array(self._task, dtype=np.int64)
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
                        "candidate_pairs": 0, "verified_pairs": 0}
        for scope_number, scope in enumerate(self.params.scopes):
            scope_stats = {"exact": 0, "near": 0, "clusters": 0}
            # A partition: one task within one source (per_source), or one task across sources (global).
            partition = task_of * len(self._groups) + group_of if scope == "per_source" else task_of
            alive = np.flatnonzero(candidates & (result.status == KEPT))  # partitions are disjoint: once per scope
            alive = alive[np.argsort(partition[alive], kind="stable")]
            bounds = np.flatnonzero(np.diff(partition[alive])) + 1
            for members in np.split(alive, bounds):
                self._exact_pass(members, exact, rank, result, scope_number, scope_stats)
                members = members[result.status[members] == KEPT]
                self._near_pass(members, signatures, rank, result, scope_number, scope_stats, stats["lsh"])
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
        order = np.lexsort((
            np.arange(self.rows),
            np.array(self._id_prefix, dtype=np.uint64),
            -np.array(self._answer_chars, dtype=np.int64),
            group_priority[group_of] if self.rows else np.zeros(0, dtype=np.int64),
        ))
        rank = np.empty(self.rows, dtype=np.int64)
        rank[order] = np.arange(self.rows)
        return rank

    @staticmethod
    def _exact_pass(members: np.ndarray, exact: np.ndarray, rank: np.ndarray, result: DedupResult,
                    scope: int, stats: dict[str, int]) -> None:
        if len(members) < 2:
            return
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

    def _near_pass(self, members: np.ndarray, signatures: np.ndarray, rank: np.ndarray, result: DedupResult,
                   scope: int, stats: dict[str, int], lsh_stats: dict[str, int]) -> None:
        if len(members) < 2:
            return
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
        if not removed.any():
            return
        gone, kept = in_keep_order[removed], keeper[removed]
        result.status[gone] = NEAR
        result.kept[gone] = kept
        result.scope[gone] = scope
        result.similarity[gone] = (block[removed] == lsh.read_rows(signatures, kept)).mean(axis=1)
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
    for row in stale.tolist():
        keeper = int(result.kept[row])
        result.similarity[row] = (np.asarray(signatures[row]) == np.asarray(signatures[keeper])).mean()


def _exact_hash(text: str) -> int:
    value = int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")
    return value or 1  # 0 means "not a candidate"
