"""Human judgments of the same pairs: Label Studio tasks out (cmedins.preference.labelstudio, the SPF config),
the JSON export back in, mapped to X's view through the positions recorded in pairs.jsonl, and compared with
the LLM judge (per dimension: percent agreement and Cohen's kappa between the judge's outcome and each human
judgment).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from cmedins.contracts.schema import DIMENSIONS
from cmedins.errors import CmedinsError, RowError
from cmedins.evaluate.outcomes import ASPECTS, OVERALL, QuestionOutcome, by_priority, rates
from cmedins.preference.agreement import cohen_kappa
from cmedins.rowio.readers import iter_rows

LABEL = {1: "win", 0: "tie", -1: "loss"}


def read_positions(pairs_path: Path) -> dict[str, dict]:
    positions = {}
    for number, row in iter_rows(Path(pairs_path)):
        for field in ("pair_id", "item_id", "system_a", "system_b"):
            if not row.get(field):
                raise RowError("is missing (write pairs with `cmedins prefs pairs`)", field=field).at(str(pairs_path), number)
        positions[row["pair_id"]] = row
    return positions


def human_judgments(export: Path, pairs_path: Path, system_x: str) -> list[dict]:
    """[{item_id, annotator, <dimension>: +1/0/-1, overall}] from a Label Studio export of the pairs."""
    from cmedins.preference.judgments import parse_annotation
    from cmedins.preference.labelstudio import read_export

    positions = read_positions(pairs_path)
    judgments = []
    for file, task, raw in read_export(export):
        try:
            annotation = parse_annotation(raw)
        except RowError as error:
            raise CmedinsError(f"{file}, task {task}: {error.describe()}") from None
        pair = positions.get(annotation["pair_id"])
        if pair is None:
            raise CmedinsError(f"{file}, task {task}: pair_id is not in {pairs_path}")
        if system_x not in (pair["system_a"], pair["system_b"]):
            raise CmedinsError(f"{pairs_path}: pair {annotation['pair_id']} does not involve system '{system_x}'")
        x_is_a = pair["system_a"] == system_x
        view = {}
        for dimension in DIMENSIONS:
            choice = annotation[dimension]
            view[dimension] = 0 if choice == "tie" else (1 if (choice == "A") == x_is_a else -1)
        view[OVERALL] = by_priority(view)
        judgments.append({"item_id": pair["item_id"], "annotator": annotation["annotator"], **view})
    return judgments


def human_report(judgments: list[dict], llm: list[QuestionOutcome]) -> dict:
    """Human win / tie / loss per aspect (each annotation one judgment) and agreement with the LLM judge."""
    llm_by_item = {o.question_id: o for o in llm}
    report: dict = {"annotations": len(judgments), "annotators": len({j["annotator"] for j in judgments}),
                    "items": len({j["item_id"] for j in judgments}), "results": {}, "agreement_with_llm": {}}
    for aspect in ASPECTS:
        counts = Counter(j[aspect] for j in judgments)
        report["results"][aspect] = {"win": counts[1], "tie": counts[0], "loss": counts[-1],
                                     **{f"{k}_rate": v for k, v in rates([counts[1], counts[0], counts[-1]]).items()}}
        paired = [(LABEL[llm_by_item[j["item_id"]].judgments[aspect][0]], LABEL[j[aspect]]) for j in judgments
                  if j["item_id"] in llm_by_item and len(llm_by_item[j["item_id"]].judgments[aspect]) == 1]
        report["agreement_with_llm"][aspect] = {
            "compared": len(paired),
            "percent": round(sum(a == b for a, b in paired) / len(paired), 4) if paired else None,
            "cohen_kappa": _round(cohen_kappa([a for a, _ in paired], [b for _, b in paired])) if paired else None,
        }
    return report


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
