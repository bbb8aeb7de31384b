"""Phones and IDs written the way real records write them, which read as no number before (the 2026-12-02 attack
set, tests/support/plant_identities.attack_menu): Chinese digit characters in short groups or mixed with ASCII
digits, the letter O (or l) for a digit, a dash with a space either side, another script's digit right after a
mobile; and the clinical quantities beside them that must stay as they are."""

from __future__ import annotations

import pytest

from cmedins.deid.normalise import fold
from cmedins.deid.residual import prechecks, residual_hits
from tests.test_deid_cli import _deid_texts

# (record sentence, de-identified, the identifier's span in the sentence)
SPELLINGS = [
    # Chinese digits in groups of 3-4-4 (a space, a dash between) and an ID in groups of 6-8-4
    ('患者因"发热3天"入院。手机：一六九-一二九〇-五三四四。', '患者因"发热3天"入院。手机：<电话>。', "一六九-一二九〇-五三四四"),
    ("既往体健。联系电话为一三八 一二三四 五六七八，家属陪同。", "既往体健。联系电话为<电话>，家属陪同。",
     "一三八 一二三四 五六七八"),
    ("入院查体未见异常。身份证号：一一〇一〇一 一九八〇〇一〇一 一二三X。", "入院查体未见异常。身份证号：<身份证号>。",
     "一一〇一〇一 一九八〇〇一〇一 一二三X"),
    ("身份证三二〇一〇二 一九三八〇八二一 〇一一七，已收入院。", "身份证<身份证号>，已收入院。",
     "三二〇一〇二 一九三八〇八二一 〇一一七"),
    # Chinese digits mixed with ASCII ones, at the head or in the middle
    ("心界不大。手机：一六六18805397。心率96次/分。", "心界不大。手机：<电话>。心率96次/分。", "一六六18805397"),
    ("病程短。联系电话为138一二三四5678。", "病程短。联系电话为<电话>。", "138一二三四5678"),
    ("家属电话：１３８一二三四５６７８，请随访。", "家属电话：<电话>，请随访。", "１３８一二三四５６７８"),
    # a mobile's first three digits in brackets, as an area code is written (the fourth blind set)
    # (the residual scan reads the digits from the first one: the opening bracket is no identity)
    ("联系电话（家属）：(138)12345678，已告知。", "联系电话（家属）：<电话>，已告知。", "138)12345678"),
    ("手机/微信：（139）1234 5678。", "手机/微信：<电话>。", "139）1234 5678"),
    # the letter O for a zero, l for a one
    ("查体未见异常。手机：140O5667148。左手拇指创口愈合。", "查体未见异常。手机：<电话>。左手拇指创口愈合。", "140O5667148"),
    ("精神差。身份证号：32010219380821O117。双肺呼吸音粗。", "精神差。身份证号：<身份证号>。双肺呼吸音粗。",
     "32010219380821O117"),
    ("腹软。联系电话为158O8373363。", "腹软。联系电话为<电话>。", "158O8373363"),
    ("电话：1381234567O。", "电话：<电话>。", "1381234567O"),
    ("手机：138OO1l8OOO，家属知情。", "手机：<电话>，家属知情。", "138OO1l8OOO"),
    ("随访电话13812345l78。", "随访电话<电话>。", "13812345l78"),
    # a letter at the start of the number, or of a group of one written in groups
    ("患者电话：l3812345678，主诉头痛3天。", "患者电话：<电话>，主诉头痛3天。", "l3812345678"),
    ("急诊留观。手机 l38 1234 5678，家属陪同。", "急诊留观。手机 <电话>，家属陪同。", "l38 1234 5678"),
    ("联系电话I3912345678，已告知病情。", "联系电话<电话>，已告知病情。", "I3912345678"),
    ("手机：138 l234 5678。血压130/80mmHg。", "手机：<电话>。血压130/80mmHg。", "138 l234 5678"),
    ("备用电话138-O013-8000。", "备用电话<电话>。", "138-O013-8000"),
    ("家属电话：O1O-62345678，白天可联系。", "家属电话：<电话>，白天可联系。", "O1O-62345678"),
    ("单位座机o21 6234 5678。", "单位座机<电话>。", "o21 6234 5678"),
    ("身份证号：l10101198001011234，既往体健。", "身份证号：<身份证号>，既往体健。", "l10101198001011234"),
    ("身份证号：11O1O1 198OO1O1 123X。", "身份证号：<身份证号>。", "11O1O1 198OO1O1 123X"),
    # 一 typed for the dash of a mobile (or of a landline after its area code), in a phone's group shape
    ("患者电话：1381234一5678，主诉头痛3天。", "患者电话：<电话>，主诉头痛3天。", "1381234一5678"),
    ("联系电话为138一1234一5678，家属陪同。", "联系电话为<电话>，家属陪同。", "138一1234一5678"),
    ("手机：139一12345678。", "手机：<电话>。", "139一12345678"),
    ("随访电话１３８一１２３４一５６７８。", "随访电话<电话>。", "１３８一１２３４一５６７８"),
    ("家属电话：021一62345678，夜间可联系。", "家属电话：<电话>，夜间可联系。", "021一62345678"),
]


@pytest.mark.parametrize(("text", "expected", "value"), SPELLINGS)
def test_numbers_spelt_as_records_spell_them_are_masked(deid_engine, text, expected, value):
    assert deid_engine.deidentify(text)[0] == expected
    start = text.index(value)
    hits = residual_hits(text)
    assert any(lo <= start and start + len(value) <= hi for _, lo, hi in hits), "the residual scan must see it raw"
    assert hits == residual_hits(text, prechecked=False)


