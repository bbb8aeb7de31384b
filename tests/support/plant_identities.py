"""Plant surrogate identities into real public clinical text, recording every planted span exactly.

Host paragraphs are real: CCKS 2017 inpatient EMR sections, CMB-Clin case descriptions and ChatMed-Consult
queries from ../shared/data (never the evaluation sets CMtMedQA / Huatuo-26M). Each host gets one to three
identity sentences inserted at sentence boundaries, in the frames and spellings real Chinese records use.

Every frame and every spelling belongs to one of two sets:
- "tuned": the classes named in issue 11 (detection was developed against these);
- "held_out": more of the same kind (other separators, other labels, other list and verb frames, other
  well-known hospitals) used ONLY for measuring; detection code was not tuned on them.
- "blind" (`planted_corpus(..., menu="blind")`): a third set written after the first detection changes had
  landed, because the held-out set was partly looked at while tuning names. Its first measurement (code at
  e934688) is the blind figure; the classes it exposed (em-dash separators, 病案号No., names with titles like
  同志 or a sex/age bracket, hospitals by short name) were fixed afterwards, so later figures are not blind.
A planted span is `Planted(start, end, entity_type, spelling, frame, held_out)` in the planted text.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from pathlib import Path

from cmedins.contracts.prc_id import id_check_digit

FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}


def full_width(text: str) -> str:
    return "".join(FULL_WIDTH.get(ch, ch) for ch in text)


# --- surrogate values ----------------------------------------------------------------------------------------
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
            "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向"
            "汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单")
DOUBLE_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "皇甫", "司徒", "夏侯", "令狐", "慕容", "尉迟")
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉红玲建国志文斌宇浩凯健俊帆琳晨欣怡婷雪梅"
         "春秋冬海波涛鑫淑珍凤云飞龙亮成荣昌德福禄寿喜顺利宏伟博远航瑞祥瑶佳慧颖倩莉蕾薇燕鹃嘉豪子轩梓涵雨泽"
         "金银铁松柏杨柳桃李杏菊竹兵民生庆立新光永长万千百道光兴旺贵富全安")
FAMOUS_TUNED = ("北京协和医院", "南京鼓楼医院", "四川大学华西医院", "复旦大学附属中山医院", "中山大学附属第一医院",
                "首都医科大学附属北京天坛医院", "承德市中心医院")
FAMOUS_HELD_OUT = ("湘雅医院", "瑞金医院", "北京大学人民医院", "武汉同济医院", "山东省立医院", "齐鲁医院",
                   "浙江大学医学院附属邵逸夫医院", "西京医院", "中国医学科学院肿瘤医院", "上海长海医院")


def person(rng: random.Random) -> str:
    surname = rng.choice(DOUBLE_SURNAMES) if rng.random() < 0.08 else rng.choice(SURNAMES)
    return surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2, 2))))


def mobile_digits(rng: random.Random) -> str:
    return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


def id_digits(rng: random.Random) -> str:
    born = date(1930, 1, 1) + timedelta(days=rng.randrange(30_000))
    first17 = f"{rng.choice(('110101', '310104', '320102', '440106', '510107', '130802'))}{born:%Y%m%d}" \
              f"{rng.randrange(1000):03d}"
    return first17 + id_check_digit(first17)


def birth(rng: random.Random) -> date:
    return date(1930, 1, 1) + timedelta(days=rng.randrange(28_000))


CN_NUM = "〇一二三四五六七八九"


def cn_year(value: date) -> str:
    return "".join(CN_NUM[int(d)] for d in str(value.year))


def cn_small(n: int) -> str:
    tens, ones = divmod(n, 10)
    return ("" if tens == 0 else ("十" if tens == 1 else CN_NUM[tens] + "十")) + (CN_NUM[ones] if ones else "")


# --- spellings: (class name, held_out, function(rng) -> text) --------------------------------------------
def _groups(digits: str, sizes: tuple[int, ...], sep: str) -> str:
    out, i = [], 0
    for size in sizes:
        out.append(digits[i:i + size])
        i += size
    return sep.join(out)


Spelling = tuple[str, bool, Callable[[random.Random], str]]

MOBILE: list[Spelling] = [
    ("mobile_plain", False, mobile_digits),
    ("mobile_dash", False, lambda r: _groups(mobile_digits(r), (3, 4, 4), "-")),
    ("mobile_dots", False, lambda r: _groups(mobile_digits(r), (3, 4, 4), ".")),
    ("mobile_spaces", False, lambda r: _groups(mobile_digits(r), (3, 4, 4), " ")),
    ("mobile_plus86_dash", False, lambda r: "+86-" + _groups(mobile_digits(r), (3, 4, 4), "-")),
    ("mobile_paren_plus86", False, lambda r: "(+86)" + mobile_digits(r)),
    ("mobile_0086", False, lambda r: "0086-" + mobile_digits(r)),
    ("mobile_full_width", False, lambda r: full_width(mobile_digits(r))),
    # held out: other separators and groupings
    ("mobile_slashes", True, lambda r: _groups(mobile_digits(r), (3, 4, 4), "/")),
    ("mobile_4_3_4", True, lambda r: _groups(mobile_digits(r), (4, 3, 4), " ")),
    ("mobile_full_width_dash", True, lambda r: full_width(_groups(mobile_digits(r), (3, 4, 4), "-"))),
    ("mobile_plus86_space_dots", True, lambda r: "+86 " + _groups(mobile_digits(r), (3, 4, 4), ".")),
    ("mobile_cn_paren_plus86", True, lambda r: "（+86）" + _groups(mobile_digits(r), (3, 4, 4), " ")),
]


def _area(r: random.Random) -> str:
    return r.choice(("010", "021", "022", "023", "020", "0311", "0314", "0571", "0512", "025"))


def _local(r: random.Random) -> str:
    return str(r.randint(2, 8)) + "".join(r.choice("0123456789") for _ in range(r.choice((6, 7))))


LANDLINE: list[Spelling] = [
    ("landline_cn_paren", False, lambda r: f"（{_area(r)}）{_local(r)}"),
    ("landline_paren", False, lambda r: f"({_area(r)}){_local(r)}"),
    ("landline_dash", False, lambda r: f"{_area(r)}-{_local(r)}"),
    ("landline_ext", False, lambda r: f"{_area(r)}-{_local(r)}转{r.randint(1, 9999)}"),
    ("landline_local_only", False, _local),
    # held out
    ("landline_spaces", True, lambda r: f"{_area(r)} {_groups(_local(r) + '0', (4, 4), ' ')[:-1]}"),
    ("landline_plus86", True, lambda r: f"+86-{_area(r)[1:]}-{_local(r)}"),
    ("landline_full_width", True, lambda r: full_width(f"{_area(r)}-{_local(r)}")),
    ("landline_ext_dash", True, lambda r: f"{_area(r)}-{_local(r)}-{r.randint(100, 999)}"),
]

ID_NUMBER: list[Spelling] = [
    ("id_plain", False, id_digits),
    ("id_spaced_6_8_4", False, lambda r: _groups(id_digits(r), (6, 8, 4), " ")),
    ("id_lower_x", False, lambda r: id_digits(r)[:-1] + "x"),
    ("id_full_width", False, lambda r: full_width(id_digits(r))),
    # held out
    ("id_dashed_6_8_4", True, lambda r: _groups(id_digits(r), (6, 8, 4), "-")),
    ("id_spaced_4s", True, lambda r: _groups(id_digits(r), (4, 4, 4, 4, 2), " ")),
    ("id_wrong_check_digit", True, lambda r: (lambda d: d[:-1] + str((int(d[-1]) + 1) % 10 if d[-1].isdigit()
                                                                 else 0))(id_digits(r))),
    ("id_legacy_15", True, lambda r: (lambda d: d[:6] + d[8:17])(id_digits(r))),
]


def _user(r: random.Random) -> str:
    return r.choice(("zhang", "li.wei", "wangfang", "liu_fan", "chen88", "yang.lin", "zhao2016")) + \
        str(r.randint(1, 999))


EMAIL: list[Spelling] = [
    ("email_plain", False, lambda r: f"{_user(r)}@{r.choice(('163.com', 'qq.com', '126.com', 'sina.com'))}"),
    ("email_full_width_at", False, lambda r: f"{_user(r)}＠{r.choice(('163.com', 'qq.com', 'hospital.org.cn'))}"),
    # held out
    ("email_full_width_all", True, lambda r: full_width(f"{_user(r)}@{r.choice(('163.com', 'qq.com'))}")),
    ("email_spaced_at", True, lambda r: f"{_user(r)} @ {r.choice(('163.com', 'qq.com'))}"),
    ("email_upper", True, lambda r: f"{_user(r).upper()}@{r.choice(('163.COM', 'QQ.COM'))}"),
]


def _record(r: random.Random) -> str:
    return r.choice((str(r.randint(10**5, 10**9)), f"ZY{r.randint(10**5, 10**8)}", f"{r.randint(2010, 2020)}"
                     f"{r.randint(10**4, 10**6)}", f"MZ{r.randint(10**4, 10**7)}"))


DOB: list[Spelling] = [
    ("dob_iso", False, lambda r: f"{birth(r):%Y-%m-%d}"),
    ("dob_cn", False, lambda r: (lambda d: f"{d.year}年{d.month}月{d.day}日")(birth(r))),
    ("dob_compact", False, lambda r: f"{birth(r):%Y%m%d}"),
    ("dob_cn_numerals", False, lambda r: (lambda d: f"{cn_year(d)}年{cn_small(d.month)}月{cn_small(d.day)}日")(
        birth(r))),
    ("dob_year_month", False, lambda r: (lambda d: f"{d.year}年{d.month}月")(birth(r))),
    # held out
    ("dob_dots", True, lambda r: (lambda d: f"{d.year}.{d.month}.{d.day}")(birth(r))),
    ("dob_slashes", True, lambda r: f"{birth(r):%Y/%m/%d}"),
    ("dob_full_width", True, lambda r: full_width(f"{birth(r):%Y-%m-%d}")),
]


# --- frames: (class name, held_out, template) -- slots {x} filled by the caller ---------------------------
@dataclass(frozen=True)
class Frame:
    name: str
    held_out: bool
    template: str  # slots: {v} one value; {v0} {v1} {v2} list items
    entity_type: str
    values: Callable[[random.Random], str] | None = None  # None: the type's spellings


PHONE_LABEL_FRAMES = [("联系电话：{v}", False), ("电话{v}", False), ("手机号为{v}", False), ("Tel: {v}", False),
                      ("联系方式是{v}", True), ("家属电话 {v}", True), ("手机号码:{v}", True),
                      ("可拨打{v}联系家属", True)]
ID_FRAMES = [("身份证号：{v}", False), ("身份证号码为{v}", False), ("身份证 {v}", False),
             ("证件号码是{v}", True), ("公民身份号码:{v}", True), ("（身份证{v}）", True)]
EMAIL_FRAMES = [("邮箱：{v}", False), ("E-mail: {v}", False), ("电子邮件{v}", True), ("可发邮件至{v}", True)]
DOB_FRAMES = [("出生日期：{v}", False), ("DOB：{v}", False), ("出生年月：{v}", False), ("生于{v}", False),
              ("{v}出生", False), ("出生时间为{v}", True), ("生日{v}", True), ("出生：{v}", True),
              ("D.O.B. {v}", True)]
RECORD_FRAMES = [
    Frame("record_zhuyuanhao_wei", False, "住院号为{v}", "MEDICAL_RECORD_NUMBER", _record),
    Frame("record_list_second", False, "病案号：{v0}、{v1}", "MEDICAL_RECORD_NUMBER", _record),
    Frame("record_menzhen_colon", False, "门诊号: {v}", "MEDICAL_RECORD_NUMBER", _record),
    Frame("record_binglihao", False, "病历号{v}", "MEDICAL_RECORD_NUMBER", _record),
    Frame("record_blh_pathology", False, "病理号：{v}", "MEDICAL_RECORD_NUMBER", _record),
    # held out
    Frame("record_zhuyuan_haoma", True, "住院号码是{v}", "MEDICAL_RECORD_NUMBER", _record),
    Frame("record_list_three", True, "影像号：{v0}，{v1}及{v2}", "MEDICAL_RECORD_NUMBER", _record),
    Frame("record_id_hao", True, "患者ID {v}", "MEDICAL_RECORD_NUMBER", _record),
    Frame("record_dengjihao", True, "登记号为：{v}", "MEDICAL_RECORD_NUMBER", _record),
    Frame("record_paren", True, "（住院号{v}）", "MEDICAL_RECORD_NUMBER", _record),
]
PERSON_FRAMES = [
    Frame("name_discussion_list", False, "参加讨论人员：{v0}、{v1}、{v2}", "PERSON", person),
    Frame("name_parenthesis", False, "家属（{v}）陪同", "PERSON", person),
    Frame("name_sentence_initial", False, "{v}自述头晕", "PERSON", person),
    Frame("name_contact_verb", False, "已电话联系{v}", "PERSON", person),
    Frame("name_title", False, "经{v}主任医师查房", "PERSON", person),
    Frame("name_patient", False, "患者{v}", "PERSON", person),
    # held out
    Frame("name_list_comma", True, "会诊医师：{v0}，{v1}", "PERSON", person),
    Frame("name_recorder", True, "记录者{v}", "PERSON", person),
    Frame("name_inform_verb", True, "已告知{v}病情", "PERSON", person),
    Frame("name_title_after_verb", True, "由{v}副主任医师主刀", "PERSON", person),
    Frame("name_kin_paren", True, "{v}（患者之子）签字", "PERSON", person),
    Frame("name_sentence_initial_verb", True, "{v}诉腹痛加重", "PERSON", person),
    Frame("name_list_and", True, "{v0}和{v1}医师共同查看患者", "PERSON", person),
]
INSTITUTION_FRAMES = [
    Frame("hospital_tuned_treated_at", False, "曾于{v}就诊", "INSTITUTION", lambda r: r.choice(FAMOUS_TUNED)),
    Frame("hospital_tuned_transfer", False, "转入{v}进一步治疗", "INSTITUTION", lambda r: r.choice(FAMOUS_TUNED)),
    Frame("hospital_held_out", True, "于{v}行手术", "INSTITUTION", lambda r: r.choice(FAMOUS_HELD_OUT)),
    Frame("hospital_held_out_in", True, "在{v}住院", "INSTITUTION", lambda r: r.choice(FAMOUS_HELD_OUT)),
]


# --- the blind set (see the module docstring) ---------------------------------------------------------------
FAMOUS_BLIND = ("仁济医院", "华山医院", "长征医院", "积水潭医院", "宣武医院", "安贞医院", "中日友好医院", "同仁医院",
                "南方医院", "珠江医院", "新桥医院", "西南医院")
MOBILE_BLIND: list[Spelling] = [
    ("blind_mobile_mixed_seps", True, lambda r: (lambda d: f"{d[:3]} {d[3:7]}-{d[7:]}")(mobile_digits(r))),
    ("blind_mobile_paren_0086", True, lambda r: "(0086)" + mobile_digits(r)),
    ("blind_mobile_mixed_width", True, lambda r: (lambda d: d[:1] + full_width(d[1:6]) + d[6:])(mobile_digits(r))),
    ("blind_mobile_em_dash", True, lambda r: _groups(mobile_digits(r), (3, 4, 4), "—")),
]
LANDLINE_BLIND: list[Spelling] = [
    ("blind_landline_em_dash", True, lambda r: f"{_area(r)}—{_local(r)}"),
    ("blind_landline_paren_space", True, lambda r: f"({_area(r)}) {_local(r)}"),
]
ID_BLIND: list[Spelling] = [
    ("blind_id_6_4_4_4", True, lambda r: _groups(id_digits(r), (6, 4, 4, 4), "-")),
    ("blind_id_full_width_x", True, lambda r: (lambda d: d[:-1] + "Ｘ")(id_digits(r))),
    ("blind_id_in_brackets", True, lambda r: f"({id_digits(r)})"),
]
EMAIL_BLIND: list[Spelling] = [
    ("blind_email_subdomain", True, lambda r: f"{_user(r)}-88@dept.hospital.com.cn"),
    ("blind_email_cn", True, lambda r: f"{_user(r)}@sina.cn"),
]
DOB_BLIND: list[Spelling] = [
    ("blind_dob_cn_padded", True, lambda r: f"{birth(r):%Y年%m月%d日}"),
    ("blind_dob_unpadded_dash", True, lambda r: (lambda d: f"{d.year}-{d.month}-{d.day}")(birth(r))),
]


def _record_blind(r: random.Random) -> str:
    return r.choice((f"ZY-{r.randint(2010, 2020)}-{r.randint(10**4, 10**5)}", f"MZ{r.randint(10**7, 10**8)}",
                     f"{r.randint(10**7, 10**8)}"))


BLIND_FRAMES = [
    Frame("blind_record_dash_value", True, "住院号:{v}", "MEDICAL_RECORD_NUMBER", _record_blind),
    Frame("blind_record_no", True, "病案号No.{v}", "MEDICAL_RECORD_NUMBER", _record_blind),
    Frame("blind_record_exam", True, "检查号为{v}", "MEDICAL_RECORD_NUMBER", _record_blind),
    Frame("blind_name_surgeon_label", True, "主刀医生：{v}", "PERSON", person),
    Frame("blind_name_contact_person", True, "联系人{v}", "PERSON", person),
    Frame("blind_name_husband", True, "患者丈夫{v}陪同", "PERSON", person),
    Frame("blind_name_comrade", True, "{v}同志", "PERSON", person),
    Frame("blind_name_sex_age_paren", True, "{v}（女，45岁）", "PERSON", person),
    Frame("blind_name_doctor_advice", True, "{v}医生建议复查", "PERSON", person),
    Frame("blind_name_family_signed", True, "由家属{v}签字", "PERSON", person),
    Frame("blind_name_cc_list", True, "抄送：{v0}、{v1}", "PERSON", person),
    Frame("blind_hospital_treated", True, "曾在{v}治疗", "INSTITUTION", lambda r: r.choice(FAMOUS_BLIND)),
    Frame("blind_hospital_transfer", True, "转至{v}", "INSTITUTION", lambda r: r.choice(FAMOUS_BLIND)),
]
BLIND_PHONE_FRAMES = [("手机：{v}", True), ("电话 {v}（本人）", True)]


def blind_menu() -> list[list[tuple[Frame, Spelling | None]]]:
    names = [(frame, None) for frame in BLIND_FRAMES if frame.entity_type == "PERSON"]
    return [
        _label_frames(BLIND_PHONE_FRAMES, "CN_PHONE", MOBILE_BLIND, "blind_phone_label"),
        _label_frames(BLIND_PHONE_FRAMES, "CN_PHONE", LANDLINE_BLIND, "blind_phone_label"),
        _label_frames([("身份证：{v}", True)], "CN_ID_CARD", ID_BLIND, "blind_id_label"),
        _label_frames([("邮箱：{v}", True), ("e-mail：{v}", True)], "EMAIL", EMAIL_BLIND, "blind_email_label"),
        _label_frames([("出生日期:{v}", True), ("{v}生", True)], "DATE_OF_BIRTH", DOB_BLIND, "blind_dob_label"),
        [(frame, None) for frame in BLIND_FRAMES if frame.entity_type == "MEDICAL_RECORD_NUMBER"],
        names, names,
        [(frame, None) for frame in BLIND_FRAMES if frame.entity_type == "INSTITUTION"],
    ]


# --- the attack set: written on 2026-12-02, before any fix, from the spellings a new-user attack on cf43626 got
# through (a space or an invisible character inside a labelled name, traditional characters, a minority name
# joined by a middle dot, Chinese digits in groups or mixed with ASCII ones, the letter O for a zero) and more of
# the same kind no attack tried. Its first measurement (on cf43626) is the blind figure for these classes.
TRADITIONAL_SURNAMES = "張陳劉黃趙吳鄭馮蔣鄧葉蘇盧錢楊許謝韓龔賴羅蕭魏葉譚陸萬嚴閻龍"
TRADITIONAL_GIVEN = "偉華麗強軍紅玲國鵬輝濤龍鳳蘭靜傑潔東興順貴艷美芳明志文雲飛"
MINORITY_PARTS = ("买买提", "吐尔逊", "阿依古丽", "艾力", "热依拉", "阿不都", "古丽米热", "吾守尔", "努尔", "艾合买提",
                  "迪丽热巴", "帕提古丽", "阿卜杜拉", "依明", "托合提", "巴图", "孟和", "其木格")
NAME_JOINS = ("·", "•", "・", "‧", "．")


def traditional_person(r: random.Random) -> str:
    return r.choice(TRADITIONAL_SURNAMES) + "".join(r.choice(TRADITIONAL_GIVEN) for _ in range(r.choice((1, 2, 2))))


def minority_person(r: random.Random) -> str:
    first, second = r.sample(MINORITY_PARTS, 2)
    return f"{first}{r.choice(NAME_JOINS)}{second}"


def spaced_person(r: random.Random) -> str:
    name = person(r)
    cut = 2 if name[:2] in DOUBLE_SURNAMES else 1
    return name[:cut] + r.choice((" ", "\u3000", "\u200b", "\x00", "  ")) + name[cut:]


def _cn(digits: str) -> str:
    return "".join(CN_NUM[int(d)] if d.isdigit() else d for d in digits)


def _o_for_zero(digits: str) -> str:
    return digits[:3] + digits[3:].replace("0", "O") if "0" in digits[3:] else digits[:3] + "O" + digits[4:]


MOBILE_ATTACK: list[Spelling] = [
    ("attack_mobile_cn_groups_space", True, lambda r: _cn(_groups(mobile_digits(r), (3, 4, 4), " "))),
    ("attack_mobile_cn_groups_dash", True, lambda r: _cn(_groups(mobile_digits(r), (3, 4, 4), "-"))),
    ("attack_mobile_cn_mixed_middle", True, lambda r: (lambda d: d[:3] + _cn(d[3:7]) + d[7:])(mobile_digits(r))),
    ("attack_mobile_cn_mixed_head", True, lambda r: (lambda d: _cn(d[:3]) + d[3:])(mobile_digits(r))),
    ("attack_mobile_letter_o", True, lambda r: _o_for_zero(mobile_digits(r))),
    ("attack_mobile_spaced_dash", True, lambda r: _groups(mobile_digits(r), (3, 4, 4), " - ")),
]
ID_ATTACK: list[Spelling] = [
    ("attack_id_letter_o", True, lambda r: (lambda d: d[:14] + "O" + d[15:17].replace("0", "O") + d[17])(
        id_digits(r))),
    ("attack_id_cn_digits_spaced", True, lambda r: _cn(_groups(id_digits(r), (6, 8, 4), " "))),
    ("attack_id_cn_mixed", True, lambda r: (lambda d: d[:6] + _cn(d[6:14]) + d[14:])(id_digits(r))),
]
ATTACK_NAME_FRAMES = [
    Frame("attack_name_label_spaced", True, "姓名：{v}", "PERSON", spaced_person),
    Frame("attack_name_patient_spaced", True, "患者{v}，男，52岁", "PERSON", spaced_person),
    Frame("attack_name_traditional_patient", True, "患者{v}，男，45歲", "PERSON", traditional_person),
    Frame("attack_name_traditional_label", True, "姓名：{v}　性別：女", "PERSON", traditional_person),
    Frame("attack_name_traditional_doctor", True, "主治醫師：{v}", "PERSON", traditional_person),
    Frame("attack_name_traditional_family", True, "家屬{v}陪同就診", "PERSON", traditional_person),
    Frame("attack_name_minority_patient", True, "患者{v}，男，38岁", "PERSON", minority_person),
    Frame("attack_name_minority_label", True, "姓名：{v}", "PERSON", minority_person),
    Frame("attack_name_minority_family", True, "家属{v}陪同", "PERSON", minority_person),
    Frame("attack_name_minority_kin", True, "{v}（患者之子）签字", "PERSON", minority_person),
]


# Added the same day (14:20 UTC), before their fixes, from a second attack on 95d4d05: names written in pinyin
# (records kept in English, passports, overseas patients) and names after 叫 in patients' own words.
SURNAME_PINYIN = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma",
                  "Zhu", "Hu", "Guo", "He", "Gao", "Lin", "Luo", "Zheng", "Liang", "Xie", "Song", "Tang", "Han",
                  "Feng", "Deng", "Cao", "Peng", "Zeng", "Xiao", "Tian", "Dong", "Pan", "Yuan", "Cai", "Jiang", "Yu",
                  "Du", "Ye", "Cheng", "Wei", "Su", "Ding", "Ren", "Lu", "Yao", "Shen", "Zhong", "Cui", "Tan", "Fan",
                  "Jin", "Shi", "Liao", "Jia", "Xia", "Fu", "Fang", "Bai", "Zou", "Meng", "Xiong", "Qin", "Qiu",
                  "Hou", "Duan", "Lei", "Long", "Tao", "Hao", "Gu", "Mao", "Gong", "Shao", "Wan", "Qian", "Yan",
                  "Dai", "Kong", "Xiang", "Ouyang")
GIVEN_PINYIN = ("Wei", "Fang", "Na", "Min", "Jing", "Qiang", "Lei", "Jun", "Yong", "Jie", "Juan", "Tao", "Ming",
                "Chao", "Xiuying", "Ping", "Gang", "Guiying", "Jianguo", "Zhiqiang", "Haiyan", "Xiaoming", "Hongmei",
                "Yufei", "Zihan", "Haoran", "Yuxuan", "Meiling", "Dongmei", "Jianhua", "Lihua", "Shuzhen", "Guohua")


def pinyin_person(r: random.Random) -> str:
    surname, given = r.choice(SURNAME_PINYIN), r.choice(GIVEN_PINYIN)
    form = r.randrange(4)
    if form == 0:
        return f"{surname} {given}"
    if form == 1:
        return f"{given} {surname}"  # the Western order
    if form == 2:
        return f"{surname.upper()} {given}"  # a passport's order and case
    return f"{surname.upper()} {given.upper()}"


ATTACK_NAME_FRAMES += [
    Frame("attack2_name_pinyin_patient", True, "患者{v}，男，45岁", "PERSON", pinyin_person),
    Frame("attack2_name_pinyin_label", True, "姓名：{v}", "PERSON", pinyin_person),
    Frame("attack2_name_pinyin_english", True, "Patient: {v}, female, 52y", "PERSON", pinyin_person),
    Frame("attack2_name_pinyin_doctor", True, "主治医师：Dr. {v}", "PERSON", lambda r: r.choice(SURNAME_PINYIN)),
    Frame("attack2_name_kin_called", True, "我老公叫{v}，", "PERSON", person),
    Frame("attack2_name_child_called", True, "我女儿叫{v}，今年8岁", "PERSON", person),
    Frame("attack2_name_called", True, "病人名字叫{v}，今年45岁", "PERSON", person),
]


# --- the second blind set: written on 2026-12-02 at 15:12 UTC after the attack set's fixes, measured once on
# main as it stood then, without any change made for it (bench/deid_real.py prints it as SECOND BLIND).
def _pinyin_hyphen(r: random.Random) -> str:
    given = r.choice(GIVEN_PINYIN)
    return f"{given[:2].capitalize()}-{given[2:].capitalize() or 'Ming'} {r.choice(SURNAME_PINYIN)}"


def _spaced_traditional(r: random.Random) -> str:
    name = traditional_person(r)
    return name[0] + " " + name[1:]


BLIND2_NAME_FRAMES = [
    Frame("blind2_name_signer", True, "签字人：{v}", "PERSON", person),
    Frame("blind2_name_treating", True, "经治医生{v}", "PERSON", person),
    Frame("blind2_name_daughter_history", True, "病史由其女儿{v}代诉", "PERSON", person),
    Frame("blind2_name_family_paren_note", True, "患者家属{v}（电话略）", "PERSON", person),
    Frame("blind2_name_header_retired", True, "{v}，女，67岁，退休", "PERSON", person),
    Frame("blind2_name_referring", True, "转诊医师 {v}", "PERSON", person),
    Frame("blind2_name_patient_visit", True, "病人{v}因腹痛就诊", "PERSON", person),
    Frame("blind2_name_escort", True, "陪诊人{v}", "PERSON", person),
    Frame("blind2_name_pinyin_hyphen", True, "Name: {v}", "PERSON", _pinyin_hyphen),
    Frame("blind2_name_pinyin_paren", True, "患者（{v}）", "PERSON", pinyin_person),
    Frame("blind2_name_traditional_spaced", True, "姓名：{v}", "PERSON", _spaced_traditional),
    Frame("blind2_name_minority_doctor", True, "主治医师：{v}", "PERSON", minority_person),
]
MOBILE_BLIND2: list[Spelling] = [
    ("blind2_mobile_spaced", True, lambda r: _groups(mobile_digits(r), (3, 4, 4), " ")),
    ("blind2_mobile_plus86_dashes", True, lambda r: "+86 " + _groups(mobile_digits(r), (3, 4, 4), "-")),
    ("blind2_mobile_full_width_dashes", True, lambda r: full_width(_groups(mobile_digits(r), (3, 4, 4), "-"))),
    ("blind2_mobile_mixed_width_tail", True, lambda r: (lambda d: d[:7] + full_width(d[7:]))(mobile_digits(r))),
]
ID_BLIND2: list[Spelling] = [
    ("blind2_id_dashes_6_8_4", True, lambda r: _groups(id_digits(r), (6, 8, 4), "-")),
    ("blind2_id_full_width", True, lambda r: full_width(id_digits(r))),
    ("blind2_id_spaced_6_4_4_4", True, lambda r: _groups(id_digits(r), (6, 4, 4, 4), " ")),
]


def blind2_menu() -> list[list[tuple[Frame, Spelling | None]]]:
    names = [(frame, None) for frame in BLIND2_NAME_FRAMES]
    return [
        _label_frames([("手机号码 {v}（微信同号）", True), ("联系方式：{v}", True)], "CN_PHONE", MOBILE_BLIND2,
                      "blind2_phone"),
        _label_frames([("身份证号 {v}", True), ("证件号：{v}", True)], "CN_ID_CARD", ID_BLIND2, "blind2_id"),
        names, names,
    ]


# --- the third blind set ("leaks3"): written on 2026-12-03 at 06:30 UTC on 62024d1, before any change for it, for
# the three leaks a previous session found and left open: e-mail spelled with words (`zhangsan at 163 dot com`,
# `lisi 艾特 126 点 com`, `wangwu#163.com`), IP addresses (no entity type on 62024d1) and a landline with 一 as
# its dash and a space in the local number (`021一6234 5678`). Its first measurement (62024d1) is the blind
# figure; bench/deid_real.py `leaks3` prints it (python bench/bench_deid.py --leaks3).
MAIL_PROVIDERS = ("163", "126", "qq", "gmail", "sina", "sohu", "foxmail", "yeah", "139", "outlook", "hotmail",
                  "yahoo")
MAIL_TLDS = {"163": "com", "126": "com", "qq": "com", "gmail": "com", "sina": "com", "sohu": "com",
             "foxmail": "com", "yeah": "net", "139": "com", "outlook": "com", "hotmail": "com", "yahoo": "com"}


def _mailbox(r: random.Random) -> tuple[str, str, str]:
    """(user, provider, top-level domain)."""
    provider = r.choice(MAIL_PROVIDERS)
    return _user(r), provider, MAIL_TLDS[provider]


def _words(at: str, dot: str, spaced: bool = True) -> Callable[[random.Random], str]:
    def spell(r: random.Random) -> str:
        user, provider, tld = _mailbox(r)
        gap = " " if spaced else ""
        return f"{user}{gap}{at}{gap}{provider}{gap}{dot}{gap}{tld}"
    return spell


EMAIL_WORDS: list[Spelling] = [
    ("leaks3_email_at_dot_words", True, _words("at", "dot")),
    ("leaks3_email_at_dot_upper", True, _words("AT", "DOT")),
    ("leaks3_email_aite_dian", True, _words("艾特", "点")),
    ("leaks3_email_aite_dian_unspaced", True, _words("艾特", "点", spaced=False)),
    ("leaks3_email_at_word_real_dot", True, lambda r: (lambda u, p, t: f"{u} at {p}.{t}")(*_mailbox(r))),
    ("leaks3_email_hash", True, lambda r: (lambda u, p, t: f"{u}#{p}.{t}")(*_mailbox(r))),
    ("leaks3_email_full_width_hash", True, lambda r: (lambda u, p, t: f"{u}＃{p}.{t}")(*_mailbox(r))),
    ("leaks3_email_paren_spaced", True, _words("(at)", "(dot)")),
    ("leaks3_email_bracket_spaced", True, _words("[at]", "[dot]")),
    ("leaks3_email_full_width_words", True, _words("ａｔ", "ｄｏｔ")),
    ("leaks3_email_at_dian_mixed", True, _words("at", "点")),
    ("leaks3_email_hospital_domain", True, lambda r: f"{_user(r)} at {r.choice(('pumch', 'zs-hospital', 'hxyy'))}"
                                                     f" dot {r.choice(('cn', 'com dot cn', 'org dot cn', 'edu dot cn'))}"),
]


def _ipv4(r: random.Random) -> str:
    head = r.choice(((10, r.randint(0, 255)), (192, 168), (172, r.randint(16, 31)), (r.randint(58, 223), r.randint(0, 255))))
    return ".".join(map(str, (*head, r.randint(0, 255), r.randint(1, 254))))


def _ipv6_full(r: random.Random) -> str:
    return ":".join(f"{r.randint(0, 0xFFFF):04x}" for _ in range(8))


def _ipv6_compressed(r: random.Random) -> str:
    head = r.choice(("2001:db8", "fe80", "2408:8207", "240e:3a1", "2409:8a28"))
    tail = ":".join(f"{r.randint(1, 0xFFFF):x}" for _ in range(r.randint(1, 4)))
    return f"{head}::{tail}"


IP_ADDRESS: list[Spelling] = [
    ("leaks3_ipv4", True, _ipv4),
    ("leaks3_ipv4_port", True, lambda r: f"{_ipv4(r)}:{r.choice((80, 443, 8080, 3389, 22))}"),
    ("leaks3_ipv4_full_width", True, lambda r: full_width(_ipv4(r))),
    ("leaks3_ipv6_full", True, _ipv6_full),
    ("leaks3_ipv6_full_upper", True, lambda r: _ipv6_full(r).upper()),
    ("leaks3_ipv6_compressed", True, _ipv6_compressed),
]


def _local8(r: random.Random) -> str:
    return str(r.randint(2, 8)) + "".join(r.choice("0123456789") for _ in range(7))


def _local7(r: random.Random) -> str:
    return str(r.randint(2, 8)) + "".join(r.choice("0123456789") for _ in range(6))


LANDLINE_YI: list[Spelling] = [
    ("leaks3_landline_yi_space_4_4", True, lambda r: (lambda a, d: f"{a}一{d[:4]} {d[4:]}")(
        r.choice(("010", "021", "022", "020", "025")), _local8(r))),
    ("leaks3_landline_yi_space_4digit_area", True, lambda r: (lambda a, d: f"{a}一{d[:4]} {d[4:]}")(
        r.choice(("0755", "0571", "0512", "0311", "0531")), _local8(r))),
    ("leaks3_landline_yi_space_3_4", True, lambda r: (lambda a, d: f"{a}一{d[:3]} {d[3:]}")(
        r.choice(("0314", "0991", "0898", "0371")), _local7(r))),
    ("leaks3_landline_yi_twice", True, lambda r: (lambda a, d: f"{a}一{d[:4]}一{d[4:]}")(
        r.choice(("010", "021", "0755")), _local8(r))),
    ("leaks3_landline_spaced_yi", True, lambda r: (lambda a, d: f"{a} 一 {d[:4]} {d[4:]}")(
        r.choice(("010", "021", "0755")), _local8(r))),
]
LEAKS3_EMAIL_FRAMES = [("邮箱：{v}", True), ("如有疑问请发邮件至 {v}", True), ("请把检查报告发到{v}，谢谢", True),
                       ("联系方式：电话略，邮箱 {v}（工作日回复）", True), ("E-mail: {v}", True)]
LEAKS3_EMAIL_LIST = Frame("leaks3_email_list", True, "家属邮箱：{v0}、{v1}", "EMAIL")
LEAKS3_IP_FRAMES = [("登录IP：{v}", True), ("来自 {v} 的访问", True), ("IP地址 {v}", True),
                    ("影像系统服务器地址为{v}，请在院内网访问", True), ("终端{v}上传了报告", True)]
LEAKS3_IP_LIST = Frame("leaks3_ip_list", True, "访问来源：{v0}，{v1}", "IP_ADDRESS")
LEAKS3_LANDLINE_FRAMES = [("联系电话：{v}", True), ("座机 {v}", True), ("如有不适请拨打{v}", True),
                          ("家属电话{v}（工作日）", True), ("有事打{v}找护士站", True)]


def leaks3_menu() -> list[list[tuple[Frame, Spelling | None]]]:
    return [
        _label_frames(LEAKS3_EMAIL_FRAMES, "EMAIL", EMAIL_WORDS, "leaks3_email")
        + [(LEAKS3_EMAIL_LIST, spelling) for spelling in EMAIL_WORDS],
        _label_frames(LEAKS3_IP_FRAMES, "IP_ADDRESS", IP_ADDRESS, "leaks3_ip")
        + [(LEAKS3_IP_LIST, spelling) for spelling in IP_ADDRESS],
        _label_frames(LEAKS3_LANDLINE_FRAMES, "CN_PHONE", LANDLINE_YI, "leaks3_landline"),
    ]


# Held out from leaks3, written on 2026-12-03 at 06:45 UTC AFTER its fixes (so not blind, but never tuned on):
# other spellings and frames of the same three kinds, measured once (bench/deid_real.py `leaks3`, HELD-OUT). Two
# classes are expected to leak by the design's choice: a bare dotted quad with a first octet below 10 and no IP
# label, and a Chinese full stop typed for a mail domain's dot.
def _v(fmt: str) -> Callable[[random.Random], str]:
    return lambda r: (lambda u, p, t: fmt.format(u=u, p=p, t=t))(*_mailbox(r))


EMAIL_WORDS_HELD: list[Spelling] = [
    ("held_email_cn_bracket_at", True, _v("{u}【at】{p}【dot】{t}")),
    ("held_email_paren_aite", True, _v("{u} (艾特) {p}.{t}")),
    ("held_email_at_spaced_real_dot", True, _v("{u} AT {p} . {t}")),
    ("held_email_sign_dot_word", True, _v("{u} @ {p} dot {t}")),
    ("held_email_aite_real_dot", True, _v("{u}艾特{p}.{t}")),
    ("held_email_at_dian", True, _v("{u} at {p} 点 {t}")),
    ("held_email_vip", True, lambda r: f"{_user(r)} at vip dot 163 dot com"),
    ("held_email_cn_com_cn", True, lambda r: f"{_user(r)} at {r.choice(('sina', 'yahoo'))} dot com dot cn"),
    ("held_email_bracket_org_cn", True, lambda r: f"{_user(r)}(at)hospital(dot)org(dot)cn"),
    ("held_email_cn_full_stop", True, _v("{u} 艾特 {p}。{t}")),
]


def _public_ipv4(r: random.Random) -> str:
    return ".".join(map(str, (r.choice((112, 219, 36, 58, 183, 120, 117, 221)), r.randint(0, 255), r.randint(0, 255),
                              r.randint(1, 254))))


IP_HELD: list[Spelling] = [
    ("held_ipv4_public", True, _public_ipv4),
    ("held_ipv4_rdp_port", True, lambda r: f"{_public_ipv4(r)}:3389"),
    ("held_ipv4_host_prefix", True, lambda r: f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}/24"),
    ("held_ipv6_bracket_port", True, lambda r: f"[{_ipv6_compressed(r)}]:443"),
    ("held_ipv6_compressed_tail", True, lambda r: f"2408:8456:{r.randint(1, 0xFFFF):x}::{r.randint(1, 0xFF):x}"),
    ("held_ipv4_first_octet_below_10", True, lambda r: f"1.{r.randint(10, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"),
]
LANDLINE_YI_HELD: list[Spelling] = [
    ("held_landline_yi_extension", True, lambda r: f"010一{(lambda d: d[:4] + ' ' + d[4:])(_local8(r))}转{r.randint(100, 999)}"),
    ("held_landline_space_then_yi", True, lambda r: f"0571 一{(lambda d: d[:4] + ' ' + d[4:])(_local8(r))}"),
    ("held_landline_yi_3_4_dash", True, lambda r: f"0311一{(lambda d: d[:3] + '-' + d[3:])(_local7(r))}"),
    ("held_landline_paren_yi", True, lambda r: f"（0755）一{(lambda d: d[:4] + ' ' + d[4:])(_local8(r))}"),
]


def leaks3_held_menu() -> list[list[tuple[Frame, Spelling | None]]]:
    return [
        _label_frames([("可将化验单拍照发送至{v}", True), ("（邮箱{v}）", True), ("患者女儿的邮箱为{v}", True)],
                      "EMAIL", EMAIL_WORDS_HELD, "held_email"),
        _label_frames([("患者于{v}登录App", True), ("来源{v}", True), ("访问日志：{v} - - [02/Dec/2026]", True)],
                      "IP_ADDRESS", IP_HELD, "held_ip"),
        _label_frames([("科室电话：{v}", True), ("请致电{v}预约", True), ("随访电话 {v}，", True)], "CN_PHONE",
                      LANDLINE_YI_HELD, "held_landline"),
    ]


# --- the fourth blind set ("blind4"): written on 2026-12-04 at 04:20 UTC on bce070c, before any change for it:
# frames a hospital's records use that no earlier set plants (record-keeping and consent roles, obstetric and
# paediatric headers, space- and ASCII-separated headers, two roles on one line), names with surnames rarer than
# `SURNAMES`, and phones, IDs and record numbers under labels and in spellings no earlier set has. Its first
# measurement (bce070c) is the blind figure: bench/deid_real.py `blind4` (python bench/bench_deid.py --blind4).
RARE_SURNAMES = "闫覃靳逯亓敖檀嵇缪甄麦冼伍喻虞仝佟栾隋鞠牟晏阎芦"


def rare_person(r: random.Random) -> str:
    return r.choice(RARE_SURNAMES) + "".join(r.choice(GIVEN) for _ in range(r.choice((1, 2, 2))))


BLIND4_NAME_FRAMES = [
    Frame("blind4_name_record_doctor", True, "记录医师：{v}", "PERSON", person),
    Frame("blind4_name_senior_instructs", True, "上级医师{v}查看患者后指示", "PERSON", person),
    Frame("blind4_name_guardian", True, "监护人：{v}（父亲）", "PERSON", person),
    Frame("blind4_name_delegate_signs", True, "委托人{v}签字", "PERSON", person),
    Frame("blind4_name_parturient", True, "产妇{v}，G2P1，孕39周", "PERSON", person),
    Frame("blind4_name_child_header", True, "患儿{v}，男，5岁", "PERSON", person),
    Frame("blind4_name_spaced_header", True, "{v} 女 45岁 汉族", "PERSON", person),
    Frame("blind4_name_ascii_paren_header", True, "{v}(男,45岁)", "PERSON", person),
    Frame("blind4_name_reviewer", True, "审核医师：{v}", "PERSON", person),
    Frame("blind4_name_bed_nurse", True, "管床护士{v}", "PERSON", person),
    Frame("blind4_name_spouse_escort", True, "其爱人{v}陪同", "PERSON", person),
    Frame("blind4_name_self_consents", True, "本人{v}同意手术", "PERSON", person),
    Frame("blind4_name_two_roles", True, "麻醉医师：{v0} 手术医师：{v1}", "PERSON", person),
    Frame("blind4_name_ward_round", True, "住院医师{v0}、主治医师{v1}查房", "PERSON", person),
    Frame("blind4_name_mother_history", True, "{v}之母代诉病史", "PERSON", person),
    Frame("blind4_name_reporter", True, "报告人：{v}", "PERSON", person),
    Frame("blind4_name_label_space", True, "患者姓名 {v}", "PERSON", person),
    Frame("blind4_name_rare_patient", True, "患者{v}，", "PERSON", rare_person),
    Frame("blind4_name_rare_field", True, "姓名：{v}", "PERSON", rare_person),
    Frame("blind4_name_rare_title", True, "经{v}主任医师查房", "PERSON", rare_person),
]
MOBILE_BLIND4: list[Spelling] = [
    ("blind4_mobile_dots", True, lambda r: _groups(mobile_digits(r), (3, 4, 4), ".")),
    ("blind4_mobile_plus86_space", True, lambda r: "+86 " + mobile_digits(r)),
    ("blind4_mobile_paren_prefix", True, lambda r: (lambda d: f"({d[:3]}){d[3:]}")(mobile_digits(r))),
]
ID_BLIND4: list[Spelling] = [
    ("blind4_id_plain", True, id_digits),
    ("blind4_id_spaced_3s", True, lambda r: _groups(id_digits(r), (3, 3, 4, 4, 4), " ")),
]


def _record_blind4(r: random.Random) -> str:
    return r.choice((f"{r.randint(10**6, 10**7)}", f"ZY{r.randint(10**6, 10**7)}", f"{r.randint(2015, 2024)}{r.randint(10**5, 10**6)}"))


BLIND4_RECORD_FRAMES = [
    Frame("blind4_record_no_colon", True, "住院号 No:{v}", "MEDICAL_RECORD_NUMBER", _record_blind4),
    Frame("blind4_record_case_number", True, "病历编号：{v}", "MEDICAL_RECORD_NUMBER", _record_blind4),
    Frame("blind4_record_visit_card", True, "就诊卡号：{v}", "MEDICAL_RECORD_NUMBER", _record_blind4),
]


def blind4_menu() -> list[list[tuple[Frame, Spelling | None]]]:
    names = [(frame, None) for frame in BLIND4_NAME_FRAMES]
    return [
        _label_frames([("联系电话（家属）：{v}", True), ("手机/微信：{v}", True), ("电话号码是{v}", True)], "CN_PHONE",
                      MOBILE_BLIND4, "blind4_phone"),
        _label_frames([("身份证件号码 {v}", True), ("身份证号(18位)：{v}", True)], "CN_ID_CARD", ID_BLIND4, "blind4_id"),
        [(frame, None) for frame in BLIND4_RECORD_FRAMES],
        names, names,
    ]


# Held out from blind4, written on 2026-12-04 at 04:35 UTC on b5efc5b, AFTER its fixes (so not blind, but never
# tuned on): other record-keeping frames, measured once (bench/deid_real.py `blind4`, HELD-OUT) and not fixed.
BLIND4_HELD_NAME_FRAMES = [
    Frame("held4_name_nurse_record", True, "护理记录：{v}护士巡视病房", "PERSON", person),
    Frame("held4_name_consent_patient", True, "患方签字：{v}", "PERSON", person),
    Frame("held4_name_relation_paren", True, "{v}（与患者关系：夫妻）", "PERSON", person),
    Frame("held4_name_transfer_doctor", True, "转科医师{v}", "PERSON", person),
    Frame("held4_name_discharge_by", True, "出院小结由{v}书写", "PERSON", person),
    Frame("held4_name_phone_owner", True, "联系电话略（{v}）", "PERSON", person),
    Frame("held4_name_aunt_escort", True, "其姑姑{v}陪同来院", "PERSON", person),
    Frame("held4_name_header_pipe", True, "{v} | 女 | 52岁", "PERSON", person),
    Frame("held4_name_surgeon_done", True, "手术由{v}完成", "PERSON", person),
    Frame("held4_name_said_colon", True, "{v}说：头痛好些了", "PERSON", person),
    Frame("held4_name_rare_kin", True, "患者之妻{v}代诉", "PERSON", rare_person),
    Frame("held4_name_rare_list", True, "参加人员：{v0}、{v1}", "PERSON", rare_person),
]


def blind4_held_menu() -> list[list[tuple[Frame, Spelling | None]]]:
    names = [(frame, None) for frame in BLIND4_HELD_NAME_FRAMES]
    return [
        _label_frames([("家属手机 {v}，", True), ("本人电话：{v}。", True)], "CN_PHONE", MOBILE_BLIND4, "held4_phone"),
        names, names,
    ]


# --- the fifth blind set ("blind5"): written on 2026-12-04 at 04:30 UTC on 33c9b08, before the kinship, action-verb
# and bracket rules that followed the held-out blind4 figure, and not run until they were done: its first
# measurement is the figure for frames those rules were not written for (bench/deid_real.py `blind5`).
BLIND5_NAME_FRAMES = [
    Frame("blind5_name_agreed", True, "经{v}同意后出院", "PERSON", person),
    Frame("blind5_name_eldest_son", True, "{v}为患者长子", "PERSON", person),
    Frame("blind5_name_uncle_signs", True, "其舅舅{v}代为签字", "PERSON", person),
    Frame("blind5_name_grandma_escort", True, "外婆{v}陪同就诊", "PERSON", person),
    Frame("blind5_name_found_by", True, "被{v}发现后送医", "PERSON", person),
    Frame("blind5_name_escorted_by", True, "患者由{v}护送入院", "PERSON", person),
    Frame("blind5_name_notify", True, "通知{v}及时复诊", "PERSON", person),
    Frame("blind5_name_two_doctors", True, "{v0}、{v1}两位医生参与抢救", "PERSON", person),
    Frame("blind5_name_thanks", True, "感谢{v}医生", "PERSON", person),
    Frame("blind5_name_explain_to", True, "向{v}交代病情", "PERSON", person),
    Frame("blind5_name_dept_paren", True, "{v}（医务科）", "PERSON", person),
    Frame("blind5_name_duty_doctor", True, "值班医生：{v}", "PERSON", person),
    Frame("blind5_name_head_nurse_checks", True, "{v}护士长查看", "PERSON", person),
    Frame("blind5_name_son_in_law", True, "患者的女婿{v}", "PERSON", person),
    Frame("blind5_name_talk_with", True, "与{v}沟通后", "PERSON", person),
    Frame("blind5_name_child_of", True, "{v}的孩子", "PERSON", person),
    Frame("blind5_name_recalls", True, "据{v}回忆", "PERSON", person),
    Frame("blind5_name_header_no_sex", True, "{v}，66岁，农民", "PERSON", person),
    Frame("blind5_name_sender", True, "送检医师 {v}", "PERSON", person),
]


def _names_only(frames: list[Frame]) -> list[list[tuple[Frame, Spelling | None]]]:
    names = [(frame, None) for frame in frames]
    return [names, names]



# --- the sixth blind set ("blind6"): written on 2026-12-04 at 04:40 UTC on 64be2c4, before the rules that follow
# blind5's figure, and not run until they were done: its first measurement is bench/deid_real.py UNSEEN's next value.
BLIND6_NAME_FRAMES = [
    Frame("blind6_name_visit_by", True, "今日{v}来院探视", "PERSON", person),
    Frame("blind6_name_request", True, "应{v}要求转院", "PERSON", person),
    Frame("blind6_name_wife_of", True, "{v}之妻述患者昨夜未眠", "PERSON", person),
    Frame("blind6_name_sign_date", True, "{v} 2023年5月6日", "PERSON", person),
    Frame("blind6_name_surgery_team", True, "手术组：{v0}、{v1}", "PERSON", person),
    Frame("blind6_name_phone_after", True, "{v}电话13812345678", "PERSON", person),
    Frame("blind6_name_age_paren", True, "{v}（45岁）", "PERSON", person),
    Frame("blind6_name_teacher", True, "{v}老师来电询问", "PERSON", person),
    Frame("blind6_name_ask_for", True, "患者要求见{v}", "PERSON", person),
    Frame("blind6_name_handover", True, "交班人：{v}  接班人：{v1}", "PERSON", person),
    Frame("blind6_name_patient_no_prefix", True, "入院时{v}神志清楚", "PERSON", person),
    Frame("blind6_name_bed", True, "3床{v}，", "PERSON", person),
    Frame("blind6_name_husband_said", True, "据其丈夫{v}讲", "PERSON", person),
    Frame("blind6_name_consulted", True, "请{v}会诊", "PERSON", person),
    Frame("blind6_name_mrs", True, "{v}女士，您好", "PERSON", person),
]



# Written on 2026-12-04 (evening) on main 07fc329, before any rule for it, and measured once as it stands: the
# seventh blind set (bench/bench_deid.py --blind7). Frames of consent forms, nursing notes, follow-up calls,
# consultations and ward talk that no earlier set holds.
BLIND7_NAME_FRAMES = [
    Frame("blind7_name_consent_agreed", True, "经{v}同意后行腰椎穿刺术", "PERSON", person),
    Frame("blind7_name_neighbour", True, "{v}系患者邻居，发现患者倒地后送来", "PERSON", person),
    Frame("blind7_name_told", True, "已告知{v}病情及手术风险", "PERSON", person),
    Frame("blind7_name_couple", True, "{v0}、{v1}夫妇陪同就诊", "PERSON", person),
    Frame("blind7_name_escorted_by", True, "由其女婿{v}护送入院", "PERSON", person),
    Frame("blind7_name_callee", True, "电话随访，接听者{v}", "PERSON", person),
    Frame("blind7_name_quarrel", True, "自述与{v}发生争执后出现胸闷", "PERSON", person),
    Frame("blind7_name_self_intro", True, "{v}，我是你的主治医生", "PERSON", person),
    Frame("blind7_name_greeting_mr", True, "您好{v}先生", "PERSON", person),
    Frame("blind7_name_nurse_found", True, "下午{v}护士发现患者呼吸急促", "PERSON", person),
    Frame("blind7_name_lives_with", True, "目前与{v}同住", "PERSON", person),
    Frame("blind7_name_neighbour_said", True, "据邻居{v}反映", "PERSON", person),
    Frame("blind7_name_sign_slash", True, "签名 {v}/2023-05-06", "PERSON", person),
    Frame("blind7_name_cc", True, "抄送：{v}、{v1}", "PERSON", person),
    Frame("blind7_name_ward_patient", True, "病人{v}因腹痛再次入院", "PERSON", person),
    Frame("blind7_name_staff_family", True, "{v}为我院职工家属", "PERSON", person),
    Frame("blind7_name_recorder_space", True, "记录者 {v}", "PERSON", person),
    Frame("blind7_name_patient_asks", True, "{v}问能否明天出院", "PERSON", person),
]



# Written on 2026-12-04 (evening) right after blind7's first measurement and before any rule for it, and not run
# until those rules were done: the eighth blind set (bench/bench_deid.py --blind8), so that its first measurement
# tells whether the rules written from blind7 reach frames they were not written from.
BLIND8_NAME_FRAMES = [
    Frame("blind8_name_brought_by", True, "患者由{v}背来急诊", "PERSON", person),
    Frame("blind8_name_roommate", True, "同病房{v}诉患者夜间呓语", "PERSON", person),
    Frame("blind8_name_payer", True, "住院费用由{v}支付", "PERSON", person),
    Frame("blind8_name_visitor_left", True, "{v}探视后离开", "PERSON", person),
    Frame("blind8_name_dialogue_answer", True, "{v}：好的，谢谢大夫", "PERSON", person),
    Frame("blind8_name_discussed_with", True, "已与{v}商议后决定保守治疗", "PERSON", person),
    Frame("blind8_name_mother_and_son", True, "{v0}与其子{v1}同来", "PERSON", person),
    Frame("blind8_name_evening_nurse", True, "夜班{v}巡视病房时发现", "PERSON", person),
    Frame("blind8_name_refused", True, "{v}拒绝签署知情同意书", "PERSON", person),
    Frame("blind8_name_dear", True, "尊敬的{v}：您的检查结果已出", "PERSON", person),
    Frame("blind8_name_colleague", True, "其同事{v}代为办理入院", "PERSON", person),
    Frame("blind8_name_guardian_phone", True, "监护人{v}，电话略", "PERSON", person),
    Frame("blind8_name_transferred_to", True, "移交给{v}继续治疗", "PERSON", person),
    Frame("blind8_name_wechat", True, "已加{v}微信随访", "PERSON", person),
    Frame("blind8_name_who_found", True, "发现者：{v}", "PERSON", person),
    Frame("blind8_name_name_only_line", True, "\n{v}\n", "PERSON", person),
]



# Written on 2026-12-04 (evening) after the rules that followed blind8's figure (696c305), and measured once as it
# stands: the ninth blind set (bench/bench_deid.py --blind9), the figure of the session's final rules on frames
# written for none of them.
BLIND9_NAME_FRAMES = [
    Frame("blind9_name_donor", True, "供血者{v}，血型A型", "PERSON", person),
    Frame("blind9_name_wife_cares", True, "平日由妻子照顾，{v}亦常来探望", "PERSON", person),
    Frame("blind9_name_sent_by_police", True, "民警{v}将患者送至我院", "PERSON", person),
    Frame("blind9_name_class_teacher", True, "班主任{v}反映患儿上课注意力不集中", "PERSON", person),
    Frame("blind9_name_anaesthesia_by", True, "麻醉由{v}实施", "PERSON", person),
    Frame("blind9_name_in_quotes", True, "患者自称“{v}”", "PERSON", person),
    Frame("blind9_name_photo_by", True, "图片由{v}拍摄", "PERSON", person),
    Frame("blind9_name_checked_by_slash", True, "检查医师/{v}", "PERSON", person),
    Frame("blind9_name_pharmacist", True, "药师{v}审方后发药", "PERSON", person),
    Frame("blind9_name_visited_home", True, "社区医生{v}上门随访", "PERSON", person),
    Frame("blind9_name_says_dad", True, "{v}爸爸说孩子昨晚发烧", "PERSON", person),
    Frame("blind9_name_emergency_contact", True, "紧急联系人：{v}（儿子）", "PERSON", person),
    Frame("blind9_name_thanks_letter", True, "特别感谢{v}和{v1}的悉心照料", "PERSON", person),
    Frame("blind9_name_past_doctor", True, "曾在外院由{v}诊治", "PERSON", person),
    Frame("blind9_name_comma_list", True, "参与抢救的有{v}，{v1}，{v2}", "PERSON", person),
]



def attack_menu() -> list[list[tuple[Frame, Spelling | None]]]:
    names = [(frame, None) for frame in ATTACK_NAME_FRAMES]
    labels = [("手机：{v}", True), ("联系电话为{v}", True)]
    return [
        _label_frames(labels, "CN_PHONE", MOBILE_ATTACK, "attack_phone_label"),
        _label_frames([("身份证号：{v}", True), ("身份证{v}", True)], "CN_ID_CARD", ID_ATTACK, "attack_id_label"),
        names, names,
    ]


def _label_frames(pairs, entity_type: str, spellings: list[Spelling], prefix: str) -> list[tuple[Frame, Spelling]]:
    """Every label frame crossed with every spelling; held out when either part is."""
    out = []
    for index, (template, held) in enumerate(pairs):
        for spelling in spellings:
            frame = Frame(f"{prefix}{index}", held, template, entity_type)
            out.append((frame, spelling))
    return out


def planting_menu() -> list[list[tuple[Frame, Spelling | None]]]:
    """One list of (frame, spelling) per identity kind: a kind is drawn first, so every kind is planted
    about as often whatever its number of frames and spellings (names twice: they leak most)."""
    names = [(frame, None) for frame in PERSON_FRAMES]
    return [
        _label_frames(PHONE_LABEL_FRAMES, "CN_PHONE", MOBILE, "phone_label"),
        _label_frames(PHONE_LABEL_FRAMES, "CN_PHONE", LANDLINE, "phone_label"),
        _label_frames(ID_FRAMES, "CN_ID_CARD", ID_NUMBER, "id_label"),
        _label_frames(EMAIL_FRAMES, "EMAIL", EMAIL, "email_label"),
        _label_frames(DOB_FRAMES, "DATE_OF_BIRTH", DOB, "dob_label"),
        [(frame, None) for frame in RECORD_FRAMES],
        names, names,
        [(frame, None) for frame in INSTITUTION_FRAMES],
    ]


@dataclass(frozen=True)
class Planted:
    start: int
    end: int
    entity_type: str
    spelling: str  # spelling class for numbers, frame class for names/records/hospitals
    frame: str
    held_out: bool


@dataclass
class PlantedText:
    source: str
    original: str
    text: str
    planted: list[Planted] = field(default_factory=list)


# A bare local number is only a phone after a phone label; outside one it is not an identity.
LOCAL_ONLY_NEEDS_LABEL = "landline_local_only"
BOUNDARY = re.compile(r"[。；;！？\n]")


def _fill(rng: random.Random, frame: Frame, spelling: Spelling | None) -> tuple[str, list[tuple[int, int, str, bool]]]:
    """The frame's text and its slots as (start, end, spelling class, held_out)."""
    parts, slots, rest = [], [], frame.template
    length = 0
    while "{" in rest:
        before, _, after = rest.partition("{")
        _, _, rest = after.partition("}")
        parts.append(before)
        length += len(before)
        if spelling is not None:
            value, cls, held = spelling[2](rng), spelling[0], frame.held_out or spelling[1]
        else:
            value, cls, held = frame.values(rng), frame.name, frame.held_out
        slots.append((length, length + len(value), cls, held))
        parts.append(value)
        length += len(value)
    parts.append(rest)
    return "".join(parts), slots


