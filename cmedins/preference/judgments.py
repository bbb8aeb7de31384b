"""The plain JSONL judgment format (schemas/annotation_judgments.md): one PreferenceAnnotation per line.

`parse_annotation` turns a raw row into a validated annotation dict (RowError names the bad field);
`group_by_pair` gathers the annotators of each pair and checks they all saw the same prompt and responses.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from pydantic import ValidationError

from cmedins.contracts.schema import PreferenceAnnotation
from cmedins.errors import RowError
from cmedins.rowio.formats import register_format

JUDGMENT_ALIASES = {"a": "A", "b": "B", "tie": "tie", "=": "tie", "平": "tie", "相当": "tie"}


@register_format("spf_jsonl", "annotation")
def parse_annotation(row: dict) -> dict:
    """One annotator's SPF judgment of a response pair (plain JSONL judgment format)."""
    row = {key: value for key, value in row.items() if not key.startswith("_") and key != "kind"}
    if isinstance(row.get("prompt"), str):  # a bare question is a one-message prompt
        row["prompt"] = [{"role": "user", "content": row["prompt"]}]
    for dimension in ("safety", "professionalism", "fluency"):
        value = row.get(dimension)
        if isinstance(value, str):
            row[dimension] = JUDGMENT_ALIASES.get(value.strip().lower(), value)
    try:
        annotation = PreferenceAnnotation.model_validate(row)
    except ValidationError as error:
        raise RowError.from_validation(error) from None
    return {"kind": "annotation", **annotation.model_dump()}


def group_by_pair(annotations: Iterable[dict]) -> tuple[dict[str, list[dict]], list[dict], list[dict]]:
    """Gather annotations by pair_id.

    Returns (pair_id -> annotations sorted by annotator, repeats, conflicts): a repeat is an earlier
    judgment by the same annotator, replaced by the later one; a conflict is an annotation whose prompt or
    responses differ from the first one seen for its pair_id (the pair's A/B would be meaningless).
    """
    pairs: dict[str, dict[str, dict]] = defaultdict(dict)
    repeats: list[dict] = []
    conflicts: list[dict] = []
    for annotation in annotations:
        by_annotator = pairs[annotation["pair_id"]]
        first = next(iter(by_annotator.values()), None)
        if first is not None and _content(first) != _content(annotation):
            conflicts.append(annotation)
            continue
        if annotation["annotator"] in by_annotator:
            repeats.append(by_annotator[annotation["annotator"]])
        by_annotator[annotation["annotator"]] = annotation
    grouped = {pair_id: [group[name] for name in sorted(group)] for pair_id, group in sorted(pairs.items())}
    return grouped, repeats, conflicts


def _content(annotation: dict) -> tuple:
    return (str(annotation["prompt"]), annotation["response_a"], annotation["response_b"])
