"""Record parsing: heading variants, preamble handling, department taxonomy, record source formats."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from cmedins.contracts.schema import MedicalRecord
from cmedins.errors import CmedinsError, RowError
from cmedins.records.departments import DEPARTMENTS, normalize_department
from cmedins.records.formats import (
    admission_diagnosis,
    ccks2017,
    cmb_clin,
    read_ccks2017,
    structured_record,
    text_record,
)
from cmedins.records.parser import parse_record_text
from cmedins.rowio.formats import FORMATS
from cmedins.rowio.readers import iter_rows


@pytest.mark.parametrize("text", [
    "主诉：发热3天", "主 诉:发热3天", "【主诉】发热3天", "一、主诉\n发热3天", "1.主诉：发热3天", "(2)主诉 发热3天",
    "（2）主诉\n    发热3天", "主诉\n发热3天", "[主诉]：发热3天", "主　诉：发热3天",
])
def test_chief_complaint_heading_variants(text):
    assert parse_record_text(text)["chief_complaint"] == "发热3天"


@pytest.mark.parametrize("heading, field", [
    ("初步诊断", "diagnosis"), ("入院诊断", "diagnosis"), ("出院诊断", "diagnosis"), ("诊断", "diagnosis"),
    ("诊疗经过", "treatment"), ("治疗经过", "treatment"), ("治疗", "treatment"), ("专科检查", "specialist_exam"),
    ("病史特点", "history_summary"), ("出院情况", "discharge_status"), ("出院医嘱", "discharge_advice"),
    ("体格检查", "physical_exam"), ("查体", "physical_exam"),
])
def test_section_headings_map_to_fields(heading, field):
    record = parse_record_text(f"主诉：咳嗽2周\n{heading}：内容甲")
    assert record[field] == "内容甲"
    assert record["chief_complaint"] == "咳嗽2周"


FULL_RECORD = """入院记录
姓名：张三  性别：男  年龄：45岁  科室：心内科
主 诉:胸痛3天。
【现病史】患者3天前无明显诱因出现胸骨后压榨样疼痛。
一、既往史
高血压病史10年。
(4)个人史：吸烟20年。
婚育史：已婚，育1子。
体格检查：BP 150/90mmHg。
辅助检查
1.实验室检查：肌钙蛋白I 2.3ng/ml。
2.影像学检查：冠脉CTA示前降支狭窄。
入院诊断：急性冠脉综合征
出院诊断：急性非ST段抬高型心肌梗死
诊疗经过：予阿司匹林。
出院医嘱：低盐低脂饮食。"""


def test_full_record_exact_fields():
    assert parse_record_text(FULL_RECORD) == {
        "patient_name": "张三", "sex": "男", "age": 45, "department": "心内科",
        "chief_complaint": "胸痛3天。",
        "present_illness": "患者3天前无明显诱因出现胸骨后压榨样疼痛。",
        "past_history": "高血压病史10年。",
        "personal_history": "吸烟20年。\n婚育史：已婚，育1子。",  # labels for the parts not under 个人史 itself
        "physical_exam": "BP 150/90mmHg。",
        # 实验室检查 / 影像学检查 merge into 辅助检查 keeping their sub-headings as written.
        "auxiliary_exam": "1.实验室检查：肌钙蛋白I 2.3ng/ml。\n2.影像学检查：冠脉CTA示前降支狭窄。",
        "diagnosis": "入院诊断：急性冠脉综合征\n出院诊断：急性非ST段抬高型心肌梗死",
        "treatment": "予阿司匹林。",
        "discharge_advice": "低盐低脂饮食。",
    }


def test_header_key_values_and_title_line():
    text = ("石家庄市中心医院  住院病历\n姓名：宋桂兰　性别：女　年龄：30岁　出生日期：1992年12月17日\n"
            "科室：妇产科　病案号：3276919　入院日期：2023年11月03日\n联系电话：+86 13552679923\n【主诉】\n停经7周")
    assert parse_record_text(text) == {
        "hospital": "石家庄市中心医院", "patient_name": "宋桂兰", "sex": "女", "age": 30, "birth_date": "1992年12月17日",
        "department": "妇产科", "record_number": "3276919", "admission_date": "2023年11月03日",
        "phone": "+86 13552679923", "chief_complaint": "停经7周",
    }


def test_preamble_narrative_goes_to_present_illness():
    record = parse_record_text("患者，女，62岁，因反复咳嗽咳痰5年入院。\n现病史：5年前受凉后咳嗽。\n诊断：慢性支气管炎")
    assert record["present_illness"] == "患者，女，62岁，因反复咳嗽咳痰5年入院。\n5年前受凉后咳嗽。"
    assert (record["sex"], record["age"]) == ("女", 62)


def test_numbered_headings_inside_a_paragraph_split_but_prose_does_not():
    text = "1.患者老年女性，88岁；2.伤后右髋疼痛，未排大便。4.查体：T36.1C，右髋压痛。5.辅助检查：右髋正位片示骨折。"
    record = parse_record_text(text)
    assert record["present_illness"] == "1.患者老年女性，88岁；2.伤后右髋疼痛，未排大便。"
    assert record["physical_exam"] == "T36.1C，右髋压痛。"
    assert record["auxiliary_exam"] == "右髋正位片示骨折。"
    # An unnumbered "，专科情况：" mid-sentence stays in the text it belongs to.
    assert "specialist_exam" not in parse_record_text("查体：心肺未见异常，专科情况：右下肢短缩。")


def test_history_summary_keeps_its_numbered_items():
    text = ("【病史特点】\n1.青年女性，30岁，因“停经7周”入院。\n2.查体：宫颈举痛（+）。\n3.辅助检查：血HCG 6199IU/L。\n"
            "【诊疗经过】\n行腹腔镜左侧输卵管切除术。")
    record = parse_record_text(text)
    assert record == {"history_summary": "1.青年女性，30岁，因“停经7周”入院。\n2.查体：宫颈举痛（+）。\n3.辅助检查：血HCG 6199IU/L。",
                      "treatment": "行腹腔镜左侧输卵管切除术。"}
    # Numbered like the 病史特点 heading itself, the next heading is its sibling.
    siblings = parse_record_text("四、病史特点\n1.老年男性。\n五、诊断\n肺炎")
    assert (siblings["history_summary"], siblings["diagnosis"]) == ("1.老年男性。", "肺炎")


def test_text_without_headings_is_all_narrative():
    assert parse_record_text("患者因头痛2天就诊。") == {"present_illness": "患者因头痛2天就诊。"}
    # ... except for a chief complaint it quotes.
    quoted = parse_record_text("男性，59岁。主因“上腹部隐痛不适伴食欲减退三个月”来我院门诊就诊。")
    assert (quoted["chief_complaint"], quoted["sex"], quoted["age"]) == ("上腹部隐痛不适伴食欲减退三个月", "男", 59)


@pytest.mark.parametrize("name, expected", [
    ("心内科", "心血管内科"), ("心血管内科", "心血管内科"), ("心血管科", "心血管内科"), ("消化科", "消化内科"),
    ("神经科", "神经内科"), ("传染病科", "感染科"), ("肝病科", "感染科"), ("小儿内科", "儿科"), ("小儿综合", "儿科"),
    ("妇科", "妇产科"), ("产科综合", "妇产科"), ("整形美容", "整形外科"), ("骨科二病区", "骨科"),
    ("心内科门诊", "心血管内科"), ("肿瘤科其它", "肿瘤科"), ("外科", "普通外科"), ("普通内科", "普通内科"),
    ("男性科", "男科"), ("ＩＣＵ", "重症医学科"), ("五官科", None), ("家居健康", None), ("", None), (None, None),
])
def test_normalize_department(name, expected):
    assert normalize_department(name) == expected


def test_taxonomy_is_fixed_and_every_standard_name_maps_to_itself():
    assert 20 <= len(DEPARTMENTS) <= 30
    assert all(normalize_department(name) == name for name in DEPARTMENTS)


def test_formats_are_registered_as_record_formats():
    for name in ("record", "record_text", "cmb_clin", "ccks2017"):
        assert FORMATS[name].kind == "record"
    assert FORMATS["ccks2017"].reader is not None


def _validates(record: dict, record_id: str = "t:1") -> None:
    MedicalRecord.model_validate({k: v for k, v in record.items() if k != "kind"} | {"record_id": record_id,
                                                                                      "source": "t"})


def test_structured_record_accepts_field_names_and_chinese_headings():
    row = {"主诉": "腹痛1天", "现病史": "进食后上腹痛。", "入院诊断": "急性胰腺炎", "出院诊断": "急性水肿型胰腺炎",
           "性别": "女性", "年龄": "36岁", "科室": "消化科", "discharge_advice": "禁酒。", "备注": "ignored", "医生": ""}
    record = structured_record(row)
    assert record == {"kind": "record", "chief_complaint": "腹痛1天", "present_illness": "进食后上腹痛。",
                      "diagnosis": "入院诊断：急性胰腺炎\n出院诊断：急性水肿型胰腺炎", "sex": "女", "age": 36,
                      "department": "消化科", "discharge_advice": "禁酒。"}
    _validates(record)


@pytest.mark.parametrize("row, field", [
    ({"主诉": "咳嗽", "age": "四十"}, "age"), ({"主诉": "咳嗽", "sex": "unknown"}, "sex"), ({"姓名": "张三"}, "text"),
])
def test_structured_record_errors_name_the_field(row, field):
    with pytest.raises(RowError) as caught:
        structured_record(row)
    assert caught.value.field == field


def test_text_record_columns_override_the_text():
    record = text_record({"text": "科室：神经科\n主诉：头晕1周", "department": "神经内科", "age": 70})
    assert (record["department"], record["age"], record["chief_complaint"]) == ("神经内科", 70, "头晕1周")
    with pytest.raises(RowError, match="missing or empty"):
        text_record({"text": "  "})


def test_admission_sentence_gives_the_chief_complaint_without_the_diagnosis():
    from cmedins.records.parser import admission_complaint

    assert admission_complaint("，男，2岁，付营子村人，主因发热2天门诊以疱疹性口腔炎于2017年02月06日11:17收入院。") == "发热2天"
    assert admission_complaint("下肢疼痛不适、间歇性跛行7天于2016-12-16    16：00入院") == "下肢疼痛不适、间歇性跛行7天"


def test_admission_diagnosis_moves_out_of_the_narrative():
    text = "患者病情平稳，以左侧粗隆间骨折介绍入院。患者自入院以来，无发热。"
    assert admission_diagnosis(text) == ("左侧粗隆间骨折", "患者病情平稳，介绍入院。患者自入院以来，无发热。")
    assert admission_diagnosis("患者自入院以来无发热，以咳嗽、发热为主症入院。")[0] is None
    assert admission_diagnosis("门诊以前列腺增生症合并尿潴留介绍入院。")[0] == "前列腺增生症合并尿潴留"


def test_cmb_clin_case(shared_data: Path):
    rows = dict(iter_rows(shared_data / "cmb" / "CMB-test-qa.json"))
    record = cmb_clin(rows[1])
    assert record["chief_complaint"] == "右下腹痛并自扪及包块3小时。"
    assert record["present_illness"].startswith("病人，男，49岁，3小时前解大便后出现右下腹疼痛")
    assert record["auxiliary_exam"].startswith("（1）实验室检查\n血常规：WBC 5.0×109／L")
    assert record["diagnosis"].startswith("诊断：嵌顿性腹股沟斜疝合并肠梗阻。\n诊断依据：\n①右下腹痛")
    assert record["treatment"].startswith("嵌顿性疝原则上需要紧急手术治疗")
    assert (record["sex"], record["age"]) == ("男", 49)
    assert "department" not in record  # "案例分析-腹外疝" names no chapter
    assert cmb_clin(rows[8])["department"] == "普通外科"  # 胆道疾病
    counts = Counter(field for row in rows.values() for field in cmb_clin(row))
    assert counts["chief_complaint"] >= 66 and counts["present_illness"] == 74
    assert counts["diagnosis"] >= 50 and counts["treatment"] >= 55 and counts["department"] >= 40
    for number, row in rows.items():
        _validates(cmb_clin(row), f"cmb:{number}")


def test_ccks2017_joins_four_sections_by_index(shared_data: Path):
    raws = {index: raw for _, index, raw in read_ccks2017(shared_data / "ccks2017_emr" / "data_origin")}
    assert len(raws) == 300
    record = ccks2017(raws[1])
    assert record == {
        "kind": "record", "sex": "女", "age": 88,
        "chief_complaint": "右髋部摔伤后疼痛肿胀，活动受限5小时",
        "present_illness": raws[1]["病史特点"].split("4.查体")[0].replace("以左侧粗隆间骨折介绍入院", "介绍入院"),
        "physical_exam": raws[1]["病史特点"].split("4.查体：")[1].split("5.辅助检查")[0].strip(),
        "auxiliary_exam": "本院右髋关节正位片：右侧股骨粗隆间骨折。",
        "diagnosis": "左侧粗隆间骨折",
        "treatment": raws[1]["诊疗经过"].strip(),
        "discharge_status": raws[1]["出院情况"].strip(),
    }
    assert "\r" not in raws[1]["诊疗经过"]
    counts = Counter(field for raw in raws.values() for field in ccks2017(raw))
    assert counts["diagnosis"] >= 200 and counts["treatment"] >= 290 and counts["auxiliary_exam"] >= 150
    for index, raw in raws.items():
        _validates(ccks2017(raw), f"ccks:{index}")


def test_ccks2017_reader_refuses_a_wrong_folder(tmp_path: Path):
    with pytest.raises(CmedinsError, match="一般项目"):
        list(read_ccks2017(tmp_path))


def test_ccks_reader_strips_mangled_html_spaces(shared_data):
    from cmedins.records.formats import read_ccks2017

    texts = [text for _, _, raw in read_ccks2017(shared_data / "ccks2017_emr") for text in raw.values() if text]
    assert len(texts) > 1000
    assert not [text for text in texts if "nbsp" in text]
