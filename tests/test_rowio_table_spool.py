"""Table spools give the rows back as batches under the schema, and `rebuild` the exact dicts; Parquet shards
written from tables are the bytes written from the same rows as dicts."""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa

from cmedins.contracts.arrow import SFT_SCHEMA
from cmedins.rowio.shards import SplitWriter
from cmedins.rowio.table_spool import TableSpoolWriter, read_tables


def _rows(n: int) -> list[dict]:
    rows = []
    for i in range(n):
        messages = [{"role": "user", "content": f"患者主诉头痛{i}天，伴恶心。"},
                    {"content": "考虑偏头痛，建议神经内科就诊。" * (1 + i % 3), "role": "assistant"}]  # key order kept
        row = {"kind": "sft", "id": f"{i:032x}", "messages": messages, "task": ["diagnosis", "dialogue_single"][i % 2],
               "source": "s", "_file": "f.jsonl", "_row": i}
        if i % 3 == 0:
            row["department"] = None  # a None stays a None, a missing key stays missing
        if i % 4 == 0:
            row = {"answer": f"答{i}", **row}
        rows.append(row)
    return rows


def _public(row: dict) -> dict:
    return {key: value for key, value in row.items() if key not in ("kind", "_file", "_row")}


def test_batches_in_order_and_exact_rebuilt_rows(tmp_path):
    rows = _rows(2_500)
    with TableSpoolWriter(tmp_path / "g.arrow", SFT_SCHEMA) as spool:
        for row in rows:
            spool.write(row)
    batches = list(read_tables(spool.path))
    assert [len(batch) for batch in batches] == [1024, 1024, 452]
    assert pa.Table.from_batches(batches).column("id").to_pylist() == [row["id"] for row in rows]
    for position in (0, 1, 3, 4, 1030, 2499):
        batch, offset = batches[position // 1024], position % 1024
        rebuilt = spool.rebuild(batch.slice(offset, 1).to_pylist()[0], position)
        assert rebuilt == _public(rows[position])
        assert list(rebuilt) == list(_public(rows[position]))
        assert [list(m) for m in rebuilt["messages"]] == [list(m) for m in rows[position]["messages"]]


def _digests(folder) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.glob("*.parquet"))}


def test_shards_from_tables_are_the_bytes_of_shards_from_dicts(tmp_path):
    rows = [_public(row) for row in _rows(13_100)]
    by_dict = SplitWriter(tmp_path / "a", "train", len(rows), SFT_SCHEMA, shard_rows=7_000)
    for row in rows:
        by_dict.write(row)
    by_dict.close()
    by_table = SplitWriter(tmp_path / "b", "train", len(rows), SFT_SCHEMA, shard_rows=7_000)
    table = pa.Table.from_pylist(rows, schema=SFT_SCHEMA)
    cuts = np.r_[0, np.cumsum(np.random.default_rng(1).integers(1, 1_500, 40)), len(rows)]
    for start, stop in zip(cuts[:-1], cuts[1:], strict=True):  # uneven pieces, some empty, as filters give
        by_table.write_table(table.slice(min(start, len(rows)), max(0, min(stop, len(rows)) - start)))
    by_table.close()
    assert by_dict.written == by_table.written == len(rows)
    assert len(_digests(tmp_path / "a")) == 2
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
