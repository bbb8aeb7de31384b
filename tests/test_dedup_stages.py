"""The `dedup` and `decontaminate` stages through BuildContext, and `cmedins dedup` on files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cmedins.cli import app
from cmedins.contracts.ids import content_id
from cmedins.dedup.stage import DecontaminateStage, DedupStage
from cmedins.errors import CmedinsError
from cmedins.rowio.writers import write_rows
from cmedins.runner.ledger import Ledger
from cmedins.runner.stage import BuildContext

Q_HTN = "医生您好，我今年62岁，高血压十年了，一直吃硝苯地平，最近一周早上起床头晕乏力，血压160/95，需要换药吗？"
Q_DM = "医生您好，我今年55岁，糖尿病五年了，一直吃二甲双胍，最近口干多饮，空腹血糖9.8，需要加用胰岛素吗？"
Q_GOUT = "痛风发作的时候脚趾关节红肿热痛，吃了秋水仙碱以后拉肚子，还能继续吃吗？有没有别的药可以替代？"


def sft(question: str, answer: str, source: str, task: str = "dialogue_single") -> dict:
    messages = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    return {"kind": "sft", "id": content_id(messages), "messages": messages, "task": task, "source": source,
            "department": None, "_file": f"{source}.json", "_row": 1}


def context(tmp_path: Path) -> BuildContext:
    ledger = Ledger(tmp_path / "build" / "quarantine", tmp_path / "build" / ".work" / "private")
    return BuildContext(seed=1, work_dir=tmp_path / "build" / ".work", ledger=ledger, recipe_dir=tmp_path)


def run(stage_class, params: dict, rows: list[dict], ctx: BuildContext) -> list[dict]:
    stage = stage_class(params, ctx)
    out = list(stage.run(iter(rows)))
    counts = ctx.ledger.stage(stage.name)
    counts.rows_in, counts.rows_out = len(rows), len(out)
    ctx.ledger.check()
    return out


def test_dedup_stage_drops_with_reasons_keeps_order_and_reports_clusters(tmp_path):
    ctx = context(tmp_path)
    record = {"kind": "record", "record_id": "r1", "source": "emr"}
    rows = [
        sft(Q_HTN, "建议复查血压，可在医生指导下加用缬沙坦。", "cmtmedqa"),
        record,
        sft(Q_DM, "建议完善糖化血红蛋白检查。", "huatuo"),
        sft(Q_HTN.replace("，", " "), "可以换药。", "chatmed"),  # = row 0 after normalising, other source
        sft(Q_HTN.replace("一周", "几天"), "建议复查血压，调整降压方案，低盐饮食，规律监测并记录。", "cmtmedqa"),
        sft(Q_GOUT, "秋水仙碱腹泻可减量，或换用非甾体抗炎药。", "chatmed"),
    ]
    out = run(DedupStage, {"threshold": 0.7}, rows, ctx)
    # The near copy has the longest answer, so it is the one kept; order of the survivors is unchanged.
    assert [row.get("id", "record") for row in out] == ["record", rows[2]["id"], rows[4]["id"], rows[5]["id"]]
    # Row 3 is an exact copy of row 0, but row 0 left in the per-source pass; globally row 3 is near row 4.
    assert ctx.ledger.stage("dedup").dropped == {"duplicate_near": 2}
    report = [json.loads(line) for line in (tmp_path / "build" / "reports" / "dedup_clusters.jsonl").open()]
    assert [(r["removed_id"], r["kept_id"], r["reason"], r["scope"]) for r in report] == [
        (rows[0]["id"], rows[4]["id"], "duplicate_near", "per_source"),
        (rows[3]["id"], rows[4]["id"], "duplicate_near", "global"),
    ]
    assert all(0.7 <= r["similarity"] <= 1.0 for r in report)
    stats = ctx.reports["dedup"]
    assert (stats.rows_in, stats.candidates, stats.rows_kept) == (6, 5, 4)
    assert stats.lsh.bands * stats.lsh.rows_per_band <= 128
    assert not list((tmp_path / "build" / ".work" / "dedup").glob("rows.pickle"))  # spool cleaned up


def test_dedup_stage_rejects_unknown_parameters(tmp_path):
    with pytest.raises(CmedinsError, match="unknown parameter"):
        DedupStage({"treshold": 0.8}, context(tmp_path))


def write_cmtmedqa_eval(path: Path) -> None:
    path.write_text(json.dumps([
        {"instruction": Q_GOUT, "input": "", "output": "可以换药。", "history": [], "cate1": "风湿免疫科", "cate2": ""},
        {"instruction": "那需要查尿酸吗？平时饮食上要注意哪些东西？", "input": "", "output": "需要。",
         "history": [["你好", "你好"], [Q_DM, "建议加药。"]], "cate1": "内分泌科", "cate2": ""},
    ], ensure_ascii=False), encoding="utf-8")


def test_decontaminate_drops_rows_containing_an_eval_question(tmp_path):
    write_cmtmedqa_eval(tmp_path / "eval.json")
    ctx = context(tmp_path)
    rows = [
        sft(Q_HTN, "建议复查血压。", "chatmed"),
        sft("我想问一下，" + Q_GOUT.replace("拉肚子", "腹泻"), "可以减量。", "chatmed"),  # edited copy, inside
        sft("糖尿病能吃西瓜吗", "少量可以。", "huatuo"),
        sft("你好", "你好，请问有什么可以帮您？", "huatuo"),  # the eval set's "你好" is too short to count
        sft("上一次医生说" + Q_DM, "可以。", "huatuo", task="dialogue_multi"),  # turn 2 of the eval dialogue
    ]
    params = {"eval_sets": [{"name": "cmtmedqa_test", "path": "eval.json", "format": "cmtmedqa"}]}
    out = run(DecontaminateStage, params, rows, ctx)
    assert [row["id"] for row in out] == [rows[0]["id"], rows[2]["id"], rows[3]["id"]]
    assert ctx.ledger.stage("decontaminate").dropped == {"contaminated:cmtmedqa_test": 2}
    report = [json.loads(line) for line in (tmp_path / "build" / "reports" / "contamination.jsonl").open()]
    assert [(r["id"], r["eval_item"]) for r in report] == [
        (rows[1]["id"], "eval.json row 1"), (rows[4]["id"], "eval.json row 2 turn 2")]
    assert report[0]["overlap"] >= 0.5 and report[1]["overlap"] == 1.0
    stats = ctx.reports["decontaminate"]
    assert stats.eval_items_indexed == 3 and stats.eval_items_too_short == 1
    assert stats.eval_sets["cmtmedqa_test"].rows == 2 and stats.dropped == {"cmtmedqa_test": 2}


def test_decontaminate_keeps_the_order_across_batches_and_other_row_kinds(tmp_path, monkeypatch):
    """Batches of 2 rows (any kind) are matched one after another; records pass through where they were."""
    from cmedins.dedup import stage as stage_module

    monkeypatch.setattr(stage_module, "_DECONTAM_BATCH", 2)
    write_cmtmedqa_eval(tmp_path / "eval.json")
    ctx = context(tmp_path)
    records = [{"kind": "record", "record_id": f"r{i}", "source": "emr"} for i in range(3)]
    rows = [records[0], sft("上一次医生说" + Q_DM, "可以。", "chatmed"), sft(Q_HTN, "建议复查血压。", "huatuo"),
            records[1], records[2], sft("我想问一下，" + Q_GOUT, "可以减量。", "chatmed"),
            sft("头痛三天了怎么办", "多休息。", "huatuo")]
    params = {"eval_sets": [{"name": "cmtmedqa_test", "path": "eval.json", "format": "cmtmedqa"}]}
    out = run(DecontaminateStage, params, rows, ctx)
    assert out == [rows[0], rows[2], rows[3], rows[4], rows[6]]
    assert ctx.reports["decontaminate"].rows_checked == 4
    assert ctx.ledger.stage("decontaminate").dropped == {"contaminated:cmtmedqa_test": 2}


def test_decontaminate_names_a_bad_eval_set(tmp_path):
    with pytest.raises(CmedinsError, match="eval_sets"):
        DecontaminateStage({}, context(tmp_path))
    stage = DecontaminateStage({"eval_sets": [{"name": "x", "path": "x.json", "format": "nope"}]}, context(tmp_path))
    with pytest.raises(CmedinsError, match="unknown format 'nope'"):
        list(stage.run(iter([])))


def test_cli_dedup_on_a_csv_with_fields_and_clusters(tmp_path):
    rows = [
        {"title": "高血压能吃党参吗", "ask": "我有高血压，女婿拿了些党参泡水喝，高血压可以吃党参吗？", "answer": "可以少量。"},
        {"title": "痛风", "ask": Q_GOUT, "answer": "可以换药。"},
        {"title": "高血压能吃党参吗？", "ask": "我有高血压，女婿拿了些党参泡水喝，高血压可以吃党参吗", "answer": "不建议。"},
    ]
    write_rows(tmp_path / "in.csv", rows)
    result = CliRunner().invoke(app, ["dedup", str(tmp_path / "in.csv"), "--out", str(tmp_path / "out.jsonl"),
                                      "--field", "title", "--field", "ask", "--clusters", str(tmp_path / "c.jsonl")])
    assert result.exit_code == 0, result.output
    assert "3 rows in, 1 exact and 0 near duplicates removed" in result.output
    kept = [json.loads(line) for line in (tmp_path / "out.jsonl").open()]
    assert [row["answer"] for row in kept] == ["可以少量。", "可以换药。"]
    assert json.loads((tmp_path / "c.jsonl").read_text()) == {
        "removed_row": 3, "kept_row": 1, "reason": "duplicate_exact", "similarity": 1.0}


def test_cli_dedup_clusters_name_rows_by_number_never_by_their_ids(tmp_path):
    """A user's own ids can be identities (a record number, a phone used as a key): the clusters file is written
    outside any build folder, so it names rows by their number in the input only."""
    question = "我有高血压，女婿拿了些党参泡水喝，高血压可以吃党参吗？"
    rows = [{"id": "ZY20230517-0042", "messages": [{"role": "user", "content": question},
                                                   {"role": "assistant", "content": "可以少量。"}]},
            {"id": "13912345678", "messages": [{"role": "user", "content": "痛风" + Q_GOUT},
                                               {"role": "assistant", "content": "可以换药。"}]},
            {"id": "ZY20230517-0043", "messages": [{"role": "user", "content": question},
                                                   {"role": "assistant", "content": "可以少量，但请遵医嘱。"}]}]
    write_rows(tmp_path / "in.jsonl", rows)
    result = CliRunner().invoke(app, ["dedup", str(tmp_path / "in.jsonl"), "--out", str(tmp_path / "out.jsonl"),
                                      "--clusters", str(tmp_path / "c.jsonl")])
    assert result.exit_code == 0, result.output
    written = (tmp_path / "c.jsonl").read_text()
    assert json.loads(written) == {"removed_row": 1, "kept_row": 3, "reason": "duplicate_exact", "similarity": 1.0}
    assert not any(row["id"] in written or row["id"] in result.output for row in rows)


def test_cli_dedup_names_a_missing_field(tmp_path):
    write_rows(tmp_path / "in.jsonl", [{"question": "头痛怎么办"}])
    result = CliRunner().invoke(app, ["dedup", str(tmp_path / "in.jsonl"), "--out", str(tmp_path / "o.jsonl"),
                                      "--field", "ask"])
    assert result.exit_code != 0
    assert "row 1: no field 'ask'" in str(result.exception or result.output)


def test_tasks_of_one_record_are_never_duplicates_of_each_other(tmp_path):
    record = ("主诉：反复胸闷气短2年，加重3天。现病史：患者2年前活动后出现胸闷气短，休息后缓解，3天前症状加重，"
              "夜间不能平卧。既往史：高血压10年。查体：双肺底湿啰音，双下肢水肿。辅助检查：BNP 1200pg/ml。")
    def task_row(task: str, answer: str, source: str) -> dict:
        row = sft("请根据病历回答：" + record, answer, source, task=task)
        return {**row, "query": record, "answer": answer, "id": content_id(task, record, answer, source)}

    rows = [task_row("diagnosis", "慢性心力衰竭急性加重；高血压病。", "emr"),
            task_row("treatment", "利尿、扩血管、控制血压。", "emr"),
            task_row("triage", "心内科。", "emr"),
            task_row("diagnosis", "慢性心力衰竭急性加重；高血压病", "emr_copy")]  # same task, other source
    ctx = context(tmp_path)
    out = run(DedupStage, {}, rows, ctx)
    assert [row["task"] for row in out] == ["diagnosis", "treatment", "triage"]
    assert ctx.ledger.stage("dedup").dropped == {"duplicate_exact": 1}
