"""Synthetic inpatient records: a department case template filled with one fake patient.

`make_record` returns a MedicalRecord-shaped dict (identity fields included). The identities also leak into
the free text the way real notes do (患者张某某, 病史由患者之子李建国代诉, 联系电话…, 现住…村, 病案号…), so the
de-identifier is tested on text, not only on the identity fields. `render_text` turns a record into the
free-text layout, with the heading styles of different hospitals (主诉： / 【现病史】 / 一、既往史 / 2.体格检查).
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from cmedins.contracts.schema import CLINICAL_FIELDS
from cmedins.sample.identity import Identity, format_date, make_identity
from cmedins.sample.pools import load_pool
from cmedins.sample.slots import Slots

CASE_META = {"sex", "age", "vitals", "slots"}
# Sections a real record is sometimes missing (outpatient notes, unfinished discharge summaries).
OPTIONAL_SECTIONS = ("specialist_exam", "auxiliary_exam", "history_summary", "treatment", "discharge_status",
                     "discharge_advice", "family_history")
MISSING_SECTION_RATE = 0.08
MISSING_DIAGNOSIS_RATE = 0.03
DEPARTMENT_ALIAS_RATE = 0.15
HEADING_STYLES = ("colon", "bracket", "cn_number", "arabic")
CN_NUMBERS = "一二三四五六七八九十"
# Section-heading variants real records use (the record parser must know them).
HEADING_VARIANTS = {"diagnosis": ("诊断", "初步诊断")}


def departments() -> list[str]:
    return list(load_pool("clinical")["departments"])


def make_record(rng: random.Random, record_id: str) -> dict[str, Any]:
    """One coherent record: department, case, patient and every section filled from the same slots."""
    pool = load_pool("clinical")
    department = rng.choice(list(pool["departments"]))
    case = rng.choice(pool["departments"][department])
    sex = case["sex"] if case["sex"] != "any" else rng.choice(("男", "女"))
    age = rng.randint(*case["age"])
    person = make_identity(rng, sex=sex, age=age)
    slots = _slots(rng, case, pool, person)
    sections = {field: slots.fill(case[field]) for field in CLINICAL_FIELDS if field in case}
    sections.setdefault("past_history", slots.fill("{general_past}"))
    sections.setdefault("personal_history", slots.fill(_personal_history(rng, person)))
    sections.setdefault("family_history", slots.fill("{family}"))
    sections["history_summary"] = _history_summary(person, sections, slots)
    _leak_identity(rng, person, sections)
    _drop_sections(rng, sections)
    record: dict[str, Any] = {"record_id": record_id, "department": department, "sex": sex, "age": age}
    record.update({field: sections.get(field) for field in CLINICAL_FIELDS})
    record.update({
        "patient_name": person.name,
        "id_number": person.id_number,
        "phone": person.phone_display,
        "address": person.address,
        "birth_date": person.birth_date.isoformat(),
        "record_number": person.record_number,
        "admission_date": person.admission_date.isoformat(),
        "hospital": person.hospital,
    })
    return record


def _slots(rng: random.Random, case: dict, pool: dict, person: Identity) -> Slots:
    ranges = {**pool["vitals_default"], **(case.get("vitals") or {})}
    temp = f"{rng.uniform(*ranges['t']):.1f}"
    pulse, resp = rng.randint(*ranges["p"]), rng.randint(*ranges["r"])
    sbp, dbp = rng.randint(*ranges["sbp"]), rng.randint(*ranges["dbp"])
    if rng.random() < 0.5:
        vitals = f"T {temp}℃，P {pulse}次/分，R {resp}次/分，BP {sbp}/{dbp}mmHg。"
    else:
        vitals = f"体温{temp}℃，脉搏{pulse}次/分，呼吸{resp}次/分，血压{sbp}/{dbp}mmHg。"
    own = {**(case.get("slots") or {}),
           **{key: value for key, value in case.items() if key not in CASE_META and key not in CLINICAL_FIELDS}}
    return Slots(rng, own, pool["common_slots"], vitals=vitals, temp=temp, pulse=pulse, resp=resp, sbp=sbp,
                 dbp=dbp, age=person.age, sex=person.sex, patient=_patient_reference(rng, person),
                 birthplace=person.birthplace, occupation=person.occupation, marital=person.marital)


def _patient_reference(rng: random.Random, person: Identity) -> str:
    """How the present illness names the patient: anonymous, half-hidden, or in full (a leak)."""
    choice = rng.random()
    if choice < 0.35:
        return "患者"
    if choice < 0.6:
        return f"患者{person.partial_name}"
    if choice < 0.9:
        return f"患者{person.name}"
    return f"患者{person.name}（身份证号：{person.id_number}）"


def _personal_history(rng: random.Random, person: Identity) -> str:
    if person.age < 14:
        return "生于{birthplace}，久居本地，无疫区旅居史。"
    lives = f"，现住{person.address}" if rng.random() < 0.3 else "，久居本地"
    children = "" if person.marital == "未婚" else f"，育有{rng.randint(1, 3)}子女"
    return "生于{birthplace}" + lives + "，{occupation}，无疫区旅居史。{smoke}，{drink}。{marital}" + children + "。"


def _history_summary(person: Identity, sections: dict[str, str], slots: Slots) -> str:
    """病史特点 the way residents write it: who, why admitted, key signs, key results."""
    stage = "患儿" if person.age < 14 else ("老年" if person.age >= 60 else ("中年" if person.age >= 40 else "青年"))
    who = f"{stage}{'男' if person.sex == '男' else '女'}性" if stage != "患儿" else "患儿"
    lines = [f"1.{who}，{person.age}岁，因“{sections['chief_complaint']}”入院。"]
    if "specialist_exam" in sections:
        lines.append(f"2.查体：{slots['vitals']}{_first_sentence(sections['specialist_exam'])}")
    if "auxiliary_exam" in sections:
        lines.append(f"{len(lines) + 1}.辅助检查：{_first_sentence(sections['auxiliary_exam'])}")
    return "\n".join(lines)


def _first_sentence(text: str) -> str:
    return text.split("。")[0] + "。"


def _leak_identity(rng: random.Random, person: Identity, sections: dict[str, str]) -> None:
    """Plant identities in free text as real notes carry them (the de-identifier must find these too)."""
    if rng.random() < 0.25:
        sections["present_illness"] = (f"病史由患者{person.relative_relation}{person.relative_name}代诉，可靠。"
                                       + sections["present_illness"])
    if rng.random() < 0.15:
        sections["present_illness"] += (f"{format_date(rng, person.admission_date)}来{person.hospital}就诊，"
                                        f"门诊拟诊收入院（病案号：{person.record_number}）。")
    if rng.random() < 0.3 and "discharge_advice" in sections:
        number = sections["discharge_advice"].count("\n") + 2
        contact = rng.choice((f"随访联系电话：{person.phone_display}", f"家属{person.relative_name}电话{person.phone}",
                              f"科室电话：{person.landline}"))
        sections["discharge_advice"] += f"\n{number}.{contact}。"
    if rng.random() < 0.1:
        sections["treatment"] = f"住院号{person.inpatient_number}。" + sections["treatment"]


def _drop_sections(rng: random.Random, sections: dict[str, str]) -> None:
    if rng.random() < MISSING_SECTION_RATE:
        del sections[rng.choice([name for name in OPTIONAL_SECTIONS if name in sections])]
    if rng.random() < MISSING_DIAGNOSIS_RATE:
        del sections["diagnosis"]


def render_text(rng: random.Random, record: dict[str, Any]) -> dict[str, str]:
    """The free-text layout of a record: a header block with the identities, then headed sections."""
    style = rng.choice(HEADING_STYLES)
    header = _header(rng, record)
    parts = [header]
    number = 0
    for field, heading in CLINICAL_FIELDS.items():
        content = record.get(field)
        if not content:
            continue
        number += 1
        heading = rng.choice(HEADING_VARIANTS.get(field, (heading,)))
        parts.append(_heading(style, number, heading, content))
    return {"text": "\n".join(parts), "department": _department_label(rng, record["department"])}


def _header(rng: random.Random, record: dict[str, Any]) -> str:
    birth = format_date(rng, date.fromisoformat(record["birth_date"]))
    admitted = format_date(rng, date.fromisoformat(record["admission_date"]))
    lines = [f"{record['hospital']}  住院病历",
             f"姓名：{record['patient_name']}　性别：{record['sex']}　年龄：{record['age']}岁　出生日期：{birth}",
             f"科室：{record['department']}　病案号：{record['record_number']}　入院日期：{admitted}"]
    optional = [f"身份证号：{record['id_number']}", f"联系电话：{record['phone']}", f"住址：{record['address']}"]
    lines += [line for line in optional if rng.random() < 0.7]
    return "\n".join(lines)


def _heading(style: str, number: int, heading: str, content: str) -> str:
    if style == "colon":
        return f"{heading}：{content}"
    if style == "bracket":
        return f"【{heading}】\n{content}"
    if style == "cn_number":
        return f"{CN_NUMBERS[number - 1] if number <= 10 else '十' + CN_NUMBERS[number - 11]}、{heading}\n{content}"
    return f"{number}.{heading}：{content}"


def _department_label(rng: random.Random, department: str) -> str:
    aliases = load_pool("clinical")["department_aliases"].get(department)
    if aliases and rng.random() < DEPARTMENT_ALIAS_RATE:
        return rng.choice(aliases)
    return department
