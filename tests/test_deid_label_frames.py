"""Identifiers found by their label, as bilingual records and exports write the label: record, inpatient and
outpatient numbers, insurance cards, messaging accounts, passports and dates of birth after an English label
(MRN: ..., Hospital No.: ..., DOB: ...), a pinyin column name of a HIS table (zyh, mzh, bah) or inside an export
frame (JSON and escaped JSON, query strings, Markdown and | rows, [..], XML and HTML tags, CSV). The detectors
and the residual scan read the same labels (cmedins.deid.label_shapes). General instructions write code and
versions after generic words (`ID: 3`, `No. 1`, `case 2`): short or plain numbers there stay."""

from __future__ import annotations

import random

import pytest

from cmedins.deid.config import DeidConfig
from cmedins.deid.engine import Deidentifier
from cmedins.deid.residual import residual_hits

MRN, ZY, WX = "<病案号>", "<病案号>", "<联系账号>"

FRAMES = [
    # English labels
    ("MRN: 00123456", f"MRN: {MRN}"),
    ("Hospital No.: ZY2023001234", f"Hospital No.: {ZY}"),
    ("Inpatient No. 1234567", f"Inpatient No. {MRN}"),
    ("Case No.: BA2021004321", f"Case No.: {MRN}"),
    ("Patient ID: P2020123456", f"Patient ID: {MRN}"),
    ("Admission No.: 7654321", f"Admission No.: {MRN}"),
    ("Outpatient No.: MZ20230815", f"Outpatient No.: {MRN}"),
    ("Medical Record Number: 88812345", f"Medical Record Number: {MRN}"),
    ("Insurance No.: A12345678", f"Insurance No.: {MRN}"),
    ("inpatient_no: 3456789", f"inpatient_no: {MRN}"),
    ("PatientId=ZY2019000123", f"PatientId={MRN}"),
    ("WeChat ID: wxid_a1b2c3d4e5", f"WeChat ID: {WX}"),
    ("Wechat: lihua_1988", f"Wechat: {WX}"),
    # export frames
    ('{"住院号": "ZY2023001234", "性别": "女"}', f'{{"住院号": "{ZY}", "性别": "女"}}'),
    ('"zyh":"1234567","xb":"女"', f'"zyh":"{MRN}","xb":"女"'),
    ('"mzh": "MZ2023123456"', f'"mzh": "{MRN}"'),
    ("blh=5678901&bah=6789012", f"blh={MRN}&bah={MRN}"),
    ("住院号=1234567&科室=内科", f"住院号={MRN}&科室=内科"),
    ("| 住院号 | 1234567 |", f"| 住院号 | {MRN} |"),
    ("[住院号]1234567", f"[住院号]{MRN}"),
    ("<住院号>1234567</住院号>", f"<住院号>{MRN}</住院号>"),
    ("<MRN>00123456</MRN>", f"<MRN>{MRN}</MRN>"),
    ("<td>住院号</td><td>1234567</td>", f"<td>住院号</td><td>{MRN}</td>"),
    ("住院号,1234567,性别,女", f"住院号,{MRN},性别,女"),
    ('\\"住院号\\":\\"1234567\\"', f'\\"住院号\\":\\"{MRN}\\"'),
    ('{"医保卡号": "YB123456789012"}', f'{{"医保卡号": "{MRN}"}}'),
    ('{"微信": "lihua1988"}', f'{{"微信": "{WX}"}}'),
    ('"QQ号":"123456789"', f'"QQ号":"{WX}"'),
    # a local phone number is one only by its label
    ('{"电话": "62345678"}', '{"电话": "<电话>"}'),
    ("| 联系电话 | 62345678 |", "| 联系电话 | <电话> |"),
    ("Phone: 6234 5678", "Phone: <电话>"),
    ("TEL. 62345678", "TEL. <电话>"),
    # passports and dates of birth
    ("Passport No.: 534298716", "Passport No.: <护照号>"),
    ('{"护照号": "EA1234567"}', '{"护照号": "<护照号>"}'),
    ("DOB: 02/01/1980", "DOB: <出生日期>"),
    ("Date of Birth: Jan 2, 1980", "Date of Birth: <出生日期>"),
    ('"csrq":"1980-01-02"', '"csrq":"<出生日期>"'),
    ('{"出生日期": "19800102"}', '{"出生日期": "<出生日期>"}'),
]


