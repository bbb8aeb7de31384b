"""Row spools hand back exactly the rows that went in, in order, whatever their shape, and compactly."""

from __future__ import annotations

import pickle

from cmedins.rowio.spool import SpoolWriter, read_batches, read_spool, write_spool


def _rows(n: int) -> list[dict]:
    rows = []
    for i in range(n):
        row = {"kind": "sft", "id": f"row-{i}", "task": ["diagnosis", "treatment"][i % 2], "department": None,
               "messages": [{"role": "user", "content": f"患者主诉头痛{i}天，伴恶心。"},
                            {"role": "assistant", "content": "考虑偏头痛，建议神经内科就诊。" * (1 + i % 3)}],
               "_row": i, "score": i / 7}
        if i % 5 == 0:
            row["extra"] = {"nested": [1, 2.5, None]}  # a key only some rows carry
            del row["department"]  # a missing key stays missing, not None
        rows.append(row)
    return rows


def test_a_spool_returns_the_identical_rows_in_order(tmp_path):
    rows = _rows(2_500)  # more than two batches, the last one partial
    assert write_spool(tmp_path / "s.pickle.zst", rows) == 2_500
    back = list(read_spool(tmp_path / "s.pickle.zst"))
    assert back == rows
    assert [list(row) for row in back] == [list(row) for row in rows]  # key order too
    assert "department" not in back[0] and back[1]["department"] is None
    assert [len(batch) for batch in read_batches(tmp_path / "s.pickle.zst")] == [1024, 1024, 452]


def test_an_empty_spool_reads_as_no_rows(tmp_path):
    with SpoolWriter(tmp_path / "empty.pickle.zst") as writer:
        pass
    assert writer.rows == 0
    assert list(read_spool(tmp_path / "empty.pickle.zst")) == []


def test_a_spool_is_smaller_than_one_pickle_per_row(tmp_path):
    rows = _rows(3_000)
    write_spool(tmp_path / "s.pickle.zst", rows)
    per_row = sum(len(pickle.dumps(row, protocol=pickle.HIGHEST_PROTOCOL)) for row in rows)
    assert (tmp_path / "s.pickle.zst").stat().st_size * 5 < per_row