def test_cmedins_deid_masks_chinese_digit_and_letter_o_numbers(tmp_path):
    texts = [text for text, _, _ in SPELLINGS[:3]] + ["手机：140O5667148。", "身份证号：32010219380821O117。"]
    rows = _deid_texts(tmp_path, texts)
    assert rows == [expected for _, expected, _ in SPELLINGS[:3]] + ["手机：<电话>。", "身份证号：<身份证号>。"]
    written = (tmp_path / "out.jsonl").read_text(encoding="utf-8") + \
        (tmp_path / "out.jsonl.audit.jsonl").read_text(encoding="utf-8")
    assert not any(value in written for value in ("五三四四", "五六七八", "一二三X", "5667148", "821O117"))


@pytest.mark.parametrize(("text", "folded"), [
    # years, a date, counts, ordinals in Chinese digits stay; only the phone in the same sentence is read
    ("患者于一九六五年行阑尾切除术，二〇二三年五月起发热三四天，每日一二次，第一二三四五六次复查。手机：一三八 一二三四 五六七八。",
     "患者于一九六五年行阑尾切除术，二〇二三年五月起发热三四天，每日一二次，第一二三四五六次复查。手机：138 1234 5678。"),
    # 一 alone between ASCII digits is a range's dash, not a digit (real CMB text)
    ("每日给予10460一11715千焦热量，蛋白质100一120克。联系电话为一三九-一二三四-五六七八。",
     "每日给予10460一11715千焦热量，蛋白质100一120克。联系电话为139-1234-5678。"),
    # O, o, I, l inside words, units and short numbers stay; the O inside the mobile is read
    ("SpO2 98%，PaCO2 35mmHg，PO2 80，HbA1c 7.2%，T1DM病史，IO 1OO，胰岛素10IU、维生素D 2000000IU。手机：140O5667148。",
     "SpO2 98%，PaCO2 35mmHg，PO2 80，HbA1c 7.2%，T1DM病史，IO 1OO，胰岛素10IU、维生素D 2000000IU。手机：14005667148。"),
    ("CA19-9 35U/ml，ICD O80.0O1，编码Z3801O5，手机：138O0138000。",
     "CA19-9 35U/ml，ICD O80.0O1，编码Z3801O5，手机：13800138000。"),
    # a letter before digits that make no phone or ID is a word's (I131, O157, IL 6, l 10 mg), and one in a run
    # whose digits make no phone or ID stays a letter (3O度, 1O-14小时, 10l标本 in real text)
    ("I131治疗后，O157 H7阴性，IL 6 12.5pg/ml，l 10 mg，气温3O度，牵引1O-14小时，10l标本。手机：l3812345678。",
     "I131治疗后，O157 H7阴性，IL 6 12.5pg/ml，l 10 mg，气温3O度，牵引1O-14小时，10l标本。手机：13812345678。"),
    # 一 between digits that make no phone in a phone's groups is a range's dash (7-5 digits, a 12 prefix, 2-9)
    ("蛋白1381234一56789，1281234一5678，13一812345678。手机：138一1234一5678。",
     "蛋白1381234一56789，1281234一5678，13一812345678。手机：138-1234-5678。"),
])
def test_the_view_reads_the_number_and_keeps_the_clinical_spellings_beside_it(deid_engine, text, folded):
    assert fold(text) == folded
    assert len(fold(text)) == len(text)
    assert prechecks().folded(text)[0] == folded  # the Hyperscan triggers tell the text needs folding
    assert [kind for kind, _, _ in residual_hits(text)] == ["phone"]
    label = "手机：" if "手机：" in text else "联系电话为"
    before = text[:text.index(label)]
    assert deid_engine.deidentify(text)[0] == deid_engine.deidentify(before)[0] + label + "<电话>。"


def test_residual_scan_joins_groups_across_a_spaced_dash_and_reads_one_script_per_group():
    """The detectors mask `138 - 1234 - 5678` and a mobile with another script's digit right after it; the
    independent scan saw neither (a 3-character separator; the ٣ made the group 12 digits long)."""
    text = "患者女，40岁。联系电话：138 - 1234 - 5678，备用13912345678٣号，家属电话021 / 6234 / 5678。"
    hits = residual_hits(text)
    spans = [text[lo:hi] for _, lo, hi in hits]
    assert spans == ["138 - 1234 - 5678", "13912345678", "021 / 6234 / 5678"]
    assert hits == residual_hits(text, prechecked=False)
    assert residual_hits("随访：١٣٨١٢٣٤٥٦٧٨ 电话") == [("phone", 3, 14)]  # one script throughout: one group
    assert residual_hits("身份证号١١٠١٠١١٩٨٠٠١٠١١٢٣٤") == [("id_number", 4, 22)]
    assert residual_hits("体温36.5 - 37.2 ℃，血压120 / 80 mmHg，3 - 5 天，2016 - 10 - 29复查") == []


@pytest.mark.parametrize(("text", "expected"), [
    ("家属王五13812345678陪同，患者手机：一三八 一二三四 五六七八。", "家属<姓名><电话>陪同，患者手机：<电话>。"),
    ("患者张三 13812345678，男，45岁。联系电话为一六九-一二九〇-五三四四。", "患者<姓名> <电话>，男，45岁。联系电话为<电话>。"),
])
def test_a_name_ending_in_a_digit_character_beside_a_phone_stays_a_name(deid_engine, text, expected):
    """One Chinese digit at a run's end is a name's last character (王五, 张三), not the phone's first digit:
    read as one, it made the phone 12 digits and the name one character, and both leaked."""
    assert deid_engine.deidentify(text)[0] == expected
    assert [kind for kind, _, _ in residual_hits(text)] == ["phone", "phone"]
