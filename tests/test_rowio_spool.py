"""Row spools hand back exactly the rows that went in, in order, whatever their shape, and compactly."""

from __future__ import annotations

import datetime as dt
import math
import pickle
from collections import OrderedDict
from decimal import Decimal

import numpy as np

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


class Label(str):
    """A str subclass, as a library's enum-like type may be."""


class Depth(int):
    pass


def same(a, b) -> bool:
    """Equal and of the same type all the way down, dict keys in the same order (== alone says 1 == 1.0 == True,
    b'x' == bytearray(b'x'), Label('a') == 'a')."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[key], b[key]) for key in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and a != a:
        return b != b  # nan
    return a == b and (not isinstance(a, float) or math.copysign(1, a) == math.copysign(1, b))


def _hostile_rows() -> list[dict]:
    deep: list = []
    for _ in range(200):
        deep = [deep]
    return [
        {"flag": True, "one": 1, "one_f": 1.0, "zero": 0, "false": False, "neg_zero": -0.0, "nan": float("nan"),
         "big": 2**100, "none": None},
        {"none": None},  # "flag" missing, not None
        {},
        {"pair": (1, [2, (3,)]), "list": [1, (2, 3)], "empty_tuple": (), "empty_list": [], "empty_dict": {}},
        {"nested": {"a": {"b": {"c": [{"d": None}, {"e": "患者主诉头痛"}]}}}, "bytes": b"\x00\xff"},
        {"z": 1, "a": 2, "m": 3},  # key order, not sorted
        {"label": Label("diagnosis")},
        {"depth": Depth(3)},
        {"buffer": bytearray(b"abc")},  # marshal, for one, would hand back bytes
        {"numpy": np.int64(7), "numpy_f": np.float64(0.5)},  # and for these their raw bytes
        {"when": dt.date(2024, 5, 1), "amount": Decimal("1.10"), "ordered": OrderedDict(b=1, a=2)},
        {"int_key": {1: "a", 2.5: "b", None: "c"}, "tuple_key": {(1, 2): "x"}},
        {"deep": deep},
        {"huge": "病" * (12 << 20), "ascii_huge": "x" * (40 << 20)},  # 36 MB of UTF-8 and 40 MB of ASCII
    ]


def test_hostile_rows_come_back_with_their_exact_types_keys_and_order(tmp_path):
    rows = _hostile_rows()
    write_spool(tmp_path / "s.pickle.zst", rows)
    back = list(read_spool(tmp_path / "s.pickle.zst"))
    assert len(back) == len(rows)
    for index, (got, sent) in enumerate(zip(back, rows, strict=True)):
        assert same(got, sent), index
    assert "flag" not in back[1] and back[0]["none"] is None
    assert type(back[9]["numpy"]) is np.int64 and type(back[8]["buffer"]) is bytearray


def test_each_hostile_row_alone_round_trips(tmp_path):
    for index, row in enumerate(_hostile_rows()):
        path = tmp_path / f"{index}.pickle.zst"
        write_spool(path, [row])
        [batch] = read_batches(path)
        assert len(batch) == 1 and same(batch[0], row), index


def test_batches_of_another_size_keep_their_order_and_rows(tmp_path):
    rows = [{"i": 0}, {"i": 1}, {"i": 2, "label": Label("a")}, {"i": 3}, {"i": 4}, {"i": 5}, {"i": 6}]
    path = tmp_path / "s.pickle.zst"
    with SpoolWriter(path, batch_rows=2) as writer:
        for row in rows:
            writer.write(row)
    assert [len(batch) for batch in read_batches(path)] == [2, 2, 2, 1]
    back = list(read_spool(path))
    assert len(back) == 7 and all(same(got, sent) for got, sent in zip(back, rows, strict=True))


def test_same_tells_apart_what_equality_does_not():
    assert same({"a": [1, (2.0,)], "b": None}, {"a": [1, (2.0,)], "b": None})
    for one, other in [({"a": 1}, {"a": 1.0}), ({"a": 1}, {"a": True}), ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
                       (b"x", bytearray(b"x")), (Label("a"), "a"), ((1,), [1]), ({"a": None}, {}), (0.0, -0.0),
                       (np.float64(0.5), 0.5), (OrderedDict(a=1), {"a": 1})]:
        assert not same(one, other) and not same(other, one), (one, other)


def test_kept_rows_are_the_spools_rows_where_keep_is_set(tmp_path):
    from cmedins.rowio.spool import KeptRows

    rows = _rows(2_500)
    write_spool(tmp_path / "s.pickle.zst", rows)
    keep = np.random.default_rng(2).random(len(rows)) < 0.7
    keep[:1024] = True  # a whole batch kept, and the others cut
    kept = KeptRows(tmp_path / "s.pickle.zst", keep)
    assert kept.rows == int(keep.sum())
    assert list(kept) == [row for row, flag in zip(rows, keep, strict=True) if flag]
