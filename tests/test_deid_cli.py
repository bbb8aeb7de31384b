"""`cmedins deid`: same rows and other fields, chosen fields de-identified, audit beside the output."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from cmedins.cli import app
from tests.support.cli import run_cli

ROWS = [
    {"id": 1, "note": "患者王建国，电话13812345678，于2016年10月29日入院，诊断高血压。", "dept": "心内科"},
    {"id": 2, "note": "家属李娜签字，予黄芪、白芍煎服。", "dept": "中医科"},
]


def test_deid_jsonl_keeps_rows_and_other_fields(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS), encoding="utf-8")
    out = tmp_path / "out" / "notes.parquet"
    result = CliRunner().invoke(app, ["deid", str(source), "--out", str(out), "--field", "note", "--dates", "year"])
    assert result.exit_code == 0, result.output
    rows = pd.read_parquet(out).to_dict("records")
    assert [(r["id"], r["dept"]) for r in rows] == [(1, "心内科"), (2, "中医科")]
    assert rows[0]["note"] == "患者<姓名>，电话<电话>，于2016年入院，诊断高血压。"
    assert rows[1]["note"] == "家属<姓名>签字，予黄芪、白芍煎服。"
    audit = [json.loads(line) for line in (tmp_path / "out" / "notes.parquet.audit.jsonl").read_text().splitlines()]
    assert [(a["row"], a["field"], a["entity_type"], a["start"], a["end"]) for a in audit] == [
        (1, "note", "PERSON", 2, 5), (1, "note", "CN_PHONE", 8, 19), (1, "note", "DATE_TIME", 21, 32),
        (2, "note", "PERSON", 2, 4)]


def test_deid_names_a_missing_field(tmp_path):
    source = tmp_path / "in.csv"
    pd.DataFrame(ROWS).to_csv(source, index=False)
    result = CliRunner().invoke(app, ["deid", str(source), "--out", str(tmp_path / "o.csv"), "--field", "text"])
    assert result.exit_code != 0
    assert "row 1: no field 'text'" in str(result.exception) or "no field 'text'" in result.output


def test_deid_names_an_unreadable_line_and_writes_nothing(tmp_path, monkeypatch, capsys):
    """A line that is not JSON is named as such (file, row, reason), never as a missing field, and never quoted:
    the line holds a phone that must not reach the terminal; no output or audit is left behind."""
    source = tmp_path / "notes.jsonl"
    source.write_text('{"text": "患者张伟"}\n{"text": "电话13812345678 未闭合\n', encoding="utf-8")
    out = tmp_path / "clean.jsonl"
    code, stdout, stderr = run_cli(monkeypatch, capsys, "deid", source, "--out", out, "--field", "text")
    assert code == 2
    message = stderr.strip()
    assert message.startswith(f"error: {source}, row 2: invalid JSON at column ") and "\n" not in message
    assert "13812345678" not in stdout + stderr and "no field" not in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.jsonl"]



def test_deid_keeps_a_row_with_a_lone_surrogate_and_masks_its_phone(tmp_path):
    """JSON may escape a lone UTF-16 surrogate ("\\ud800"); it decodes to a str no UTF-8 writer or hash accepts.
    It becomes U+FFFD at read time (JSONL and JSON), so the row is kept and its phone masked (was a traceback)."""
    jsonl, json_array = tmp_path / "in.jsonl", tmp_path / "in.json"
    jsonl.write_text('{"text": "lone \\ud800 phone 13900139000"}\n', encoding="utf-8")
    json_array.write_text('[{"text": "电话13900139000 \\udfff"}]', encoding="utf-8")
    for path, expected in ((jsonl, "lone \ufffd phone <电话>"), (json_array, "电话<电话> \ufffd")):
        out = tmp_path / f"out_{path.suffix[1:]}.jsonl"
        result = CliRunner().invoke(app, ["deid", str(path), "--out", str(out), "--field", "text"])
        assert result.exit_code == 0, result.output
        assert [json.loads(line)["text"] for line in out.read_text(encoding="utf-8").splitlines()] == [expected]
        assert "13900139000" not in (tmp_path / f"{out.name}.audit.jsonl").read_text(encoding="utf-8")


def _deid_texts(tmp_path, texts: list[str], *, ensure_ascii: bool = False) -> list[str]:
    """`cmedins deid` over a JSONL file of one `text` field per row (written with `ensure_ascii` as json.dumps
    takes it): the de-identified texts, in order."""
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("".join(json.dumps({"text": t}, ensure_ascii=ensure_ascii) + "\n" for t in texts), encoding="utf-8")
    result = CliRunner().invoke(app, ["deid", str(source), "--out", str(out), "--field", "text"])
    assert result.exit_code == 0, result.output
    return [json.loads(line)["text"] for line in out.read_text(encoding="utf-8").splitlines()]


def test_deid_masks_a_phone_split_by_invisible_characters(tmp_path):
    """Zero-width spaces/joiners, word joiners and soft hyphens between digits (copy-pasted text) hid the phone
    from every detector and the residual scan: the raw number reached the output."""
    texts = ["tel 138\u200b0013\u200b8000", "电话138\u2060\u20600013\u00ad8000。", "手机138\u200d0013\u200c8000"]
    rows = _deid_texts(tmp_path, texts, ensure_ascii=True)
    assert rows == ["tel <电话>", "电话<电话>。", "手机<电话>"]


def test_deid_masks_identities_behind_a_nul_or_an_invisible_character(tmp_path):
    """A NUL (escaped in JSON), another control character or a zero-width space after a label or inside a number
    hid the name after 患者/姓名： (kept whole) and left part of a phone or an ID unmasked."""
    texts = ["患者\u200b张三13812345678", "患者\x01张三", "姓名：\x00张三", "电话1381234\x005678",
             "身份证号 110105\x0019491231002X", "身份证号 110105\ufeff19491231002X"]
    rows = _deid_texts(tmp_path, texts, ensure_ascii=True)
    assert rows == ["患者\u200b<姓名><电话>", "患者\x01<姓名>", "姓名：\x00<姓名>", "电话<电话>",
                    "身份证号 <身份证号>", "身份证号 <身份证号>"]
    out = tmp_path / "out.jsonl"
    written = out.read_text(encoding="utf-8") + (tmp_path / "out.jsonl.audit.jsonl").read_text(encoding="utf-8")
    assert not any(value in written for value in ("张三", "5678", "110105", "1949"))


def test_deid_masks_numbers_in_superscript_parenthesised_or_financial_digits(tmp_path):
    """Superscript/subscript digits (¹³⁸), parenthesised ones (⑴) and those with a full stop (⒈) are no decimal
    digits to Unicode, and the financial numerals (壹叁捌) were not Chinese digits to the view: phones and an ID
    spelt in them reached the output. A superscript beside an ASCII digit (10⁹/L, cm²) stays as it is."""
    texts = ["电话¹³⁸¹²³⁴⁵⁶⁷⁸", "电话₁₃₈₁₂₃₄₅₆₇₈", "电话⑴⑶⑻⑴⑵⑶⑷⑸⑹⑺⑻", "电话⒈⒊⒏⒈⒉⒊⒋⒌⒍⒎⒏",
             "电话壹叁捌壹贰叁肆伍陆柒捌", "身份证号壹壹零壹零伍壹玖肆玖壹贰叁壹零零贰X", "WBC 5.6×10⁹/L，面积2cm²"]
    rows = _deid_texts(tmp_path, texts)
    assert rows == ["电话<电话>"] * 5 + ["身份证号<身份证号>", "WBC 5.6×10⁹/L，面积2cm²"]


def test_deid_masks_a_phone_spelt_in_enclosed_digits(tmp_path):
    """Circled digits (①③⑧, ⓪, ❶, ➀) read as no number at all: the raw phone reached the output."""
    texts = ["电话 ①③⑧⓪⓪①③⑧⓪⓪⓪", "手机❶❸❾❶❷❸❹❺❻❼❽", "联系电话：➀➂➈➀➁➂➃➄➅➆➇", "既往史：①高血压 ②糖尿病"]
    rows = _deid_texts(tmp_path, texts)
    assert rows == ["电话 <电话>", "手机<电话>", "联系电话：<电话>", "既往史：①高血压 ②糖尿病"]


def test_deid_masks_numbers_spelt_in_another_scripts_digits(tmp_path):
    """A phone or ID in Arabic-Indic, Devanagari or mathematical digits read as no number to every detector and
    the residual scan (an unlabelled phone and a labelled ID reached the output). A run touching ASCII digits
    stays another number (13812345678٣: the phone is masked, the digit after it kept)."""
    from cmedins.deid.residual import residual_hits

    texts = ["患者١٣٨١٢٣٤٥٦٧٨，头痛3天", "身份证号١١٠١٠١١٩٧٠٠٣٠٧٢٣١٦", "电话१३८१२३४५६७८", "患者𝟏𝟑𝟖𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖复诊",
             "患者13812345678٣天后复查。", "血压١٢٠/٨٠mmHg"]
    assert [kind for text in texts[:4] for kind, _, _ in residual_hits(text)] == ["phone", "id_number", "phone", "phone"]
    rows = _deid_texts(tmp_path, texts)
    assert rows == ["患者<电话>，头痛3天", "身份证号<身份证号>", "电话<电话>", "患者<电话>复诊", "患者<电话>٣天后复查。",
                    "血压١٢٠/٨٠mmHg"]


def test_deid_csv_without_a_header_names_no_value_in_its_error(tmp_path, monkeypatch, capsys):
    """A CSV file without a header line: its first record is read as the header, and the missing-field error
    listed it as the columns (a name and a phone on the terminal). It counts them instead; JSON keeps the names."""
    source = tmp_path / "in.csv"
    source.write_text("张三,13812345678,头痛\n李四,13900001111,发热\n", encoding="utf-8")
    code, stdout, stderr = run_cli(monkeypatch, capsys, "deid", source, "--out", tmp_path / "o.jsonl", "--field", "text")
    assert code == 2 and stderr.startswith(f"error: {source}, row 1: no field 'text' (the header has 3 column(s)")
    assert "\n" not in stderr.strip() and not any(v in stdout + stderr for v in ("张三", "13812345678", "头痛"))
    source = tmp_path / "in.jsonl"
    source.write_text('{"note": "头痛"}\n', encoding="utf-8")
    code, _, stderr = run_cli(monkeypatch, capsys, "deid", source, "--out", tmp_path / "o.jsonl", "--field", "text")
    assert code == 2 and stderr.strip() == f"error: {source}, row 1: no field 'text' (columns: note)"


def test_deid_masks_a_phone_split_by_spaced_dashes(tmp_path):
    """`138 - 1234 - 5678` (a dash with a space either side, as typed in forms) was not a phone to any detector."""
    texts = ["患者138 - 1234 - 5678复诊", "手机 138 / 1234 / 5678", "联系电话：021 - 6234 - 5678", "血压120 - 80mmHg"]
    rows = _deid_texts(tmp_path, texts)
    assert rows == ["患者<电话>复诊", "手机 <电话>", "联系电话：<电话>", "血压120 - 80mmHg"]
