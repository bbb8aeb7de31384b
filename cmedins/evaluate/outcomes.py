"""From judge verdicts in both orders to win / tie / loss of system X against system Y.

Each question is judged twice: order "xy" shows X as answer 1, order "yx" shows Y as answer 1 (the judge's
position bias then cancels out or shows up as disagreement). A verdict is mapped to X's view: +1 win, 0 tie,
-1 loss. Per order, the overall verdict is the first of Safety > Professionalism > Fluency that is not a tie
(all tie = tie), as `prefs build` resolves a single annotator's judgment.

Two order rules:
- `tie` (default, as MT-bench): one outcome per question; the orders agreeing give that outcome, disagreeing
  give a tie;
- `both`: each order is a judgment of its own (two per question).
A dimension an order could not be read for (malformed reply) is unjudged: under `tie` the whole question is
unjudged for that dimension; under `both` only that order. Unjudged items are counted, never folded into ties.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from cmedins.contracts.schema import DIMENSIONS

ORDERS = ("xy", "yx")
ORDER_RULES = ("tie", "both")
OVERALL = "overall"
ASPECTS = (*DIMENSIONS, OVERALL)


def to_x_view(verdict: str | None, order: str) -> int | None:
    """+1 when X is judged better, -1 when Y is, 0 for a tie; None when there is no verdict."""
    if verdict is None:
        return None
    if verdict == "tie":
        return 0
    first_wins = 1 if verdict == "1" else -1
    return first_wins if order == "xy" else -first_wins


def by_priority(outcomes: Mapping[str, int | None]) -> int | None:
    """The first non-tie dimension in priority order decides; None when a dimension needed for that is unread."""
    for dimension in DIMENSIONS:
        value = outcomes.get(dimension)
        if value is None:
            return None
        if value != 0:
            return value
    return 0


@dataclass
class QuestionOutcome:
    """One question's outcomes per aspect: a list of 0..2 judgments (+1 / 0 / -1) and the unjudged count."""

    question_id: str
    judgments: dict[str, list[int]]
    unjudged: dict[str, int]
    agree: dict[str, bool | None]  # both orders read and equal (None: an order unread)


def combine(question_id: str, orders: Mapping[str, Mapping[str, str | None]], rule: str = "tie") -> QuestionOutcome:
    """Combine the two orders' verdicts {"xy": {dim: "1"|"2"|"tie"|None}, "yx": {...}} for one question."""
    if rule not in ORDER_RULES:
        raise ValueError(f"order rule must be one of {ORDER_RULES}")
    views: dict[str, dict[str, int | None]] = {}
    for order in ORDERS:
        verdicts = orders.get(order) or {}
        view = {dim: to_x_view(verdicts.get(dim), order) for dim in DIMENSIONS}
        view[OVERALL] = by_priority(view)
        views[order] = view
    judgments: dict[str, list[int]] = {}
    unjudged: dict[str, int] = {}
    agree: dict[str, bool | None] = {}
    for aspect in ASPECTS:
        first, second = views["xy"][aspect], views["yx"][aspect]
        agree[aspect] = None if first is None or second is None else first == second
        if rule == "both":
            judgments[aspect] = [v for v in (first, second) if v is not None]
            unjudged[aspect] = (first is None) + (second is None)
        elif first is None or second is None:
            judgments[aspect], unjudged[aspect] = [], 1
        else:
            judgments[aspect], unjudged[aspect] = [first if first == second else 0], 0
    return QuestionOutcome(question_id, judgments, unjudged, agree)


def counts_matrix(outcomes: list[QuestionOutcome], aspect: str) -> np.ndarray:
    """(questions, 3) counts of win, tie, loss per question: the unit the bootstrap resamples."""
    matrix = np.zeros((len(outcomes), 3), dtype=np.int64)
    for row, outcome in enumerate(outcomes):
        for value in outcome.judgments[aspect]:
            matrix[row, 1 - value] += 1  # +1 -> column 0 (win), 0 -> 1 (tie), -1 -> 2 (loss)
    return matrix


def rates(counts: np.ndarray) -> dict[str, float | None]:
    """Win, tie, loss rates and the adjusted win rate (win + tie / 2) of summed (win, tie, loss) counts."""
    win, tie, loss = (int(c) for c in counts)
    total = win + tie + loss
    if total == 0:
        return {"win": None, "tie": None, "loss": None, "adjusted_win": None}
    return {"win": win / total, "tie": tie / total, "loss": loss / total, "adjusted_win": (win + tie / 2) / total}


def table(outcomes: list[QuestionOutcome]) -> dict[str, dict]:
    """Per aspect: counts (win, tie, loss, judged, unjudged), rates, and the order-agreement rate."""
    result = {}
    for aspect in ASPECTS:
        summed = counts_matrix(outcomes, aspect).sum(axis=0)
        agreements = [o.agree[aspect] for o in outcomes if o.agree[aspect] is not None]
        result[aspect] = {
            "win": int(summed[0]), "tie": int(summed[1]), "loss": int(summed[2]),
            "judged": int(summed.sum()), "unjudged": sum(o.unjudged[aspect] for o in outcomes),
            **{f"{name}_rate": value for name, value in rates(summed).items()},
            "order_agreement": sum(agreements) / len(agreements) if agreements else None,
            "orders_compared": len(agreements),
        }
    return result


def combine_all(verdicts: Iterable[tuple[str, str, Mapping[str, str | None]]], rule: str = "tie"
                ) -> list[QuestionOutcome]:
    """(question_id, order, verdicts) triples -> one QuestionOutcome per question, sorted by question id.
    A question with only one order recorded has the other order unjudged."""
    grouped: dict[str, dict[str, Mapping[str, str | None]]] = {}
    for question_id, order, parsed in verdicts:
        grouped.setdefault(question_id, {})[order] = parsed
    return [combine(qid, grouped[qid], rule) for qid in sorted(grouped)]
