"""Names in lists separated by spaces (discussion records: 参加人员：王芳 李娜 张伟) or by English commas and `and`,
in a signature after a dash, greeted at a clause's start (王芳你好，… in online consultations), as an informant
(据王芳介绍), before a bracket about an identity document, after 姓名为, and after an English label and a dash.
Beside them, the phrases those frames resemble stay."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("text", "expected"), [
    ("参加讨论人员：俞雪玉 潘勇 田德\n讨论意见：", "参加讨论人员：<姓名>\n讨论意见："),
    ("会诊医师：姜俊利  高平斌。", "会诊医师：<姓名>。"),
    ("Attendees: 温俊敏, 何洋 and 廖长", "Attendees: <姓名>, <姓名> and <姓名>"),
    ("Attendees: 温俊敏,何洋", "Attendees: <姓名>,<姓名>"),  # an ASCII comma without a space
    ("以上情况已告知。\n——赵鹏\n2023年1月2日", "以上情况已告知。\n——<姓名>\n<日期>"),  # dates are masked too
    ("温霞秋你好，你的检查结果出来了。", "<姓名>你好，你的检查结果出来了。"),
    ("据欧阳建旺介绍，患者3天前起病。", "据<姓名>介绍，患者3天前起病。"),
    ("刘刚（身份证号略）为患者之子。", "<姓名>（身份证号略）为患者之子。"),
    ("患者姓名为周薇杏，女，45岁。", "患者姓名为<姓名>，女，45岁。"),
    ("Patient's name - 钟泽贵", "Patient's name - <姓名>"),
])
def test_names_in_lists_signatures_and_greetings_are_masked(deid_engine, text, expected):
    assert deid_engine.deidentify(text)[0] == expected


@pytest.mark.parametrize("text", [
    "你向母親告別，母親祝你好運，並提醒你經常給她寫信。",  # 祝你好运 is no greeting of a 母親祝
    "医生你好，我想问一下。大家好。",
    "据文献报道，据统计，据了解，据此推测。",
    "参加人员：全科 内科 外科",  # a list of departments, no surname first
    "Present: none. Members: see list.",
    "患者血压140/90mmHg（电话随访）。",
])
def test_phrases_like_those_frames_stay(deid_engine, text):
    assert deid_engine.deidentify(text)[0] == text
