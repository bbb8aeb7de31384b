"""Label Studio round trip: tasks and labeling config out, the real JSON export format back in."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cmedins.cli import app
from cmedins.errors import RowError
from cmedins.preference.judgments import parse_annotation
from cmedins.preference.labelstudio import judgments_from_task, labeling_config, read_export, write_tasks
from cmedins.preference.pairs import read_pairs
from cmedins.preference.privacy import annotator_id
from cmedins.rowio.readers import iter_rows

DATA = Path(__file__).parent / "data" / "preference"
PAIR = {"pair_id": "p9", "prompt": [{"role": "user", "content": "孩子咳嗽一周了"},
                                    {"role": "assistant", "content": "有发热吗？"},
                                    {"role": "user", "content": "没有发热，晚上咳得厉害"}],
        "response_a": "夜间咳嗽加重需排除咳嗽变异性哮喘，建议儿科就诊，必要时做肺功能。",
        "response_b": "吃点止咳糖浆就好了。", "distribution": "out", "source": "cmtmedqa"}


def test_labeling_config_has_one_choices_per_dimension_and_a_comment():
    root = ET.fromstring(labeling_config())
    assert root.tag == "View"
    choices = {c.get("name"): c for c in root.iter("Choices")}
    assert list(choices) == ["safety", "professionalism", "fluency"]
    for control in choices.values():
        assert control.get("toName") == "dialogue" and control.get("choice") == "single-radio"
        assert [c.get("alias") for c in control.iter("Choice")] == ["A", "B", "tie"]
    assert [t.get("name") for t in root.iter("TextArea")] == ["comment"]
    objects = {tag.get("name"): tag.get("value") for tag in root.iter() if tag.tag in ("Paragraphs", "Text")}
    assert objects == {"dialogue": "$dialogue", "response_a": "$response_a", "response_b": "$response_b"}


def test_exported_tasks_carry_the_dialogue_and_the_exact_prompt(tmp_path):
    tasks_path, config_path, count = write_tasks([PAIR], tmp_path)
    tasks = json.loads(tasks_path.read_text(encoding="utf-8"))
    assert count == 1 and config_path.read_text(encoding="utf-8") == labeling_config()
    data = tasks[0]["data"]
    assert [turn["author"] for turn in data["dialogue"]] == ["患者", "医生", "患者"]
    assert data["prompt"] == PAIR["prompt"] and data["pair_id"] == "p9"


def test_round_trip_exported_task_annotated_in_label_studio_shape(tmp_path):
    tasks_path, _, _ = write_tasks([PAIR], tmp_path)
    task = json.loads(tasks_path.read_text(encoding="utf-8"))[0]
    # What Label Studio adds on export when user 12 picks A / A / tie and writes a comment.
    task["annotations"] = [{"id": 1, "completed_by": 12, "was_cancelled": False, "result": [
        {"id": "a1", "from_name": "safety", "to_name": "dialogue", "type": "choices", "value": {"choices": ["A"]}},
        {"id": "a2", "from_name": "professionalism", "to_name": "dialogue", "type": "choices",
         "value": {"choices": ["A"]}},
        {"id": "a3", "from_name": "fluency", "to_name": "dialogue", "type": "choices", "value": {"choices": ["tie"]}},
        {"id": "a4", "from_name": "comment", "to_name": "dialogue", "type": "textarea", "value": {"text": ["B 延误诊断"]}},
    ]}]
    [judgment] = [parse_annotation(row) for row in judgments_from_task(task)]
    assert judgment == {"kind": "annotation", "pair_id": "p9", "annotator": "ls-user-12", "prompt": PAIR["prompt"],
                        "response_a": PAIR["response_a"], "response_b": PAIR["response_b"], "safety": "A",
                        "professionalism": "A", "fluency": "tie", "comment": "B 延误诊断", "distribution": "out",
                        "source": "cmtmedqa"}


def test_real_export_file_imports_skipping_cancelled_annotations():
    rows = [(task, parse_annotation(row)) for _, task, row in read_export(DATA / "label_studio_export.json")]
    assert [(task, r["pair_id"], r["annotator"]) for task, r in rows] == [
        (1, "p1", "ls-user-3"), (1, "p1", "ls-user-5"), (2, "p2", "ls-user-3")]
    assert [(r["safety"], r["professionalism"], r["fluency"]) for _, r in rows] == [
        ("A", "A", "B"), ("A", "tie", "B"), ("tie", "B", "A")]
    assert rows[1][1]["comment"] == "B 建议自行服用止泻药，孕期不安全" and rows[0][1]["comment"] is None


def test_user_object_and_shown_labels_are_understood():
    task = json.loads((DATA / "label_studio_export.json").read_text(encoding="utf-8"))[0]
    annotation = task["annotations"][0]
    annotation["completed_by"] = {"id": 3, "email": "doctor@example.org", "first_name": "", "last_name": ""}
    annotation["result"][0]["value"]["choices"] = ["A 更好"]
    row = parse_annotation(next(judgments_from_task(task)))
    assert (row["annotator"], row["safety"]) == ("ls-user-3", "A")


def test_missing_dimension_is_named():
    task = json.loads((DATA / "label_studio_export.json").read_text(encoding="utf-8"))[0]
    task["annotations"][0]["result"] = task["annotations"][0]["result"][:2]
    with pytest.raises(RowError) as error:
        parse_annotation(next(judgments_from_task(task)))
    assert error.value.field == "fluency"


def test_cli_export_then_import(tmp_path):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({k: v for k, v in PAIR.items() if k != "pair_id"}, ensure_ascii=False) + "\n",
                     encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["prefs", "export-tasks", str(pairs), "--out", str(tmp_path / "ls")])
    assert result.exit_code == 0, result.output
    [pair] = list(read_pairs(pairs))
    task = json.loads((tmp_path / "ls" / "tasks.json").read_text(encoding="utf-8"))[0]
    assert task["data"]["pair_id"] == pair["pair_id"] and len(pair["pair_id"]) == 16

    out = tmp_path / "judgments.jsonl"
    result = runner.invoke(app, ["prefs", "import", str(DATA / "label_studio_export.json"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 judgments" in result.output
    # annotators leave as stable pseudonyms (the privacy gate), one per Label Studio user
    assert [row["annotator"] for _, row in iter_rows(out)] == [
        annotator_id("ls-user-3"), annotator_id("ls-user-5"), annotator_id("ls-user-3")]
