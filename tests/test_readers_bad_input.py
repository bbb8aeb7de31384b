"""Every reader x the malformed inputs real corpora have: no traceback, every physical row counted
(rows in = kept + dropped + quarantined), the bad row quarantined with the right row number, and messages
that never quote a value. A malformation that spoils a whole file is a one-line error (exit 2)."""

from __future__ import annotations

import json
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from cmedins.cli import main
from cmedins.errors import CmedinsError
from cmedins.rowio.readers import iter_rows, row_error
from cmedins.sft.build import run_recipe

SECRET = "张秘密"  # planted in bad rows: must never appear in an error message
GOOD = [{"instruction": f"第{i}个问题：头痛怎么办？", "input": "", "output": f"第{i}个回答：多休息。"} for i in range(1, 11)]


def _jsonl(rows) -> bytes:
    return b"".join((json.dumps(r, ensure_ascii=False) + "\n").encode("utf-8") for r in rows)


def _csv(rows, header="instruction,input,output") -> bytes:
    lines = [header] + [f"{r['instruction']},{r['input']},{r['output']}" for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _bad_byte(data: bytes, line: int) -> bytes:
    """Put one invalid UTF-8 byte into physical line `line` (1-based)."""
    lines = data.split(b"\n")
    lines[line - 1] = lines[line - 1].replace("问题".encode(), b"\xff" + SECRET.encode(), 1)
    return b"\n".join(lines)


def _parquet(tmp_path, rows) -> bytes:
    path = tmp_path / "made.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path.read_bytes()


# name -> (file suffix, content maker, physical rows, {row number: error words} of the reader's error rows)
ROW_CASES = {
    "jsonl: clean": (".jsonl", lambda t: _jsonl(GOOD), 10, {}),
    "jsonl: invalid UTF-8 byte": (".jsonl", lambda t: _bad_byte(_jsonl(GOOD), 4), 10, {4: "not valid utf-8"}),
    "jsonl: JSON array on one line": (
        ".jsonl", lambda t: _jsonl(GOOD[:7]) + (json.dumps(GOOD[7:], ensure_ascii=False) + "\n").encode(), 10,
        {8: "JSON array of 3 values"}),
    "jsonl: deeply nested line": (
        ".jsonl", lambda t: _jsonl(GOOD[:9]) + b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n", 10,
        {10: "nested too deeply"}),
    "jsonl: unparsable line": (
        ".jsonl", lambda t: _jsonl(GOOD[:5]) + f'{{"instruction": "{SECRET}"\n'.encode() + _jsonl(GOOD[6:]), 10,
        {6: "invalid JSON"}),
    "jsonl: GBK after 64 KiB of ASCII": (
        ".jsonl", lambda t: (_jsonl([{"instruction": "q" * 100, "input": "", "output": "a"}] * 700)
                             + _jsonl(GOOD).decode("utf-8").encode("gbk")), 710, {}),
    "jsonl: NUL byte in a string": (
        ".jsonl", lambda t: _jsonl(GOOD[:2]) + f'{{"instruction": "{SECRET}\0问题", "input": "", "output": "答"}}\n'.encode()
                            + _jsonl(GOOD[3:]), 10, {3: "column 21: a NUL byte (U+0000) inside a string; JSON strings must "
                                                        "escape it"}),
    "jsonl: unterminated string": (
        ".jsonl", lambda t: _jsonl(GOOD[:9]) + f'{{"instruction": "{SECRET}\n'.encode(), 10,
        {10: "column 17: a string that starts here is never closed"}),
    "json: train/test lists": (
        ".json", lambda t: json.dumps({"train": GOOD[:6], "test": GOOD[6:]}, ensure_ascii=False).encode(), 10,
        {1: "several lists (train, test)", 10: "list 'test'"}),
    "json: two concatenated arrays": (
        ".json", lambda t: (json.dumps(GOOD[:4], ensure_ascii=False, indent=1) + "\n"
                            + json.dumps(GOOD[4:], ensure_ascii=False, indent=1)).encode(), 10, {}),
    "json: a number among the objects": (
        ".json", lambda t: json.dumps([*GOOD[:9], 7], ensure_ascii=False).encode(), 10, {10: "not a JSON object"}),
    "csv: unclosed quote": (
        ".csv", lambda t: _csv(GOOD[:3]) + f'"{SECRET}的问题,,回答\n'.encode() + _csv(GOOD[4:]).split(b"\n", 1)[1],
        10, {4: "unclosed quote"}),
    "csv: quote closed lines later": (
        ".csv", lambda t: (_csv(GOOD[:3]) + f'"{SECRET}的问题,,回答\n'.encode()
                           + _csv(GOOD[4:6]).split(b"\n", 1)[1] + b'x",y,z,w\n' + _csv(GOOD[6:]).split(b"\n", 1)[1]),
        11, {4: "unbalanced quote", 7: "beyond the header"}),  # the closing line is malformed too
    "csv: invalid byte": (".csv", lambda t: _bad_byte(_csv(GOOD), 5), 10, {4: "not valid utf-8"}),
    "csv: GBK after 64 KiB of ASCII": (
        ".csv", lambda t: (_csv([{"instruction": "q" * 100, "input": "", "output": "a"}] * 700)
                           + _csv(GOOD).split(b"\n", 1)[1].decode("utf-8").encode("gbk")), 710, {}),
    "csv: extra cells": (
        ".csv", lambda t: _csv(GOOD[:2]) + f"{SECRET},b,c,d\n".encode() + _csv(GOOD[3:]).split(b"\n", 1)[1], 10,
        {3: "beyond the header"}),
    "csv: missing cells": (  # a lost delimiter: the cells no longer line up with the columns
        ".csv", lambda t: _csv(GOOD[:2]) + f"{SECRET}的问题,回答\n".encode() + _csv(GOOD[3:]).split(b"\n", 1)[1], 10,
        {3: "2 cell(s), the header has 3 columns: no cell for this column (line 4)"}),
    "csv: missing cells after a multi-line cell": (  # the line named is the physical one, not the record number
        ".csv", lambda t: (_csv(GOOD[:2]) + '"多行的\n问题",,回答\n'.encode() + _csv(GOOD[3:5]).split(b"\n", 1)[1]
                           + f"{SECRET}\n".encode() + _csv(GOOD[6:]).split(b"\n", 1)[1]), 10,
        {6: "1 cell(s), the header has 3 columns: no cell for this column (line 8)"}),
    "parquet: clean": (".parquet", lambda t: _parquet(t, GOOD), 10, {}),
    "parquet: numbers where text belongs": (
        ".parquet", lambda t: _parquet(t, [{**r, "output": i} for i, r in enumerate(GOOD, 1)]), 10, {}),
}

FILE_CASES = {  # whole-file malformations: one-line error naming the file
    "csv: duplicate header": (".csv", lambda t: _csv(GOOD, header="instruction,output,output"), "more than once"),
    "json: invalid byte": (".json", lambda t: _bad_byte(json.dumps(GOOD, ensure_ascii=False).encode(), 1),
                           "not valid utf-8"),
    "json: deeply nested": (".json", lambda t: b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    "json: syntax error": (".json", lambda t: f'[{{"instruction": "{SECRET}"'.encode(), "invalid JSON"),
    "json: NUL byte in a string": (
        ".json", lambda t: json.dumps(GOOD[:3], ensure_ascii=False, indent=1).replace("问题", SECRET + "\0", 1).encode(),
        "invalid JSON at line 3 column 25: a NUL byte (U+0000) inside a string; JSON strings must escape it"),
    "parquet: corrupt": (".parquet", lambda t: b"PAR1" + SECRET.encode() * 50 + b"PAR1", "not a readable Parquet"),
    "parquet: empty file": (".parquet", lambda t: b"", "empty file"),
}


@pytest.mark.parametrize("case", sorted(ROW_CASES))
def test_reader_counts_every_physical_row(tmp_path, case):
    suffix, make, physical, bad = ROW_CASES[case]
    path = tmp_path / f"rows{suffix}"
    path.write_bytes(make(tmp_path))
    rows = list(iter_rows(path))
    assert len(rows) == physical
    errors = [(number, row_error(row).message) for number, row in rows if row_error(row)]
    for number, words in bad.items():
        assert any(n == number and words in message for n, message in errors), (number, errors)
    assert all(SECRET not in message for _, message in errors)
    expected = {"json: train/test lists": 10, "jsonl: JSON array on one line": 3}.get(case, len(bad))
    assert len(errors) == expected, errors


@pytest.mark.parametrize("case", sorted(ROW_CASES))
def test_build_accounts_for_every_physical_row(tmp_path, case):
    suffix, make, physical, bad = ROW_CASES[case]
    path = tmp_path / f"rows{suffix}"
    path.write_bytes(make(tmp_path))
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({"name": "bad", "output": "out", "sources": [
        {"name": "rows", "path": path.name, "format": "alpaca", "category": "general"}], "stages": [{"dialogues": {}}],
        "split": {"validation": 0.0}, "sources_already_deidentified": True}), encoding="utf-8")
    stats = run_recipe(recipe, tmp_path / "out", show_progress=False).stats
    rows = stats["rows"]
    assert rows["input"] == physical
    assert rows["input"] + rows["created"] == rows["kept"] + rows["dropped"] + rows["quarantined"]
    assert stats["stages"]["read"]["in"] == physical
    quarantine = (tmp_path / "out" / "quarantine" / "read.jsonl")
    entries = [json.loads(line) for line in quarantine.read_text(encoding="utf-8").splitlines()] if quarantine.exists() else []
    assert {entry["row"] for entry in entries} >= set(bad)
    assert SECRET not in quarantine.read_text(encoding="utf-8") if quarantine.exists() else True
    if case.startswith("csv: missing cells"):  # the field named is the first column without a cell
        assert [(e["row"], e["field"]) for e in entries] == [(n, "input" if n == 6 else "output") for n in bad]
    if case == "parquet: numbers where text belongs":  # kept their type: quarantined, not turned into text
        assert [(e["row"], e["field"]) for e in entries] == [(n, "output") for n in range(1, 11)]


@pytest.mark.parametrize("case", sorted(FILE_CASES))
def test_whole_file_malformations_are_one_line_errors(tmp_path, monkeypatch, capsys, case):
    suffix, make, words = FILE_CASES[case]
    path = tmp_path / f"rows{suffix}"
    path.write_bytes(make(tmp_path))
    with pytest.raises(CmedinsError) as raised:
        list(iter_rows(path))
    assert words in str(raised.value) and str(path) in str(raised.value) and SECRET not in str(raised.value)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({"name": "bad", "output": "out", "sources": [
        {"name": "rows", "path": path.name, "format": "alpaca"}], "stages": [{"dialogues": {}}],
        "sources_already_deidentified": True}), encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["cmedins", "build", str(recipe), "--out", str(tmp_path / "out"), "-q"])
    with pytest.raises(SystemExit) as exited:
        main()
    err = capsys.readouterr().err
    assert exited.value.code == 2 and len(err.strip().splitlines()) == 1 and words in err and SECRET not in err
    assert not (tmp_path / "out").exists()  # the failed build left nothing in place of a build


