"""SF-Med preference-data selection by reward-model vote (after Wang et al. 2024, "Secrets of RLHF II").

Several reward models score each pair; a pair's preference strength is the mean over models of
score(chosen) - score(rejected). The weakest `flip_fraction` (default 10%) are taken to be mislabelled and
have chosen/rejected swapped; the strongest `drop_fraction` (default 10%) are too easy and over-weighting
them skews the policy, so they are removed. Scores come as columns: either one margin column per model,
or a `<model>_chosen` / `<model>_rejected` pair of columns per model.
"""

from __future__ import annotations

from dataclasses import dataclass

from cmedins.errors import RowError


@dataclass(frozen=True)
class VoteConfig:
    models: tuple[str, ...]
    flip_fraction: float = 0.1
    drop_fraction: float = 0.1

    def __post_init__(self) -> None:
        if not self.models:
            raise ValueError("rm_vote needs at least one reward model column")
        if min(self.flip_fraction, self.drop_fraction) < 0 or self.flip_fraction + self.drop_fraction > 1:
            raise ValueError("flip_fraction and drop_fraction must be >= 0 and add up to at most 1")


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


def select(rows: list[dict], config: VoteConfig) -> tuple[list[dict], list[dict], int]:
    """Return (kept rows, dropped rows, number flipped). Ranks by mean margin; ties broken by input order.

    Counts are floor(fraction * n), so 100 pairs at 10% flip 10 and drop 10.
    """
    strengths = [mean_margin(row, config) for row in rows]
    order = sorted(range(len(rows)), key=lambda i: strengths[i])
    n_flip, n_drop = int(config.flip_fraction * len(rows)), int(config.drop_fraction * len(rows))
    flip, drop = set(order[:n_flip]), set(order[len(order) - n_drop:]) if n_drop else set()
    kept = []
    for i, row in enumerate(rows):
        row = {**row, "rm_margin": round(strengths[i], 6)}
        if i in drop:
            continue
        if i in flip:
            row["chosen"], row["rejected"] = row["rejected"], row["chosen"]
            row["rm_flipped"] = True
        kept.append(row)
    return kept, [rows[i] for i in sorted(drop)], len(flip)
