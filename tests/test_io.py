"""Readers cope with the encodings and quirks of real Chinese corpora."""

from __future__ import annotations

import json

import pytest

from cmedins.errors import CmedinsError
from cmedins.rowio.readers import detect_encoding, iter_rows, row_error
from cmedins.rowio.writers import write_rows

ROWS = [{"department": "心血管科", "title": "高血压能吃党参吗？", "ask": "我有高血压，\r\n可以泡党参水喝吗？", "answer": "可以少量服用。"}]


def test_gbk_csv_with_crlf_reads_clean(tmp_path):
    path = tmp_path / "toyhom.csv"
    text = "department,title,ask,answer\r\n" + "".join(
        f'{r["department"]},{r["title"]},"{r["ask"]}",{r["answer"]}\r\n' for r in ROWS)
    path.write_bytes(text.encode("gbk"))
    assert detect_encoding(path) == "gb18030"
    [(number, row)] = list(iter_rows(path))
    assert number == 1
    assert row["ask"] == "我有高血压，\n可以泡党参水喝吗？"
    assert row["department"] == "心血管科"


def test_utf8_bom_and_stray_feff_are_removed(tmp_path):
    path = tmp_path / "chatmed.jsonl"
    line = json.dumps({"query": "头痛\ufeff三天怎么办", "response": "建议就医。"}, ensure_ascii=False)
    path.write_bytes(b"\xef\xbb\xbf" + (line + "\r\n" + line + "\r\n").encode("utf-8"))
    rows = list(iter_rows(path))
    assert [n for n, _ in rows] == [1, 2]
    assert rows[0][1]["query"] == "头痛三天怎么办"


def test_bad_jsonl_line_is_passed_on_as_an_error_row_not_raised(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"query": "咳嗽", "response": "多喝水"}\n{"query": "发烧"\n[1, 2]\n\n{"query": "腹泻", "response": "补液"}\n',
                    encoding="utf-8")
    rows = list(iter_rows(path))
    assert [n for n, _ in rows] == [1, 2, 3, 5]
    assert row_error(rows[1][1]).message.startswith("invalid JSON")
    assert row_error(rows[2][1]).message == "not a JSON object"
    assert row_error(rows[3][1]) is None


def test_json_file_holding_json_lines_is_read_as_lines(tmp_path):
    path = tmp_path / "reward.json"
    path.write_text('{"question": "a"}\n{"question": "b"}\n', encoding="utf-8")
    assert [row["question"] for _, row in iter_rows(path)] == ["a", "b"]


@pytest.mark.parametrize("suffix", ["jsonl", "json", "csv", "parquet"])
def test_write_then_read_round_trip_is_deterministic(tmp_path, suffix):
    rows = [{"id": "a1", "text": "患者男，45岁", "n": 3}, {"id": "b2", "text": "主诉：胸痛2天", "n": 4}]
    first, second = tmp_path / f"a.{suffix}", tmp_path / f"b.{suffix}"
    assert write_rows(first, rows) == 2
    write_rows(second, rows)
    assert first.read_bytes() == second.read_bytes()
    back = [row for _, row in iter_rows(first)]
    assert [row["text"] for row in back] == ["患者男，45岁", "主诉：胸痛2天"]


def test_unknown_suffix_and_missing_file_name_the_file(tmp_path):
    with pytest.raises(CmedinsError, match="unknown file type"):
        list(iter_rows(_touch(tmp_path / "a.xlsx")))
    with pytest.raises(CmedinsError, match="file not found"):
        list(iter_rows(tmp_path / "missing.jsonl"))


def test_real_gbk_toyhom_csv(shared_data):
    rows = list(iter_rows(shared_data / "toyhom_cmdd" / "样例_内科5000-6000.csv"))
    assert len(rows) == 7644
    assert set(rows[0][1]) == {"department", "title", "ask", "answer"}
    assert rows[0][1]["title"] == "高血压患者能吃党参吗？"


def _touch(path):
    path.write_text("x", encoding="utf-8")
    return path
