"""A realistic fake build folder (SFT or DPO) for the card, plot and push tests, independent of the runner.

Rows follow the DESIGN.md contracts; stats.json and manifest.json carry figures consistent with the rows.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from cmedins.ids import content_id
from cmedins.output import SCHEMAS

# (department, chief complaint, diagnosis, treatment) — realistic de-identified record fragments.
RECORDS = [
    ("心血管内科", "反复胸闷、胸痛3年，加重2天", "冠状动脉粥样硬化性心脏病 不稳定型心绞痛", "阿司匹林100mg qd、阿托伐他汀20mg qn，择期冠脉造影"),
    ("呼吸内科", "咳嗽、咳痰伴发热5天", "社区获得性肺炎", "头孢曲松2g ivgtt qd，化痰、补液治疗"),
    ("消化内科", "上腹部隐痛2月，黑便1天", "十二指肠球部溃疡伴出血", "禁食、奥美拉唑40mg ivgtt q12h，胃镜下止血"),
    ("神经内科", "突发右侧肢体无力4小时", "急性脑梗死", "阿替普酶静脉溶栓，后续双抗血小板治疗"),
    ("内分泌科", "口干、多饮、多尿1年", "2型糖尿病", "二甲双胍0.5g tid，糖尿病饮食及运动指导"),
    ("普外科", "转移性右下腹痛1天", "急性阑尾炎", "腹腔镜阑尾切除术，术后抗感染"),
    ("骨科", "摔倒后右髋部疼痛、活动受限6小时", "右股骨颈骨折", "右侧人工股骨头置换术"),
    ("妇产科", "停经38周，下腹阵痛3小时", "孕1产0 孕38周 头位 临产", "严密观察产程，经阴道分娩"),
    ("儿科", "发热伴皮疹2天", "手足口病", "对症退热、口腔护理，隔离观察"),
    ("肿瘤科", "体检发现肺部结节1月", "右肺上叶腺癌", "胸腔镜右肺上叶切除术+淋巴结清扫"),
]
TASK_PROMPTS = {
    "diagnosis": ("根据以下病历资料，给出最可能的诊断。", 2),
    "treatment": ("根据以下病历资料，给出治疗方案。", 3),
    "examination": ("根据患者主诉，建议需要完善哪些检查。", None),
    "summary": ("请总结以下病历的病史特点。", None),
    "triage": ("根据患者主诉，判断应就诊的科室。", 0),
    "discharge_advice": ("根据以下住院经过，拟写出院医嘱。", None),
}
DIALOGUES = [
    ["医生您好，我最近总是头晕，量血压160/100mmHg，需要吃药吗？",
     "血压160/100mmHg已达到2级高血压，建议在医生指导下开始规律降压治疗，同时低盐饮食、控制体重。"],
    ["孩子咳嗽一周了，晚上咳得厉害，要紧吗？", "夜间咳嗽加重可能与鼻后滴漏或咳嗽变异性哮喘有关，建议儿科就诊听诊肺部。",
     "需要拍胸片吗？", "如果伴有发热、气促或听诊有湿啰音，医生可能会建议拍胸片；单纯咳嗽一般先做体格检查。"],
    ["胃镜检查前需要空腹多久？", "一般需要禁食6至8小时、禁水2小时，具体以检查医院的通知为准。"],
    ["我父亲糖尿病十年了，最近脚麻，是并发症吗？", "糖尿病病程长者出现双足麻木，需要警惕糖尿病周围神经病变，建议做神经传导检查。",
     "平时要注意什么？", "控制好血糖，每天检查双足有无破溃，穿宽松鞋袜，避免烫伤。",
     "血糖控制到多少合适？", "一般空腹血糖4.4至7.0mmol/L，糖化血红蛋白低于7%，具体目标请与主治医生商定。"],
]
GENERAL = [["把“今天天气很好”翻译成英文。", "The weather is very nice today."],
           ["写一句关于春天的诗。", "春风拂柳绿，细雨润花红。"]]


def _messages(turns: list[str], system: str | None = None) -> list[dict]:
    messages = [{"role": "system", "content": system}] if system else []
    return messages + [{"role": "user" if i % 2 == 0 else "assistant", "content": text}
                       for i, text in enumerate(turns)]


def sft_rows() -> list[dict]:
    rows = []
    for number, (department, complaint, diagnosis, treatment) in enumerate(RECORDS):
        record_id = f"rec-{number:03d}"
        answers = {"diagnosis": diagnosis, "treatment": treatment, "examination": "血常规、生化全项、心电图及相应影像学检查。",
                   "summary": f"患者以“{complaint}”入院，诊断为{diagnosis}。", "triage": department,
                   "discharge_advice": "注意休息，按时服药，1周后门诊复查，如有不适随诊。"}
        for task, (instruction, _) in TASK_PROMPTS.items():
            history = f"现病史：患者{complaint}，门诊以“{diagnosis}”收入院。查体：神清，生命体征平稳。"
            query = f"主诉：{complaint}。" + ("" if task == "triage" else history)
            rows.append({"id": content_id(task, instruction, query), "task": task, "source": "hospital_emr",
                         "department": department, "instruction": instruction, "query": query,
                         "answer": answers[task], "template_id": f"{task}-01", "record_id": record_id,
                         "messages": _messages([f"{instruction}\n{query}", answers[task]])})
    for turns in DIALOGUES:
        task = "dialogue_single" if len(turns) == 2 else "dialogue_multi"
        rows.append({"id": content_id(turns), "task": task, "source": "cmtmedqa_train", "department": None,
                     "messages": _messages(turns)})
    for turns in GENERAL:
        rows.append({"id": content_id(turns), "task": "general", "source": "alpaca_zh", "department": None,
                     "messages": _messages(turns)})
    return rows


def dpo_rows() -> list[dict]:
    rows = []
    for number, (turns, dimension, distribution) in enumerate([
        (DIALOGUES[0], "safety", "in"), (DIALOGUES[2], "professionalism", "in"),
        (DIALOGUES[3][:2], "fluency", "out"), (DIALOGUES[1][:2], "safety", "out"),
    ]):
        prompt = [{"role": "user", "content": turns[0]}]
        rows.append({"id": content_id("dpo", number, turns), "prompt": prompt,
                     "chosen": [{"role": "assistant", "content": turns[1]}],
                     "rejected": [{"role": "assistant", "content": "不用担心，随便买点药吃就好了。"}],
                     "deciding_dimension": dimension, "distribution": distribution, "source": "spf_annotations",
                     "annotator_count": 2, "agreement": 1.0 if number % 2 == 0 else 0.5,
                     "arbitrated": number % 2 == 1})
    return rows


def _write(path: Path, rows: list[dict], kind: str) -> None:
    schema = SCHEMAS[kind]
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist([{name: row.get(name) for name in schema.names} for row in rows],
                                        schema=schema), path)


def make_build(root: Path, kind: str = "sft", *, deid_ran: bool = True, validation_passed: bool = True,
               recipe_card: dict | None = None) -> Path:
    rows = sft_rows() if kind == "sft" else dpo_rows()
    validation = rows[::10]  # every 10th row: deterministic 10% split
    train = [row for index, row in enumerate(rows) if index % 10]
    _write(root / "data" / "train-00000-of-00001.parquet", train, kind)
    _write(root / "data" / "validation-00000-of-00001.parquet", validation, kind)
    sources = Counter(row["source"] for row in rows)
    licenses = {"hospital_emr": "research only", "cmtmedqa_train": "Apache-2.0", "alpaca_zh": "CC BY-NC 4.0",
                "spf_annotations": "Apache-2.0"}
    stats = {
        "kind": kind,
        "rows": {"input": len(rows) + 3, "kept": len(rows), "dropped": 2, "quarantined": 1},
        "stages": {"read": {"in": len(rows) + 3, "out": len(rows) + 2, "created": 0, "dropped": {},
                            "quarantined": {"bad_encoding": 1}},
                   "dedup": {"in": len(rows) + 2, "out": len(rows), "created": 0,
                             "dropped": {"near_duplicate": 2}, "quarantined": {}}},
        "sources": {name: {"format": "jsonl", "path": f"raw/{name}.jsonl", "rows_read": n + (3 if name ==
                           "hospital_emr" else 0), "quarantined": 1 if name == "hospital_emr" else 0,
                           "license": licenses[name]} for name, n in sorted(sources.items())},
        "splits": {"train": len(train), "validation": len(validation)},
        "deid": {"rows_changed": 17, "entities": {"PERSON": 12, "CN_ID_CARD": 4, "PHONE_NUMBER": 5, "DATE_OF_BIRTH": 4}},
        "dedup": {"exact": 1, "near": 1, "threshold": 0.8},
    }
    if kind == "sft":
        stats["tasks"] = dict(sorted(Counter(row["task"] for row in rows).items()))
        stats["departments"] = dict(sorted(Counter(row["department"] for row in rows if row["department"]).items()))
        stats["mix"] = {"target": {"dialogue_single": 1.0, "dialogue_multi": 1.0},
                        "achieved": {"dialogue_single": 2, "dialogue_multi": 2}}
    else:
        # The shape cmedins.preference writes (see its build's stats.json).
        stats["preference"] = {
            "pairs": 4, "arbitrated": 2, "distribution": {"in": 2, "out": 2},
            "outcomes": {"all_tie": 1, "decided": 4},
            "agreement": {"pairs": 5, "cross_annotated": 4, "dimensions": {
                "safety": {"percent_agreement": 0.75, "cohen_kappa": 0.5, "cohen_pairs": 4},
                "professionalism": {"percent_agreement": 0.5, "cohen_kappa": 0.0, "cohen_pairs": 4},
                "fluency": {"percent_agreement": 1.0, "cohen_kappa": None, "cohen_pairs": 4}}},
            "arbitration": {"arbitrate_on": "any", "disputed": 2, "applied": 2, "pending": 0},
        }
    recipe = {"name": f"test-{kind}", "seed": 42, "card": recipe_card or {},
              "sources": [{"name": name, "path": f"raw/{name}.jsonl", "format": "jsonl", "license": licenses[name]}
                          for name in sorted(sources)]}
    manifest = {
        "name": f"test-{kind}", "cmedins_version": "0.1.0", "recipe": recipe, "recipe_sha256": "ab" * 32,
        "inputs": [{"path": f"raw/{name}.jsonl", "sha256": "cd" * 32, "bytes": 1234} for name in sorted(sources)],
        "versions": {"datasets": "5.2.0", "presidio-analyzer": "2.2.366", "python": "3.11"}, "seed": 42,
        "git_revision": "0123456789abcdef", "deid": {"ran": deid_ran, "config": {"operator": "placeholder",
                                                                              "dates": "year"},
                                                      "counts": stats["deid"]["entities"]},
        "validation": {"passed": validation_passed, "rows": len(rows), "errors": 0 if validation_passed else 3},
    }
    for name, data in (("stats.json", stats), ("manifest.json", manifest)):
        (root / name).write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8")
    return root