@pytest.mark.parametrize(("text", "expected"), FRAMES)
def test_labelled_identifiers_in_english_and_export_frames_are_masked(deid_engine, text, expected):
    assert deid_engine.deidentify(text)[0] == expected


def test_a_date_of_birth_goes_even_when_dates_are_kept():
    engine = Deidentifier(DeidConfig(dates="keep"))
    for text in ("DOB: 1980-01-02", '{"出生日期": "1980-01-02"}', "Birth date: 2 January 1980"):
        assert "1980" not in engine.deidentify(text)[0]


@pytest.mark.parametrize(("text", "value"), [
    ("MRN: 00123456", "00123456"),
    ("Hospital No.: ZY2023001234", "ZY2023001234"),
    ('{"住院号": "ZY2023001234"}', "ZY2023001234"),
    ('"zyh":"1234567"', "1234567"),
    ("<MRN>00123456</MRN>", "00123456"),
    ("<td>住院号</td><td>1234567</td>", "1234567"),
    ("住院号,1234567,", "1234567"),
    ('\\"住院号\\":\\"1234567\\"', "1234567"),
    ("| 住院号 | 1234567 |", "1234567"),
    ("WeChat ID: wxid_a1b2c3d4e5", "wxid_a1b2c3d4e5"),
    ('{"微信": "lihua"}', "lihua"),
    ('{"电话": "62345678"}', "62345678"),
    ('"手机号":"62345678"', "62345678"),
])
def test_the_residual_scan_reads_the_same_labels(text, value):
    hits = [text[lo:hi] for _, lo, hi in residual_hits(text)]
    assert hits == [value]
    assert [text[lo:hi] for _, lo, hi in residual_hits(text, prechecked=False)] == [value]


NOT_IDENTIFIERS = [
    "ID: 3",
    "See No. 1 and No. 2 below.",
    "In case 2, the patient improved.",
    "Case No. 12 was closed.",
    "Patient ID: P001",
    'for row in rows: print(row["patient_id"], 1)',
    "SELECT id, fname, lname, mrn, physician_id FROM EHR_PATIENT",
    "version 2.3.1, build 4",
    "Record No. 2019",
    "QQ音乐和微信支付都很常用。",
    "WeChat users can scan the code.",
    "KUAKE-QQR_train.json",
    "Happy birthday!",
    "hotel 62345678",
    "zyh 1234567",  # a pinyin key only with a frame character after it
    # keys of this package's own files (the push gate scans them) and of any database: a bare "record" is no label
    '{"record_id": "a3f9e2c41b7d5068", "record_number": 1234, "blind_record_no": 20231}',
    "1980年出生，2020年3月入院",  # 出生 is prose: the date after its comma is no date of birth
]


@pytest.mark.parametrize("text", NOT_IDENTIFIERS)
def test_generic_words_before_short_or_plain_numbers_stay(deid_engine, text):
    if text.endswith("入院"):
        assert [f.entity_type for f in deid_engine.analyze(text)] == ["DATE_OF_BIRTH", "DATE_TIME"]
        return
    assert deid_engine.deidentify(text)[0] == text
    assert residual_hits(text) == []


def test_label_frames_planted_into_real_records_leave_nothing(deid_engine, shared_data):
    from tests.support.plant_identities import host_texts

    rng = random.Random(5)
    hosts = [text for source, text in host_texts(shared_data) if source.startswith(("ccks2017/", "cmb/"))]
    rng.shuffle(hosts)
    texts = []
    for n, host in enumerate(hosts[:len(FRAMES) * 4]):
        frame, _ = FRAMES[n % len(FRAMES)]
        cut = host.find("。", len(host) // 3)
        texts.append(host + frame if cut < 0 else host[:cut + 1] + frame + "。" + host[cut + 1:])
    for out, (_frame, expected) in zip(deid_engine.deidentify_many(texts, [""] * len(texts)),
                                      [FRAMES[n % len(FRAMES)] for n in range(len(texts))], strict=True):
        assert expected in out[0], "a planted frame was not masked as expected"  # never print the value
