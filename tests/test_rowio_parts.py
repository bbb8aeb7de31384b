"""A source cut into parts and read part by part gives exactly what the whole-file reader gives: same rows,
same row numbers, same error rows, whatever the cut (cmedins.rowio.parts; the Ray executor reads this way)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cmedins.errors import CmedinsError
from cmedins.rowio.formats import Format
from cmedins.rowio.parts import LINES, ROW_GROUPS, WHOLE, number_parts, part_evidence, plan_parts, read_part
from cmedins.rowio.readers import detect_encoding, line_ranges
from tests.support.messy_sources import messy_jsonl

FMT = Format("rows", "conversation", dict)  # read by iter_rows: the file's suffix picks the reader


def _by_parts(path: Path, part_bytes: int) -> tuple[list[tuple], list]:
    parts = plan_parts(FMT, path, part_bytes)
    evidence = {i: part_evidence(part) for i, part in enumerate(parts) if part.layout == LINES}
    parts = number_parts(parts, evidence)
    return [row for part in parts for row in read_part(FMT, part)], parts


@pytest.mark.parametrize("part_bytes", [1, 97, 1000, 4096, 1 << 30])
@pytest.mark.parametrize(("encoding", "bom"), [("utf-8", False), ("utf-8", True), ("gb18030", False)])
def test_jsonl_ranges_read_as_the_whole_file(tmp_path, part_bytes, encoding, bom):
    path = messy_jsonl(tmp_path / "rows.jsonl", encoding, bom)
    whole = list(FMT.read(path))
    rows, parts = _by_parts(path, part_bytes)
    assert rows == whole
    assert {part.encoding for part in parts} == {detect_encoding(path)}
    assert len(whole) > 290 and any("__error__" in raw for _, _, raw in whole)
    if part_bytes < 1000:
        assert len(parts) > 10  # really cut, and every cut at a line start
        data = path.read_bytes()
        assert all(data[part.start - 1:part.start] == b"\n" for part in parts[1:])


def test_ranges_cover_the_file_at_line_boundaries(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"a": 1}\n' * 10 + b'{"a": "no newline at the end"}')
    ranges = line_ranges(path, 20)
    assert ranges[0][0] == 0 and ranges[-1][1] == path.stat().st_size
    assert all(end == start for (_, end), (start, _) in zip(ranges, ranges[1:], strict=False))
    # each range ends at the first line start at or after 20 bytes: 3 lines of 9 bytes; the rest in the last
    assert [end - start for start, end in ranges] == [27, 27, 27, 39]


def test_a_gbk_file_whose_chinese_starts_late_is_judged_on_every_range(tmp_path):
    path = tmp_path / "late.jsonl"
    ascii_part = "".join(json.dumps({"query": f"q{n}", "response": "ok"}) + "\n" for n in range(2000))
    chinese = "".join(json.dumps({"query": "胸闷气短", "response": "请就医"}, ensure_ascii=False) + "\n" for _ in range(50))
    path.write_bytes((ascii_part + chinese).encode("gbk"))
    rows, parts = _by_parts(path, 2048)
    assert len(parts) > 5 and {part.encoding for part in parts} == {"gb18030"} == {detect_encoding(path)}
    assert rows == list(FMT.read(path)) and rows[-1][2]["query"] == "胸闷气短"


def test_parquet_row_groups_read_as_the_whole_file(tmp_path):
    path = tmp_path / "rows.parquet"
    table = pa.table({"query": [f"问题 {n}\r\n" for n in range(1000)], "response": [f"答 {n}" for n in range(1000)]})
    pq.write_table(table, path, row_group_size=64)
    rows, parts = _by_parts(path, 1)
    assert len(parts) == 16 and all(part.layout == ROW_GROUPS for part in parts)
    assert rows == list(FMT.read(path)) and [number for _, number, _ in rows] == list(range(1, 1001))
    rows_big, parts_big = _by_parts(path, 1 << 30)
    assert len(parts_big) == 1 and rows_big == rows


def test_csv_json_and_unreadable_files_are_read_whole_with_the_same_errors(tmp_path):
    csv_path = tmp_path / "rows.csv"
    csv_path.write_text('query,response\n"multi\nline",ok\nplain,ok\n', encoding="utf-8")
    json_path = tmp_path / "rows.json"
    json_path.write_text(json.dumps([{"query": "a", "response": "b"}] * 3), encoding="utf-8")
    for path in (csv_path, json_path):
        rows, parts = _by_parts(path, 1)
        assert [part.layout for part in parts] == [WHOLE] and rows == list(FMT.read(path))
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    parts = plan_parts(FMT, broken, 1)
    assert [part.layout for part in parts] == [WHOLE]
    with pytest.raises(CmedinsError, match="not a readable Parquet file"):
        list(read_part(FMT, parts[0]))
