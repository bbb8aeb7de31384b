"""The `tasks` stage: each record row becomes up to six SFT rows; rows of other kinds pass through.

Recipe:
    - tasks:
        tasks: [diagnosis, treatment, examination, summary, triage, discharge_advice]   # default: all six
        max_query_chars: 6000     # a longer query drops that task's row (too_long:<task>)
        max_answer_chars: 4000    # likewise for the answer
        system_prompt: null       # optional system message on every row
        templates: null           # optional folder of <task>.yaml files replacing the packaged bank

Accounting (cmedins.runner.ledger): a record that yields k >= 1 candidate rows counts k - 1 created rows; each
candidate over a length limit is dropped as `too_long:<task>`; a record with no candidate is dropped as
`no_task_fields`. Tasks a record skips for lack of fields are not row losses: they are counted in
its report's `skipped` (stats.json `templating.skipped`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, Literal

from pydantic import Field

from cmedins.contracts.ids import normal_chat_id, normalise_for_id
from cmedins.contracts.reports import Count, NestedTally, Report, Tally
from cmedins.contracts.schema import RECORD_TASKS
from cmedins.records.departments import normalize_department
from cmedins.runner.report import StageReport
from cmedins.runner.stage import BuildContext, Stage, StageParams, register_stage
from cmedins.tasks.bank import Bank, choose_templates, load_bank
from cmedins.tasks.definitions import TASKS, Made, RecordFields, make_task


class TasksParams(StageParams):
    tasks: list[Literal[RECORD_TASKS]] = Field(default_factory=lambda: list(RECORD_TASKS), min_length=1)
    max_query_chars: int = Field(default=6000, ge=1)  # a longer query drops that task's row
    max_answer_chars: int = Field(default=4000, ge=1)
    system_prompt: str | None = None
    templates: str | None = None  # folder of <task>.yaml files replacing the packaged bank


class TasksFacts(Report):
    """manifest.json `tasks`: how the rows were templated."""

    tasks: list[str]
    template_versions: dict[str, int]
    templates: str
    max_query_chars: int
    max_answer_chars: int
    system_prompt: str | None


class TasksReport(StageReport):
    """stats.json `templating` (stats.json `tasks` is the kept rows per task); `facts` are manifest.json `tasks`."""

    section = "templating"

    records: Count
    rows: Tally  # rows made, by task
    departments: Tally
    skipped: NestedTally  # task -> reason -> records
    too_long: Tally
    unmapped_departments: Tally
    templates_used: Tally
    facts: TasksFacts


def sft_row(record: dict, made: Made, instruction: str, instruction_normal: str, template_id: str,
            department: str | None, system_prompt: tuple[str, str] | None) -> dict:
    """The row of one made task; `instruction_normal` and the system prompt's second item are the normal forms
    (normalise_for_id) the id is taken over."""
    messages = [{"role": "user", "content": f"{instruction}\n\n{made.query}"},
                {"role": "assistant", "content": made.answer}]
    # The user turn's normal form: "\n\n" is whitespace, so it is the two normal forms joined by a space.
    user_normal = " ".join([part for part in (instruction_normal, made.query_normal) if part])
    turns = [("user", user_normal), ("assistant", made.answer_normal)]
    if system_prompt:
        messages.insert(0, {"role": "system", "content": system_prompt[0]})
        turns.insert(0, ("system", system_prompt[1]))
    return {
        "kind": "sft",
        "id": normal_chat_id(turns, made.task),  # = content_id(messages, made.task)
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


@register_stage
class TasksStage(Stage):
    """Template medical records into the six CMedINS tasks (see cmedins/tasks/README.md)."""

    name = "tasks"
    Params = TasksParams
    Report = TasksReport
    takes = frozenset({"record"})
    makes = {"record": "sft"}

    def __init__(self, params: dict[str, Any], ctx: BuildContext):
        super().__init__(params, ctx)
        self.tasks = [task for task in RECORD_TASKS if task in self.config.tasks]  # canonical order
        self.max_query = self.config.max_query_chars
        self.max_answer = self.config.max_answer_chars
        self.system_prompt = self.config.system_prompt or None
        if self.system_prompt is not None:  # written into every published row: through the privacy gate
            from cmedins.deid.gate import clean_free_texts

            (self.system_prompt,) = clean_free_texts([self.system_prompt], where="recipe stage 'tasks', system_prompt")
        folder = self.config.templates
        self.bank: Bank = load_bank(ctx.resolve(folder) if folder else None)
        # Per template, not per row: its id and its instruction's normal form.
        self.template_ids = {task: tuple(map(templates.template_id, range(len(templates.templates))))
                             for task, templates in self.bank.items()}
        self.instructions_normal = {task: tuple(map(normalise_for_id, templates.templates))
                                    for task, templates in self.bank.items()}
        self.system = (self.system_prompt, normalise_for_id(self.system_prompt)) if self.system_prompt else None

    def run(self, rows: Iterator[dict]) -> Iterator[dict]:
        figures = _Figures()
        for row in rows:
            if row.get("kind") != "record":
                yield row
                continue
            figures.records += 1
            made_rows = list(self._template(row, figures))
            if not made_rows:
                self.ctx.drop(self.name, "no_task_fields")
                continue
            self.ctx.created(self.name, len(made_rows) - 1)
            for made in made_rows:
                if made is not None:
                    yield made
        self.report(TasksReport(**figures.as_dict(), facts=TasksFacts(
            tasks=self.tasks, template_versions={task: self.bank[task].version for task in self.tasks},
            templates=str(self.params["templates"]) if self.params.get("templates") else "packaged",
            max_query_chars=self.max_query, max_answer_chars=self.max_answer, system_prompt=self.system_prompt)))

    def _template(self, record: dict, figures: _Figures) -> Iterator[dict | None]:
        """The record's candidate rows; a candidate over a length limit is dropped here and yields None, so
        the caller still counts it among the created rows."""
        raw_department = record.get("department")
        department = _department(raw_department) if type(raw_department) is str else normalize_department(raw_department)
        if raw_department and department is None:
            figures.unmapped[str(raw_department).strip()] += 1
        chosen = choose_templates(self.bank, self.ctx.seed, str(record["record_id"]))
        fields = RecordFields(record)
        for task in self.tasks:
            templates = self.bank[task]
            made = make_task(fields, TASKS[task], templates, department)
            if made.skipped:
                figures.skipped[task][made.skipped] += 1
                continue
            if len(made.query) > self.max_query or len(made.answer) > self.max_answer:
                self.ctx.drop(self.name, f"too_long:{task}")
                figures.too_long[task] += 1
                yield None
                continue
            index = chosen[task]
            template_id = self.template_ids[task][index]
            figures.count(task, department, template_id)
            yield sft_row(record, made, templates.templates[index], self.instructions_normal[task][index],
                          template_id, department, self.system)


# Department names repeat across a corpus' records; the mapping is a pure function of the name.
_department = lru_cache(maxsize=4096)(normalize_department)


class _Figures:
    """What the stage reports in stats.json: rows per task and department, skips, unmapped departments."""

    def __init__(self) -> None:
        self.records = 0
        self.rows: Counter = Counter()
        self.departments: Counter = Counter()
        self.templates: Counter = Counter()
        self.too_long: Counter = Counter()
        self.unmapped: Counter = Counter()
        self.skipped: defaultdict[str, Counter] = defaultdict(Counter)

    def count(self, task: str, department: str | None, template_id: str) -> None:
        self.rows[task] += 1
        self.departments[department or "未知"] += 1
        self.templates[template_id] += 1

    def as_dict(self) -> dict[str, Any]:
        by_count = lambda counter: dict(sorted(counter.items(), key=lambda item: (-item[1], item[0])))  # noqa: E731
        return {
            "records": self.records,
            "rows": dict(sorted(self.rows.items())),
            "departments": by_count(self.departments),
            "skipped": {task: dict(sorted(reasons.items())) for task, reasons in sorted(self.skipped.items())},
            "too_long": dict(sorted(self.too_long.items())),
            "unmapped_departments": by_count(self.unmapped),
            "templates_used": dict(sorted(self.templates.items())),
        }
