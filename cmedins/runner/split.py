"""The validation split, shared by the SFT and SPF builds: a seeded, stratified hold-out."""

from __future__ import annotations

import random


def validation_indices(selected: list[int], fraction: float, seed: int, group: str) -> set[int]:
    """Stratified hold-out: the same fraction of every group goes to validation, seeded by (seed, group)."""
    count = round(len(selected) * fraction)
    return set(random.Random(f"{seed}:split:{group}").sample(selected, count))
