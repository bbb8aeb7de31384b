"""The tasks stage: golden rows per task, skips and row accounting, seeded template choice, real corpora."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from cmedins.contracts.ids import content_id
from cmedins.contracts.schema import RECORD_TASKS, SFTRow
from cmedins.errors import CmedinsError
from cmedins.records.formats import ccks2017, cmb_clin, read_ccks2017
from cmedins.rowio.readers import iter_rows
from cmedins.runner.ledger import Ledger
from cmedins.runner.stage import BuildContext
from cmedins.tasks.bank import MIN_TEMPLATES, choose_templates, load_bank
from cmedins.tasks.definitions import is_empty_answer
from cmedins.tasks.stage import TasksStage

CARDIAC = {
    "kind": "record", "record_id": "golden:1", "source": "golden", "department": "心内科", "sex": "男", "age": 58,
    "chief_complaint": "反复胸闷、胸痛2年，加重3天。",
    "present_illness": "患者2年前活动后出现胸骨后闷痛，休息3-5分钟可缓解。3天前症状加重，静息时亦有发作。",
    "past_history": "高血压病史10年。",
    "physical_exam": "BP 150/90mmHg，心率88次/分，律齐。",
    "auxiliary_exam": "心电图：V1-V4导联ST段压低0.1mV。\n肌钙蛋白I 0.02ng/ml。",
    "history_summary": "老年男性，反复劳力性胸痛2年，近3天静息发作，心电图ST段压低。",
    "diagnosis": "不稳定型心绞痛；高血压病2级",
    "treatment": "予阿司匹林、氯吡格雷双联抗血小板，阿托伐他汀调脂，冠脉造影示前降支狭窄80%，植入支架1枚。",
    "discharge_status": "胸痛未再发作，生命体征平稳。",
    "discharge_advice": "低盐低脂饮食，戒烟；规律服用阿司匹林、氯吡格雷12个月；1个月后心内科门诊复查。",
    "_file": "golden.jsonl", "_row": 1,
}
HEAD = "患者信息：男，58岁\n主诉：反复胸闷、胸痛2年，加重3天。\n现病史：患者2年前活动后出现胸骨后闷痛，休息3-5分钟可缓解。3天前症状加重，静息时亦有发作。"
EXAM = "\n既往史：高血压病史10年。\n体格检查：BP 150/90mmHg，心率88次/分，律齐。"
AUX = "\n辅助检查：\n心电图：V1-V4导联ST段压低0.1mV。\n肌钙蛋白I 0.02ng/ml。"
# seed 7, record golden:1: the templates drawn are part of the golden output (a change of the RNG shows here).
GOLDEN = {
    "diagnosis": ("diagnosis/11@v1", "请根据提供的病史资料进行临床诊断推理，给出诊断结论。", HEAD + EXAM + AUX,
                  "不稳定型心绞痛；高血压病2级"),
    "treatment": ("treatment/01@v1", "请根据以下病历资料，为该患者制定治疗方案。",
                  HEAD + EXAM + AUX + "\n诊断：不稳定型心绞痛；高血压病2级", CARDIAC["treatment"]),
    "examination": ("examination/10@v1", "这位患者需要进行哪些化验和影像检查来协助诊断？", HEAD + EXAM,
                    "心电图：V1-V4导联ST段压低0.1mV。\n肌钙蛋白I 0.02ng/ml。"),
    "summary": ("summary/02@v1", "阅读下面的病历资料，提炼该患者的病例特点。", HEAD + EXAM + AUX, CARDIAC["history_summary"]),
    "triage": ("triage/01@v1", "根据以下患者的情况，应该去哪个科室就诊？", HEAD,
               "患者以“反复胸闷、胸痛2年，加重3天”为主要表现，建议到心血管内科就诊。"),
    "discharge_advice": ("discharge_advice/08@v1", "请结合患者的出院情况，给出饮食、用药、复诊等方面的医嘱。",
                         "患者信息：男，58岁\n诊断：不稳定型心绞痛；高血压病2级\n诊疗经过：" + CARDIAC["treatment"]
                         + "\n出院情况：胸痛未再发作，生命体征平稳。", CARDIAC["discharge_advice"]),
}


def _ctx(tmp_path: Path, seed: int = 7) -> BuildContext:
    return BuildContext(seed=seed, work_dir=tmp_path, ledger=Ledger(tmp_path / "q", tmp_path / "p"), recipe_dir=tmp_path)


def _run(rows: list[dict], ctx: BuildContext, **params) -> list[dict]:
    """Run the stage as the runner does: counting rows in and out around it."""
    counts = ctx.ledger.stage("tasks")
    counts.rows_in += len(rows)
    out = list(TasksStage(params, ctx).run(iter([dict(row) for row in rows])))
    counts.rows_out += len(out)
    ctx.ledger.check()
    return out


def test_golden_rows_for_every_task(tmp_path):
    rows = _run([CARDIAC], _ctx(tmp_path))
    assert [row["task"] for row in rows] == list(RECORD_TASKS)
    for row in rows:
        template_id, instruction, query, answer = GOLDEN[row["task"]]
        messages = [{"role": "user", "content": f"{instruction}\n\n{query}"}, {"role": "assistant", "content": answer}]
        assert row == {
            "kind": "sft", "id": content_id(messages, row["task"]), "messages": messages, "task": row["task"],
            "instruction": instruction, "query": query, "answer": answer, "department": "心血管内科",
            "template_id": template_id, "record_id": "golden:1", "source": "golden",
            "_file": "golden.jsonl", "_row": 1,
        }
        SFTRow.model_validate({k: v for k, v in row.items() if k not in ("kind", "_file", "_row")})


def test_sparse_record_skips_tasks_with_counted_reasons(tmp_path):
    ctx = _ctx(tmp_path)
    sparse = {"kind": "record", "record_id": "r:2", "source": "s", "department": "五官科",
              "chief_complaint": "右耳流脓1周", "auxiliary_exam": "无", "diagnosis": "急性化脓性中耳炎"}
    rows = _run([sparse], ctx)
    assert [row["task"] for row in rows] == ["diagnosis"]
    assert rows[0]["department"] is None
    stats = ctx.reports["tasks"]
    assert stats.skipped == {
        "discharge_advice": {"missing_field:discharge_advice": 1}, "examination": {"empty_answer:auxiliary_exam": 1},
        "summary": {"missing_field:history_summary": 1}, "treatment": {"missing_field:treatment": 1},
        "triage": {"unmapped_department": 1},
    }
    assert stats.unmapped_departments == {"五官科": 1}
    assert ctx.ledger.stage("tasks").created == 0


def test_accounting_with_other_kinds_empty_records_and_too_long_rows(tmp_path):
    ctx = _ctx(tmp_path)
    conversation = {"kind": "conversation", "id": "c:1", "messages": [{"role": "user", "content": "头痛"}]}
    empty = {"kind": "record", "record_id": "r:3", "source": "s", "past_history": "高血压"}
    long_answer = {**CARDIAC, "record_id": "golden:2", "treatment": "予对症治疗。" * 400}
    rows = _run([conversation, CARDIAC, empty, long_answer], ctx, max_answer_chars=1000)
    assert rows[0] is not None and rows[0] == conversation  # passes through untouched, in place
    counts = ctx.ledger.stage("tasks").as_dict()
    assert counts == {"in": 4, "out": 1 + 6 + 5, "created": 5 + 5, "dropped": {"no_task_fields": 1,
                      "too_long:treatment": 1}, "quarantined": {}}
    assert ctx.reports["tasks"].rows["treatment"] == 1 and ctx.reports["tasks"].too_long == {"treatment": 1}
    assert ctx.reports["tasks"].departments == {"心血管内科": 11}


def test_template_choice_depends_on_seed_and_record_not_order(tmp_path):
    records = [{**CARDIAC, "record_id": f"golden:{i}"} for i in range(40)]
    forward = {(r["record_id"], r["task"]): r["template_id"] for r in _run(records, _ctx(tmp_path / "a"))}
    backward = {(r["record_id"], r["task"]): r["template_id"] for r in _run(records[::-1], _ctx(tmp_path / "b"))}
    assert forward == backward
    reseeded = {(r["record_id"], r["task"]): r["template_id"] for r in _run(records, _ctx(tmp_path / "c", seed=8))}
    assert reseeded != forward
    used = Counter(template_id.split("/")[0] for template_id in set(forward.values()))
    assert min(used.values()) >= 8  # 40 records spread over the phrasings of every task


def test_system_prompt_and_task_subset(tmp_path):
    rows = _run([CARDIAC], _ctx(tmp_path), tasks=["triage", "diagnosis"], system_prompt="你是一名医生。")
    assert [row["task"] for row in rows] == ["diagnosis", "triage"]
    assert rows[0]["messages"][0] == {"role": "system", "content": "你是一名医生。"}


@pytest.mark.parametrize("params, message", [
    ({"tasks": ["diagnosis", "prognosis"]}, "tasks.1: Input should be 'diagnosis'"),
    ({"max_query_chars": 0}, "greater than or equal to 1"), ({"tasks": []}, "at least 1 item"),
    ({"colour": "red"}, "unknown parameter"), ({"templates": "missing"}, "template folder not found"),
])
def test_bad_parameters_are_refused(tmp_path, params, message):
    with pytest.raises(CmedinsError, match=message):
        TasksStage(params, _ctx(tmp_path))


def test_packaged_bank_is_diverse_and_versioned():
    bank = load_bank()
    assert set(bank) == set(RECORD_TASKS)
    every = [text for templates in bank.values() for text in templates.templates]
    assert len(every) == len(set(every))
    for task, templates in bank.items():
        assert len(templates.templates) >= MIN_TEMPLATES
        assert templates.template_id(2) == f"{task}/03@v{templates.version}"
        assert templates.description_zh and templates.description_en
    assert choose_templates(bank, 1, "x:1") == choose_templates(bank, 1, "x:1")


def test_custom_bank_is_checked(tmp_path):
    for task in RECORD_TASKS:
        data = {"task": task, "version": 2, "description": {"zh": "说明", "en": "about"},
                "templates": [f"{task}的第{i}种问法。" for i in range(10)], "answer": "请到{department}就诊。"}
        (tmp_path / f"{task}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    rows = _run([CARDIAC], _ctx(tmp_path), templates=".")
    assert {row["template_id"].split("@")[1] for row in rows} == {"v2"}
    data["templates"] = data["templates"][:9]
    (tmp_path / "triage.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CmedinsError, match="triage.yaml: 9 templates; at least 10"):
        load_bank(tmp_path)


def test_public_records_make_every_task_their_fields_allow(shared_data: Path, tmp_path):
    records = [{**cmb_clin(row), "record_id": f"cmb:{n}", "source": "cmb_clin"}
               for n, row in iter_rows(shared_data / "cmb" / "CMB-test-qa.json")]
    records += [{**ccks2017(raw), "record_id": f"ccks:{n}", "source": "ccks2017"}
                for _, n, raw in read_ccks2017(shared_data / "ccks2017_emr" / "data_origin")]
    ctx = _ctx(tmp_path, seed=42)
    rows = _run(records, ctx)
    made = Counter((row["source"], row["task"]) for row in rows)
    # Every task whose fields a source has: CMB-Clin has chapters (department), CCKS none; neither 出院医嘱/病史特点.
    assert set(made) == {("cmb_clin", "diagnosis"), ("cmb_clin", "treatment"), ("cmb_clin", "examination"),
                         ("cmb_clin", "triage"), ("ccks2017", "diagnosis"), ("ccks2017", "treatment"),
                         ("ccks2017", "examination")}
    for record in records:
        for task, field in (("diagnosis", "diagnosis"), ("treatment", "treatment"), ("examination", "auxiliary_exam")):
            has_query = record.get("chief_complaint") or record.get("present_illness")
            expected = int(bool(record.get(field) and has_query and not is_empty_answer(record[field])))
            got = sum(1 for row in rows if row["record_id"] == record["record_id"] and row["task"] == task)
            assert got == expected, (record["record_id"], task)
    for row in rows:
        SFTRow.model_validate({k: v for k, v in row.items() if k not in ("kind", "_file", "_row")})
        # No query states its answer (CCKS findings may name the diagnosis, e.g. an X-ray's, but the
        # admission clause "以<diagnosis>收入院" is moved out of the narrative).
        assert (row["answer"] not in row["query"]) if row["source"] == "cmb_clin" else f"以{row['answer']}" not in row["query"]
    assert ctx.reports["tasks"].records == len(records)


def _hostile_records() -> list[dict]:
    """Records whose fields stress the stage's normal forms: whitespace of every kind inside and around the
    texts, multi-line sections, an admission diagnosis at the very start of the narrative, fields that are not
    text, demographics with spaces, departments mapped and not."""
    messy = "\u3000反复胸闷 \t 2年，\n\n 加重\xa0 3天。\u2028"
    variants = [
        {"chief_complaint": messy, "present_illness": "以“不稳定型心绞痛”收入院。\n 患者2年前…", "department": " 心内科 "},
        {"present_illness": "  以冠心病收住我科。", "sex": " 男 ", "age": 0},
        {"present_illness": None, "history_summary": "老年男性，\n\n以胸痛收入院", "age": None, "sex": ""},
        {"present_illness": "   ", "chief_complaint": 17, "diagnosis": ["不是文本"], "department": 3},
        {"physical_exam": "BP 150/90mmHg\r\n心率88次/分\x1c律齐", "auxiliary_exam": "待回报。", "department": "五官科"},
        {"treatment": '予"阿司匹林"\\氯吡格雷。\x00', "discharge_advice": "ＡＢＣ全角ﬁ①，emoji😀 𠀀", "department": None},
        {"chief_complaint": "", "present_illness": "", "history_summary": "", "diagnosis": "  "},
        {"discharge_status": "\n平稳\n", "department": "小儿内科门诊", "chief_complaint": "发热。。，"},
    ]
    return [{**CARDIAC, **variant, "record_id": f"hostile:{n}", "_row": n} for n, variant in enumerate(variants)]


def _synthetic_records(count: int) -> list[dict]:
    import random

    from cmedins.records.formats import structured_record, text_record
    from cmedins.sample.corpus import record_rows, text_record_rows

    rows = [{**structured_record(row), "record_id": f"record:{n}", "source": "record", "_file": "records.jsonl",
             "_row": n} for n, row in enumerate(record_rows(random.Random("1:records"), count))]
    return rows + [{**text_record(row), "record_id": f"record_text:{n}", "source": "record_text",
                    "_file": "records_text.jsonl", "_row": n}
                   for n, row in enumerate(text_record_rows(random.Random("1:records_text"), count))]


def _same_as_reference(records: list[dict], tmp_path: Path, **params) -> list[dict]:
    """The stage's rows, report and ledger equal the former per-row code's (tests/support/tasks_reference.py)."""
    from tests.support.tasks_reference import ReferenceTasksStage, reference_content_id

    results = []
    for name, stage in (("new", TasksStage), ("former", ReferenceTasksStage)):
        ctx = _ctx(tmp_path / name)
        rows = list(stage(params, ctx).run(iter([dict(row) for row in records])))
        results.append(([list(row.items()) for row in rows], ctx.reports["tasks"].model_dump(),
                        ctx.ledger.stage("tasks").as_dict()))
    assert results[0][0] == results[1][0]  # same keys in the same order, same values
    assert results[0][1:] == results[1][1:]
    rows = [dict(items) for items in results[0][0]]
    for row in rows:
        assert row["id"] == reference_content_id(row["messages"], row["task"])
    return rows


def test_rows_equal_the_former_code_on_synthetic_and_hostile_records(tmp_path):
    records = _synthetic_records(150) + _hostile_records()
    rows = _same_as_reference(records, tmp_path)
    assert len(rows) > 4 * 300 and {row["task"] for row in rows} == set(RECORD_TASKS)
    subset = _same_as_reference(records, tmp_path / "subset", tasks=["triage", "summary"], max_query_chars=300,
                                max_answer_chars=40)
    assert {row["task"] for row in subset} == {"triage", "summary"}


def test_rows_with_a_system_prompt_equal_the_former_code(tmp_path):
    rows = _same_as_reference(_hostile_records(), tmp_path, system_prompt="\u3000你是一名\n\n医生。  ")
    assert rows and all(row["messages"][0]["role"] == "system" for row in rows)


def test_rows_equal_the_former_code_on_public_records(shared_data: Path, tmp_path):
    records = [{**cmb_clin(row), "record_id": f"cmb:{n}", "source": "cmb_clin"}
               for n, row in iter_rows(shared_data / "cmb" / "CMB-test-qa.json")]
    records += [{**ccks2017(raw), "record_id": f"ccks:{n}", "source": "ccks2017"}
                for _, n, raw in read_ccks2017(shared_data / "ccks2017_emr" / "data_origin")]
    assert len(_same_as_reference(records, tmp_path)) > 900


def test_query_labels_hold_no_whitespace():
    # RecordFields writes a line's normal form as label + "：" + the text's normal form: true only while no
    # label holds whitespace (a label with a space would normalise differently).
    from cmedins.tasks.definitions import LABELS

    assert all(label == "".join(label.split()) and label for label in LABELS.values())