def plant(rng: random.Random, source: str, host: str, menu, per_text: tuple[int, int] = (2, 4)) -> PlantedText:
    """Insert 2-4 identity sentences at sentence boundaries of `host` (or at its end)."""
    cuts = sorted({m.end() for m in BOUNDARY.finditer(host)} | {len(host.rstrip())})
    chosen = sorted(rng.sample(cuts, min(len(cuts), rng.randint(*per_text))))
    out, planted, last = [], [], 0
    length = 0
    for cut in chosen:
        out.append(host[last:cut])
        length += cut - last
        last = cut
        frame, spelling = rng.choice(rng.choice(menu))
        sentence, slots = _fill(rng, frame, spelling)
        lead = "" if cut == 0 or BOUNDARY.match(host, cut - 1) else "，"
        piece = f"{lead}{sentence}。"
        for lo, hi, cls, held in slots:
            start = length + len(lead) + lo
            planted.append(Planted(start, start + hi - lo, frame.entity_type, cls, frame.name, held))
        out.append(piece)
        length += len(piece)
    out.append(host[last:])
    text = "".join(out)
    return PlantedText(source, host, text, planted)


# --- real host texts -----------------------------------------------------------------------------------------
HOST_SOURCES = ("ccks2017_emr/data_origin", "cmb/CMB-test-qa.json", "chatmed_consult/ChatMed-Consult_test.json")


