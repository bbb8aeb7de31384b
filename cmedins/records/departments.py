"""The fixed department taxonomy of CMedINS and `normalize_department`, which maps the names hospitals and
consultation sites use (心内科, 消化科, 传染病科, 小儿内科 …) onto it.

Why a fixed list: the card's department distribution (the paper's Figure 2) and triage answers need one
name per department, whatever spelling the source used. Names that map nowhere return None and are counted
by the caller, never guessed.
"""

from __future__ import annotations

import re
import unicodedata

# Standard department -> the other names it goes by (the standard name itself is always accepted).
TAXONOMY: dict[str, tuple[str, ...]] = {
    "心血管内科": ("心内科", "心脏内科", "心血管科", "心血管病科", "心脏科", "心病科"),
    "呼吸内科": ("呼吸科", "呼吸与危重症医学科", "呼吸病科", "肺病科"),
    "消化内科": ("消化科", "胃肠内科", "消化病科", "脾胃病科"),
    "神经内科": ("神经科", "神内", "脑病科", "神经病学科"),
    "肾内科": ("肾病科", "肾脏内科", "肾脏病科", "肾内", "透析科"),
    "内分泌科": ("内分泌内科", "内分泌代谢科", "内分泌与代谢病科", "糖尿病科"),
    "血液科": ("血液内科", "血液病科"),
    "风湿免疫科": ("风湿科", "免疫科", "风湿免疫内科", "风湿病科"),
    "感染科": ("传染科", "传染病科", "感染性疾病科", "感染内科", "肝病科", "肝炎科"),
    "普通内科": ("内科", "综合内科", "大内科", "老年科", "老年病科", "老年医学科"),
    "普通外科": ("外科", "普外科", "普外", "胃肠外科", "肝胆外科", "甲状腺外科", "乳腺外科", "甲乳外科",
                 "肛肠科", "肛肠外科", "血管外科", "疝外科", "腹部外科"),
    "骨科": ("骨外科", "创伤骨科", "脊柱外科", "关节外科", "手外科", "运动医学科", "骨伤科"),
    "神经外科": ("脑外科", "神外"),
    "泌尿外科": ("泌尿科", "泌尿系外科"),
    "男科": ("男性科", "男性病科", "男科学"),
    "心胸外科": ("胸外科", "心外科", "心脏外科", "心脏大血管外科", "胸心外科"),
    "整形外科": ("整形美容", "整形美容科", "医疗美容科", "美容科", "烧伤科", "烧伤整形科", "整形科"),
    "妇产科": ("妇科", "产科", "妇产", "生殖医学科", "计划生育科", "女性生殖"),
    "儿科": ("小儿科", "小儿内科", "新生儿科", "新生儿", "儿童保健科", "小儿外科", "儿内科", "儿外科"),
    "眼科": ("眼病科",),
    "耳鼻咽喉科": ("耳鼻喉科", "耳鼻咽喉头颈外科", "耳鼻喉头颈外科"),
    "口腔科": ("口腔医学科", "牙科", "口腔颌面外科", "口腔内科"),
    "皮肤性病科": ("皮肤科", "性病科", "皮肤病科", "皮肤", "过敏反应科"),
    "肿瘤科": ("肿瘤内科", "肿瘤外科", "放疗科", "放射治疗科", "化疗科"),
    "急诊科": ("急诊", "急诊医学科", "急诊内科", "急诊外科"),
    "重症医学科": ("ICU", "重症监护室", "重症监护科", "监护室"),
    "精神心理科": ("精神科", "心理科", "心理咨询科", "精神卫生科", "心身医学科"),
    "中医科": ("中医内科", "中医外科", "中医妇科", "中医儿科", "中西医结合科", "针灸科", "推拿科", "中医保健",
               "针灸保健"),
    "康复医学科": ("康复科", "理疗科", "康复理疗科"),
}
DEPARTMENTS: tuple[str, ...] = tuple(TAXONOMY)

_ALIASES: dict[str, str] = {
    alias.casefold(): standard for standard, aliases in TAXONOMY.items() for alias in (standard, *aliases)
}
# Qualifiers around the department proper: "心内科门诊", "骨科二病区", "第一外科", "肿瘤科其它", "妇科综合".
_PREFIX = re.compile(r"^第?[一二三四五六七八九十\d]+")
_SUFFIX = re.compile(r"(?:[（(][^）)]*[）)]|门诊|病房|[一二三四五六七八九十\d]*病区|诊室|其它|其他|综合|[一二三四五六七八九十\d]+)+$")


def normalize_department(name: str | None) -> str | None:
    """The standard department for `name`, or None when it is empty or not in the taxonomy."""
    if not name:
        return None
    text = "".join(unicodedata.normalize("NFKC", str(name)).split())
    if not text:
        return None
    for candidate in (text, _SUFFIX.sub("", _PREFIX.sub("", text))):
        standard = _ALIASES.get(candidate.casefold())
        if standard is None and candidate and not candidate.endswith("科"):
            standard = _ALIASES.get((candidate + "科").casefold())  # "整形美容", "肛肠" -> with 科
        if standard is not None:
            return standard
    return None
