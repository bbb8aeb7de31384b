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

FLUSH_ROWS = 5_000  # rows per Parquet write


def shard_names(split: str, rows: int, shard_rows: int) -> list[str]:
    count = max(1, math.ceil(rows / shard_rows))
    return [f"{split}-{index:05d}-of-{count:05d}.parquet" for index in range(count)]


class SplitWriter:
    """Streams rows of one split into fixed-size Parquet shards under data/: dict rows (`write`) or Arrow
    tables under the writer's schema (`write_table`), one or the other. Every FLUSH_ROWS rows are one Parquet
    write (a row group, or two where a shard ends), however they came, so the bytes depend on the rows only."""

    def __init__(self, data_dir: Path, split: str, total_rows: int, schema: pa.Schema, shard_rows: int = 200_000):
        self.paths = [data_dir / name for name in shard_names(split, total_rows, shard_rows)]
        self.schema = schema
        self.shard_rows = shard_rows
        self._buffer: list[dict] = []
        self._tables: list[pa.Table] = []
        self._table_rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._shard = -1
        self._in_shard = 0
        self.written = 0
        data_dir.mkdir(parents=True, exist_ok=True)
        if total_rows == 0:  # an empty split still gets a (valid, empty) file so loaders see the split
            pq.write_table(schema.empty_table(), self.paths[0])

    def write(self, row: dict) -> None:
        self._buffer.append(row)
        if len(self._buffer) >= FLUSH_ROWS:
            self._flush()

    def write_table(self, table: pa.Table | pa.RecordBatch) -> None:
        if len(table):
            self._tables.append(table if isinstance(table, pa.Table) else pa.Table.from_batches([table]))
            self._table_rows += len(table)
        while self._table_rows >= FLUSH_ROWS:
            self._flush_tables(FLUSH_ROWS)

    def _flush(self) -> None:
        if self._buffer:
            self._write(pa.Table.from_pylist(self._buffer, schema=self.schema))  # the schema's keys, None where absent
            self._buffer = []

    def _flush_tables(self, rows: int) -> None:
        # One contiguous table, as from_pylist makes it: Parquet pages follow the chunks they are given.
        joined = pa.concat_tables(self._tables)
        self._tables = [joined.slice(rows)] if len(joined) > rows else []
        self._table_rows = len(joined) - rows
        self._write(joined.slice(0, rows).combine_chunks())

    def _write(self, table: pa.Table) -> None:
        while len(table):
            if self._writer is None or self._in_shard >= self.shard_rows:
                self._next_shard()
            room = self.shard_rows - self._in_shard
            chunk, table = table.slice(0, room), table.slice(room)
            self._writer.write_table(chunk)
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
        if self._table_rows:
            self._flush_tables(self._table_rows)
        if self._writer is not None:
            self._writer.close()


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n",
                    encoding="utf-8")


def write_preview(path: Path, rows: Iterable[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
