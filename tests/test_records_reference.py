"""The record parser and adapters give exactly what they gave before issue 15's speed-up
(tests/support/records_reference.py): same headings, sections, fields, and the same errors, over the synthetic
corpus, the real records in ../shared/data and hostile text written here."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

import pytest

from cmedins.errors import RowError
from cmedins.records import formats, headings, parser
from cmedins.rowio.readers import iter_rows
from cmedins.sample.corpus import record_rows, stream, text_record_rows
from tests.support import records_reference as reference


def _reference_headings(text: str) -> list[tuple]:
    return [(m.start(), m.end(), reference.heading_name(m), m.group("number"), not m.group("plain"))
            for m in reference.HEADING_PATTERN.finditer(text) if reference.is_heading(m, text)]


def _sections(sections) -> tuple:
    return (sections.preamble, sections.general,
            {target: [tuple(dataclasses.astuple(part) if dataclasses.is_dataclass(part) else part) for part in parts]
             for target, parts in sections.parts.items()})


def _outcome(adapter, row: dict) -> tuple:
    try:
        return "row", adapter(row)
    except RowError as error:
        return "error", str(error), error.field


def assert_same_parse(text: str) -> None:
    """Every step of the parser, new against reference, on one text (CRLF already gone, as the readers do)."""
    clean = text.replace("\r\n", "\n").replace("\r", "\n")
    assert [tuple(found) for found in headings.find_headings(clean)] == _reference_headings(clean), clean
    assert _sections(parser.split_sections(clean)) == _sections(reference.split_sections(clean)), clean
    assert parser.header_fields(clean) == reference.header_fields(clean), clean
    assert parser.parse_record_text(text) == reference.parse_record_text(text), text


def assert_same_rows(rows: list[dict], adapter, reference_adapter) -> None:
    for row in rows:
        assert _outcome(adapter, row) == _outcome(reference_adapter, row), row


# --- (a) the synthetic corpus of `cmedins sample --records 2000 --dialogues 0 --seed 3`

@pytest.fixture(scope="module")
def synthetic() -> tuple[list[dict], list[dict]]:
    return list(record_rows(stream(3, "records"), 1000)), list(text_record_rows(stream(3, "records_text"), 1000))


def test_synthetic_free_text_records_parse_the_same(synthetic):
    _, text_rows = synthetic
    for row in text_rows:
        assert_same_parse(row["text"])
    assert_same_rows(text_rows, formats.text_record, reference.text_record)
    # The same records as messy files hold them: CRLF, a BOM in front and one inside, tabs for spaces.
    messy = [{**row, "text": "\ufeff" + row["text"].replace("\n", "\r\n").replace("：", "\ufeff：", 1)}
             for row in text_rows[:200]]
    messy += [{**row, "text": row["text"].replace("：", "\t：").replace("\n", "\r")} for row in text_rows[200:400]]
    assert_same_rows(messy, formats.text_record, reference.text_record)


def test_synthetic_structured_records_convert_the_same(synthetic):
    rows, _ = synthetic
    assert_same_rows(rows, formats.structured_record, reference.structured_record)
    # Chinese headings for columns, padded column names, numbers, NaN and None, CRLF and BOMs in values.
    renamed = [{(f" {key} " if index % 3 else {"chief_complaint": "主诉", "diagnosis": "入院诊断"}.get(key, key)): value
                for index, (key, value) in enumerate(row.items())} | {"出院诊断": "肺炎\r\n待查", "备注": 3, "x": None,
                                                                       "y": float("nan"), "age": "45.0 岁"}
               for row in rows[:200]]
    assert_same_rows(renamed, formats.structured_record, reference.structured_record)


# --- (b) real records: CCKS 2017 EMR (CRLF, BOMs, HTML residue) and CMB-Clin cases

def test_ccks2017_sections_and_records_parse_the_same(shared_data: Path, monkeypatch):
    raws = [raw for _, _, raw in formats.read_ccks2017(shared_data / "ccks2017_emr" / "data_origin")]
    assert len(raws) == 300
    for raw in raws:
        for text in raw.values():
            if text:
                assert_same_parse(text)
    # On disk the files are CRLF: the texts as read, before the reader's clean-up, parse the same too.
    for file in sorted((shared_data / "ccks2017_emr" / "data_origin").glob("*/*.txtoriginal.txt"))[:400]:
        assert_same_parse(file.read_bytes().decode("utf-8-sig", errors="replace"))
    new = [_outcome(formats.ccks2017, raw) for raw in raws]
    monkeypatch.setattr(formats, "parse_record_text", reference.parse_record_text)
    assert new == [_outcome(formats.ccks2017, raw) for raw in raws]


def test_cmb_clin_cases_parse_the_same(shared_data: Path, monkeypatch):
    rows = [row for _, row in iter_rows(shared_data / "cmb" / "CMB-test-qa.json")]
    assert len(rows) == 74
    for row in rows:
        assert_same_parse(row["description"])
        for pair in row["QA_pairs"]:
            assert_same_parse(pair["answer"])
    new = [_outcome(formats.cmb_clin, row) for row in rows]
    monkeypatch.setattr(formats, "parse_record_text", reference.parse_record_text)
    assert new == [_outcome(formats.cmb_clin, row) for row in rows]


def test_other_real_medical_text_parses_the_same(shared_data: Path):
    """Answers and questions that are not records (numbered lists, 诊断/治疗 in prose) are hostile input."""
    qa = json.loads((shared_data / "cmtmedqa" / "CMtMedQA_test.json").read_text(encoding="utf-8"))
    for item in qa[:400]:
        for text in (item["instruction"], item["output"]):
            assert_same_parse(text)


# --- (c) hostile text

HOSTILE = [
    "", " ", "\n\n", "\ufeff主诉：发热", "主诉", "主诉：", "【主诉】", "[主诉]", "主 诉", "主　诉　：　发热",
    "主诉 发热3天", "(2)主诉 发热3天", "（二）主诉：发热\n（三）现病史：咳嗽", "一、主诉\n发热\n二、现病史\n\n咳嗽",
    "主诉：发热\r\n现病史：咳嗽\r\n", "主诉：发热\r现病史：咳嗽\r", "\t主诉：\t发热\n\t\t现病史：\t咳嗽",
    "主诉：发热\n主诉：咳嗽\n主诉：", "诊断：肺炎\n诊断：\n入院诊断：感冒\n出院诊断：肺炎\n诊断依据：发热",
    "患者因发热就诊，诊断：肺炎，治疗：抗感染。", "查体：心肺未见异常，专科情况：右下肢短缩。",
    "1.患者老年女性，88岁；2.伤后右髋疼痛，未排大便。4.查体：T36.1C，右髋压痛。5.辅助检查：右髋正位片示骨折。",
    "病史特点\n1.青年女性。\n2.查体：宫颈举痛。\n(3)辅助检查：HCG阳性\n【诊断】异位妊娠\n四、诊疗经过：手术",
    "四、病史特点\n1.老年男性。\n五、诊断\n肺炎", "病例特点：1.男性；2.查体：无；3，辅助检查：无。",
    "既往史、个人史及家族史：无\n既往史：无\n既往史、个人史：吸烟", "既往史及个人史\n\n\n无特殊",
    "辅助检查\n1.实验室检查：血常规正常。\n2.影像学检查：胸片正常。\n实验室检查\n  尿常规正常\n\n  便常规正常",
    "个人史：吸烟。\n婚育史：已婚。\n月经史：规律。", "一般项目：男，45岁，主因胸痛3天入院。\n主诉：胸痛",
    "一般项目：女，30岁，职业：教师。住址：某市\n现病史：头痛", "患者，男，2岁，主因发热2天门诊以疱疹性口腔炎于2017年收入院。",
    "病史及体检\n既往史：无\n体格检查：正常", "入院记录\n姓名：张三  性别：男  年龄：45岁  科室：心内科\n主诉：胸痛",
    "某某市人民医院  住院病历\n姓名：李四　性别：女\n年龄：130岁\n入院日期：2020年1月1日\n【主诉】头晕",
    "姓名：王五，性别：男；年龄：131岁。电话：123\n诊断：高血压", "姓名：\n性别：未知\n年龄：四十\n主诉：咳嗽",
    "姓名：张三性别：男年龄：45岁身份证号码：110101199001011234身份证号：1\n现住址：某区住址：某镇就诊科室：心内科",
    "患者姓名 ： 张三  电话：123  手机:456\t医院：某院\n就诊医院：某某医院，科别：骨科；入院时间：2020年。病案号",
    "一般项目\n姓名：赵六\u3000性别：女\u3000年龄：3周岁\u3000科室：\n主诉：发热",
    "男性，59岁。主因“上腹部隐痛不适伴食欲减退三个月”来我院门诊就诊。", "主诉“发热”\n现病史：无",
    "①主诉：发热\n②现病史：咳嗽\n⑳诊断：肺炎", "12主诉：发热\n1 2.诊断：肺炎\n123.治疗：无",
    "一般项目：无\n一般资料\n基本信息：男", "治疗\n治疗经过：手术\n治疗方案\n\n处理：观察", "医嘱：休息。出院医嘱：随访",
    "诊断诊断：肺炎", "主诉主诉", "主诉：主诉：发热", "【主 诉】发热", "[ 主诉 ]发热", "【主诉：发热", "主诉】",
    "，主诉：发热", "。1.主诉：发热", "；(2)诊断：肺炎；3.治疗：手术", ",3,主诉:发热", "3，主诉 发热", "，3，一般项目：无",
    "主诉：发热。现病史：咳嗽。诊断：肺炎", "主诉：发热\n\u3000\u3000现病史：\u3000咳嗽\u3000\n", "现病史\n\n\n",
    "诊疗经过\n\t\n\t\n", "主诉：\ufeff发热", "主诉\u2028发热\n现病史\u0085咳嗽\x0b\n诊断\x1c肺炎",
    "体格检查：BP 150/90mmHg\n专科检查\n  1.右膝肿胀\n  2.压痛\n专科情况：同上",
    "十一、出院诊断：肺炎\n十二、出院医嘱：随访",
    # A name and a longer one it begins (诊断, 诊断依据) that both fit: the longer one is the heading.
    "诊断 依据：发热\n治 疗 经过：手术\n治疗 方案\n无", "既往史 、个人史：无\n【诊断 依据】无\n[治疗　计划]无", "一二三、主诉：x", "（ 1 ）主诉：发热\n( 十 )诊断：肺炎",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_parses_the_same(text):
    assert_same_parse(text)
    assert _outcome(formats.text_record, {"text": text}) == _outcome(reference.text_record, {"text": text})


_FRAGMENTS = [
    *list(reference.HEADINGS)[::2], "主 诉", "既 往 史", "【", "】", "[", "]", "：", ":", "，", ",", "。", "；", ";", "、",
    "\n", "\r\n", "\r", "\ufeff", " ", "\t", "\u3000", "1.", "2、", "3，", "(4)", "（五）", "一、", "十二．", "①", "12",
    "发热3天", "诊断", "依据", "治疗", "经过", "方案", "、个人史", "既往史", "患者", "男", "女，45岁", "姓名：", "身份证号", "码", "住址", "现", "医院", "就诊", "电话", "性别：", "年龄：", "科室：", "主因", "因", "入院", "于2016-12-16",
    "“", "”", "以", "收入院", "住院病历", "入院记录", "医院", "体温36.5℃", "诊断为", "治疗", "abc",
]


def test_random_text_from_record_fragments_parses_the_same():
    """Seeded fuzzing: fragments of headings, numbering, punctuation and whitespace in any order."""
    rng = random.Random(15)
    for _ in range(3000):
        text = "".join(rng.choice(_FRAGMENTS) for _ in range(rng.randint(1, 40)))
        assert_same_parse(text)


@pytest.mark.parametrize("row", [
    {"主诉": {"a": 1}}, {"备注": [1], "主诉": "咳嗽"}, {"主诉": "咳嗽", "flag": True}, {"姓名": "张三"},
    {"主诉": "咳嗽", "sex": "unknown"}, {"主诉": "咳嗽", "age": "四十"}, {"主诉": "咳嗽", "age": 131}, {"kind": "x", "主诉": "a"},
    {"主诉": " \ufeff "}, {"主诉": "咳嗽", "age": 45.0, "sex": "F"}, {1: "x", "主诉": "咳嗽"}, {"主诉": 3.5},
])
def test_structured_row_outcomes_are_the_same(row):
    assert _outcome(formats.structured_record, row) == _outcome(reference.structured_record, row)


@pytest.mark.parametrize("row", [
    {"text": None}, {"text": ""}, {"text": 5}, {"text": ["主诉"]}, {"text": "姓名：张三"}, {"text": "主诉：咳嗽", "age": "x"},
    {"text": "主诉：咳嗽", "id": "r1", "科室": "心内科", "department": " ", "sex": "男性", "age": "45岁"},
    {"text": "主诉：咳嗽", "record_id": {"a": 1}},
])
def test_text_row_outcomes_are_the_same(row):
    assert _outcome(formats.text_record, row) == _outcome(reference.text_record, row)
