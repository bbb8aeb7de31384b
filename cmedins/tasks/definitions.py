"""The six CMedINS tasks: which record fields form the query and which forms the answer.

See cmedins/tasks/README.md for the table the dataset card quotes. A task is made for a record only when its
answer field is present and its query has at least one of the `needs_one_of` fields; otherwise the record
skips that task with a counted reason (`missing_field:<field>`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from cmedins.contracts.ids import normalise_for_id
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


# The fields a task reads (its answer, its query's lines, its checks); RecordFields strips each once.
READ_FIELDS = tuple(dict.fromkeys(
    [field for spec in TASKS.values() for field in (spec.answer_field, *spec.query_fields, *spec.needs_one_of)]
    + ["history_summary"]))  # the narrative fallback
NARRATIVE = ("present_illness", "history_summary")  # where a task may hide the admission diagnosis


class RecordFields:
    """One record's fields as the six tasks read them: each stripped, labelled and put in the ids' normal form
    (cmedins.contracts.ids.normalise_for_id) once for every task that quotes it (a history field sits in five
    tasks' queries), not once per task.

    A query is its lines joined by newlines, so its normal form is the lines' normal forms joined by spaces; a
    line is a label without whitespace, "：" and a stripped text, so its normal form is the label, "：", (a
    space where the text starts on its own line) and the text's normal form."""

    __slots__ = ("record", "texts", "head", "_normal", "_lines")

    def __init__(self, record: dict):
        self.record = record
        texts: dict[str, str | None] = {}
        for field in READ_FIELDS:  # field_text(record, field), inline: 15 fields per record
            value = record.get(field)
            texts[field] = (value.strip() or None) if isinstance(value, str) else None
        self.texts = texts
        head = demographics_line(record)
        self.head = (head, normalise_for_id(head)) if head else None
        self._normal: dict[str, str] = {}
        self._lines: dict[tuple[str, bool], tuple[str, str] | None] = {}

    def normal(self, field: str) -> str:
        """The normal form of a present field's text."""
        normal = self._normal.get(field)
        if normal is None:
            normal = self._normal[field] = normalise_for_id(self.texts[field])
        return normal

    def line(self, field: str, hide_admission_diagnosis: bool) -> tuple[str, str] | None:
        """The field's query line and its normal form; None when the field is absent."""
        hide = hide_admission_diagnosis and field in NARRATIVE
        key = (field, hide)
        if key in self._lines:
            return self._lines[key]
        text = self.texts[field]
        line = None
        if text and hide:
            text = admission_diagnosis(text)[1]  # may now start with a space: normalised as a whole
            if text:
                line = LABELS[field] + ("：\n" if "\n" in text else "：") + text
                line = (line, normalise_for_id(line))
        elif text:
            own_line = "\n" in text  # a multi-line section starts on its own line, lined up with the others
            line = (LABELS[field] + ("：\n" if own_line else "：") + text,
                    LABELS[field] + ("： " if own_line else "：") + self.normal(field))
        self._lines[key] = line
        return line


def render_query(fields: RecordFields, spec: TaskSpec) -> tuple[str, str]:
    """The record fields of a task's query, one labelled line (or block) each, in reading order; and the
    query's normal form."""
    lines = [fields.head] if fields.head else []
    names = spec.query_fields
    if spec.narrative_fallback and not fields.texts["present_illness"] and fields.texts["history_summary"]:
        names = tuple("history_summary" if name == "present_illness" else name for name in names)
    for name in names:
        line = fields.line(name, spec.hide_admission_diagnosis)
        if line:
            lines.append(line)
    return "\n".join([line for line, _ in lines]), " ".join([normal for _, normal in lines if normal])


class Made(NamedTuple):
    """A task's query and answer for one record (with their normal forms, for the row id), or why the record
    skips it."""

    task: str
    query: str | None = None
    answer: str | None = None
    skipped: str | None = None
    query_normal: str | None = None
    answer_normal: str | None = None


def make_task(fields: RecordFields, spec: TaskSpec, templates: TaskTemplates, department: str | None) -> Made:
    texts = fields.texts
    if spec.answer_field == "department":
        if not texts["department"]:
            return Made(spec.name, skipped="missing_field:department")
        if department is None:
            return Made(spec.name, skipped="unmapped_department")
        answer = triage_answer(fields.record, templates, department)
        answer_normal = normalise_for_id(answer)
    else:
        answer = texts[spec.answer_field]
        if answer is None:
            return Made(spec.name, skipped=f"missing_field:{spec.answer_field}")
        if is_empty_answer(answer):
            return Made(spec.name, skipped=f"empty_answer:{spec.answer_field}")
        answer_normal = fields.normal(spec.answer_field)
    has_query = any(texts[field] for field in spec.needs_one_of) or (
        spec.narrative_fallback and texts["history_summary"])
    if not has_query:
        return Made(spec.name, skipped=f"missing_field:{spec.needs_one_of[0]}")
    query, query_normal = render_query(fields, spec)
    return Made(spec.name, query, answer, None, query_normal, answer_normal)


def is_empty_answer(text: str) -> bool:
    """"缺如。", "暂无", "-": a section that was left empty in words."""
    return text.strip(" 。.；;，,").casefold() in EMPTY_ANSWERS


def triage_answer(record: dict, templates: TaskTemplates, department: str) -> str:
    complaint = field_text(record, "chief_complaint")
    if complaint:
        return templates.answer.format(department=department, chief_complaint=complaint.rstrip("。.；;，, "))
    fallback = templates.answer_without_complaint or templates.answer
    return fallback.format(department=department, chief_complaint="")


__all__ = ["TASKS", "TaskSpec", "Made", "RecordFields", "make_task", "render_query"]
