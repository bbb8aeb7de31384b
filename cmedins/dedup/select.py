"""Which text of an SFT row counts for dedup and decontamination.

- "user": the user turns (a reposted question is a duplicate whatever the answer);
- "conversation": every user and assistant turn (the system prompt is left out);
- "query_answer": the `query` and `answer` fields of a record task row. The six tasks of one record share
  their query, so comparing the query alone would collapse them; with the answer they stay apart.
A row without query/answer falls back to "conversation" under "query_answer".

`text` in a recipe is one of these names, or a mapping from task name to name, where the key `record`
stands for the six record tasks and `default` for every task not listed.
"""

from __future__ import annotations

from collections.abc import Mapping

from cmedins.contracts.schema import ALL_TASKS, RECORD_TASKS
from cmedins.errors import CmedinsError

SELECTIONS = ("user", "conversation", "query_answer")
DEFAULT_SELECTION: dict[str, str] = {"record": "query_answer", "default": "user"}


def parse_selection(value: str | Mapping[str, str] | None, *, stage: str,
                    default: Mapping[str, str] = DEFAULT_SELECTION) -> dict[str, str]:
    """Recipe value -> {task: selection} for every task name (plus "default" for unknown tasks)."""
    spec = dict(default)
    if isinstance(value, str):
        spec = {"default": value}
    elif isinstance(value, Mapping):
        spec.update(value)
    elif value is not None:
        raise CmedinsError(f"{stage}: 'text' must be one of {', '.join(SELECTIONS)} or a mapping task -> selection")
    allowed_keys = {*ALL_TASKS, "record", "default"}
    for key, selection in spec.items():
        if key not in allowed_keys:
            raise CmedinsError(f"{stage}: 'text' names unknown task '{key}' (tasks: {', '.join(ALL_TASKS)}, "
                               "record, default)")
        if selection not in SELECTIONS:
            raise CmedinsError(f"{stage}: 'text' for '{key}' is '{selection}', expected one of {', '.join(SELECTIONS)}")
    fallback = spec.get("default", "user")
    by_task = {task: spec.get(task, spec.get("record", fallback) if task in RECORD_TASKS else fallback)
               for task in ALL_TASKS}
    by_task["default"] = fallback
    return by_task


def select_text(row: dict, selection: str) -> str:
    messages = row.get("messages") or []
    if selection == "query_answer" and (row.get("query") or row.get("answer")):
        return "\n".join(part for part in (row.get("query"), row.get("answer")) if part)
    roles = ("user",) if selection == "user" else ("user", "assistant")
    return "\n".join(message["content"] for message in messages if message.get("role") in roles)


def answer_chars(row: dict) -> int:
    """Length of the answer, for the keep rule: the `answer` field, else all assistant turns."""
    if row.get("answer"):
        return len(row["answer"])
    return sum(len(message["content"]) for message in row.get("messages") or [] if message.get("role") == "assistant")
