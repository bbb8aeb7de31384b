"""The tasks stage's templating and content ids as they were before issue 15's rewrite: the reference the
package must equal, byte for byte.

`reference_content_id` is cmedins.contracts.ids.content_id as it was (normalise every string of the parts,
then json.dumps with sorted keys); `ReferenceTasksStage` is cmedins' TasksStage with its former per-row
templating (`make_task`, `render_query`, `sft_row` below, each field stripped and each query normalised once
per task). tests/test_ids.py and tests/test_tasks.py compare the package with them; bench/bench_tasks.py
can run either.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cmedins.records.departments import normalize_department
from cmedins.records.formats import admission_diagnosis
from cmedins.tasks.bank import TaskTemplates, choose_templates
from cmedins.tasks.definitions import LABELS, TASKS, TaskSpec, is_empty_answer
from cmedins.tasks.stage import TasksStage


def reference_normalise_for_id(text: str) -> str:
    return " ".join(text.split())


def _normalise(value: Any) -> Any:
    if isinstance(value, str):
        return reference_normalise_for_id(value)
    if isinstance(value, (list, tuple)):
        return [_normalise(item) for item in value]
    if isinstance(value, dict):
        return {key: _normalise(item) for key, item in value.items()}
    return value


def reference_content_id(*parts: object, length: int = 32) -> str:
    payload = json.dumps(_normalise(parts), ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:length]


def field_text(record: dict, field: str) -> str | None:
    value = record.get(field)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def demographics_line(record: dict) -> str | None:
    parts = [record.get("sex"), f"{record['age']}岁" if record.get("age") is not None else None]
    parts = [part for part in parts if part]
    return f"患者信息：{'，'.join(parts)}" if parts else None


def render_query(record: dict, spec: TaskSpec) -> str:
    lines = [demographics_line(record)]
    fields = list(spec.query_fields)
    if spec.narrative_fallback and not field_text(record, "present_illness") and field_text(record, "history_summary"):
        fields[fields.index("present_illness")] = "history_summary"
    for field in fields:
        text = field_text(record, field)
        if text and spec.hide_admission_diagnosis and field in ("present_illness", "history_summary"):
            text = admission_diagnosis(text)[1]
        if text:
            lines.append(LABELS[field] + ("：\n" if "\n" in text else "：") + text)
    return "\n".join(line for line in lines if line)


@dataclass(frozen=True)
class Made:
    task: str
    query: str | None = None
    answer: str | None = None
    skipped: str | None = None


def triage_answer(record: dict, templates: TaskTemplates, department: str) -> str:
    complaint = field_text(record, "chief_complaint")
    if complaint:
        return templates.answer.format(department=department, chief_complaint=complaint.rstrip("。.；;，, "))
    fallback = templates.answer_without_complaint or templates.answer
    return fallback.format(department=department, chief_complaint="")


def make_task(record: dict, spec: TaskSpec, templates: TaskTemplates, department: str | None) -> Made:
    if spec.answer_field == "department":
        if not field_text(record, "department"):
            return Made(spec.name, skipped="missing_field:department")
        if department is None:
            return Made(spec.name, skipped="unmapped_department")
        answer = triage_answer(record, templates, department)
    else:
        answer = field_text(record, spec.answer_field)
        if answer is None:
            return Made(spec.name, skipped=f"missing_field:{spec.answer_field}")
        if is_empty_answer(answer):
            return Made(spec.name, skipped=f"empty_answer:{spec.answer_field}")
    has_query = any(field_text(record, field) for field in spec.needs_one_of) or (
        spec.narrative_fallback and field_text(record, "history_summary"))
    if not has_query:
        return Made(spec.name, skipped=f"missing_field:{spec.needs_one_of[0]}")
    return Made(spec.name, render_query(record, spec), answer)


def sft_row(record: dict, made: Made, instruction: str, template_id: str, department: str | None,
            system_prompt: str | None) -> dict:
    messages = [{"role": "user", "content": f"{instruction}\n\n{made.query}"},
                {"role": "assistant", "content": made.answer}]
    if system_prompt:
        messages.insert(0, {"role": "system", "content": system_prompt})
    return {
        "kind": "sft",
        "id": reference_content_id(messages, made.task),
        "messages": messages,
        "task": made.task,
        "instruction": instruction,
        "query": made.query,
        "answer": made.answer,
        "department": department,
        "template_id": template_id,
        "record_id": record["record_id"],
        "source": record["source"],
        "_file": record.get("_file"),
        "_row": record.get("_row"),
    }


class ReferenceTasksStage(TasksStage):
    """TasksStage with the former per-row templating (the stage's run(), parameters and report are the package's)."""

    def _template(self, record: dict, figures: Any) -> Iterator[dict | None]:
        raw_department = record.get("department")
        department = normalize_department(raw_department)
        if raw_department and department is None:
            figures.unmapped[str(raw_department).strip()] += 1
        chosen = choose_templates(self.bank, self.ctx.seed, str(record["record_id"]))
        for task in self.tasks:
            templates = self.bank[task]
            made = make_task(record, TASKS[task], templates, department)
            if made.skipped:
                figures.skipped[task][made.skipped] += 1
                continue
            if len(made.query) > self.max_query or len(made.answer) > self.max_answer:
                self.ctx.drop(self.name, f"too_long:{task}")
                figures.too_long[task] += 1
                yield None
                continue
            index = chosen[task]
            template_id = templates.template_id(index)
            figures.count(task, department, template_id)
            yield sft_row(record, made, templates.templates[index], template_id, department, self.system_prompt)