def test_an_unreadable_file_is_a_one_line_error(tmp_path, monkeypatch):
    path = tmp_path / "rows.jsonl"
    path.write_bytes(_jsonl(GOOD))
    real_open = type(path).open

    def refuse(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(type(path), "open", refuse)
    with pytest.raises(CmedinsError, match="rows.jsonl: cannot read the file \\(Permission denied\\)"):
        list(iter_rows(path))


def _toyhom_txt(tmp_path):
    blocks = [f"头痛{i}天,医生我头痛{i}天了怎么办？\n建议先测血压，必要时做头颅CT。".encode() for i in range(1, 6)]
    blocks[2] = blocks[2].replace("头痛".encode(), b"\xff" + SECRET.encode(), 1)  # one bad byte in block 3
    path = tmp_path / "内科.txt"
    path.write_bytes(b"\n\n".join(blocks) + b"\n")
    return path, "toyhom_txt", 5, 3


def _ccks2017(tmp_path):
    root = tmp_path / "ccks" / "data_origin"
    sections = {"一般项目": "患者男，45岁。", "病史特点": "主诉：头痛三天。", "诊疗经过": "予以止痛治疗。", "出院情况": "好转出院。"}
    for section, text in sections.items():
        (root / section).mkdir(parents=True)
        for index in range(1, 5):
            data = text.encode("utf-8")
            if index == 2 and section == "病史特点":
                data = data.replace("头痛".encode(), b"\xff" + SECRET.encode())
            (root / section / f"{section}-{index}.txtoriginal.txt").write_bytes(data)
    return tmp_path / "ccks", "ccks2017", 4, 2


@pytest.mark.parametrize("make", [_toyhom_txt, _ccks2017], ids=["toyhom_txt", "ccks2017"])
def test_format_readers_quarantine_an_undecodable_row_and_read_on(tmp_path, make):
    path, fmt, physical, bad_row = make(tmp_path)
    recipe = tmp_path / "recipe.yaml"
    stages = [{"tasks": {}}] if fmt == "ccks2017" else [{"dialogues": {}}]
    recipe.write_text(yaml.safe_dump({"name": "bad", "output": "out", "sources": [
        {"name": "rows", "path": str(path.relative_to(tmp_path)), "format": fmt}], "stages": stages,
        "split": {"validation": 0.0}, "sources_already_deidentified": True}, allow_unicode=True), encoding="utf-8")
    stats = run_recipe(recipe, tmp_path / "out", show_progress=False).stats
    assert stats["stages"]["read"]["in"] == physical
    assert stats["stages"]["read"]["quarantined"] == {"bad_row": 1}
    [entry] = [json.loads(line) for line in (tmp_path / "out" / "quarantine" / "read.jsonl").read_text(
        encoding="utf-8").splitlines()]
    assert entry["row"] == bad_row and "not valid" in entry["error"] and SECRET not in json.dumps(entry)


def test_a_json_file_of_one_object_with_an_empty_list_is_one_row(tmp_path):
    """One CMtMedQA-style object whose only list (history) is empty was taken for a {"data": []} wrapper: the
    file read as zero rows, counted nowhere. A real wrapper of no rows is still none."""
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"id": "m1", "instruction": "头痛怎么办？", "output": "多休息。", "history": []},
                               ensure_ascii=False), encoding="utf-8")
    assert [(n, row["id"], row["history"]) for n, row in iter_rows(path)] == [(1, "m1", [])]
    path.write_text(json.dumps({"data": []}), encoding="utf-8")
    assert list(iter_rows(path)) == []
    path.write_text(json.dumps({"version": "1", "data": [{"id": "a"}, {"id": "b"}]}), encoding="utf-8")
    assert [row["id"] for _, row in iter_rows(path)] == ["a", "b"]


def test_a_csv_without_a_header_line_names_columns_by_position(tmp_path):
    """Without a header line, a CSV's first record (a name, a phone) is its header: a short row's quarantine
    named the phone as the column (field and reason, in the build's quarantine, stats and card) and a repeated
    name was quoted in the duplicate-header error. Such cells are named by position; column names stay."""
    path = tmp_path / "rows.csv"
    path.write_text(f"{SECRET},13812345678,头痛\n李四\n", encoding="utf-8")
    [(_, row)] = list(iter_rows(path))
    error = row_error(row)
    assert error.field == "column 2" and "13812345678" not in error.message
    path.write_text("instruction,input,output\n头痛怎么办\n", encoding="utf-8")
    assert row_error(next(iter_rows(path))[1]).field == "input"
    path.write_text(f"{SECRET},{SECRET},x\n1,2,3\n", encoding="utf-8")
    with pytest.raises(CmedinsError, match="header names column\\(s\\) 'column 1', 'column 2' more than once") as raised:
        list(iter_rows(path))
    assert SECRET not in str(raised.value)
