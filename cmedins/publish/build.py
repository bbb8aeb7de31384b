"""Read a finished build folder (stats.json, manifest.json, data/ shards) for the card, plots and push."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from cmedins.contracts.reports import DeidFacts, DeidNotRun, read_deid, read_deid_section
from cmedins.errors import CmedinsError
from cmedins.rowio.readers import json_problem

SPLIT_ORDER = ("train", "validation", "test")


@dataclass(frozen=True)
class Build:
    root: Path
    stats: dict[str, Any]
    manifest: dict[str, Any]
    shards: dict[str, list[Path]]  # split -> its Parquet shards, in name order

    @property
    def kind(self) -> str:
        return self.stats.get("kind", "sft")

    @property
    def deid(self) -> DeidFacts | None:
        """manifest.json `deid` (contracts.reports.read_deid); None when de-identification did not run."""
        return read_deid(self.manifest, self.root / "manifest.json")

    @property
    def sources_already_deidentified(self) -> bool:
        """The recipe declared its sources de-identified before cmedins, so no deid stage ran."""
        section = read_deid_section(self.manifest, self.root / "manifest.json")
        return isinstance(section, DeidNotRun) and section.sources_already_deidentified

    @property
    def splits(self) -> list[str]:
        known = [split for split in SPLIT_ORDER if split in self.shards]
        return known + sorted(set(self.shards) - set(known))

    def rows(self, split: str) -> list[dict]:
        """All rows of one split as dicts (Parquet order, i.e. the order `load_dataset` returns)."""
        return [row for shard in self.shards[split] for row in pq.read_table(shard).to_pylist()]

    def value_counts(self, column: str) -> Counter:
        """Exact counts of one column over every split, read column-only (cheap at a million rows)."""
        counts: Counter = Counter()
        for split in self.splits:
            for shard in self.shards[split]:
                counts.update(pq.read_table(shard, columns=[column]).column(column).to_pylist())
        return counts

    def card_rows(self, limit: int = 50_000) -> tuple[list[dict], int]:
        """Rows for the card's examples and per-row figures: all rows when there are at most `limit`, else
        every k-th row plus the first row of each task or deciding dimension (so every example exists).
        Returns (rows, k). Keeps a million-row build's card within a few hundred MB."""
        step = max(1, -(-self.total_rows // limit))
        if step == 1:
            return [row for split in self.splits for row in self.rows(split)], 1
        key = "deciding_dimension" if self.kind == "dpo" else "task"
        rows, seen, offset = [], set(), 0
        for split in self.splits:
            for shard in self.shards[split]:
                # Batch by batch: a whole 200k-row shard in Arrow memory would cost a gigabyte.
                for batch in pq.ParquetFile(shard).iter_batches(batch_size=8192):
                    labels = batch.column(key).to_pylist()
                    firsts = [i for i, label in enumerate(labels) if label not in seen and not seen.add(label)]
                    wanted = sorted(set(range((-offset) % step, batch.num_rows, step)) | set(firsts))
                    rows += batch.take(pa.array(wanted, type=pa.int64())).to_pylist()
                    offset += batch.num_rows
        return rows, step

    def row_count(self, split: str) -> int:
        return sum(pq.ParquetFile(shard).metadata.num_rows for shard in self.shards[split])

    @property
    def total_rows(self) -> int:
        return sum(self.row_count(split) for split in self.splits)

    def recipe_section(self, key: str) -> dict[str, Any]:
        section = (self.manifest.get("recipe") or {}).get(key) or {}
        if not isinstance(section, dict):
            raise CmedinsError(f"{self.root / 'manifest.json'}: recipe key '{key}' must be a mapping")
        return section


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise CmedinsError(f"{path}: missing (is this a cmedins build folder?)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise CmedinsError(f"{path}: not valid JSON at line {error.lineno} column {error.colno}: "
                           f"{json_problem(error)}") from None
    if not isinstance(data, dict):
        raise CmedinsError(f"{path}: expected a JSON object")
    return data


def load_build(root: Path) -> Build:
    root = Path(root)
    if not root.is_dir():
        raise CmedinsError(f"{root}: no such build folder")
    shards: dict[str, list[Path]] = {}
    for path in sorted((root / "data").glob("*.parquet")):
        # Shards are named <split>-00000-of-00001.parquet (the Hub's convention, which datasets also reads).
        shards.setdefault(path.name.split("-", 1)[0], []).append(path)
    if not shards:
        raise CmedinsError(f"{root / 'data'}: no Parquet shards")
    return Build(root=root, stats=_read_json(root / "stats.json"), manifest=_read_json(root / "manifest.json"),
                 shards=shards)
