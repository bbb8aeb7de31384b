"""Mixing: ratios between CMedINS instructions, single- and multi-turn dialogues and general instructions.

Groups named in the ratios are sampled down so their sizes follow the ratios as closely as the scarcest
group allows; groups not named are kept in full. Sampling is seeded per group, so a group's selection does
not depend on the other groups' sizes.
"""

from __future__ import annotations

import math
import random

from cmedins.contracts.schema import RECORD_TASKS

MIX_GROUPS = ("cmedins", "dialogue_single", "dialogue_multi", "general")


def mix_group(task: str) -> str:
    return "cmedins" if task in RECORD_TASKS else task


def target_counts(available: dict[str, int], ratios: dict[str, float]) -> dict[str, int]:
    """Largest counts with count_g / count_h == ratio_g / ratio_h for named groups, within availability."""
    # A named group with no rows at all cannot constrain the others (it would zero them): it is skipped,
    # and the runner reports it as missing.
    named = {group: weight for group, weight in ratios.items() if weight > 0 and available.get(group, 0) > 0}
    # The scale is set by the group with the least rows per unit of ratio.
    scale = min((available.get(group, 0) / weight for group, weight in named.items()), default=0.0)
    targets = {}
    for group in MIX_GROUPS:
        if group in named or (group in ratios and ratios[group] == 0):
            targets[group] = min(available.get(group, 0), math.floor(scale * ratios[group] + 1e-9))
        else:
            targets[group] = available.get(group, 0)
    return targets


def choose(n_available: int, n_target: int, seed: int, group: str) -> list[int]:
    """Sorted indices of the rows kept, seeded by (seed, group)."""
    if n_target >= n_available:
        return list(range(n_available))
    return sorted(random.Random(f"{seed}:mix:{group}").sample(range(n_available), n_target))


def achieved(selected: dict[str, int]) -> dict[str, float]:
    total = sum(selected.values())
    return {group: round(count / total, 4) if total else 0.0 for group, count in selected.items()}
