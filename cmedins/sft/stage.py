"""The SFT stages: `dialogues` (conversations -> SFT rows) and `validate` (pydantic contract check)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Annotated

from pydantic import ValidationError

from cmedins.contracts.ids import content_id
from cmedins.contracts.reports import SUM, Count, Report, Tally
from cmedins.contracts.schema import SFTRow, public_row
from cmedins.errors import RowError
from cmedins.records.departments import normalize_department  # dialogues share the tasks' taxonomy
from cmedins.runner.report import CheckReport, StageReport
from cmedins.runner.stage import Stage, register_stage


def dialogue_task(row: dict) -> str:
    if row.get("category") == "general":
        return "general"
    user_turns = sum(1 for message in row["messages"] if message["role"] == "user")
    return "dialogue_single" if user_turns == 1 else "dialogue_multi"


class TrimmedTurns(Report):
    turns: Count
    chars: Count


class DialoguesReport(StageReport):
    """stats.json `dialogues` (rows per task) and `trimmed_turns` (utterances not kept as turns, by reason)."""

    flat = "tasks"
    lifted = ("trimmed_turns",)

    tasks: Tally
    trimmed_turns: Annotated[dict[str, TrimmedTurns], SUM]


class ValidateReport(CheckReport):
    """Rows that passed the SFT contract; manifest.json `validation` counts the rejected ones from the ledger."""


@register_stage
class DialoguesStage(Stage):
    """Turn conversation rows into SFT rows: task dialogue_single / dialogue_multi / general. Utterances the
    adapters did not keep as turns are counted by reason in stats.json's `trimmed_turns` (turns, characters)."""

    name = "dialogues"
    Report = DialoguesReport
    takes = frozenset({"conversation"})
    makes = {"conversation": "sft"}
    # A row in, a row out, ~10 us each: a checkpoint of its output cost more than running it again
    # (at 220k records its write and read-back took as long as the stage).
    checkpointed = False

    def run(self, rows: Iterator[dict]) -> Iterator[dict]:
        tasks: Counter = Counter()
        trimmed: dict[str, Counter] = {}
        for row in rows:
            if row.get("kind") != "conversation":
                yield row
                continue
            for cut in row.get("trimmed") or ():
                trimmed.setdefault(cut["reason"], Counter()).update(turns=1, chars=cut["chars"])
            task = dialogue_task(row)
            tasks[task] += 1
            yield {
                "kind": "sft",
                "id": content_id(row["messages"]),
                "messages": row["messages"],
                "task": task,
                "source": row["source"],
                "department": normalize_department(row.get("department")),
                "_file": row.get("_file"),
                "_row": row.get("_row"),
            }
        self.report(DialoguesReport(tasks=dict(sorted(tasks.items())), trimmed_turns={
            reason: TrimmedTurns(turns=c["turns"], chars=c["chars"]) for reason, c in sorted(trimmed.items())}))


@register_stage
class ValidateStage(Stage):
    """Check every SFT row against the contract; a failing row is quarantined naming its field."""

    name = "validate"
    Report = ValidateReport
    takes = frozenset({"sft"})
    only = True

    def run(self, rows: Iterator[dict]) -> Iterator[dict]:
        checked = 0
        for row in rows:
            if row.get("kind") != "sft":
                self.ctx.quarantine(self.name, "not_templated", row, f"a {row.get('kind')} row reached the end "
                                    "of the pipeline (is the tasks/dialogues stage missing?)", field="kind",
                                    private=True)
                continue
            try:
                SFTRow.model_validate(public_row(row))
            except ValidationError as error:
                problem = RowError.from_validation(error)
                top_field = problem.field.split(".")[0] if problem.field else "row"
                self.ctx.quarantine(self.name, f"invalid:{top_field}", row, problem.message, field=problem.field)
                continue
            checked += 1
            yield row
        self.report(ValidateReport(rows=checked))
