"""Cross-annotation: per-dimension majority over annotators, the disputes an expert must settle, and
applying the expert's decisions.

A dimension has a consensus when a strict majority of the pair's annotators gave the same label (with two
annotators: both agree). Which disputes go to the expert is `arbitrate_on`:
- "any" (the paper: "a medical expert resolves any discrepancies"): every dimension without consensus;
- "deciding": only those that can change the outcome, i.e. dimensions without consensus up to and
  including the first one whose consensus is not a tie. Saves expert time; the pair comes out the same.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from cmedins.contracts.schema import DIMENSIONS
from cmedins.errors import RowError
from cmedins.preference.agreement import _pairwise_agreement
from cmedins.preference.priority import resolve
from cmedins.rowio.readers import iter_rows, row_error

ARBITRATE_ON = ("any", "deciding")
JUDGMENTS = ("A", "B", "tie")


@dataclass
class PairDecision:
    pair_id: str
    annotations: list[dict]
    consensus: dict[str, str | None]  # None: annotators disagree on this dimension
    disputed: list[str] = field(default_factory=list)  # dimensions the expert must settle
    final: dict[str, str | None] = field(default_factory=dict)  # consensus with the expert's rulings applied
    winner: str | None = None  # "A" | "B"; None when all-tie or still disputed
    deciding_dimension: str | None = None
    arbitrated: bool = False

    @property
    def status(self) -> str:
        if self.disputed and not self.arbitrated:
            return "awaiting_arbitration"
        return "all_tie" if self.winner is None else "decided"

    @property
    def agreement(self) -> float | None:
        """Mean over the three dimensions of the share of annotator pairs that agree; None for one annotator."""
        if len(self.annotations) < 2:
            return None
        per_dimension = [_pairwise_agreement([a[d] for a in self.annotations]) for d in DIMENSIONS]
        return round(sum(per_dimension) / len(per_dimension), 6)


def majority(labels: list[str]) -> str | None:
    """The label given by a strict majority of annotators, or None."""
    label, count = Counter(labels).most_common(1)[0]
    return label if count * 2 > len(labels) else None


def disputed_dimensions(consensus: dict[str, str | None], arbitrate_on: str) -> list[str]:
    if arbitrate_on not in ARBITRATE_ON:
        raise ValueError(f"arbitrate_on must be one of {ARBITRATE_ON}, not {arbitrate_on!r}")
    disputed = []
    for dimension in DIMENSIONS:
        if consensus[dimension] is None:
            disputed.append(dimension)
        elif arbitrate_on == "deciding" and consensus[dimension] != "tie":
            break  # a settled non-tie dimension decides; disputes below it cannot change the outcome
    return disputed


def decide_pair(annotations: list[dict], *, decision: dict | None = None, arbitrate_on: str = "any") -> PairDecision:
    """Resolve one pair from its annotators' judgments and, when disputed, the expert's decision."""
    consensus = {d: majority([a[d] for a in annotations]) for d in DIMENSIONS}
    result = PairDecision(annotations[0]["pair_id"], annotations, consensus,
                          disputed_dimensions(consensus, arbitrate_on))
    result.final = dict(consensus)
    if result.disputed:
        if decision is None:
            return result
        missing = [d for d in result.disputed if decision.get(d) is None]
        if missing:
            raise RowError(f"the decision does not settle the disputed dimension(s) {', '.join(missing)}",
                           field=missing[0], file=decision.get("_file"), row=decision.get("_row"))
        result.final.update({d: decision[d] for d in DIMENSIONS if decision.get(d) is not None})
        result.arbitrated = True
    result.winner, result.deciding_dimension = resolve(result.final)
    return result


def _decision_rows(path: Path):
    """Rows of a decisions file; a Label Studio JSON export of the arbitration project (`prefs studio
    arbitrate`) is read as the decisions it holds."""
    path = Path(path)
    if path.suffix == ".json" and _is_studio_export(path):
        from cmedins.preference.studio import decisions_from_export

        return enumerate(decisions_from_export(path), start=1)
    return iter_rows(path)


def _is_studio_export(path: Path) -> bool:
    import json

    try:
        items = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return False  # iter_rows reports it
    first = items[0] if isinstance(items, list) and items else None
    return isinstance(first, dict) and ("annotations" in first or "annotation_id" in first)


def load_decisions(path: Path) -> dict[str, dict]:
    """The expert's decisions file (JSONL): pair_id, judgments for (at least) the disputed dimensions,
    optional arbitrator and comment; or arbitration-queue lines with their `decision` blanks filled in; or the
    Label Studio JSON export of the arbitration project.
    A later line for the same pair_id replaces an earlier one."""
    decisions: dict[str, dict] = {}
    for number, row in _decision_rows(path):
        error = row_error(row)
        if error is not None:
            raise error.at(str(path), number)
        if isinstance(row.get("decision"), dict):  # a queue line with its blanks filled in
            row = {"pair_id": row.get("pair_id"), "arbitrator": row.get("arbitrator"), **row["decision"]}
        pair_id = row.get("pair_id")
        if not isinstance(pair_id, str) or not pair_id:
            raise RowError("is missing or empty", field="pair_id", file=str(path), row=number)
        for dimension in DIMENSIONS:
            value = row.get(dimension)
            if value is not None and value not in JUDGMENTS:
                raise RowError(f"must be one of A, B, tie (got {value!r})", field=dimension, file=str(path), row=number)
        unknown = set(row) - {"pair_id", "arbitrator", "comment", *DIMENSIONS}
        if unknown:
            raise RowError(f"unknown field(s) {', '.join(sorted(unknown))}", field=sorted(unknown)[0],
                           file=str(path), row=number)
        decisions[pair_id] = {**row, "_file": str(path), "_row": number}
    return decisions


def queue_entry(pair: PairDecision) -> dict:
    """One line of the arbitration queue: what the expert needs to see, and blanks to fill in."""
    first = pair.annotations[0]
    return {
        "pair_id": pair.pair_id,
        "disputed": pair.disputed,
        "prompt": first["prompt"],
        "response_a": first["response_a"],
        "response_b": first["response_b"],
        "distribution": first["distribution"],
        "source": first["source"],
        "judgments": [
            {"annotator": a["annotator"], **{d: a[d] for d in DIMENSIONS}, "comment": a.get("comment")}
            for a in pair.annotations
        ],
        "decision": {d: None for d in pair.disputed},
    }
