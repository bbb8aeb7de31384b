"""An address's numbers after its street or estate, masked with it: a Shanghai lane (弄), a road section (段), an
estate's phase or zone (期, 区), and the unit and room after a building (1号楼2单元601). Before, the digits a unit
may carry after it (12号-3) took the next unit's own digits, so the match stopped at 1号楼2 and left 单元601."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("text", "expected"), [
    ("患儿，男，4岁，河北省承德市双滦区远山花园1号楼2单元601人，主因发热3天。", "患儿，男，4岁，<地址>人，主因发热3天。"),
    ("女，5岁，双滦区远山文苑2期3栋3单元502人，主因咳嗽。", "女，5岁，<地址>人，主因咳嗽。"),
    ("Address: 上海市浦东新区张江路123弄5号502室", "Address: <地址>"),
    ("Home address - 成都市武侯区人民南路四段12号", "Home address - <地址>"),
    ("北京市朝阳区建国路88号3单元502室", "<地址>"),
    ("河北省张家口市蔚县桃花镇杨庄村10排62号，既往体健。", "<地址>，既往体健。"),
])
def test_an_address_keeps_none_of_its_numbers(deid_engine, text, expected):
    assert deid_engine.deidentify(text)[0] == expected


@pytest.mark.parametrize("text", [
    "第2期临床试验，分3区随机，每组12例。",  # a phase and zones of a trial, no street before them
    "腰椎4段5号位压痛阳性。",
])
def test_numbers_without_a_street_stay(deid_engine, text):
    assert deid_engine.deidentify(text)[0] == text
