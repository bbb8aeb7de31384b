"""Label Studio as the annotation tool: pairwise SPF tasks out (import JSON + labeling config), the JSON
export back in as plain judgments.

Formats (Label Studio docs, "Task format" and the Choices/TextArea/Paragraphs tags):
- tasks to import: a JSON array of {"data": {...}}; `$dialogue` feeds a Paragraphs tag (a list of
  {"author", "text"}), `$response_a` / `$response_b` two Text tags;
- the JSON-MIN export: one flat row per annotation (read by turning it into the JSON shape);
- the JSON export: the same tasks with `annotations[]`, each with `completed_by` (a user id, or a user
  object in some versions), `was_cancelled` and `result[]` regions {"from_name", "to_name", "type",
  "value"}: `{"choices": [...]}` for Choices, `{"text": [...]}` for TextArea.
The choices carry aliases A / B / tie, which Label Studio stores in results instead of the shown label.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from xml.sax.saxutils import quoteattr

from cmedins.contracts.schema import DIMENSIONS
from cmedins.errors import CmedinsError
from cmedins.preference.judgments import parse_annotation
from cmedins.rowio.formats import register_format

DIMENSION_LABELS = {
    "safety": "安全性 Safety（最优先：有无误导、延误就医、危险建议）",
    "professionalism": "专业性 Professionalism（医学知识是否准确、完整）",
    "fluency": "流畅性 Fluency（表达是否通顺、易懂）",
}
CHOICES = (("A", "A 更好"), ("B", "B 更好"), ("tie", "相当 / 无法区分"))
SPEAKERS = {"system": "系统", "user": "患者", "assistant": "医生"}
COMMENT = "comment"


def labeling_config() -> str:
    """The labeling config XML: the dialogue, both responses side by side, one Choices per SPF dimension."""
    lines = [
        "<View>",
        '  <Header value="对话 / Dialogue"/>',
        '  <Paragraphs name="dialogue" value="$dialogue" layout="dialogue" nameKey="author" textKey="text"/>',
        '  <View style="display: flex; gap: 1em;">',
        '    <View style="flex: 50%;"><Header value="回答 A"/><Text name="response_a" value="$response_a"/></View>',
        '    <View style="flex: 50%;"><Header value="回答 B"/><Text name="response_b" value="$response_b"/></View>',
        "  </View>",
    ]
    for dimension in DIMENSIONS:
        lines.append(f"  <Header value={quoteattr(DIMENSION_LABELS[dimension])}/>")
        lines.append(f'  <Choices name="{dimension}" toName="dialogue" choice="single-radio" required="true" '
                     'showInline="true">')
        lines.extend(f"    <Choice value={quoteattr(label)} alias=\"{alias}\"/>" for alias, label in CHOICES)
        lines.append("  </Choices>")
    lines.append(f'  <TextArea name="{COMMENT}" toName="dialogue" placeholder="备注（可选）" rows="2" '
                 'maxSubmissions="1"/>')
    lines.append("</View>")
    return "\n".join(lines) + "\n"


def to_task(pair: dict) -> dict:
    """One annotation task from a response pair {pair_id, prompt, response_a, response_b, distribution, source}."""
    dialogue = [{"author": SPEAKERS[m["role"]], "text": m["content"]} for m in pair["prompt"]]
    return {"data": {
        "pair_id": pair["pair_id"],
        "dialogue": dialogue,
        "response_a": pair["response_a"],
        "response_b": pair["response_b"],
        "prompt": pair["prompt"],  # the exact messages, for the way back
        "distribution": pair.get("distribution", "in"),
        "source": pair.get("source"),
    }}


def write_tasks(pairs: Iterable[dict], out_dir: Path) -> tuple[Path, Path, int]:
    """Write tasks.json (Label Studio import) and labeling_config.xml; returns their paths and the task count."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tasks = [to_task(pair) for pair in pairs]
    tasks_path, config_path = out_dir / "tasks.json", out_dir / "labeling_config.xml"
    tasks_path.write_text(json.dumps(tasks, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    config_path.write_text(labeling_config(), encoding="utf-8")
    return tasks_path, config_path, len(tasks)


def _label(value: str) -> str:
    for alias, label in CHOICES:
        if value in (alias, label):
            return alias
    return value  # left for validation to reject, naming the dimension


def _annotator(completed_by: object) -> str | None:
    """A stable pseudonymous annotator name from the user id (never the e-mail address)."""
    if isinstance(completed_by, dict):  # some versions export the user object
        completed_by = completed_by.get("id")
    return None if completed_by is None else f"ls-user-{completed_by}"


def judgments_from_task(task: dict) -> Iterator[dict]:
    """Raw judgment rows (plain JSONL shape) from one exported task, one per submitted annotation."""
    data = task.get("data") or {}
    for annotation in task.get("annotations") or []:
        if annotation.get("was_cancelled"):
            continue  # the annotator skipped the task
        row = {
            "pair_id": data.get("pair_id"),
            "annotator": _annotator(annotation.get("completed_by")),
            "prompt": data.get("prompt"),
            "response_a": data.get("response_a"),
            "response_b": data.get("response_b"),
            "distribution": data.get("distribution") or "in",
            "source": data.get("source"),
        }
        for region in annotation.get("result") or []:
            name, value = region.get("from_name"), region.get("value") or {}
            if region.get("type") == "choices" and name in DIMENSIONS:
                choices = value.get("choices") or []
                row[name] = _label(choices[0]) if len(choices) == 1 else None
            elif region.get("type") == "textarea" and name == COMMENT:
                row["comment"] = "\n".join(value.get("text") or []) or None
        yield row


# JSON-MIN: one flat row per annotation: the task's data fields, `id` (the task), `annotator` (a user id),
# `annotation_id`, timestamps, and one key per control tag holding its value (a string for single choices).
MIN_META = ("id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time", "draft_id")


def _is_min_row(item: object) -> bool:
    return isinstance(item, dict) and "annotations" not in item and "data" not in item and (
        "annotation_id" in item or "annotator" in item)


def _min_value(value: object) -> list[str]:
    if isinstance(value, dict):  # multi-valued tags export as {"choices": [...]} / {"text": [...]}
        value = value.get("choices") or value.get("text") or []
    return [value] if isinstance(value, str) else [v for v in value or [] if isinstance(v, str)]


def task_from_min_row(row: dict) -> dict:
    """A JSON-MIN row as a one-annotation task in the full JSON shape."""
    tags = (*DIMENSIONS, COMMENT)
    data = {k: v for k, v in row.items() if k not in MIN_META and k not in tags}
    result = [{"from_name": d, "type": "choices", "value": {"choices": _min_value(row[d])}}
              for d in DIMENSIONS if d in row]
    if row.get(COMMENT):
        result.append({"from_name": COMMENT, "type": "textarea", "value": {"text": _min_value(row[COMMENT])}})
    return {"id": row.get("id"), "data": data,
            "annotations": [{"completed_by": row.get("annotator"), "result": result}]}


def load_tasks(path: Path, *, expect_full: bool = False) -> list[dict]:
    """The tasks of a Label Studio JSON or JSON-MIN export (JSON-MIN rows become one-annotation tasks).

    Refuses loudly what would otherwise import as nothing: a file that is not an export, a row of neither
    shape, or an export without one submitted annotation."""
    try:
        items = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CmedinsError(f"{path}: not a readable Label Studio JSON export ({error})") from None
    if not isinstance(items, list):
        raise CmedinsError(f"{path}: a Label Studio export is an array of tasks (JSON) or annotations (JSON-MIN)")
    tasks = []
    for number, item in enumerate(items, start=1):
        if _is_min_row(item):
            tasks.append(task_from_min_row(item))
        elif isinstance(item, dict) and "data" in item:
            tasks.append(item)
        else:
            shape = "JSON" if expect_full else "JSON or JSON-MIN"
            raise CmedinsError(f"{path}, item {number}: neither a task with `data` nor a JSON-MIN annotation row "
                               f"(export the project as {shape}; CSV/TSV are not read)")
    submitted = sum(1 for task in tasks for a in task.get("annotations") or [] if not a.get("was_cancelled"))
    if not submitted:
        raise CmedinsError(f"{path}: no submitted annotation in {len(tasks)} task(s): annotate first, then export "
                           "the project as JSON or JSON-MIN")
    return tasks


def read_export(path: Path) -> Iterator[tuple[str, int, dict]]:
    """Reader for a Label Studio JSON or JSON-MIN export: (file, task number, raw judgment row)."""
    for number, task in enumerate(load_tasks(path), start=1):
        for row in judgments_from_task(task):
            yield str(path), number, row


register_format("label_studio", "annotation", reader=read_export,
                description="Label Studio JSON or JSON-MIN export of SPF pairwise tasks")(parse_annotation)