def host_texts(data_dir: Path, limit: int | None = None) -> list[tuple[str, str]]:
    """(source id, text) of real public clinical paragraphs, CCKS first; never evaluation sets."""
    hosts = []
    for path in sorted((data_dir / "ccks2017_emr" / "data_origin").glob("*/*.txtoriginal.txt")):
        text = path.read_text(encoding="utf-8").replace("\r\n", "\n").strip()
        if text:
            hosts.append((f"ccks2017/{path.parent.name}/{path.name}", text))
    for case in json.loads((data_dir / "cmb" / "CMB-test-qa.json").read_text(encoding="utf-8")):
        hosts.append((f"cmb/{case['id']}", case["description"].replace("\r\n", "\n")))
    with (data_dir / "chatmed_consult" / "ChatMed-Consult_test.json").open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            query = json.loads(line)["query"]
            query = query.removeprefix("<s>问：\n").removesuffix("答：\n").strip()
            hosts.append((f"chatmed/{number}", query))
    return hosts[:limit] if limit else hosts


def insert_sentence(host: str, sentence: str) -> str:
    """`sentence` inside a real paragraph: after the first 。 past a third of it, or on a line of its own at its end
    (the benches' planting of one frame per host)."""
    cut = host.find("。", len(host) // 3)
    return host + "\n" + sentence if cut < 0 else host[:cut + 1] + sentence + host[cut + 1:]


# The blind sets of names only: each set's frames, planted as names twice per draw (_names_only).
NAME_ONLY_SETS = {"blind5": BLIND5_NAME_FRAMES, "blind6": BLIND6_NAME_FRAMES, "blind7": BLIND7_NAME_FRAMES,
                  "blind8": BLIND8_NAME_FRAMES, "blind9": BLIND9_NAME_FRAMES}
MENUS: dict[str, Callable[[], list[list[tuple[Frame, Spelling | None]]]]] = {
    "tuned": planting_menu, "blind": blind_menu, "attack": attack_menu, "blind2": blind2_menu, "leaks3": leaks3_menu,
    "leaks3_held": leaks3_held_menu, "blind4": blind4_menu, "blind4_held": blind4_held_menu,
    **{name: partial(_names_only, frames) for name, frames in NAME_ONLY_SETS.items()},
}
RECORD_HOSTS_ONLY = {"leaks3", "leaks3_held", "blind4", "blind4_held", *NAME_ONLY_SETS}


def planted_corpus(data_dir: Path, seed: int = 11, limit: int | None = None, rounds: int = 1,
                   menu: str = "tuned") -> list[PlantedText]:
    """Every host planted `rounds` times (different identities each round) from one of MENUS: `tuned` the first
    set, `blind` the blind set, `attack` the attack set, `blind2` ... `blind6` the later blind sets (those from
    `leaks3` on into record hosts only: CCKS, CMB)."""
    rng = random.Random(seed)
    hosts = host_texts(data_dir, limit)
    if menu in RECORD_HOSTS_ONLY:
        hosts = [(source, text) for source, text in hosts if source.startswith(("ccks2017/", "cmb/"))]
    chosen = MENUS[menu]()
    return [plant(rng, source, text, chosen) for _ in range(rounds) for source, text in hosts]


def ccks_entities(data_dir: Path) -> list[tuple[str, str, list[tuple[int, int, str]]]]:
    """(source id, text, annotated clinical entity spans) of CCKS 2017: the records' own clinical words
    (body parts, symptoms, tests, diseases, treatments) as a reference for what must survive. The
    annotation's end offset is inclusive."""
    out = []
    for path in sorted((data_dir / "ccks2017_emr" / "data_origin").glob("*/*.txtoriginal.txt")):
        raw = path.read_text(encoding="utf-8")
        text = raw.replace("\r\n", "\n").strip()
        if not text or "\r\n" in raw.strip():
            continue  # multi-line files: the annotation offsets count CRLF, keep the reference exact
        spans = []
        for line in path.with_name(path.name.replace("original.txt", "")).read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) == 4:
                start, end = int(parts[1]), int(parts[2]) + 1
                if text[start:end] == parts[0]:
                    spans.append((start, end, parts[3]))
        out.append((f"ccks2017/{path.parent.name}/{path.name}", text, spans))
    return out
