"""Row spools hand back exactly the rows that went in, in order, whatever their shape, and compactly."""

from __future__ import annotations

import datetime as dt
import marshal
import math
import pickle
import sys
from collections import OrderedDict
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest

from cmedins.rowio import spool
from cmedins.rowio.spool import (
    CODEC,
    MARSHAL,
    PICKLE,
    SpoolFormatError,
    SpoolWriter,
    encode,
    header,
    marshal_keeps,
    read_batches,
    read_frames,
    read_spool,
    write_spool,
)


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
    """A str subclass (as a library's enum-like type may be): marshal refuses it, pickle keeps its class."""


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
    for _ in range(200):  # deeper than marshal_keeps looks
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
        {"buffer": bytearray(b"abc")},  # marshal would hand back bytes
        {"numpy": np.int64(7), "numpy_f": np.float64(0.5)},  # marshal would hand back their raw bytes
        {"when": dt.date(2024, 5, 1), "amount": Decimal("1.10"), "ordered": OrderedDict(b=1, a=2)},
        {"int_key": {1: "a", 2.5: "b", None: "c"}, "tuple_key": {(1, 2): "x"}},
        {"deep": deep},
        {"huge": "病" * (12 << 20), "ascii_huge": "x" * (40 << 20)},  # 36 MB of UTF-8 and 40 MB of ASCII
    ]


def test_hostile_rows_come_back_with_their_exact_types_keys_and_order(tmp_path):
    rows = _hostile_rows()
    write_spool(tmp_path / "s.spool.zst", rows)
    back = list(read_spool(tmp_path / "s.spool.zst"))
    assert len(back) == len(rows)
    for index, (got, sent) in enumerate(zip(back, rows, strict=True)):
        assert same(got, sent), index
    assert "flag" not in back[1] and back[0]["none"] is None
    assert type(back[9]["numpy"]) is np.int64 and type(back[8]["buffer"]) is bytearray


def test_each_row_alone_round_trips_with_the_codec_it_needs(tmp_path):
    for index, row in enumerate(_hostile_rows()):
        path = tmp_path / f"{index}.spool.zst"
        write_spool(path, [row])
        [(codec, _)] = read_frames(path)
        assert codec == (MARSHAL if index in (0, 1, 2, 3, 4, 5, 13) else PICKLE), index
        assert same(next(read_spool(path)), row), index


def test_marshal_is_used_only_where_it_keeps_every_object():
    assert marshal_keeps([{"a": [1, 2.0, True, None, "x", b"y", (1, {"b": ()})]}])
    assert marshal_keeps([]) and marshal_keeps([{}])
    for hostile in (Label("x"), Depth(1), bytearray(b"x"), memoryview(b"x"), np.float64(1.0), np.int64(1),
                    np.array([1, 2]), OrderedDict(), Decimal(1), dt.date(2024, 1, 1), {1, 2}, complex(1, 2)):
        assert not marshal_keeps([{"v": [{"w": hostile}]}]), hostile
    assert not marshal_keeps([{(1, 2): "a tuple key"}])
    # Why the batch is checked rather than marshal trusted to refuse: it turns buffers into bytes silently.
    assert type(marshal.loads(marshal.dumps(bytearray(b"x")))) is bytes
    assert type(marshal.loads(marshal.dumps(np.float64(1.0)))) is bytes


def test_the_codec_is_chosen_per_batch(tmp_path):
    rows = [{"i": 0}, {"i": 1}, {"i": 2, "label": Label("a")}, {"i": 3}, {"i": 4}, {"i": 5}, {"i": 6}]
    path = tmp_path / "s.spool.zst"
    with SpoolWriter(path, batch_rows=2) as writer:
        for row in rows:
            writer.write(row)
    assert [codec for codec, _ in read_frames(path)] == [MARSHAL, PICKLE, MARSHAL, MARSHAL]
    assert [len(batch) for batch in read_batches(path)] == [2, 2, 2, 1]
    back = list(read_spool(path))
    assert all(same(got, sent) for got, sent in zip(back, rows, strict=True)) and len(back) == 7


def test_an_empty_batch_encodes_and_a_spool_without_rows_has_no_frame(tmp_path):
    codec, payload = encode([])
    assert codec == MARSHAL and marshal.loads(payload) == []
    write_spool(tmp_path / "s.spool.zst", [])
    assert list(read_frames(tmp_path / "s.spool.zst")) == []


def test_the_header_names_this_interpreter_and_marshal_version():
    tag = f"{sys.implementation.cache_tag} marshal {marshal.version}"
    assert tag == spool.INTERPRETER and header().endswith(f"{spool.FORMAT} {tag}".encode())


def test_a_spool_from_another_python_is_refused_not_misread(tmp_path, monkeypatch):
    path = tmp_path / "s.spool.zst"
    with monkeypatch.context() as patched:
        patched.setattr(spool, "INTERPRETER", "cpython-399 marshal 9")
        write_spool(path, _rows(10))
    with pytest.raises(SpoolFormatError, match="written by 2 cpython-399 marshal 9"):
        list(read_spool(path))


def test_an_older_spool_without_a_header_is_refused(tmp_path):
    path = tmp_path / "old.pickle.zst"
    with pa.CompressedOutputStream(str(path), CODEC) as stream:
        pickle.dump(_rows(3), stream, protocol=pickle.HIGHEST_PROTOCOL)  # the first format: bare pickled batches
    with pytest.raises(SpoolFormatError, match="no spool header"):
        list(read_spool(path))


def test_a_truncated_spool_is_refused(tmp_path):
    path = tmp_path / "s.spool.zst"
    write_spool(path, _rows(100))
    with pa.CompressedInputStream(pa.OSFile(str(path)), CODEC) as stream:
        plain = stream.read()
    with pa.CompressedOutputStream(str(path), CODEC) as stream:
        stream.write(plain[:-10])
    with pytest.raises(SpoolFormatError, match="truncated"):
        list(read_spool(path))
