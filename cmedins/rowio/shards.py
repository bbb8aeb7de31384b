"""The build folder's files: Parquet shards per split, a JSONL preview, stats.json and manifest.json.

Bytes depend only on the rows: no timestamps, sorted keys, the Arrow schema of the contract (contracts.arrow).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq


def shard_names(split: str, rows: int, shard_rows: int) -> list[str]:
    count = max(1, math.ceil(rows / shard_rows))
    return [f"{split}-{index:05d}-of-{count:05d}.parquet" for index in range(count)]


class SplitWriter:
    """Streams rows of one split into fixed-size Parquet shards under data/."""

    def __init__(self, data_dir: Path, split: str, total_rows: int, schema: pa.Schema, shard_rows: int = 200_000):
        self.paths = [data_dir / name for name in shard_names(split, total_rows, shard_rows)]
        self.schema = schema
        self.shard_rows = shard_rows
        self._buffer: list[dict] = []
        self._writer: pq.ParquetWriter | None = None
        self._shard = -1
        self._in_shard = 0
        self.written = 0
        data_dir.mkdir(parents=True, exist_ok=True)
        if total_rows == 0:  # an empty split still gets a (valid, empty) file so loaders see the split
            pq.write_table(schema.empty_table(), self.paths[0])

    def write(self, row: dict) -> None:
        self._buffer.append(row)
        if len(self._buffer) >= 5_000:
            self._flush()

    def _flush(self) -> None:
        while self._buffer:
            if self._writer is None or self._in_shard >= self.shard_rows:
                self._next_shard()
            room = self.shard_rows - self._in_shard
            chunk, self._buffer = self._buffer[:room], self._buffer[room:]
            table = pa.Table.from_pylist(chunk, schema=self.schema)  # takes the schema's keys, None where absent
            self._writer.write_table(table)
            self._in_shard += len(chunk)
            self.written += len(chunk)

    def _next_shard(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._shard += 1
        self._writer = pq.ParquetWriter(self.paths[self._shard], self.schema)
        self._in_shard = 0

    def close(self) -> None:
        self._flush()
        if self._writer is not None:
            self._writer.close()


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n",
                    encoding="utf-8")


def write_preview(path: Path, rows: Iterable[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
