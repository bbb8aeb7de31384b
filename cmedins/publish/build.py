"""Read a finished build folder (stats.json, manifest.json, data/ shards) for the card, plots and push."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from cmedins.errors import CmedinsError

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
    def splits(self) -> list[str]:
        known = [split for split in SPLIT_ORDER if split in self.shards]
        return known + sorted(set(self.shards) - set(known))

    def rows(self, split: str) -> list[dict]:
        """All rows of one split as dicts (Parquet order, i.e. the order `load_dataset` returns)."""
        return [row for shard in self.shards[split] for row in pq.read_table(shard).to_pylist()]

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
        raise CmedinsError(f"{path}: not valid JSON ({error.msg} at line {error.lineno})") from None
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
