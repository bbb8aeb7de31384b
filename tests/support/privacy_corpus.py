"""Tiny corpora with planted identities, and recipes over them, for the privacy and publishing tests.

Every identity planted here (names, a valid PRC ID number used as a record id, mobiles, e-mails, a record
number, a file name holding a name and a phone, identities in bad rows' values, in a system prompt, in an
unmapped department, in annotators' names, comments and source values) must never reach a file outside
the private work folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from cmedins.contracts.prc_id import id_check_digit


def _valid_id(first17: str) -> str:
    return first17 + id_check_digit(first17)


ID_AS_RECORD_ID = _valid_id("11010519491231002")
ID_IN_TEXT = _valid_id("44030619850615123")
PHONES = ("13911112222", "13822334455", "13711112222", "13600001234", "15988887777", "18612345678")
EMAILS = ("zhang.sanfeng@example.com", "linmei1990@163.com", "annotator.wu@hospital.cn")
NAMES = ("张三丰", "欧阳明华", "林黛玉", "王小明", "诸葛秀英", "司马相国")
FILE_STEM = "张三丰_13911112222_住院记录"


@dataclass
class Corpus:
    recipe: Path
    planted: set[str] = field(default_factory=set)


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _records() -> list[dict]:
    common = {"sex": "男", "age": 56, "past_history": "既往高血压病史10年，否认糖尿病史。",
              "physical_exam": "体温36.8℃，血压150/90mmHg，双肺呼吸音清。", "auxiliary_exam": "心电图：窦性心律。"}
    return [
        {**common, "record_id": ID_AS_RECORD_ID, "department": "心血管内科", "patient_name": NAMES[0],
         "id_number": ID_IN_TEXT, "phone": PHONES[0],
         "chief_complaint": "反复胸闷3年，加重2天",
         "present_illness": f"患者{NAMES[0]}3年前出现胸闷，联系电话{PHONES[0]}，身份证号{ID_IN_TEXT}，"
                            f"邮箱{EMAILS[0]}，病案号：2023004567。",
         "diagnosis": "冠状动脉粥样硬化性心脏病", "treatment": "阿司匹林100mg qd，阿托伐他汀20mg qn。",
         # "张三丰自述" has no role word before the name: the record's own patient_name field still masks it.
         "discharge_advice": f"{NAMES[0]}自述症状好转。出院后低盐饮食，1周后门诊复查，有事联系家属{NAMES[1]}"
                             f"（{PHONES[1]}）。"},
        {**common, "record_id": "r-2", "department": f"医师{NAMES[3]}专家门诊", "patient_name": NAMES[3],
         "chief_complaint": "咳嗽、咳痰伴发热5天",
         "present_illness": f"患者{NAMES[3]}5天前受凉后咳嗽，电话{PHONES[3]}，由其女{NAMES[4]}陪同就诊。",
         "diagnosis": "社区获得性肺炎", "treatment": "头孢曲松2g ivgtt qd，化痰治疗。",
         "discharge_advice": "注意休息，按时服药，如有不适随诊。"},
        # Bad rows: their values are identities and must not be quoted in any message.
        {**common, "record_id": "r-3", "sex": NAMES[2], "chief_complaint": "头痛2天", "diagnosis": "偏头痛"},
        {**common, "record_id": "r-4", "age": PHONES[2], "chief_complaint": "腹痛1天", "diagnosis": "急性胃肠炎"},
    ]


def _dialogues() -> list[dict]:
    return [
        {"query": f"<s>问：\n我叫{NAMES[5]}，手机{PHONES[4]}，最近总是头晕，血压160/100，要吃药吗？\n答：\n",
         "response": "血压160/100mmHg已达2级高血压，建议在医生指导下规律降压治疗，同时低盐饮食。"},
        {"query": f"<s>问：\n孩子咳嗽一周了，邮箱{EMAILS[1]}，晚上咳得厉害，要紧吗？\n答：\n",
         "response": "夜间咳嗽加重可能与咳嗽变异性哮喘有关，建议儿科就诊。"},
        {"query": "<s>问：\n胃镜检查前需要空腹多久？\n答：\n", "response": "一般需要禁食6至8小时、禁水2小时。"},
    ]


def sft_corpus(folder: Path, *, deid: dict | None = None, extra_stages: list | None = None,
               card: dict | None = None, with_deid: bool = True) -> Corpus:
    """A recipe over planted records and dialogues; `deid` overrides the deid params."""
    records = _jsonl(folder / "raw" / f"{FILE_STEM}.jsonl", _records())
    dialogues = _jsonl(folder / "raw" / "consultations.jsonl", _dialogues())
    stages = ([{"deid": deid if deid is not None else {"dates": "year"}}] if with_deid else [])
    stages += [{"tasks": {"system_prompt": f"你是医疗助手，由医师{NAMES[3]}（电话{PHONES[5]}）维护。"}},
               {"dialogues": {}}, *(extra_stages or []), {"validate": {}}]
    recipe = {"name": "privacy-tiny", "seed": 7, "output": "out",
              "sources": [{"name": "ward_records", "path": f"raw/{records.name}", "format": "record",
                           "license": "CC-BY-4.0",  # a description can hold identities too
                           "description": f"患者{NAMES[0]}（{PHONES[0]}）等的住院病历"},
                          {"name": "consultations", "path": f"raw/{dialogues.name}", "format": "chatmed",
                           "license": "CC-BY-4.0", "description": "planted consultations"}],
              "stages": stages, "split": {"validation": 0.2},
              "card": card or {"pretty_name": "Privacy tiny", "license": "cc-by-4.0"},
              # Without deid the recipe must say so (falsely here: the planted identities are still in it).
              **({} if with_deid else {"sources_already_deidentified": True})}
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe, allow_unicode=True, sort_keys=False), encoding="utf-8")
    planted = {ID_AS_RECORD_ID, ID_IN_TEXT, *PHONES, *EMAILS, *NAMES, FILE_STEM, "2023004567"}
    return Corpus(path, planted)


def _annotations() -> list[dict]:
    prompt = f"患者{NAMES[0]}，电话{PHONES[0]}，我妈妈是1型糖尿病，感冒吃不下饭，可以停胰岛素吗？"
    good = "不能停用胰岛素。1型糖尿病患者依赖外源胰岛素，停药容易发生酮症酸中毒，应在医生指导下调整剂量并监测血糖。"
    bad = f"可以先停了，等胃口恢复再打。有问题加我微信或打{PHONES[1]}找{NAMES[1]}医生。"
    rows = []
    for pair, (a, b, who) in enumerate([(good, bad, (EMAILS[2], NAMES[4])), (bad, good, (EMAILS[2], NAMES[4]))]):
        for annotator, safety in zip(who, ("A", "A") if pair == 0 else ("B", "B"), strict=True):
            rows.append({"pair_id": f"p{pair}", "prompt": prompt + ("" if pair == 0 else "谢谢"),
                         "response_a": a, "response_b": b, "annotator": annotator, "safety": safety,
                         "professionalism": safety, "fluency": "tie",
                         "comment": f"{annotator}认为回答B泄露了医生{NAMES[1]}的电话{PHONES[1]}",
                         "distribution": "in",
                         "source": f"患者{NAMES[2]}的问诊记录"})
    # A disputed pair: it waits in the arbitration queue, which lies outside the work folder.
    rows += [{"pair_id": "p9", "prompt": f"患者{NAMES[5]}问：发烧39度要去医院吗？邮箱{EMAILS[0]}",
              "response_a": "39度以上持续不退或伴有精神差、抽搐，应尽快就医。",
              "response_b": "在家多喝水就行，不用去医院。", "annotator": who, "safety": judgment,
              "professionalism": "A", "fluency": "A", "comment": f"患者{NAMES[5]}的家属来电{PHONES[4]}",
              "source": "门诊"} for who, judgment in ((EMAILS[2], "A"), (NAMES[4], "B"))]
    return rows


def spf_corpus(folder: Path, *, spf_deid: dict | None = None) -> Corpus:
    annotations = _jsonl(folder / "raw" / f"{FILE_STEM}_标注.jsonl", _annotations())
    recipe = {"name": "privacy-spf", "seed": 7, "output": "out",
              "sources": [{"name": "annotations", "path": f"raw/{annotations.name}", "format": "spf_jsonl",
                           "license": "CC-BY-4.0", "description": "planted annotations"}],
              "stages": [{"spf_deid": spf_deid if spf_deid is not None else {}}, {"spf_resolve": {}},
                         {"adjacent_pairs": {}}, {"dpo_rows": {}}],
              "split": {"validation": 0.0}, "card": {"pretty_name": "Privacy SPF", "license": "cc-by-4.0"}}
    path = folder / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return Corpus(path, {*PHONES, *EMAILS, *NAMES, FILE_STEM})


def leaks(folder: Path, planted: set[str], *, skip: tuple[str, ...] = (".work",)) -> list[str]:
    """`file: value` for every planted value found in any file under `folder` (bytes, so Parquet, PNG and
    JSON with escaped or raw UTF-8 are all covered), skipping the private work folder."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder)
        if rel.parts and rel.parts[0] in skip:
            continue
        data = path.read_bytes()
        if path.suffix == ".parquet":  # pages are compressed: search the decoded rows
            import pyarrow.parquet as pq

            data += json.dumps(pq.read_table(path).to_pylist(), ensure_ascii=False, default=str).encode("utf-8")
        for value in sorted(planted):
            forms = {value.encode("utf-8"), json.dumps(value).strip('"').encode("ascii")}
            if any(form in data for form in forms):
                found.append(f"{rel}: {value}")
    return found
