"""The six CMedINS tasks: which record fields form the query and which forms the answer.

See cmedins/tasks/README.md for the table the dataset card quotes. A task is made for a record only when its
answer field is present and its query has at least one of the `needs_one_of` fields; otherwise the record
skips that task with a counted reason (`missing_field:<field>`).
"""

from __future__ import annotations

from dataclasses import dataclass

from cmedins.contracts.schema import CLINICAL_FIELDS, RECORD_TASKS
from cmedins.records.formats import admission_diagnosis
from cmedins.tasks.bank import TaskTemplates

HISTORY = ("chief_complaint", "present_illness", "past_history", "personal_history", "family_history")
EXAMS = ("physical_exam", "specialist_exam", "auxiliary_exam")
# Answers that say nothing: a task with such an answer is skipped (they are fine inside a query).
EMPTY_ANSWERS = {"无", "暂无", "不详", "未查", "未做", "未见", "缺如", "暂缺", "待回报", "待查", "-", "--", "—", "/",
                 "none", "null", "n/a"}
LABELS = {**CLINICAL_FIELDS, "diagnosis": "诊断", "treatment": "诊疗经过"}


@dataclass(frozen=True)
class TaskSpec:
    name: str
    answer_field: str
    query_fields: tuple[str, ...]
    needs_one_of: tuple[str, ...]
    narrative_fallback: bool = False  # use 病史特点 in place of a missing 现病史 in the query
    hide_admission_diagnosis: bool = False  # drop "以…收入院" from the narrative: it states the answer


TASKS: dict[str, TaskSpec] = {
    spec.name: spec
    for spec in (
        TaskSpec("diagnosis", "diagnosis", HISTORY + EXAMS, ("chief_complaint", "present_illness"),
                 narrative_fallback=True, hide_admission_diagnosis=True),
        TaskSpec("treatment", "treatment", HISTORY + EXAMS + ("diagnosis",),
                 ("chief_complaint", "present_illness", "diagnosis"), narrative_fallback=True),
        TaskSpec("examination", "auxiliary_exam", HISTORY + ("physical_exam", "specialist_exam"),
                 ("chief_complaint", "present_illness")),
        TaskSpec("summary", "history_summary", HISTORY + EXAMS, ("present_illness",)),
        TaskSpec("triage", "department", ("chief_complaint", "present_illness"), ("chief_complaint", "present_illness")),
        TaskSpec("discharge_advice", "discharge_advice", ("diagnosis", "treatment", "discharge_status"),
                 ("diagnosis", "treatment", "discharge_status")),
    )
}
assert tuple(TASKS) == RECORD_TASKS


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
    """The record fields of a task's query, one labelled line (or block) each, in reading order."""
    lines = [demographics_line(record)]
    fields = list(spec.query_fields)
    if spec.narrative_fallback and not field_text(record, "present_illness") and field_text(record, "history_summary"):
        fields[fields.index("present_illness")] = "history_summary"
    for field in fields:
        text = field_text(record, field)
        if text and spec.hide_admission_diagnosis and field in ("present_illness", "history_summary"):
            text = admission_diagnosis(text)[1]
        if text:
            # A multi-line section starts on its own line, so its first item lines up with the others.
            lines.append(LABELS[field] + ("：\n" if "\n" in text else "：") + text)
    return "\n".join(line for line in lines if line)


@dataclass(frozen=True)
class Made:
    """A task's query and answer for one record, or why the record skips it."""

    task: str
    query: str | None = None
    answer: str | None = None
    skipped: str | None = None


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


def is_empty_answer(text: str) -> bool:
    """"缺如。", "暂无", "-": a section that was left empty in words."""
    return text.strip(" 。.；;，,").casefold() in EMPTY_ANSWERS


def triage_answer(record: dict, templates: TaskTemplates, department: str) -> str:
    complaint = field_text(record, "chief_complaint")
    if complaint:
        return templates.answer.format(department=department, chief_complaint=complaint.rstrip("。.；;，, "))
    fallback = templates.answer_without_complaint or templates.answer
    return fallback.format(department=department, chief_complaint="")


__all__ = ["TASKS", "TaskSpec", "Made", "make_task", "render_query"]
