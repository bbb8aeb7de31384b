"""A name as a field of an export, as HIS exports, JSON, XML (HL7 CDA), tables, query strings and forms write it:
the label, then quotes, brackets, =, | or a tag, then the name. Beside them the running text that reads like
those frames must stay: a role word before a comma or a quoted word is prose, and this package's own
placeholder <姓名> is no XML tag."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("text", "expected"), [
    ('{"姓名": "王小明", "性别": "男"}', '{"姓名": "<姓名>", "性别": "男"}'),
    ("{'name': '陈建国', 'age': 45}", "{'name': '<姓名>', 'age': 45}"),
    ('"hzxm":"刘洋","xb":"女"', '"hzxm":"<姓名>","xb":"女"'),
    ('\\"姓名\\":\\"周志强\\"', '\\"姓名\\":\\"<姓名>\\"'),  # JSON inside a JSON string
    ("姓名=何明&性别=男", "姓名=<姓名>&性别=男"),
    ("| 姓名 | 罗静 | 性别 | 女 |", "| 姓名 | <姓名> | 性别 | 女 |"),
    ("黎光荣|男|56岁", "<姓名>|男|56岁"),
    ("[姓名]谭冬鹃 [科室]内科", "[姓名]<姓名> [科室]内科"),
    ("【患者】凌道涛，男", "【患者】<姓名>，男"),
    ("<姓名>康桂桂</姓名><性别>女</性别>", "<姓名><姓名></姓名><性别>女</性别>"),
    ("<PatientName>程晨民</PatientName>", "<PatientName><姓名></PatientName>"),
    ("姓名,舒慧柏,性别,女", "姓名,<姓名>,性别,女"),
    ('{"主治医师": "董英竹"}', '{"主治医师": "<姓名>"}'),
    ("name => 詹倩", "name => <姓名>"),
    ("录入：包军飞 审核：汪斌", "录入：<姓名> 审核：<姓名>"),
    ("谈话对象：吴光嘉（患者之子）", "谈话对象：<姓名>（患者之子）"),
])
def test_names_in_export_frames_are_masked(deid_engine, text, expected):
    assert deid_engine.deidentify(text)[0] == expected


@pytest.mark.parametrize("text", [
    "想讨教一下医生，冷空气过敏哮喘怎么办？",  # a role word, a comma, then prose
    "乙肝病毒表面抗原阳性的孕妇,于早孕28周起每周肌肉注射一次。",
    "这是一种叫做“金鱼草”的植物。",  # a word that introduces a quoted word
    "他手持双刃斧，名叫“安迪”。",
    "包括唯一的客户 ID、名字和姓氏、地址。",
    "我没有看到过任何电视节目的名字，但请告诉我你指的是哪个节目。",
    "<姓名>和<姓名>医师共同查看患者。",  # the placeholder, read again, is no tag
    "医生，谢谢您的回答。",
])
def test_prose_that_looks_like_an_export_frame_stays(deid_engine, text):
    assert deid_engine.deidentify(text)[0] == text
