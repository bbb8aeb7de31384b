"""Synthetic clinical notes with planted identities and their exact offsets, for recall tests and the benchmark.

Identities come from Faker's zh_CN provider (a dev/test dependency, imported on use); the clinical filler
is dense in the terms de-identification must keep (herbs and diseases that begin with a surname, eponyms,
lab values, blood pressures, doses, ICD codes, relative times).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# Terms that must survive de-identification (the list plus close relatives).
MEDICAL_TERMS = (
    "高血压", "黄芪", "白芍", "金银花", "何首乌", "马齿苋", "张力性气胸", "钱癣", "帕金森病", "霍奇金淋巴瘤",
    "白细胞", "黄疸", "石膏", "陈皮", "柴胡", "杜仲", "甘露醇", "华法林", "阿司匹林", "桥本甲状腺炎",
    "克罗恩病", "唐氏综合征", "川崎病", "梅毒", "艾滋病", "房颤", "窦性心律", "巩膜黄染", "周身乏力", "常规",
    "高热", "白蛋白", "牛黄", "龙骨", "党参", "丁香", "秦艽", "桑白皮", "胡萝卜素", "干咳",
)
FILLERS = (
    "3天前无明显诱因出现{m0}加重，伴{m1}，自服{m2}、{m3}后无缓解。",
    "既往{m0}病史10年，规律服用{m1}，否认{m2}史。",
    "查体：T 36.8℃，P 88次/分，R 20次/分，BP 150/95mmHg，{m0}，心律齐。",
    "辅助检查：WBC 12.5×10^9/L，Hb 98g/L，PLT 210×10^9/L，ALT 45U/L，血糖7.8mmol/L，提示{m0}。",
    "诊断：1.{m0}（ICD-10 I10）；2.{m1}（G20.x00）；3.{m2}。",
    "予{m0}15g、{m1}10g、{m2}9g水煎服，每日1剂，共7剂；{m3}100mg qd po。",
    "2周前外院诊断{m0}，1月前复查{m1}，半年前行{m2}治疗，术后第3天出现{m3}。",
    "中医诊断：{m0}，证属气血两虚，治以{m1}、{m2}益气养血。",
)


@dataclass
class Note:
    text: str
    identities: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, entity type)
    terms: list[str] = field(default_factory=list)


class _Builder:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.note = Note("")

    def add(self, text: str, entity: str | None = None) -> None:
        if entity:
            self.note.identities.append((self.length, self.length + len(text), entity))
        self.parts.append(text)
        self.length += len(text)

    def template(self, template: str, slots: dict[str, tuple[str, str | None]]) -> None:
        """Fill `{slot}`s left to right; each slot is (value, entity type or None)."""
        rest = template
        while "{" in rest:
            before, _, after = rest.partition("{")
            key, _, rest = after.partition("}")
            self.add(before)
            value, entity = slots[key]
            self.add(value, entity)
        self.add(rest)

    def build(self) -> Note:
        self.note.text = "".join(self.parts)
        return self.note


class NoteFactory:
    """Seeded generator of notes: `make()` returns one Note; identities are planted in realistic contexts."""

    def __init__(self, seed: int = 0):
        from faker import Faker

        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed)
        self.rng = random.Random(seed)

    # --- identity values ---------------------------------------------------------------------------
    def name(self) -> str:
        return self.fake.name()

    def date(self) -> str:
        d = self.fake.date_between("-10y", "today")
        return self.rng.choice((f"{d.year}年{d.month}月{d.day}日", d.isoformat(), f"{d.year}/{d.month:02d}/{d.day:02d}",
                                f"{d.year}.{d.month}.{d.day}", f"{d.year}年{d.month:02d}月{d.day:02d}日"))

    def birth(self) -> str:
        d = self.fake.date_of_birth(minimum_age=1, maximum_age=88)
        return self.rng.choice((f"{d.year}年{d.month}月{d.day}日", d.isoformat(), d.strftime("%Y%m%d"),
                                f"{d.year}/{d.month}/{d.day}"))

    def phone(self) -> str:
        number = self.fake.phone_number()
        return self.rng.choice((number, f"{number[:3]}-{number[3:7]}-{number[7:]}", f"+86 {number}",
                                f"{number[:3]} {number[3:7]} {number[7:]}",
                                f"0{self.rng.randint(10, 999)}-{self.rng.randint(2000000, 89999999)}"))

    def address(self) -> str:
        f, r = self.fake, self.rng
        city = f.city().rstrip("市县")
        return r.choice((
            f"{f.province()}{city}市{f.district()}区{f.street_name()}{r.randint(1, 300)}号{r.randint(1, 30)}栋"
            f"{r.randint(1, 6)}单元{r.randint(101, 2802)}室",
            f"{city}县{f.last_name()}家{r.choice('庄屯营')}镇{f.last_name()}{r.choice('家沟河岭')}村",
            f"{f.province()}{city}市{f.street_name()}{r.randint(1, 999)}号",
        ))

    def record_number(self) -> tuple[str, str]:
        label = self.rng.choice(("病案号", "住院号", "门诊号", "医保号", "ID号", "就诊卡号"))
        value = self.rng.choice((str(self.rng.randint(10**5, 10**9)), f"ZY{self.rng.randint(10**6, 10**8)}"))
        return label, value

    def hospital(self) -> str:
        return f"{self.fake.city().rstrip('市县')}市{self.rng.choice(('第一人民医院', '中医院', '妇幼保健院', '中心医院'))}"

    def passport(self) -> str:
        return self.rng.choice("EG") + "".join(self.rng.choice("0123456789") for _ in range(8))

    # --- notes -------------------------------------------------------------------------------------
    def make(self) -> Note:
        r, f = self.rng, self.fake
        b = _Builder()
        terms = r.sample(MEDICAL_TERMS, 4)
        b.note.terms = terms
        label, number = self.record_number()
        header = r.choice((
            "患者{name}，{sex}，{age}岁，{label}：{rn}，身份证号：{id}，联系电话：{phone}。",
            "{name}，{sex}，{age}岁，住址：{addr}，{label}{rn}，电话{phone}。",
            "姓名：{name} 性别：{sex} 出生日期：{birth} 身份证：{id} 家住{addr}。",
        ))
        b.template(header, {"name": (self.name(), "PERSON"), "sex": (r.choice("男女"), None),
                            "age": (str(r.randint(18, 88)), None), "label": (label, None),
                            "rn": (number, "MEDICAL_RECORD_NUMBER"), "id": (f.ssn(), "CN_ID_CARD"),
                            "phone": (self.phone(), "CN_PHONE"), "addr": (self.address(), "CN_ADDRESS"),
                            "birth": (self.birth(), "DATE_OF_BIRTH")})
        slots = {f"m{i}": (term, None) for i, term in enumerate(terms)}
        for filler in r.sample(FILLERS, 3):
            b.template(filler, slots)
        extra = r.choice((
            "于{date}入住{hosp}，主治医师：{doc}，家属{rel}（电话{phone}）陪同。",
            "{date}在{hosp}就诊，由其子{rel}陪同，邮箱{email}。",
            "患者之女{rel}代诉病史，其父{age90}岁高龄。护照号{passport}，车牌{plate}。",
            "签名：{doc}  日期：{date}  银行卡号：{card}",
        ))
        b.template(extra, {"date": (self.date(), "DATE_TIME"), "hosp": (self.hospital(), "INSTITUTION"),
                           "doc": (self.name(), "PERSON"), "rel": (self.name(), "PERSON"),
                           "phone": (self.phone(), "CN_PHONE"), "email": (f.email(), "EMAIL"),
                           "age90": (str(r.randint(90, 104)), "AGE_OVER_89"),
                           "passport": (self.passport(), "PASSPORT"), "plate": (f.license_plate(), "LICENSE_PLATE"),
                           "card": (f.credit_card_number(), "BANK_CARD")})
        return b.build()


def recall_by_type(notes: list[Note], findings: list[list]) -> dict[str, tuple[int, int]]:
    """(covered, planted) per entity type: a planted identity counts when findings cover all its characters."""
    totals: dict[str, list[int]] = {}
    for note, found in zip(notes, findings, strict=True):
        covered = {i for f in found for i in range(f.start, f.end)}
        for start, end, entity in note.identities:
            hit = all(i in covered for i in range(start, end))
            counts = totals.setdefault(entity, [0, 0])
            counts[0] += hit
            counts[1] += 1
    return {entity: (hit, total) for entity, (hit, total) in sorted(totals.items())}


def terms_kept(notes: list[Note], outputs: list[str]) -> tuple[int, int]:
    """(kept, planted) medical terms: each planted term must still appear as often as in the input."""
    kept = total = 0
    for note, out in zip(notes, outputs, strict=True):
        for term in note.terms:
            planted = note.text.count(term)
            total += planted
            kept += min(planted, out.count(term))
    return kept, total
