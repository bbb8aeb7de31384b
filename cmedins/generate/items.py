"""What to answer: items {id, prompt (messages), reference (or None)} from a prompt file or an eval set.

An eval set is read with the same source format (cmedins.rowio.formats) that decontamination reads it with. A
conversation becomes one item: every message before the last doctor turn is the prompt (a multi-turn
history included), that turn is the reference answer. Rows the format cannot read are counted, not lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cmedins.errors import CmedinsError, RowError
from cmedins.rowio.readers import iter_rows, row_error


@dataclass(frozen=True)
class Item:
    id: str
    prompt: list[dict]
    reference: str | None = None


@dataclass
class ItemSource:
    items: list[Item]
    rows: int = 0
    unreadable: list[str] = field(default_factory=list)  # "<file> row R: field F: reason" (no values)

    def report(self) -> dict:
        return {"rows": self.rows, "items": len(self.items), "unreadable_rows": len(self.unreadable),
                "first_unreadable": self.unreadable[:5]}


def eval_set_items(name: str, path: Path, fmt: str, limit: int | None = None) -> ItemSource:
    """Items of an eval set; ids are `<name>:<row>` (stable for a given file)."""
    from cmedins.rowio.formats import FORMATS
    from cmedins.runner.registry import load_plugins

    load_plugins()
    source_format = FORMATS.get(fmt)
    if source_format is None:
        raise CmedinsError(f"eval set '{name}': unknown format '{fmt}' (known: {', '.join(sorted(FORMATS))})")
    if not Path(path).exists():
        raise CmedinsError(f"eval set '{name}': {path} not found (give the path to your copy)")
    result = ItemSource([])
    for file, number, row in source_format.read(Path(path)):
        if limit is not None and len(result.items) >= limit:
            break
        result.rows += 1
        try:
            error = row_error(row)
            if error:
                raise error
            converted = source_format.adapter(row)
            conversations = converted if isinstance(converted, list) else [converted]
            for index, conversation in enumerate(conversations):
                suffix = f".{index}" if len(conversations) > 1 else ""
                result.items.append(_split(f"{name}:{number}{suffix}", conversation.get("messages") or []))
        except RowError as error:
            result.unreadable.append(error.at(Path(file).name, number).describe())
    return result


def _split(item_id: str, messages: list[dict]) -> Item:
    last = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=None)
    if last is None or not any(m.get("role") == "user" for m in messages[:last]):
        raise RowError("has no question followed by an answer", field="messages")
    return Item(item_id, [dict(m) for m in messages[:last]], messages[last]["content"])


def prompt_file_items(path: Path, limit: int | None = None) -> ItemSource:
    """A JSONL/JSON/CSV/Parquet file: `prompt` (messages) or `question` per row, optional `id`, `reference`."""
    from cmedins.preference.sources import prompt_messages

    result = ItemSource([])
    seen: set[str] = set()
    for number, row in iter_rows(Path(path)):
        if limit is not None and len(result.items) >= limit:
            break
        result.rows += 1
        try:
            error = row_error(row)
            if error:
                raise error
            prompt = prompt_messages(row)
            if not prompt or prompt[-1].get("role") != "user":
                raise RowError("must end with a user message", field="prompt")
            item_id = str(row.get("id") or f"{Path(path).stem}:{number}")
            if item_id in seen:
                raise RowError("repeats an earlier row's id", field="id")
            reference = row.get("reference")
            if reference is not None and not isinstance(reference, str):
                raise RowError("must be a text", field="reference")
        except RowError as error:
            raise error.at(str(path), number) from None
        seen.add(item_id)
        result.items.append(Item(item_id, prompt, reference))
    return result
