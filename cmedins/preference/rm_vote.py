"""SF-Med preference-data selection by reward-model vote (after Wang et al. 2024, "Secrets of RLHF II").

Several reward models score each pair; a pair's preference strength is the mean over models of
score(chosen) - score(rejected). The strongest `drop_fraction` (default 10%) are too easy and over-weighting
them skews the policy, so they are removed. SF-Med also swaps chosen/rejected of the weakest 10%, taking
them to be mislabelled; here that is opt-in (`flip_fraction`, default 0) because reward models prefer
long, fluent text: on score-ranked medical data a flip made a reply that parrots the patient `chosen`.
Even when flips are on, a pair is never flipped when people decided it (`decided_by: annotation`) or its
judge-score margin is clear (`score_margin` > `clear_margin`, default 0: any judged difference); those are
counted as `flip_protected`. A flipped row says so (`flipped: true`) and keeps its scores swapped with it. Scores come as columns: either one margin column per model,
or a `<model>_chosen` / `<model>_rejected` pair of columns per model.
"""

from __future__ import annotations

from dataclasses import dataclass

from cmedins.errors import RowError


@dataclass(frozen=True)
class VoteConfig:
    models: tuple[str, ...]
    flip_fraction: float = 0.0
    drop_fraction: float = 0.1
    clear_margin: float = 0.0

    def __post_init__(self) -> None:
        if not self.models:
            raise ValueError("rm_vote needs at least one reward model column")
        if min(self.flip_fraction, self.drop_fraction) < 0 or self.flip_fraction + self.drop_fraction > 1:
            raise ValueError("flip_fraction and drop_fraction must be >= 0 and add up to at most 1")
        if self.clear_margin < 0:
            raise ValueError("clear_margin must be >= 0")


def protected(row: dict, config: VoteConfig) -> bool:
    """People decided the pair, or its judge-score margin is clear: the reward models may not reverse it."""
    margin = row.get("score_margin")
    return row.get("decided_by") == "annotation" or (margin is not None and margin > config.clear_margin)


def margin(row: dict, model: str) -> float:
    found = row.get("scores") or {}
    if model in found:
        return found[model]
    chosen, rejected = found.get(f"{model}_chosen"), found.get(f"{model}_rejected")
    if chosen is None or rejected is None:
        raise RowError(f"no score for reward model '{model}' (expected a '{model}' margin column or "
                       f"'{model}_chosen' and '{model}_rejected')", field=model)
    return chosen - rejected


def mean_margin(row: dict, config: VoteConfig) -> float:
    return sum(margin(row, model) for model in config.models) / len(config.models)


def select(rows: list[dict], config: VoteConfig) -> tuple[list[dict], list[dict], dict[str, int]]:
    """Return (kept rows, dropped rows, counts {flipped, flip_protected}). Ranks by mean margin; ties broken
    by input order. Counts are floor(fraction * n), so 100 pairs at 10% consider 10 for flipping, drop 10."""
    strengths = [mean_margin(row, config) for row in rows]
    order = sorted(range(len(rows)), key=lambda i: strengths[i])
    n_flip, n_drop = int(config.flip_fraction * len(rows)), int(config.drop_fraction * len(rows))
    weakest, drop = set(order[:n_flip]), set(order[len(order) - n_drop:]) if n_drop else set()
    flip = {i for i in weakest if not protected(rows[i], config)}
    kept = []
    for i, row in enumerate(rows):
        row = {**row, "rm_margin": round(strengths[i], 6)}
        if i in drop:
            continue
        if i in flip:
            row = _flipped(row)
        kept.append(row)
    return kept, [rows[i] for i in sorted(drop)], {"flipped": len(flip), "flip_protected": len(weakest - flip)}


def _flipped(row: dict) -> dict:
    """Chosen and rejected swapped, with everything that names a side swapped along."""
    out = {**row, "chosen": row["rejected"], "rejected": row["chosen"], "flipped": True,
           "rm_margin": -row["rm_margin"] + 0.0}  # + 0.0: no negative zero in the data
    for a, b in (("chosen_model", "rejected_model"), ("chosen_score", "rejected_score")):
        out[a], out[b] = row.get(b), row.get(a)
    if row.get("score_margin") is not None:
        out["score_margin"] = -row["score_margin"] + 0.0
    return out
